# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""fleet_pods_info's service (module_utils.pods): its problem rules and event selection on API objects shaped as the
API returns them, and the whole service over a fake Kubernetes API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import pods as pods_utils
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import summarize_deployment, summarize_pod
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.pods import find_problems, select_events
from ansible_collections.kas.fleet_manager.plugins.modules import fleet_pods_info
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.k8s_objects import (
    NOW, deployment, event, pod)
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import service_module


def codes(problems):
    return [p["code"] for p in problems]


def test_healthy_deployment_has_no_problem():
    dep = summarize_deployment(deployment())
    pods = [summarize_pod(pod("p%d" % i)) for i in range(3)]
    assert dep["rollout_status"] == "complete"
    assert dep["restarted_at"] == "2026-11-25T03:00:00Z"
    assert dep["images"] == {"service": "quay.io/x:1", "envoy-sidecar": "envoy:1"}
    assert dep["selector"] == "app=kas-fleet-manager"
    assert find_problems(dep, pods, [], 3) == []


def test_image_pull_down_names_every_problem():
    dep = summarize_deployment(deployment(ready=0, available=0, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}]))
    pods = [summarize_pod(pod("p%d" % i, ready=False, waiting="ImagePullBackOff", phase="Pending"))
            for i in range(3)]
    events = select_events([event(message='Failed to pull image "quay.io/x:bad"')],
                           ["image"], 60, now=NOW)
    problems = find_problems(dep, pods, events, 3)
    assert codes(problems) == ["no_pods_running", "image_pull_failing", "rollout_stalled", "warning_events"]
    assert problems[1]["evidence"]["pods"] == ["p0", "p1", "p2"]
    assert dep["rollout_status"] == "stalled"


def test_crash_loop_and_partial_readiness():
    dep = summarize_deployment(deployment(ready=1, available=1))
    pods = [summarize_pod(pod("p0")),
            summarize_pod(pod("p1", ready=False, waiting="CrashLoopBackOff", restarts=7, last_reason="Error")),
            summarize_pod(pod("p2", ready=False, waiting="CrashLoopBackOff", restarts=6, last_reason="Error"))]
    problems = find_problems(dep, pods, [], 3)
    assert codes(problems) == ["crash_looping", "pods_not_ready"]
    assert problems[0]["evidence"]["restarts"] == {"p1": 7, "p2": 6}
    assert pods[1]["terminated_reasons"] == ["Error"]
    assert pods[1]["restarts"] == 7


def test_replicas_below_default_and_missing_deployment():
    dep = summarize_deployment(deployment(replicas=1, ready=1, updated=1, available=1))
    assert codes(find_problems(dep, [summarize_pod(pod("p0"))], [], 3)) == ["replicas_below_default"]
    missing = summarize_deployment(None)
    missing["name"] = "kas-fleet-manager"
    assert codes(find_problems(missing, [], [], 3)) == ["deployment_missing", "no_pods_running"]


def test_events_window_keywords_and_order():
    events = [
        event(kind="Normal", reason="ScalingReplicaSet", message="Scaled up replica set", minutes_ago=5),
        event(kind="Normal", reason="Pulled", message='Successfully pulled image "x"', minutes_ago=2),
        event(kind="Warning", reason="BackOff", message="Back-off restarting failed container", minutes_ago=1),
        event(kind="Warning", reason="Failed", message="old", minutes_ago=300),
    ]
    picked = select_events(events, ["Kafka Service Fleet Manager", "image", "deployment"], 60, now=NOW)
    assert [e["reason"] for e in picked] == ["BackOff", "Pulled"]
    assert picked[1]["keywords"] == ["image"]
    assert picked[0]["object"] == "Pod/p1"


def test_event_times_with_an_offset_or_a_fraction_are_read():
    recent = dict(event(minutes_ago=1), lastTimestamp="2026-11-25T05:59:00+02:00")
    old = dict(event(reason="Old", minutes_ago=1), lastTimestamp="2026-11-25T01:00:00.123456Z")
    old_offset = dict(event(reason="OldOffset", minutes_ago=1), lastTimestamp="2026-11-25T05:30:00+03:00")
    unreadable = dict(event(reason="Unreadable"), lastTimestamp="yesterday")
    picked = select_events([recent, old, old_offset, unreadable], [], 60, now=NOW)
    assert [e["reason"] for e in picked] == ["Unreadable", "Failed"]


class FakeKube(object):
    """The Kube methods fleet_pods_info uses."""

    host = "https://api.example:6443"

    def __init__(self, dep, pod_objects, events=(), namespaces=("ns",)):
        self.dep, self.pods, self.events, self.namespaces = dep, list(pod_objects), list(events), namespaces
        self.calls = []

    def read_deployment(self, namespace, name):
        self.calls.append(("read_deployment", namespace, name))
        return self.dep

    def read_namespace(self, namespace):
        if namespace not in self.namespaces:
            raise FleetError("cannot read namespace %s: not found (404)" % namespace, status=404)
        return {"metadata": {"name": namespace}}

    def list_pods(self, namespace, label_selector=None):
        self.calls.append(("list_pods", namespace, label_selector))
        return list(self.pods)

    def list_events(self, namespace, field_selector=None):
        return list(self.events)


def run(kube, monkeypatch, **params):
    monkeypatch.setattr(pods_utils, "Kube", lambda p: kube)
    params.setdefault("namespace", "ns")
    return pods_utils.gather(service_module(fleet_pods_info, **params))


def test_the_service_lists_the_deployments_pods_by_its_selector(monkeypatch):
    dep = deployment(ready=2, available=2)
    dep["spec"]["selector"]["matchLabels"]["tier"] = "api"
    kube = FakeKube(dep, [pod("p2"), pod("p0"), pod("p1", ready=False, waiting="CrashLoopBackOff", restarts=4)])
    result = run(kube, monkeypatch, max_events=1)
    assert ("list_pods", "ns", "app=kas-fleet-manager,tier=api") in kube.calls
    assert [p["name"] for p in result["pods"]] == ["p0", "p1", "p2"]
    assert codes(result["problems"]) == ["crash_looping", "pods_not_ready"] and result["healthy"] is False
    assert result["events"] == [] and result["events_total"] == 0


def test_a_missing_deployment_is_looked_for_by_its_app_label(monkeypatch):
    kube = FakeKube(None, [])
    result = run(kube, monkeypatch, deployment="fm")
    assert ("list_pods", "ns", "app=fm") in kube.calls
    assert result["deployment"] == {"exists": False, "name": "fm"}
    assert codes(result["problems"]) == ["deployment_missing", "no_pods_running"]
    with pytest.raises(FleetError, match="namespace nope not found"):
        run(kube, monkeypatch, namespace="nope")


def test_the_service_checks_its_numbers_first(monkeypatch):
    kube = FakeKube(None, [])
    with pytest.raises(FleetError, match="max_events must be at least 1, got 0"):
        run(kube, monkeypatch, max_events=0)
    assert kube.calls == []
