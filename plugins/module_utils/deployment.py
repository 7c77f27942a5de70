# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The fleet manager's deployment as the modules see it: summaries of the deployment and its pods, rollout
health as ``kubectl rollout status`` judges it, waiting for a rollout, and the state the action modules keep
on the deployment itself (JSON in ``kas.fleet_manager/...`` annotations) so that two runs, or two AWX nodes,
agree.

Pure functions take a ``now`` (aware UTC datetime) so unit tests run on fixed clocks; times are read and written
by module_utils.times (its utcnow, rfc3339 and parse_rfc3339 are importable from here too, as the action modules do).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.times import (  # noqa: F401 pylint: disable=unused-import
    parse_rfc3339, rfc3339, utcnow)

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANNOTATION_PREFIX = "kas.fleet_manager/"
RESTART_HISTORY = ANNOTATION_PREFIX + "restart-history"
OPEN_INCIDENTS = ANNOTATION_PREFIX + "open-incidents"

# A write that lost a race with another writer (HTTP 409 on a resourceVersion precondition) is re-read and
# re-decided at most this many times.
CONFLICT_ATTEMPTS = 4


# -- summaries ---------------------------------------------------------------------------------------------
def summarize_deployment(dep):
    """The deployment's figures and rollout state, from the API object (None when missing)."""
    if dep is None:
        return {"exists": False}
    meta, spec, status = dep.get("metadata", {}), dep.get("spec", {}), dep.get("status", {})
    template = spec.get("template", {})
    desired = spec.get("replicas", 1)
    conditions = [{"type": c.get("type"), "status": c.get("status"), "reason": c.get("reason"),
                   "message": c.get("message"), "last_update_time": c.get("lastUpdateTime")}
                  for c in status.get("conditions") or []]
    summary = {
        "exists": True,
        "name": meta.get("name"),
        "desired_replicas": desired,
        "replicas": status.get("replicas", 0),
        "ready_replicas": status.get("readyReplicas", 0),
        "updated_replicas": status.get("updatedReplicas", 0),
        "available_replicas": status.get("availableReplicas", 0),
        "unavailable_replicas": status.get("unavailableReplicas", 0),
        "generation": meta.get("generation"),
        "observed_generation": status.get("observedGeneration"),
        "conditions": conditions,
        "restarted_at": (template.get("metadata", {}).get("annotations") or {}).get(RESTARTED_AT),
        "images": dict((c.get("name"), c.get("image")) for c in template.get("spec", {}).get("containers", [])),
        "selector": selector_of(dep),
        "annotations": meta.get("annotations") or {},
    }
    summary["rollout_status"] = rollout_status(summary)
    summary["rollout_in_progress"] = summary["rollout_status"] == "progressing"
    return summary


def rollout_status(d):
    """complete, progressing or stalled, judged as ``kubectl rollout status`` does."""
    if d["generation"] is not None and (d["observed_generation"] or 0) < d["generation"]:
        return "progressing"
    for cond in d["conditions"]:
        if cond["type"] == "Progressing" and cond["reason"] == "ProgressDeadlineExceeded":
            return "stalled"
    desired = d["desired_replicas"]
    if d["updated_replicas"] < desired or d["replicas"] > d["updated_replicas"] or \
            d["available_replicas"] < d["updated_replicas"]:
        return "progressing"
    return "complete"


def selector_of(deployment):
    """``kubectl``'s label selector string of a deployment's spec.selector (matchLabels and matchExpressions)."""
    selector = (deployment.get("spec") or {}).get("selector") or {}
    parts = ["%s=%s" % (k, v) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append("%s in (%s)" % (key, ",".join(values)))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (key, ",".join(values)))
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts)


