# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of module_utils/deployment.py: RFC 3339 times, rollout health as kubectl judges it, the wait on a
fake clock, and check mode's permission check worded as the write would fail."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import deployment as d
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    list_deployment_pods, selector_of, summarize_deployment, summarize_pod)
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils import k8s_objects as ko
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fakes import FakeKube, dep_obj, pod

NOW = datetime.datetime(2026, 11, 25, 4, 0, 0, tzinfo=datetime.timezone.utc)


# -- time helpers ------------------------------------------------------------------------------------------
def test_rfc3339_round_trip_and_offsets():
    assert d.rfc3339(NOW) == "2026-11-25T04:00:00Z"
    assert d.parse_rfc3339("2026-11-25T04:00:00Z") == NOW
    assert d.parse_rfc3339("2026-11-25T05:00:00+01:00") == NOW  # kubectl writes local time with an offset
    assert d.parse_rfc3339("2026-11-25T04:00:00.123456Z") == NOW
    assert d.parse_rfc3339("2026-11-25T04:00:00") == NOW
    for bad in (None, "", "yesterday", "2026-13-45T04:00:00Z", 42):
        assert d.parse_rfc3339(bad) is None


# -- rollout health ----------------------------------------------------------------------------------------
def test_rollout_health_needs_every_figure_and_old_pods_gone():
    pods = [d.summarize_pod(pod("new-%d" % i)) for i in range(3)]
    healthy, seen = d.rollout_health(d.summarize_deployment(dep_obj()), pods)
    assert healthy and seen["pods"] == 3
    assert not d.rollout_health(d.summarize_deployment(dep_obj(generation=3)), pods)[0]
    assert not d.rollout_health(d.summarize_deployment(dep_obj(updated=2)), pods)[0]
    assert not d.rollout_health(d.summarize_deployment(dep_obj(status_replicas=4)), pods)[0]
    old = pods + [d.summarize_pod(pod("old-1", deleting=True))]
    healthy, seen = d.rollout_health(d.summarize_deployment(dep_obj()), old)
    assert not healthy and seen["pods_terminating"] == 1
    assert "1 terminating" in d.describe_seen(seen)


def test_wait_for_rollout_times_out_on_a_fake_clock():
    kube = FakeKube(dep_obj(updated=1), [pod("p1")])
    ticks = iter(range(0, 1000, 5))
    slept = []
    waited = d.wait_for_rollout(kube, "ns", "kas-fleet-manager", 12, 5, clock=lambda: next(ticks),
                                sleep=slept.append)
    assert waited["status"] == "timeout"
    assert waited["seconds"] == 15
    assert slept == [5, 2]  # never sleeps past the deadline
    assert waited["seen"]["updated"] == 1


# -- check mode: may the write be done ---------------------------------------------------------------------
def test_check_may_patch_words_the_refusal_as_the_write_would():
    kube = FakeKube(dep_obj(), [pod("p")], allowed=False)
    with pytest.raises(FleetError) as err:
        d.check_may_patch(kube, "ns", "kas-fleet-manager", restarted=False)
    assert err.value.msg == ("cannot patch deployment ns/kas-fleet-manager: forbidden (403): the Kubernetes user may "
                             "not patch deployments in namespace ns (SelfSubjectAccessReview in check mode)")
    assert err.value.details == {"status": 403, "restarted": False}
    with pytest.raises(FleetError, match=r"^cannot patch deployments/scale ns/kas-fleet-manager: forbidden \(403\): "
                                         r"the Kubernetes user may not scale deployments in namespace ns"):
        d.check_may_patch(kube, "ns", "kas-fleet-manager", "scale")
    assert d.check_may_patch(FakeKube(dep_obj(), [pod("p")]), "ns", "kas-fleet-manager") is None


def test_check_may_patch_leaves_it_to_the_real_run_when_it_cannot_ask():
    class NoReview(FakeKube):
        def can_i(self, *args, **kwargs):
            raise FleetError("cannot review access to patch deployments: forbidden (403)", status=403)

    assert d.check_may_patch(NoReview(dep_obj(), [pod("p")]), "ns", "kas-fleet-manager", "scale") is None


def test_rollout_in_progress_while_generation_not_observed():
    dep = summarize_deployment(ko.deployment(generation=3, observed=2))
    assert dep["rollout_in_progress"] is True
    dep = summarize_deployment(ko.deployment(updated=1))
    assert dep["rollout_status"] == "progressing"


def test_pod_summary_counts_every_containers_restarts():
    summary = summarize_pod(ko.pod("p1", ready=False, waiting="CrashLoopBackOff", restarts=7, last_reason="Error"))
    assert summary["restarts"] == 7 and summary["ready"] is False
    assert summary["waiting_reasons"] == ["CrashLoopBackOff"] and summary["terminated_reasons"] == ["Error"]
    assert [(c["name"], c["restarts"]) for c in summary["containers"]] == [("service", 7), ("envoy-sidecar", 0)]
    assert (summary["start_time"], summary["node"], summary["deleting"]) == ("2026-11-25T01:00:00Z", "node-1", False)


class _Pods(object):
    def __init__(self, pod_objects):
        self.pod_objects, self.selectors = pod_objects, []

    def list_pods(self, namespace, label_selector=None):
        self.selectors.append(label_selector)
        return list(self.pod_objects)


def test_pods_of_a_deployment_by_its_selector_or_app_label():
    kube = _Pods([ko.pod("b"), ko.pod("a")])
    assert [p["name"] for p in list_deployment_pods(kube, "ns", ko.deployment())] == ["a", "b"]
    no_selector = ko.deployment()
    del no_selector["spec"]["selector"]
    list_deployment_pods(kube, "ns", no_selector)
    list_deployment_pods(kube, "ns", None, name="fm")
    assert kube.selectors == ["app=kas-fleet-manager", "app=kas-fleet-manager", "app=fm"]
    assert selector_of(ko.deployment()) == "app=kas-fleet-manager"


def test_label_selector_of_a_deployment():
    dep = {"spec": {"selector": {"matchLabels": {"app": "kas-fleet-manager", "tier": "api"},
                                 "matchExpressions": [{"key": "env", "operator": "In", "values": ["stage", "prod"]},
                                                      {"key": "canary", "operator": "DoesNotExist"}]}}}
    assert selector_of(dep) == "app=kas-fleet-manager,tier=api,env in (stage,prod),!canary"
