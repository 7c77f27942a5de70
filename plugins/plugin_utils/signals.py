# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""What the rules read, derived once from a run's evidence (plain functions, unit-tested; the signals filter calls
them).

``signals`` are the facts the "How to handle" rules quote; ``signs`` are what the sections' symptoms and their
"if unsure" rules are made of (the role's vars name which signs belong to which section). "Error/exception" means
the pod logs and Sentry alike: each category counts both, each source shown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.evidence import stuck
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.findings import findings

CATEGORIES = ("manager_api", "ocm", "kafka", "database", "other")
# Warning events about the cluster rather than the application: nodes, scheduling, storage, quota.
CLUSTER_EVENT_REASONS = ("FailedScheduling", "NodeNotReady", "FailedAttachVolume", "FailedMount", "Evicted",
                         "OutOfcpu", "OutOfmemory", "NodeHasDiskPressure", "FailedCreatePodSandBox", "NetworkNotReady")
# Pod problems that are no sign of their own: warnings are read by the cluster-events rule, too few replicas by
# the start-pods rule.
NOT_POD_PROBLEMS = ("warning_events", "replicas_below_default")
KAFKA_CREATION_SLOS = ("kafka_create_p90", "kafka_create_p99", "kafka_create_success")


class SignalsError(ValueError):
    """Input that is not the role's evidence."""


def _errors(leaders, sentry):
    logs = (leaders.get("errors") or {}).get("by_category") or {}
    issues = sentry.get("by_category") or {}
    out = {}
    for category in CATEGORIES:
        in_logs = int(logs.get(category) or 0)
        in_sentry = int((issues.get(category) or {}).get("issues") or 0)
        out[category] = {"logs": in_logs, "sentry": in_sentry, "total": in_logs + in_sentry}
    return out


def _cluster_level_events(pods):
    return [e for e in pods.get("events") or [] if e.get("type") == "Warning" and (
        str(e.get("object") or "").startswith("Node/") or e.get("reason") in CLUSTER_EVENT_REASONS)]


def _failed_recently(table):
    """Failed rows updated within the failed window: the role passes the window as the failed status's
    threshold, so the rows over it are the old ones."""
    failed = (table.get("statuses") or {}).get("failed") or {}
    return int(failed.get("count") or 0) - int(failed.get("over_threshold") or 0)


def _unique(values):
    out = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def present(signs):
    """The names of the signs that hold: true, a number above 0, a non-empty list or text."""
    return [name for name, value in signs.items() if value not in (None, False, 0, 0.0, "", [], {})]


def sections_in_play(signs, sections, section):
    """(symptoms: section -> its symptom signs that hold, the sections whose rules apply): a section run applies its
    own; triage those whose symptom is present, in the runbook's order."""
    held = set(present(signs))
    symptoms = dict((name, [s for s in conf.get("symptom") or [] if s in held]) for name, conf in sections.items())
    if section == "triage":
        return symptoms, [name for name in sections if symptoms[name]]
    return symptoms, [section]


def derive(evidence, sections, section, long_idle_minutes=45):
    """Everything a run derives from its evidence, in one pass: ``signals``, ``signs``, ``symptoms``, the sections in
    play (``eval_sections``), their ``run_rules`` and ``rule_workers``, and the report's ``findings``."""
    out = signals(evidence)
    symptoms, in_play = sections_in_play(out["signs"], sections, section)
    rules, workers = [], []
    for name in in_play:
        conf = sections.get(name)
        if conf is None:
            raise SignalsError("unknown section %r (known: %s)" % (name, ", ".join(sorted(sections))))
        rules.extend(r for r in conf.get("rules") or [] if r not in rules)
        workers.extend(w for w in conf.get("leader_workers") or [] if w not in workers)
    out.update(symptoms=symptoms, eval_sections=in_play, run_rules=rules, rule_workers=workers,
               findings=findings(evidence, long_idle_minutes))
    return out


def signals(evidence):
    """``{"signals": {...}, "signs": {...}}`` from the evidence (source -> module result) of a run."""
    if not isinstance(evidence, dict):
        raise SignalsError("signals() takes the evidence (source -> module result), not %s" % type(evidence).__name__)
    pods = evidence.get("pods") or {}
    leaders = evidence.get("leaders") or {}
    clusters = evidence.get("clusters") or {}
    kafkas = evidence.get("kafkas") or {}
    sentry = evidence.get("sentry") or {}
    breaches = (evidence.get("metrics") or {}).get("breaches") or []
    problems = [p.get("code") for p in pods.get("problems") or []]
    deployment = pods.get("deployment") or {}
    errors = _errors(leaders, sentry)
    missing, duplicated = list(leaders.get("missing") or []), list(leaders.get("duplicated") or [])
    # A leader missing means something only while pods run: with no pod up (or none able to pull its image) there
    # is no leader to find, and the Down section's signs say so.
    pods_up = "no_pods_running" not in problems and "image_pull_failing" not in problems
    leader_problems = (missing if pods_up else []) + duplicated
    pressure = [b for b in breaches if b.get("slo") in ("cpu", "memory")]

    def slos(names=None, prefix=None, key="slo"):
        return _unique(b.get(key) for b in breaches if (names and b.get("slo") in names)
                       or (prefix and str(b.get("slo")).startswith(prefix)))

    out_signals = {
        "errors": errors,
        "error_samples": (leaders.get("errors") or {}).get("samples") or [],
        "missing_leaders": missing,
        "duplicated_leaders": duplicated,
        "problems": problems,
        "no_pods_running": "no_pods_running" in problems,
        "replicas_configured": deployment.get("desired_replicas"),
        "cluster_level_events": _cluster_level_events(pods),
        "clusters_accepted_stuck": stuck(clusters, ["cluster_accepted"]),
        "clusters_in_progress_stuck": stuck(clusters, "in_progress"),
        "kafkas_in_progress_stuck": stuck(kafkas, "in_progress"),
        "kafkas_deletion_stuck": stuck(kafkas, "deletion"),
        "metric_breaches": breaches,
        "container_pressure": pressure,
    }
    signs = {
        "deployment_missing": "deployment_missing" in problems,
        "no_pod_ready": "no_pods_running" in problems and "deployment_missing" not in problems,
        "replicas_zero": deployment.get("desired_replicas") == 0,
        "service_down": any(b.get("slo") == "up" for b in breaches),
        "pod_problems": [p for p in problems if p not in NOT_POD_PROBLEMS],
        "unclassified_errors": errors["database"]["total"] + errors["other"]["total"],
        "api_5xx_burn": slos(names=("availability",), key="window"),
        "api_latency_burn": slos(prefix="latency_under_"),
        "container_pressure": slos(names=("cpu", "memory")),
        "clusters_accepted_idle": sum(s["over_threshold"] for s in out_signals["clusters_accepted_stuck"]),
        "clusters_stuck": [s["status"] for s in out_signals["clusters_in_progress_stuck"]],
        "clusters_failed_recently": _failed_recently(clusters),
        "no_cluster_ready": bool(clusters.get("statuses")) and not (clusters["statuses"].get("ready") or {}).get("count"),
        "cluster_leader_problems": [w for w in leader_problems if w == "ClusterManager"],
        "kafkas_stuck": [s["status"] for s in out_signals["kafkas_in_progress_stuck"]],
        "kafkas_accepted_idle": sum(s["over_threshold"] for s in stuck(kafkas, ["accepted"])),
        "kafkas_failed_recently": _failed_recently(kafkas),
        "kafka_creation_slo": slos(names=KAFKA_CREATION_SLOS),
        "kafka_leader_problems": [w for w in leader_problems if w == "KafkaManager"],
        "kafkas_deletion_stuck": [s["status"] for s in out_signals["kafkas_deletion_stuck"]],
        "kafka_deletion_slo": slos(names=("kafka_delete_success",), key="window"),
    }
    return {"signals": out_signals, "signs": signs}


def signals_or_derive(evidence, sections=None, section=None, long_idle_minutes=45):
    """The signals filter: the signals and signs of ``evidence``, and with ``sections`` all derive() gives."""
    if sections is None:
        return signals(evidence)
    return derive(evidence, sections, section, float(long_idle_minutes))