def summarize_pod(pod):
    """The collection's one pod summary, from the API object: name, phase, ready (the Ready condition), restarts (the
    sum of every container's restartCount: the pod's restarts, as fleet_pods_info returns them), the waiting and last
    termination reasons, per container (``containers``, from the container statuses) its own figures, start time,
    node and whether it is terminating. container_restarts reads one container's restarts from it."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    containers = []
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        state_name = next(iter(state), None)
        detail = state.get(state_name) or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        containers.append({
            "name": cs.get("name"),
            "ready": bool(cs.get("ready")),
            "restarts": cs.get("restartCount") or 0,
            "state": state_name,
            "reason": detail.get("reason"),
            "message": detail.get("message"),
            "last_state_reason": last.get("reason"),
            "last_exit_code": last.get("exitCode"),
        })
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return {
        "name": meta.get("name"),
        "phase": status.get("phase"),
        "ready": ready,
        "restarts": sum(c["restarts"] for c in containers),
        "waiting_reasons": sorted(set(c["reason"] for c in containers if c["state"] == "waiting" and c["reason"])),
        "terminated_reasons": sorted(set(c["last_state_reason"] for c in containers if c["last_state_reason"])),
        "containers": containers,
        "start_time": status.get("startTime"),
        "node": spec.get("nodeName"),
        "deleting": bool(meta.get("deletionTimestamp")),
    }


def container_restarts(summary, container):
    """The restarts of one container of a pod summary (0 while it has no status): whether it has a previous log."""
    return sum(c["restarts"] for c in summary["containers"] if c["name"] == container)


def container_names(pod):
    """The names of the containers of the pod's spec (a pod not started yet has them, but no container status)."""
    return [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]


def check_namespace(kube, namespace):
    """Tell a wrong namespace from a missing deployment. A token that may not read namespace objects (usual for
    a namespaced role) cannot tell, and the missing deployment is reported as such."""
    try:
        kube.read_namespace(namespace)
    except FleetError as exc:
        if exc.details.get("status") == 404:
            raise FleetError("namespace %s not found on %s: check the namespace option (for example "
                             "kas-fleet-manager-stage or kas-fleet-manager-production)" % (namespace, kube.host),
                             status=404, reason="namespace_not_found")
        if exc.details.get("status") != 403:
            raise


def read_existing_deployment(kube, namespace, name, **details):
    """The deployment; a missing one is a FleetError (``skipped_reason=deployment_missing`` plus ``details``),
    after telling a wrong namespace apart."""
    dep = kube.read_deployment(namespace, name)
    if dep is None:
        check_namespace(kube, namespace)
        details.setdefault("skipped_reason", "deployment_missing")
        raise FleetError("deployment %s not found in namespace %s: check the deployment and namespace options"
                         % (name, namespace), status=404, **details)
    return dep


def pod_names(pods):
    """Names of the pods that are not terminating, sorted."""
    return sorted(p["name"] for p in pods if not p["deleting"])


def list_deployment_pods(kube, namespace, dep, name=None):
    """The summaries (summarize_pod) of the pods the deployment's selector selects, by name; without a selector, or
    for a missing deployment (``dep`` None), those labelled ``app=<name>`` (``name`` defaults to the deployment's)."""
    name = name or dep["metadata"]["name"]
    selector = (selector_of(dep) if dep is not None else "") or "app=%s" % name
    return sorted((summarize_pod(p) for p in kube.list_pods(namespace, selector)), key=lambda p: p["name"])


# How check mode names a write it may not do, as the write itself would fail (k8s.Kube's messages):
# subresource -> (the object as Kube names it, the verb a person reads).
_WRITES = {"": ("deployment", "patch"), "scale": ("deployments/scale", "scale")}


def check_may_patch(kube, namespace, name, subresource="", **details):
    """In check mode, where nothing is written: a FleetError (status 403, plus ``details``) worded as the patch
    of the deployment (or of its ``subresource``, such as ``scale``) would fail, when a SelfSubjectAccessReview
    says the user may not do it. When the review itself cannot be made, the real run will tell."""
    try:
        allowed, _reason = kube.can_i(namespace, "patch", "deployments", group="apps", subresource=subresource)
    except FleetError:
        return
    if not allowed:
        what, verb = _WRITES[subresource]
        raise FleetError("cannot patch %s %s/%s: forbidden (403): the Kubernetes user may not %s deployments in "
                         "namespace %s (SelfSubjectAccessReview in check mode)"
                         % (what, namespace, name, verb, namespace), status=403, **details)


