# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""fleet_pods_info's service: the runbook's "Check Deployments/kas-fleet-manager ... make sure pods are configured
and started; make sure pod number is configured to default 3" and "Check cluster event logs ... Search
Error/exception events with keywords", as problem codes with their evidence.

The deployment and its pods are read and summarized by module_utils.deployment; here are the events the runbook
looks at and the problems named from all three.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    check_namespace, list_deployment_pods, summarize_deployment)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import check_minimums
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube
from ansible_collections.kas.fleet_manager.plugins.module_utils.times import UTC, parse_rfc3339

IMAGE_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")


def select_events(events, keywords, since_minutes, now=None):
    """Warning events and keyword matches seen within the window, newest first. ``now`` is an aware datetime (a
    naive one is taken as UTC); an event whose time cannot be read is kept."""
    now = now or datetime.datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    horizon = now - datetime.timedelta(minutes=since_minutes)
    lowered = [(k, k.lower()) for k in keywords]
    picked = []
    for ev in events:
        seen = ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp") or \
            (ev.get("metadata") or {}).get("creationTimestamp")
        when = parse_rfc3339(seen)
        if when is not None and when < horizon:
            continue
        text = "%s %s" % (ev.get("reason") or "", ev.get("message") or "")
        matched = [k for k, low in lowered if low in text.lower()]
        if ev.get("type") != "Warning" and not matched:
            continue
        obj = ev.get("involvedObject") or {}
        picked.append({
            "type": ev.get("type"),
            "reason": ev.get("reason"),
            "message": ev.get("message"),
            "count": ev.get("count") or 1,
            "object": "%s/%s" % (obj.get("kind"), obj.get("name")),
            "last_seen": seen,
            "keywords": matched,
        })
    picked.sort(key=lambda e: e["last_seen"] or "", reverse=True)
    return picked


def find_problems(deployment, pods, events, expected_replicas):
    """The runbook's checks over the gathered facts, as problem codes with evidence."""
    problems = []
    if not deployment["exists"]:
        problems.append({"code": "deployment_missing",
                         "message": "deployment %s does not exist" % deployment.get("name"),
                         "evidence": {"pods_found": len(pods)}})
    live = [p for p in pods if not p["deleting"]]
    ready = [p["name"] for p in live if p["ready"]]
    if not ready:
        problems.append({"code": "no_pods_running",
                         "message": "no pod of the fleet manager is running and ready (%d pod(s) exist)" % len(live),
                         "evidence": {"pods": [p["name"] for p in live]}})
    if deployment["exists"] and deployment["desired_replicas"] < expected_replicas:
        problems.append({"code": "replicas_below_default",
                         "message": "deployment %s is configured for %d replica(s), the runbook's default is %d"
                                    % (deployment["name"], deployment["desired_replicas"], expected_replicas),
                         "evidence": {"desired": deployment["desired_replicas"], "expected": expected_replicas}})
    pulling = [p["name"] for p in live if set(p["waiting_reasons"]) & set(IMAGE_PULL_REASONS)]
    if pulling:
        problems.append({"code": "image_pull_failing",
                         "message": "%d pod(s) cannot pull their image %s" % (
                             len(pulling), ", ".join(sorted(set(deployment.get("images", {}).values())))),
                         "evidence": {"pods": pulling, "images": deployment.get("images", {})}})
    looping = [p["name"] for p in live if "CrashLoopBackOff" in p["waiting_reasons"]]
    if looping:
        problems.append({"code": "crash_looping",
                         "message": "%d pod(s) are in CrashLoopBackOff" % len(looping),
                         "evidence": {"pods": looping,
                                      "restarts": dict((p["name"], p["restarts"]) for p in live
                                                       if p["name"] in looping)}})
    not_ready = [p["name"] for p in live if not p["ready"]]
    if ready and not_ready:
        problems.append({"code": "pods_not_ready",
                         "message": "%d of %d pod(s) are not ready" % (len(not_ready), len(live)),
                         "evidence": {"pods": not_ready}})
    if deployment["exists"] and deployment["rollout_status"] == "stalled":
        problems.append({"code": "rollout_stalled",
                         "message": "the rollout of deployment %s exceeded its progress deadline" % deployment["name"],
                         "evidence": {"conditions": [c for c in deployment["conditions"]
                                                     if c["type"] == "Progressing"]}})
    warnings = [e for e in events if e["type"] == "Warning"]
    if warnings:
        problems.append({"code": "warning_events",
                         "message": "%d warning event(s) in the window, latest: %s: %s"
                                    % (len(warnings), warnings[0]["reason"], warnings[0]["message"]),
                         "evidence": {"events": warnings[:5]}})
    return problems


def gather(module):
    """fleet_pods_info: the deployment, its pods and the namespace's events, and the problems they show."""
    params = module.params
    check_minimums(params, {"expected_replicas": 0, "event_since": 1, "max_events": 1})
    kube = Kube(params)
    namespace = params["namespace"]
    dep = kube.read_deployment(namespace, params["deployment"])
    if dep is None:
        check_namespace(kube, namespace)
    deployment = summarize_deployment(dep)
    deployment.setdefault("name", params["deployment"])
    pods = list_deployment_pods(kube, namespace, dep, name=params["deployment"])
    events = select_events(kube.list_events(namespace), params["event_keywords"], params["event_since"])
    problems = find_problems(deployment, pods, events, params["expected_replicas"])
    return {
        "healthy": not problems,
        "problems": problems,
        "deployment": deployment,
        "pods": pods,
        "events": events[:params["max_events"]],
        "events_total": len(events),
    }
