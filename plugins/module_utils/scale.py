# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The fleet_scale module's service: scale the fleet manager's deployment up through its ``scale`` subresource,
never down, never above a cap, never during a rollout; the write is conditional on the deployment's
resourceVersion, so a concurrent change is re-read and re-decided. ``plan`` is the decision, pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    CONFLICT_ATTEMPTS, check_may_patch, describe_seen, is_conflict, list_deployment_pods, pod_names,
    read_existing_deployment, resource_version, summarize_deployment, wait_for_rollout)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_minimums
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube


def plan(current, replicas=None, step=None, max_replicas=6, rollout_in_progress=False):
    """The decision, pure: ``{target, capped, replicas_after, skipped_reason}``. Never down, never above the cap,
    never during a rollout."""
    target = replicas if replicas is not None else current + step
    capped = target > max_replicas
    goal = min(target, max_replicas)
    decision = {"target": target, "capped": capped, "replicas_after": current, "skipped_reason": None}
    if current >= goal:
        decision["skipped_reason"] = "already_at_or_above"
    elif rollout_in_progress:
        decision["skipped_reason"] = "rollout_in_progress"
    else:
        decision["replicas_after"] = goal
    return decision


def message(name, current, decision, max_replicas):
    cap = " (target %d capped to max_replicas %d)" % (decision["target"], max_replicas) if decision["capped"] else ""
    if decision["skipped_reason"] == "already_at_or_above":
        return ("deployment %s already has %d replica(s), at or above the target %d%s: never scaling down"
                % (name, current, min(decision["target"], max_replicas), cap))
    if decision["skipped_reason"] == "rollout_in_progress":
        return "a rollout of deployment %s is in progress: not scaling during a rollout%s" % (name, cap)
    return "scale deployment %s from %d to %d replicas%s" % (name, current, decision["replicas_after"], cap)


def scale(module, kube=None):
    p = module.params
    check_minimums(p, {"replicas": 0, "step": 1, "max_replicas": 1, "wait_timeout": 1, "wait_sleep": 1})
    ns, name = p["namespace"], p["deployment"]
    kube = kube or Kube(p)
    for attempt in range(CONFLICT_ATTEMPTS):
        dep = read_existing_deployment(kube, ns, name, scaled=False)
        summary = summarize_deployment(dep)
        current = summary["desired_replicas"]
        decision = plan(current, p["replicas"], p["step"], p["max_replicas"], summary["rollout_in_progress"])
        pods = pod_names(list_deployment_pods(kube, ns, dep))
        result = {
            "changed": False, "scaled": False, "skipped_reason": decision["skipped_reason"],
            "replicas_before": current, "replicas_after": decision["replicas_after"], "target": decision["target"],
            "capped": decision["capped"], "max_replicas": p["max_replicas"],
            "rollout": {"status": "not_started", "seconds": 0.0}, "pods_before": pods, "pods_after": pods,
            "msg": message(name, current, decision, p["max_replicas"]),
        }
        if decision["skipped_reason"]:
            return result
        result["changed"] = True
        if module._diff:
            result["diff"] = {"before": {"replicas": current}, "after": {"replicas": decision["replicas_after"]}}
        if module.check_mode:
            check_may_patch(kube, ns, name, "scale", scaled=False)
            result["rollout"]["status"] = "check_mode"
            result["msg"] = "would " + result["msg"] + "; check mode"
            return result
        try:
            kube.scale_deployment(ns, name, decision["replicas_after"], resource_version(dep))
        except FleetError as exc:
            if is_conflict(exc) and attempt < CONFLICT_ATTEMPTS - 1:
                continue
            exc.details.setdefault("scaled", False)
            raise
        result["scaled"] = True
        return finish(kube, p, result)
    raise FleetError("deployment %s/%s kept changing while scaling it (%d conflicts); try again"
                     % (ns, name, CONFLICT_ATTEMPTS), scaled=False)


def finish(kube, p, result):
    ns, name = p["namespace"], p["deployment"]
    done = "scaled deployment %s from %d to %d replicas" % (name, result["replicas_before"], result["replicas_after"])
    if result["capped"]:
        done += " (target %d capped to max_replicas %d)" % (result["target"], p["max_replicas"])
    if not p["wait"]:
        result["rollout"] = {"status": "not_waited", "seconds": 0.0}
        result["msg"] = done + "; not waiting for the pods"
        return result
    waited = wait_for_rollout(kube, ns, name, p["wait_timeout"], p["wait_sleep"])
    result["rollout"] = {"status": waited["status"], "seconds": waited["seconds"], "seen": waited["seen"]}
    result["pods_after"] = pod_names(waited["pods"])
    if waited["status"] != "complete":
        result.pop("msg", None)
        raise FleetError("%s but the replicas were not ready after %s s: %s" % (
            done, p["wait_timeout"], describe_seen(waited["seen"])), **result)
    result["msg"] = "%s; %d pod(s) ready in %.0f s" % (done, len(result["pods_after"]), waited["seconds"])
    return result