# -- rollout health and wait -------------------------------------------------------------------------------
def rollout_health(summary, pods):
    """(healthy, what was seen): a rollout is done when the controller has observed the latest generation,
    updated = ready = available = desired replicas, and only the desired number of pods remain, all ready and
    none terminating (the old pods are gone)."""
    desired = summary["desired_replicas"]
    live = [p for p in pods if not p["deleting"]]
    terminating = len(pods) - len(live)
    ready_pods = sum(1 for p in live if p["ready"])
    seen = {
        "generation": summary["generation"],
        "observed_generation": summary["observed_generation"],
        "desired": desired,
        "replicas": summary["replicas"],
        "updated": summary["updated_replicas"],
        "ready": summary["ready_replicas"],
        "available": summary["available_replicas"],
        "pods": len(live),
        "pods_ready": ready_pods,
        "pods_terminating": terminating,
        "rollout_status": summary["rollout_status"],
        "waiting_reasons": sorted(set(r for p in live for r in p["waiting_reasons"])),
    }
    healthy = (
        (summary["generation"] is None or (summary["observed_generation"] or 0) >= summary["generation"])
        and summary["updated_replicas"] == desired and summary["ready_replicas"] == desired
        and summary["available_replicas"] == desired and summary["replicas"] == desired
        and len(live) == desired and ready_pods == desired and terminating == 0
    )
    return healthy, seen


def describe_seen(seen):
    """One sentence of what a rollout looked like, for a failure message."""
    text = "observed generation %s of %s, %s/%s updated, %s ready, %s available, %s pod(s) (%s ready, %s terminating)" % (
        seen["observed_generation"], seen["generation"], seen["updated"], seen["desired"], seen["ready"],
        seen["available"], seen["pods"], seen["pods_ready"], seen["pods_terminating"])
    if seen["rollout_status"] == "stalled":
        text += ", progress deadline exceeded"
    if seen["waiting_reasons"]:
        text += ", containers waiting: %s" % ", ".join(seen["waiting_reasons"])
    return text


def wait_for_rollout(kube, namespace, name, timeout, interval, clock=time.monotonic, sleep=time.sleep):
    """Poll the deployment and its pods until the rollout is healthy or ``timeout`` seconds pass.

    Returns ``{"status": complete|timeout, "seconds": float, "seen": {...}, "pods": [pod summaries]}``; a
    deployment deleted meanwhile is a FleetError.
    """
    start = clock()
    while True:
        dep = kube.read_deployment(namespace, name)
        if dep is None:
            raise FleetError("deployment %s/%s disappeared while waiting for its rollout" % (namespace, name),
                             status=404)
        pods = list_deployment_pods(kube, namespace, dep)
        healthy, seen = rollout_health(summarize_deployment(dep), pods)
        elapsed = clock() - start
        if healthy:
            return {"status": "complete", "seconds": round(elapsed, 1), "seen": seen, "pods": pods}
        if elapsed >= timeout:
            return {"status": "timeout", "seconds": round(elapsed, 1), "seen": seen, "pods": pods}
        sleep(max(0.0, min(interval, timeout - elapsed)))


# -- state kept in annotations -----------------------------------------------------------------------------
def annotation_json(dep, key, default, kind):
    """The JSON value of annotation ``key`` (``default`` when absent); ``kind`` is list or dict. A value that is
    not valid JSON of that kind is a FleetError that names the annotation, since guessing would defeat the
    guard the state exists for."""
    raw = ((dep.get("metadata") or {}).get("annotations") or {}).get(key)
    if raw is None or raw == "":
        return default
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise FleetError("annotation %s on deployment %s is not a JSON %s; fix it or remove it "
                         "(kubectl annotate deployment %s %s-)" % (
                             key, dep["metadata"].get("name"), "list" if kind is list else "object",
                             dep["metadata"].get("name"), key), annotation=key)
    return value


def dump_annotation(value):
    """Compact, stable JSON for an annotation value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def resource_version(dep):
    return (dep.get("metadata") or {}).get("resourceVersion")


def is_conflict(exc):
    return isinstance(exc, FleetError) and exc.details.get("status") == 409
