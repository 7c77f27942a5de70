# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The fleet_restart module's service: a rollout restart of the fleet manager's deployment, guarded by a cooldown
and a circuit breaker whose history is kept on the deployment itself (``kas.fleet_manager/restart-history``).

The history, cooldown and breaker arithmetic are pure functions of a ``now`` (aware UTC datetime), so unit tests
run on fixed clocks; ``Restarter`` reads, decides and writes conditionally on the deployment's resourceVersion.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import math
import socket

from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    CONFLICT_ATTEMPTS, RESTART_HISTORY, RESTARTED_AT, annotation_json, check_may_patch, describe_seen,
    dump_annotation, is_conflict, list_deployment_pods, parse_rfc3339, pod_names, read_existing_deployment,
    resource_version, rfc3339, summarize_deployment, utcnow, wait_for_rollout)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_minimums
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube

HISTORY_MAX = 20


# -- history, cooldown and breaker (pure) ------------------------------------------------------------------
def load_history(dep):
    """The history entries of the deployment's annotation that have a readable time, oldest first."""
    entries = [e for e in annotation_json(dep, RESTART_HISTORY, [], list)
               if isinstance(e, dict) and parse_rfc3339(e.get("at"))]
    return sorted(entries, key=lambda e: parse_rfc3339(e["at"]))


def last_restart(history, template_restarted_at=None):
    """The latest restart (aware datetime) of the history or the template's restartedAt, or None."""
    times = [parse_rfc3339(e["at"]) for e in history]
    manual = parse_rfc3339(template_restarted_at)
    if manual:
        times.append(manual)
    return max(times) if times else None


def cooldown_remaining(last, now, cooldown_minutes):
    """Whole seconds until ``cooldown_minutes`` have passed since ``last`` (0 when they have, or no restart)."""
    if last is None or cooldown_minutes <= 0:
        return 0
    remaining = cooldown_minutes * 60 - (now - last).total_seconds()
    return int(math.ceil(remaining)) if remaining > 0 else 0


def counts_against_breaker(entry, horizon):
    return parse_rfc3339(entry["at"]) > horizon and entry.get("outcome") != "cleared" and not entry.get("reset")


def breaker_state(history, now, max_restarts, window_minutes):
    horizon = now - _minutes(window_minutes)
    counted = sum(1 for e in history if counts_against_breaker(e, horizon))
    return {"open": counted >= max_restarts, "restarts_not_cleared": counted, "max_restarts": max_restarts,
            "window_minutes": window_minutes}


def _minutes(n):
    return datetime.timedelta(minutes=n)


def decide(summary, history, now, cooldown_minutes, max_restarts, window_minutes):
    """(skipped_reason or None, facts): circuit_open first (it asks for an escalation), then cooldown, then a
    rollout in progress."""
    last = last_restart(history, summary.get("restarted_at"))
    facts = {
        "breaker": breaker_state(history, now, max_restarts, window_minutes),
        "cooldown_remaining_seconds": cooldown_remaining(last, now, cooldown_minutes),
        "last_restarted_at": rfc3339(last) if last else None,
    }
    if facts["breaker"]["open"]:
        return "circuit_open", facts
    if facts["cooldown_remaining_seconds"] > 0:
        return "cooldown", facts
    if summary["rollout_in_progress"]:
        return "rollout_in_progress", facts
    return None, facts


def skip_message(reason, name, facts, summary, cooldown_minutes):
    if reason == "circuit_open":
        b = facts["breaker"]
        return ("circuit breaker open: %d restart(s) of deployment %s in the last %d min did not clear the symptom "
                "(max_restarts %d); not restarting: escalate to the Control Plane team (state=reset closes the "
                "breaker once the cause is fixed)" % (b["restarts_not_cleared"], name, b["window_minutes"],
                                                      b["max_restarts"]))
    if reason == "cooldown":
        return ("deployment %s was restarted at %s, within the %d min cooldown: not restarting again for %d s"
                % (name, facts["last_restarted_at"], cooldown_minutes, facts["cooldown_remaining_seconds"]))
    return ("a rollout of deployment %s is in progress (%d/%d updated, %d available, observed generation %s of %s): "
            "not restarting during a rollout" % (name, summary["updated_replicas"], summary["desired_replicas"],
                                                 summary["available_replicas"], summary["observed_generation"],
                                                 summary["generation"]))


def new_entry(now, reason=None, symptom=None, by=None):
    return {"at": rfc3339(now), "reason": reason, "symptom": symptom, "by": by, "outcome": "pending",
            "outcome_at": None}


