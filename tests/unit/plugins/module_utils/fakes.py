# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Stand-ins the module_utils tests share: a deployment and its pods as the Kubernetes API returns them, an
in-memory API for deployment reads and strategic-merge patches, and paging routes with secrets to look for in
what the code returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kas.fleet_manager.plugins.module_utils import deployment as d
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

KEY = "rk-0123456789abcdef0123456789abcdef"
SLACK_URL = "https://hooks.slack.com/services/T0ABC123/B0DEF456/XyZsecretTokenValue123"
PD = {"type": "pagerduty", "url": "https://events.pagerduty.com/v2/enqueue", "routing_key": KEY}
SLACK = {"type": "slack", "url": SLACK_URL}
HOOK = {"type": "webhook", "url": "https://hooks.example.com/webhook/team-a?token=abcdef123456"}


def dep_obj(replicas=3, ready=3, updated=3, available=3, status_replicas=None, generation=2, observed=2,
            annotations=None, restarted_at=None, rv="1"):
    tmpl_ann = {d.RESTARTED_AT: restarted_at} if restarted_at else {}
    return {
        "metadata": {"name": "kas-fleet-manager", "namespace": "ns", "generation": generation, "resourceVersion": rv,
                     "annotations": dict(annotations or {})},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "kas-fleet-manager"}},
                 "template": {"metadata": {"annotations": tmpl_ann}, "spec": {"containers": []}}},
        "status": {"replicas": replicas if status_replicas is None else status_replicas, "readyReplicas": ready,
                   "updatedReplicas": updated, "availableReplicas": available, "observedGeneration": observed},
    }


def pod(name, ready=True, deleting=False):
    meta = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-25T04:00:00Z"
    return {"metadata": meta, "spec": {},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def merge(target, patch):
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeKube(object):
    """Deployment reads and strategic-merge patches with resourceVersion preconditions; a patch of the template
    makes the pods new at once (healthy rollout), unless ``rollout_ok`` is False."""

    host = "https://k8s.example:6443"

    def __init__(self, dep, pods, allowed=True, conflicts=0, rollout_ok=True):
        self.dep = dep
        self.pods = pods
        self.allowed = allowed
        self.conflicts = conflicts
        self.rollout_ok = rollout_ok
        self.patches = []
        self.generation_pods = 0

    def read_deployment(self, namespace, name):
        return copy.deepcopy(self.dep) if self.dep is not None else None

    def read_namespace(self, namespace):
        return {"metadata": {"name": namespace}}

    def list_pods(self, namespace, selector=None):
        return copy.deepcopy(self.pods)

    def can_i(self, namespace, verb, resource, group="", subresource=""):
        return self.allowed, ""

    def patch_deployment(self, namespace, name, patch):
        self.patches.append(copy.deepcopy(patch))
        if not self.allowed:
            raise FleetError("cannot patch deployment %s/%s: forbidden (403): nope" % (namespace, name), status=403)
        rv = patch.get("metadata", {}).get("resourceVersion")
        if self.conflicts:
            self.conflicts -= 1
            self.dep["metadata"]["resourceVersion"] = str(int(self.dep["metadata"]["resourceVersion"]) + 1)
            raise FleetError("cannot patch deployment: the Kubernetes API answered 409: conflict", status=409)
        if rv and rv != self.dep["metadata"]["resourceVersion"]:
            raise FleetError("conflict", status=409)
        patch = copy.deepcopy(patch)
        patch.get("metadata", {}).pop("resourceVersion", None)
        old_spec = copy.deepcopy(self.dep["spec"])
        merge(self.dep, patch)
        self.dep["metadata"]["resourceVersion"] = str(int(self.dep["metadata"]["resourceVersion"]) + 1)
        if self.dep["spec"] != old_spec:
            self.dep["metadata"]["generation"] += 1
            if self.rollout_ok:
                self.dep["status"]["observedGeneration"] = self.dep["metadata"]["generation"]
                self.generation_pods += 1
                self.pods = [pod("new%d-%d" % (self.generation_pods, i)) for i in range(3)]
        return copy.deepcopy(self.dep)
