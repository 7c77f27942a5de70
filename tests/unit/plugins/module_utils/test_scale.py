# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of module_utils/scale.py (fleet_scale's service): never down, never above the cap, not during a
rollout; the conditional write through the scale subresource, check mode and the wait, against an in-memory
Kubernetes stand-in."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import scale as m
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import FakeModule


# -- the plan ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("current,replicas,step,cap,in_progress,expected", [
    (1, 3, None, 6, False, {"target": 3, "capped": False, "replicas_after": 3, "skipped_reason": None}),
    (0, 3, None, 6, False, {"target": 3, "capped": False, "replicas_after": 3, "skipped_reason": None}),
    (3, None, 1, 6, False, {"target": 4, "capped": False, "replicas_after": 4, "skipped_reason": None}),
    (5, None, 3, 6, False, {"target": 8, "capped": True, "replicas_after": 6, "skipped_reason": None}),
    (1, 10, None, 6, False, {"target": 10, "capped": True, "replicas_after": 6, "skipped_reason": None}),
    # never down
    (3, 3, None, 6, False, {"target": 3, "capped": False, "replicas_after": 3, "skipped_reason": "already_at_or_above"}),
    (5, 3, None, 6, False, {"target": 3, "capped": False, "replicas_after": 5, "skipped_reason": "already_at_or_above"}),
    # at the cap, or above it already (someone scaled by hand): no change, never down to the cap
    (6, None, 1, 6, False, {"target": 7, "capped": True, "replicas_after": 6, "skipped_reason": "already_at_or_above"}),
    (8, 10, None, 6, False, {"target": 10, "capped": True, "replicas_after": 8, "skipped_reason": "already_at_or_above"}),
    # not during a rollout
    (1, 3, None, 6, True, {"target": 3, "capped": False, "replicas_after": 1, "skipped_reason": "rollout_in_progress"}),
    # already there wins over a rollout (nothing to do either way)
    (3, 3, None, 6, True, {"target": 3, "capped": False, "replicas_after": 3, "skipped_reason": "already_at_or_above"}),
])
def test_plan(current, replicas, step, cap, in_progress, expected):
    assert m.plan(current, replicas, step, cap, in_progress) == expected


def test_messages():
    assert m.message("kas-fleet-manager", 5, m.plan(5, 3), 6) == (
        "deployment kas-fleet-manager already has 5 replica(s), at or above the target 3: never scaling down")
    assert m.message("kas-fleet-manager", 6, m.plan(6, None, 1, 6), 6).endswith(
        "at or above the target 6 (target 7 capped to max_replicas 6): never scaling down")
    assert m.message("kas-fleet-manager", 1, m.plan(1, 3, None, 6, True), 6) == (
        "a rollout of deployment kas-fleet-manager is in progress: not scaling during a rollout")


# -- the service against an in-memory API ------------------------------------------------------------------
def dep_obj(replicas=1, generation=2, observed=2, rv="7"):
    return {
        "metadata": {"name": "kas-fleet-manager", "namespace": "ns", "generation": generation, "resourceVersion": rv},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "kas-fleet-manager"}},
                 "template": {"metadata": {}, "spec": {"containers": []}}},
        "status": {"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas,
                   "availableReplicas": replicas, "observedGeneration": observed},
    }