def append_entry(history, entry):
    """The history with ``entry`` appended, trimmed to the newest HISTORY_MAX entries."""
    return (list(history) + [entry])[-HISTORY_MAX:]


def record_outcome(history, outcome, now, restarted_at=None):
    """(new history, the updated entry, changed) with ``outcome`` recorded on the latest restart, or on the one
    at ``restarted_at``; (history, None, False) for an empty history."""
    if not history:
        if restarted_at:
            raise FleetError("no restart at %s in the restart history: nothing to record" % restarted_at)
        return history, None, False
    index = len(history) - 1
    if restarted_at:
        wanted = parse_rfc3339(restarted_at)
        if wanted is None:
            raise FleetError("restarted_at %r is not an RFC 3339 time such as 2026-11-25T04:00:00Z" % restarted_at)
        matches = [i for i, e in enumerate(history) if parse_rfc3339(e["at"]) == wanted]
        if not matches:
            raise FleetError("no restart at %s in the restart history (restarts: %s): nothing to record"
                             % (restarted_at, ", ".join(e["at"] for e in history)))
        index = matches[-1]
    new = copy.deepcopy(history)
    entry = new[index]
    if entry.get("outcome") == outcome:
        return history, history[index], False
    entry["outcome"] = outcome
    entry["outcome_at"] = rfc3339(now)
    return new, entry, True


def reset_breaker(history, now, window_minutes):
    """(new history, how many restarts stopped counting against the breaker)."""
    horizon = now - _minutes(window_minutes)
    new = copy.deepcopy(history)
    count = 0
    for entry in new:
        if counts_against_breaker(entry, horizon):
            entry["reset"] = True
            entry["reset_at"] = rfc3339(now)
            count += 1
    return new, count


def restart_patch(stamp, history, rv):
    """Strategic merge patch: the template's restartedAt (what kubectl rollout restart writes) and the history,
    conditional on the resourceVersion read."""
    return {"metadata": {"resourceVersion": rv, "annotations": {RESTART_HISTORY: dump_annotation(history)}},
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}


def history_patch(history, rv):
    return {"metadata": {"resourceVersion": rv, "annotations": {RESTART_HISTORY: dump_annotation(history)}}}


def state_diff(restarted_before, history_before, restarted_after, history_after):
    return {"before": {RESTARTED_AT: restarted_before, RESTART_HISTORY: history_before},
            "after": {RESTARTED_AT: restarted_after, RESTART_HISTORY: history_after}}


