# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of fleet_pods_info's summaries and problem rules, on API objects shaped as the API returns them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.kas.fleet_manager.plugins.modules import fleet_pods_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module

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


def codes(problems):
    return [p["code"] for p in problems]


def test_healthy_deployment_has_no_problem():
    dep = m.summarize_deployment(deployment())
    pods = [m.summarize_pod(pod("p%d" % i)) for i in range(3)]
    assert dep["rollout_status"] == "complete"
    assert dep["restarted_at"] == "2026-11-25T03:00:00Z"
    assert dep["images"] == {"service": "quay.io/x:1", "envoy-sidecar": "envoy:1"}
    assert dep["selector"] == "app=kas-fleet-manager"
    assert m.find_problems(dep, pods, [], 3) == []


def test_image_pull_down_names_every_problem():
    dep = m.summarize_deployment(deployment(ready=0, available=0, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}]))
    pods = [m.summarize_pod(pod("p%d" % i, ready=False, waiting="ImagePullBackOff", phase="Pending"))
            for i in range(3)]
    events = m.select_events([event(message='Failed to pull image "quay.io/x:bad"')],
                             ["image"], 60, now=NOW)
    problems = m.find_problems(dep, pods, events, 3)
    assert codes(problems) == ["no_pods_running", "image_pull_failing", "rollout_stalled", "warning_events"]
    assert problems[1]["evidence"]["pods"] == ["p0", "p1", "p2"]
    assert dep["rollout_status"] == "stalled"


def test_crash_loop_and_partial_readiness():
    dep = m.summarize_deployment(deployment(ready=1, available=1))
    pods = [m.summarize_pod(pod("p0")),
            m.summarize_pod(pod("p1", ready=False, waiting="CrashLoopBackOff", restarts=7, last_reason="Error")),
            m.summarize_pod(pod("p2", ready=False, waiting="CrashLoopBackOff", restarts=6, last_reason="Error"))]
    problems = m.find_problems(dep, pods, [], 3)
    assert codes(problems) == ["crash_looping", "pods_not_ready"]
    assert problems[0]["evidence"]["restarts"] == {"p1": 7, "p2": 6}
    assert pods[1]["terminated_reasons"] == ["Error"]
    assert pods[1]["restarts"] == 7


def test_replicas_below_default_and_missing_deployment():
    dep = m.summarize_deployment(deployment(replicas=1, ready=1, updated=1, available=1))
    assert codes(m.find_problems(dep, [m.summarize_pod(pod("p0"))], [], 3)) == ["replicas_below_default"]
    missing = m.summarize_deployment(None)
    missing["name"] = "kas-fleet-manager"
    assert codes(m.find_problems(missing, [], [], 3)) == ["deployment_missing", "no_pods_running"]


def test_rollout_in_progress_while_generation_not_observed():
    dep = m.summarize_deployment(deployment(generation=3, observed=2))
    assert dep["rollout_in_progress"] is True
    dep = m.summarize_deployment(deployment(updated=1))
    assert dep["rollout_status"] == "progressing"


def test_events_window_keywords_and_order():
    events = [
        event(kind="Normal", reason="ScalingReplicaSet", message="Scaled up replica set", minutes_ago=5),
        event(kind="Normal", reason="Pulled", message='Successfully pulled image "x"', minutes_ago=2),
        event(kind="Warning", reason="BackOff", message="Back-off restarting failed container", minutes_ago=1),
        event(kind="Warning", reason="Failed", message="old", minutes_ago=300),
    ]
    picked = m.select_events(events, ["Kafka Service Fleet Manager", "image", "deployment"], 60, now=NOW)
    assert [e["reason"] for e in picked] == ["BackOff", "Pulled"]
    assert picked[1]["keywords"] == ["image"]
    assert picked[0]["object"] == "Pod/p1"


def test_missing_kubeconfig_fails_without_traceback(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["failed"] is True
    assert "kubeconfig %s does not exist" % (tmp_path / "nope") in result["msg"]
    assert "exception" not in result


def test_negative_window_is_rejected(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "event_since": 0, "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["msg"] == "event_since must be at least 1, got 0"


def test_malformed_kubeconfig_is_a_clear_failure(capsys, tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nclusters: [\n")
    result, _out = run_module(m, {"namespace": "ns", "kubeconfig": str(bad)}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("cannot ")
    assert str(bad) in result["msg"]