def pod(name, ready=True):
    return {"metadata": {"name": name}, "spec": {},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


class FakeKube(object):
    host = "https://k8s.example:6443"

    def __init__(self, dep, allowed=True, conflicts=0, ready=True):
        self.dep = dep
        self.pods = [pod("p%d" % i) for i in range(dep["spec"]["replicas"])] if dep else []
        self.allowed = allowed
        self.conflicts = conflicts
        self.ready = ready
        self.scales = []

    def read_deployment(self, namespace, name):
        return copy.deepcopy(self.dep) if self.dep is not None else None

    def read_namespace(self, namespace):
        if namespace == "nowhere":
            raise FleetError("cannot read namespace nowhere: not found (404)", status=404)
        return {}

    def list_pods(self, namespace, selector=None):
        return copy.deepcopy(self.pods)

    def can_i(self, namespace, verb, resource, group="", subresource=""):
        self.asked = (verb, resource, group, subresource)
        return self.allowed, ""

    def scale_deployment(self, namespace, name, replicas, resource_version=None):
        self.scales.append((replicas, resource_version))
        if not self.allowed:
            raise FleetError("cannot patch deployments/scale %s/%s: forbidden (403): no" % (namespace, name),
                             status=403)
        if self.conflicts:
            self.conflicts -= 1
            self.dep["metadata"]["resourceVersion"] = str(int(self.dep["metadata"]["resourceVersion"]) + 1)
            raise FleetError("conflict", status=409)
        self.dep["spec"]["replicas"] = replicas
        self.dep["metadata"]["generation"] += 1
        if self.ready:
            self.dep["status"].update(replicas=replicas, readyReplicas=replicas, updatedReplicas=replicas,
                                      availableReplicas=replicas,
                                      observedGeneration=self.dep["metadata"]["generation"])
            self.pods = self.pods + [pod("n%d" % i) for i in range(replicas - len(self.pods))]
        return {"spec": {"replicas": replicas}}


DEFAULTS = dict(namespace="ns", deployment="kas-fleet-manager", replicas=None, step=None, max_replicas=6,
                wait=True, wait_timeout=1, wait_sleep=1)


def fake_module(check_mode=False, diff=False, **params):
    return FakeModule(DEFAULTS, check_mode, diff, **params)


def test_scale_one_to_three_and_wait():
    kube = FakeKube(dep_obj(1))
    result = m.scale(fake_module(replicas=3), kube)
    assert result["changed"] and result["scaled"] and result["skipped_reason"] is None
    assert (result["replicas_before"], result["replicas_after"], result["capped"]) == (1, 3, False)
    assert kube.scales == [(3, "7")]
    assert result["pods_before"] == ["p0"] and result["pods_after"] == ["n0", "n1", "p0"]
    assert result["rollout"]["status"] == "complete"
    assert result["msg"].startswith("scaled deployment kas-fleet-manager from 1 to 3 replicas; 3 pod(s) ready")


def test_never_scales_down():
    kube = FakeKube(dep_obj(5))
    result = m.scale(fake_module(replicas=3), kube)
    assert not result["changed"] and result["skipped_reason"] == "already_at_or_above"
    assert result["replicas_after"] == 5 and kube.scales == []


def test_step_is_capped():
    kube = FakeKube(dep_obj(5))
    result = m.scale(fake_module(step=3), kube)
    assert result["capped"] and result["target"] == 8 and result["replicas_after"] == 6
    assert kube.scales == [(6, "7")]
    assert "(target 8 capped to max_replicas 6)" in result["msg"]


def test_not_during_a_rollout():
    kube = FakeKube(dep_obj(1, generation=3, observed=2))
    result = m.scale(fake_module(replicas=3), kube)
    assert result["skipped_reason"] == "rollout_in_progress" and kube.scales == []


def test_check_mode_writes_nothing_and_diffs():
    kube = FakeKube(dep_obj(1))
    result = m.scale(fake_module(check_mode=True, diff=True, replicas=3), kube)
    assert result["changed"] and not result["scaled"] and kube.scales == []
    assert result["diff"] == {"before": {"replicas": 1}, "after": {"replicas": 3}}
    assert result["msg"] == "would scale deployment kas-fleet-manager from 1 to 3 replicas; check mode"
    assert kube.asked == ("patch", "deployments", "apps", "scale")


def test_check_mode_reports_forbidden_scale():
    kube = FakeKube(dep_obj(1), allowed=False)
    with pytest.raises(FleetError, match=r"cannot patch deployments/scale ns/kas-fleet-manager: forbidden \(403\)"):
        m.scale(fake_module(check_mode=True, replicas=3), kube)


def test_forbidden_scale_is_a_plain_failure():
    kube = FakeKube(dep_obj(1), allowed=False)
    with pytest.raises(FleetError, match=r"cannot patch deployments/scale ns/kas-fleet-manager: forbidden") as err:
        m.scale(fake_module(replicas=3), kube)
    assert err.value.details["scaled"] is False


def test_conflict_rereads():
    kube = FakeKube(dep_obj(1), conflicts=1)
    result = m.scale(fake_module(replicas=3), kube)
    assert result["scaled"] and kube.scales == [(3, "7"), (3, "8")]


def test_missing_deployment_and_wrong_namespace():
    with pytest.raises(FleetError, match="deployment kas-fleet-manager not found in namespace ns") as err:
        m.scale(fake_module(replicas=3), FakeKube(None))
    assert err.value.details["skipped_reason"] == "deployment_missing"
    with pytest.raises(FleetError, match="namespace nowhere not found"):
        m.scale(fake_module(replicas=3, namespace="nowhere"), FakeKube(None))


def test_replicas_not_ready_fail_with_what_was_seen():
    kube = FakeKube(dep_obj(0), ready=False)
    with pytest.raises(FleetError) as err:
        m.scale(fake_module(replicas=3), kube)
    assert "scaled deployment kas-fleet-manager from 0 to 3 replicas but the replicas were not ready after 1 s" \
        in err.value.msg
    assert "0/3 updated" in err.value.msg
    assert err.value.details["scaled"] and err.value.details["rollout"]["status"] == "timeout"