# -- the service -------------------------------------------------------------------------------------------
class Restarter(object):
    def __init__(self, module, kube=None, now=utcnow, host=None):
        self.module = module
        self.p = module.params
        self.kube = kube or Kube(self.p)
        self.now = now
        self.host = host or socket.gethostname()

    def base(self, summary, history, facts, pods):
        names = pod_names(pods)
        return {
            "changed": False,
            "restarted": False,
            "skipped_reason": None,
            "restarted_at": None,
            "last_restarted_at": facts["last_restarted_at"],
            "cooldown_remaining_seconds": facts["cooldown_remaining_seconds"],
            "breaker": facts["breaker"],
            "history": history,
            "rollout": {"status": "not_started", "seconds": 0.0},
            "pods_before": names,
            "pods_after": names,
        }

    def read(self):
        ns, name = self.p["namespace"], self.p["deployment"]
        dep = read_existing_deployment(self.kube, ns, name, restarted=False)
        return dep, summarize_deployment(dep)

    def facts(self, summary, history, now):
        return decide(summary, history, now, self.p["cooldown"], self.p["max_restarts"], self.p["window"])

    def run(self):
        return getattr(self, "do_" + self.p["state"])()

    def do_restarted(self):
        p, ns, name = self.p, self.p["namespace"], self.p["deployment"]
        for attempt in range(CONFLICT_ATTEMPTS):
            dep, summary = self.read()
            history = load_history(dep)
            now = self.now()
            skipped, facts = self.facts(summary, history, now)
            pods = list_deployment_pods(self.kube, ns, dep)
            result = self.base(summary, history, facts, pods)
            if skipped:
                result.update(skipped_reason=skipped,
                              msg=skip_message(skipped, name, facts, summary, p["cooldown"]))
                return result
            stamp = rfc3339(now)
            after = append_entry(history, new_entry(now, p["reason"], p["symptom"], self.host))
            if self.module._diff:
                result["diff"] = state_diff(summary["restarted_at"], history, stamp, after)
            result.update(changed=True, restarted_at=stamp, history=after,
                          breaker=breaker_state(after, now, p["max_restarts"], p["window"]))
            if self.module.check_mode:
                check_may_patch(self.kube, ns, name, restarted=False)
                result["rollout"] = {"status": "check_mode", "seconds": 0.0}
                result["msg"] = "would restart deployment %s (rollout restart of %d pod(s)); check mode" % (
                    name, len(result["pods_before"]))
                return result
            try:
                self.kube.patch_deployment(ns, name, restart_patch(stamp, after, resource_version(dep)))
            except FleetError as exc:
                if is_conflict(exc) and attempt < CONFLICT_ATTEMPTS - 1:
                    continue  # someone else changed the deployment meanwhile: read it again and re-decide
                exc.details.setdefault("restarted", False)
                raise
            result["restarted"] = True
            return self.finish(result)
        raise FleetError("deployment %s/%s kept changing while restarting it (%d conflicts); try again"
                         % (ns, name, CONFLICT_ATTEMPTS), restarted=False)

    def finish(self, result):
        p, ns, name = self.p, self.p["namespace"], self.p["deployment"]
        if not p["wait"]:
            result["rollout"] = {"status": "not_waited", "seconds": 0.0}
            result["msg"] = "restarted deployment %s at %s; not waiting for the rollout" % (name, result["restarted_at"])
            return result
        waited = wait_for_rollout(self.kube, ns, name, p["wait_timeout"], p["wait_sleep"])
        result["rollout"] = {"status": waited["status"], "seconds": waited["seconds"], "seen": waited["seen"]}
        result["pods_after"] = pod_names(waited["pods"])
        if waited["status"] != "complete":
            msg = ("deployment %s was restarted at %s but its rollout was not healthy after %s s: %s; the restart "
                   "is recorded and counts against the circuit breaker" % (
                       name, result["restarted_at"], p["wait_timeout"], describe_seen(waited["seen"])))
            result.pop("msg", None)
            raise FleetError(msg, **result)
        result["msg"] = "restarted deployment %s at %s: %d new pod(s) ready in %.0f s" % (
            name, result["restarted_at"], len(result["pods_after"]), waited["seconds"])
        return result

    def _write_history(self, build):
        """Read, build the new history with ``build(history, now) -> (new, changed, extra)``, and write it
        conditionally; re-read on conflict."""
        ns, name = self.p["namespace"], self.p["deployment"]
        for attempt in range(CONFLICT_ATTEMPTS):
            dep, summary = self.read()
            now = self.now()
            try:
                history = load_history(dep)
                malformed = False
            except FleetError:
                if self.p["state"] != "reset":
                    raise
                history, malformed = [], True
            new, changed, extra = build(history, now)
            changed = changed or malformed
            skipped, facts = self.facts(summary, new, now)
            result = self.base(summary, new, facts, [])
            result.pop("pods_before")
            result.pop("pods_after")
            result.update(extra)
            result["changed"] = changed
            if changed and self.module._diff:
                result["diff"] = state_diff(summary["restarted_at"], history, summary["restarted_at"], new)
            if not changed or self.module.check_mode:
                if changed:
                    check_may_patch(self.kube, ns, name, restarted=False)
                return result
            try:
                self.kube.patch_deployment(ns, name, history_patch(new, resource_version(dep)))
            except FleetError as exc:
                if is_conflict(exc) and attempt < CONFLICT_ATTEMPTS - 1:
                    continue
                raise
            return result
        raise FleetError("deployment %s/%s kept changing while writing its restart history (%d conflicts); try "
                         "again" % (ns, name, CONFLICT_ATTEMPTS))

    def do_record(self):
        p, name = self.p, self.p["deployment"]

        def build(history, now):
            new, entry, changed = record_outcome(history, p["outcome"], now, p["restarted_at"])
            if entry is None:
                return new, False, {"skipped_reason": "no_restart_recorded",
                                    "msg": "deployment %s has no restart in its history: no outcome to record" % name}
            verb = "recorded" if changed else "already recorded"
            return new, changed, {"recorded": entry,
                                  "msg": "%s outcome %s for the restart of deployment %s at %s" % (
                                      verb, p["outcome"], name, entry["at"])}
        return self._write_history(build)

    def do_reset(self):
        p, name = self.p, self.p["deployment"]

        def build(history, now):
            new, count = reset_breaker(history, now, p["window"])
            msg = ("circuit breaker of deployment %s closed by hand: %d restart(s) no longer count" % (name, count)
                   if count else "circuit breaker of deployment %s: no restart counts against it, nothing to reset"
                   % name)
            return new, count > 0, {"reset_count": count, "msg": msg}
        return self._write_history(build)


def restart(module):
    check_minimums(module.params, {"cooldown": 0, "max_restarts": 1, "window": 1, "wait_timeout": 1, "wait_sleep": 1})
    return Restarter(module).run()
