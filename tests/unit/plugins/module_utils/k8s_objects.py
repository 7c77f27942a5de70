# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Kubernetes API objects shaped as the API returns them (a deployment, its pods, events), for the tests of
module_utils.deployment and module_utils.pods."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

NOW = datetime.datetime(2026, 11, 25, 4, 0, 0)


def deployment(replicas=3, ready=3, updated=3, available=3, generation=2, observed=2, conditions=None):
    return {
        "metadata": {"name": "kas-fleet-manager", "generation": generation, "annotations": {"a": "b"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "kas-fleet-manager"}},
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T03:00:00Z"}},
                         "spec": {"containers": [{"name": "service", "image": "quay.io/x:1"},
                                                 {"name": "envoy-sidecar", "image": "envoy:1"}]}},
        },
        "status": {"replicas": replicas, "readyReplicas": ready, "updatedReplicas": updated,
                   "availableReplicas": available, "observedGeneration": observed,
                   "conditions": conditions or [{"type": "Available", "status": "True",
                                                 "reason": "MinimumReplicasAvailable"}]},
    }


def pod(name, ready=True, waiting=None, restarts=0, phase="Running", last_reason=None):
    state = {"waiting": {"reason": waiting, "message": "back-off"}} if waiting else {"running": {}}
    status = {"name": "service", "ready": ready, "restartCount": restarts, "state": state, "image": "x",
              "imageID": ""}
    if last_reason:
        status["lastState"] = {"terminated": {"reason": last_reason, "exitCode": 1}}
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": "node-1"},
        "status": {"phase": phase, "startTime": "2026-11-25T01:00:00Z",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": [status, {"name": "envoy-sidecar", "ready": True, "restartCount": 0,
                                                  "state": {"running": {}}, "image": "e", "imageID": ""}]},
    }


def event(kind="Warning", reason="Failed", message="boom", minutes_ago=1, obj="Pod/p1"):
    seen = (NOW - datetime.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    k, n = obj.split("/")
    return {"type": kind, "reason": reason, "message": message, "count": 2, "lastTimestamp": seen,
            "involvedObject": {"kind": k, "name": n}}
