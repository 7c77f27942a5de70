# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.deployment: the summaries of the deployment and its pods, its label selector, and its pods listed
through that selector."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    list_deployment_pods, selector_of, summarize_deployment, summarize_pod)
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.k8s_objects import deployment, pod


def test_rollout_in_progress_while_generation_not_observed():
    dep = summarize_deployment(deployment(generation=3, observed=2))
    assert dep["rollout_in_progress"] is True
    dep = summarize_deployment(deployment(updated=1))
    assert dep["rollout_status"] == "progressing"


def test_pod_summary_counts_every_containers_restarts():
    summary = summarize_pod(pod("p1", ready=False, waiting="CrashLoopBackOff", restarts=7, last_reason="Error"))
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
    kube = _Pods([pod("b"), pod("a")])
    assert [p["name"] for p in list_deployment_pods(kube, "ns", deployment())] == ["a", "b"]
    no_selector = deployment()
    del no_selector["spec"]["selector"]
    list_deployment_pods(kube, "ns", no_selector)
    list_deployment_pods(kube, "ns", None, name="fm")
    assert kube.selectors == ["app=kas-fleet-manager", "app=kas-fleet-manager", "app=fm"]
    assert selector_of(deployment()) == "app=kas-fleet-manager"


def test_label_selector_of_a_deployment():
    dep = {"spec": {"selector": {"matchLabels": {"app": "kas-fleet-manager", "tier": "api"},
                                 "matchExpressions": [{"key": "env", "operator": "In", "values": ["stage", "prod"]},
                                                      {"key": "canary", "operator": "DoesNotExist"}]}}}
    assert selector_of(dep) == "app=kas-fleet-manager,tier=api,env in (stage,prod),!canary"
