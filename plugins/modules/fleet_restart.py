#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_restart
short_description: Restart the kas-fleet-manager pods (rollout restart), guarded by a cooldown and a circuit breaker
version_added: 0.1.0
description:
  - The runbook's remediation "try to restart the pods" (sections I(OSD Cluster provisioning latency) and
    I(Kafka Cluster provisioning latency)), done as C(kubectl rollout restart) does it - a strategic merge patch
    of the pod template's C(kubectl.kubernetes.io/restartedAt) annotation, so the deployment replaces its pods
    one by one - and guarded against restart storms.
  - "Not during a rollout: while a rollout of the deployment is in progress nothing is restarted
    (C(skipped_reason=rollout_in_progress))."
  - "Cooldown: at most one restart per O(cooldown) minutes (C(skipped_reason=cooldown)). A rollout restart
    by a person (the template's C(restartedAt)) counts too."
  - "Circuit breaker: after O(max_restarts) restarts within O(window) minutes that did not clear the symptom,
    the module refuses to restart (C(skipped_reason=circuit_open)) and says to escalate to the Control Plane
    team. A restart counts against the breaker until its outcome is recorded with O(state=record) and
    O(outcome=cleared); restarts recorded as C(not_cleared), or never recorded, keep counting until they leave
    the window. O(state=reset) closes the breaker by hand."
  - The restart history is kept on the deployment itself, as JSON in its C(kas.fleet_manager/restart-history)
    annotation, written in the same patch as the restart and conditional on the deployment's resourceVersion,
    so two runs (or two AWX nodes) see the same history and cannot both restart; the loser re-reads it and is
    held by the cooldown.
  - With O(wait), waits until the rollout is healthy (the controller has observed the new generation, updated,
    ready and available replicas equal the desired count, the old pods are gone) and fails after
    O(wait_timeout) seconds saying what it saw; the restart is still recorded and counts against the breaker.
  - Check mode never writes anything; it evaluates the same guards, checks with a SelfSubjectAccessReview that
    the patch would be allowed, and reports what it would do. With C(--diff), shows C(restartedAt) and the
    history annotation before and after.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  state:
    description:
      - V(restarted) restarts the pods if the guards allow it.
      - V(record) records the O(outcome) of the latest restart (or of the one at O(restarted_at)) in the history,
        after the caller has re-run the checks. Nothing is restarted.
      - V(reset) closes the circuit breaker by hand - every restart in the window that counts against it is
        marked C(reset) and stops counting - for example after the Control Plane team fixed the cause. The
        cooldown still applies. Nothing is restarted.
    type: str
    choices: [restarted, record, reset]
    default: restarted
  reason:
    description:
      - Why the restart is done, for example the runbook rule that fired. Recorded in the history entry.
    type: str
  symptom:
    description:
      - The symptom the restart should clear, for example C(no_leader:ClusterManager). Recorded in the history
        entry.
    type: str
  outcome:
    description:
      - With O(state=record), whether the restart cleared the symptom. C(cleared) restarts do not count against
        the circuit breaker.
    type: str
    choices: [cleared, not_cleared]
  restarted_at:
    description:
      - With O(state=record), the C(restarted_at) returned by the restart whose outcome is recorded. Defaults to
        the latest restart of the history.
    type: str
  cooldown:
    description:
      - Minutes after a restart during which no other restart is done. V(0) disables the cooldown.
    type: int
    default: 15
  max_restarts:
    description:
      - Restarts within O(window) that did not clear the symptom after which the circuit breaker opens.
    type: int
    default: 2
  window:
    description:
      - Minutes over which the circuit breaker counts restarts.
    type: int
    default: 60
extends_documentation_fragment:
  - kas.fleet_manager.deployment
  - kas.fleet_manager.deployment.wait
  - kas.fleet_manager.k8s_auth
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Evaluates every guard and the permission to patch, and returns C(changed=true) when it would restart.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Before and after of the template's C(restartedAt) and of the C(kas.fleet_manager/restart-history) annotation.
notes:
  - Needs C(get) and C(patch) on C(deployments) and C(list) on C(pods) in the namespace (and C(create) on
    C(selfsubjectaccessreviews) in check mode, which every authenticated user has).
seealso:
  - module: kas.fleet_manager.fleet_scale
  - module: kas.fleet_manager.escalate
  - module: kas.fleet_manager.fleet_pods_info
"""

EXAMPLES = r"""
- name: "No leader worker is running: try to restart the pods (runbook, OSD Cluster provisioning latency)"
  kas.fleet_manager.fleet_restart:
    namespace: kas-fleet-manager-production
    kubeconfig: /etc/kas-sre/kubeconfig
    reason: "Error/exception appears related to Manager Services API or no leader worker is running"
    symptom: no_leader:ClusterManager
  register: restart

- name: Escalate to Control Plane when the circuit breaker is open
  kas.fleet_manager.escalate:
    route: "{{ kas_fleet_escalation_routes.control_plane }}"
    team: Control Plane
    dedup_key: "production:osd_provisioning_latency:restart_pods"
    summary: "{{ restart.msg }}"
    evidence: "{{ restart.breaker }}"
  when: restart.skipped_reason == 'circuit_open'

- name: Record whether the restart cleared the symptom, after re-running the checks
  kas.fleet_manager.fleet_restart:
    namespace: kas-fleet-manager-production
    state: record
    restarted_at: "{{ restart.restarted_at }}"
    outcome: "{{ 'cleared' if leaders_after.leader_present else 'not_cleared' }}"
  when: restart.restarted

- name: See what a restart would do, without doing it
  kas.fleet_manager.fleet_restart:
    namespace: kas-fleet-manager-stage
  check_mode: true
  diff: true

- name: Close the circuit breaker by hand once the cause is fixed
  kas.fleet_manager.fleet_restart:
    namespace: kas-fleet-manager-stage
    state: reset
"""

RETURN = r"""
msg:
  description: What was done, or why not, in one sentence.
  returned: always
  type: str
  sample: "circuit breaker open: 2 restart(s) of deployment kas-fleet-manager in the last 60 min did not clear the
    symptom (max_restarts 2); not restarting: escalate to the Control Plane team"
restarted:
  description: True when the pods were restarted by this run (false in check mode).
  returned: always
  type: bool
  sample: true
skipped_reason:
  description:
    - Why nothing was restarted, or null. C(rollout_in_progress), C(cooldown), C(circuit_open), C(deployment_missing)
      (a failure, returned with the failure), and with O(state=record) C(no_restart_recorded).
  returned: always
  type: str
  sample: cooldown
restarted_at:
  description: The C(restartedAt) this run wrote (in check mode, the one it would write), or null.
  returned: always
  type: str
  sample: "2026-11-25T04:00:00Z"
last_restarted_at:
  description: The latest restart known before this run, from the history or the template's C(restartedAt).
  returned: always
  type: str
  sample: "2026-11-25T03:10:00Z"
cooldown_remaining_seconds:
  description: Seconds until the cooldown allows another restart (0 when it does).
  returned: always
  type: int
  sample: 312
breaker:
  description: The circuit breaker after this run.
  returned: always
  type: dict
  contains:
    open:
      description: True when no more restarts are allowed.
      type: bool
    restarts_not_cleared:
      description: Restarts in the window that count against the breaker (not recorded as cleared, not reset).
      type: int
    max_restarts:
      description: O(max_restarts).
      type: int
    window_minutes:
      description: O(window).
      type: int
  sample: {open: false, restarts_not_cleared: 1, max_restarts: 2, window_minutes: 60}
history:
  description: The restart history kept on the deployment, oldest first, after this run (at most 20 entries).
  returned: always
  type: list
  elements: dict
  contains:
    at:
      description: The C(restartedAt) of the restart.
      type: str
    reason:
      description: O(reason) given to the restart.
      type: str
    symptom:
      description: O(symptom) given to the restart.
      type: str
    by:
      description: Host name of the controller that restarted.
      type: str
    outcome:
      description: C(pending) until recorded, then C(cleared) or C(not_cleared).
      type: str
    outcome_at:
      description: When the outcome was recorded.
      type: str
    reset:
      description: True when O(state=reset) took the restart off the breaker's count.
      type: bool
  sample:
    - {at: "2026-11-25T03:10:00Z", reason: no leader worker, symptom: no_leader:ClusterManager, by: awx-1,
       outcome: not_cleared, outcome_at: "2026-11-25T03:12:00Z"}
rollout:
  description: How the rollout went.
  returned: always
  type: dict
  contains:
    status:
      description: C(complete), C(timeout) (a failure), C(not_waited) (O(wait=false)), C(not_started) (nothing
        restarted) or C(check_mode).
      type: str
    seconds:
      description: Seconds spent waiting.
      type: float
    seen:
      description: The rollout's figures at the end of the wait (generation, observed_generation, desired, updated,
        ready, available, pods, pods_ready, pods_terminating, rollout_status, waiting_reasons).
      type: dict
  sample: {status: complete, seconds: 6.2}
pods_before:
  description: Names of the deployment's pods (not terminating) before the restart.
  returned: always
  type: list
  elements: str
  sample: [kas-fleet-manager-58f7b8b649-2mgcp, kas-fleet-manager-58f7b8b649-blf5h, kas-fleet-manager-58f7b8b649-lzxms]
pods_after:
  description: Names of the pods after the rollout (the same as RV(pods_before) when nothing was restarted or
    without O(wait)).
  returned: always
  type: list
  elements: str
  sample: [kas-fleet-manager-6c9d7f5b4d-8xk2q, kas-fleet-manager-6c9d7f5b4d-f7r9m, kas-fleet-manager-6c9d7f5b4d-q2w4z]
recorded:
  description: With O(state=record), the history entry whose outcome was recorded.
  returned: when state is record and a restart was found
  type: dict
  sample: {at: "2026-11-25T03:10:00Z", outcome: cleared, outcome_at: "2026-11-25T03:12:00Z"}
reset_count:
  description: With O(state=reset), how many restarts were taken off the breaker's count.
  returned: when state is reset
  type: int
  sample: 2
"""

import copy
import datetime
import math
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import deployment_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    CONFLICT_ATTEMPTS, RESTART_HISTORY, RESTARTED_AT, annotation_json, describe_seen, dump_annotation,
    is_conflict, list_deployment_pods, parse_rfc3339, pod_names, read_existing_deployment, resource_version,
    rfc3339, summarize_deployment, utcnow, wait_for_rollout)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_minimums, run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube, require_k8s

HISTORY_MAX = 20
OUTCOMES = ("pending", "cleared", "not_cleared")


# -- history, cooldown and breaker (pure) -------------------------------------------------------------------
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


# -- module ------------------------------------------------------------------------------------------------
def check_permission(kube, namespace, name, **details):
    """In check mode: fail as the patch would, if the user may not patch the deployment."""
    try:
        allowed, _reason = kube.can_i(namespace, "patch", "deployments", group="apps")
    except FleetError:
        return  # no access review possible: the real run will tell
    if not allowed:
        raise FleetError("cannot patch deployment %s/%s: forbidden (403): the Kubernetes user may not patch "
                         "deployments in namespace %s (SelfSubjectAccessReview in check mode)"
                         % (namespace, name, namespace), status=403, **details)


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
                check_permission(self.kube, ns, name, restarted=False)
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
                    check_permission(self.kube, ns, name, restarted=False)
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


def argument_spec():
    spec = deployment_spec(wait=True)
    spec.update(
        state=dict(type="str", default="restarted", choices=["restarted", "record", "reset"]),
        reason=dict(type="str"),
        symptom=dict(type="str"),
        outcome=dict(type="str", choices=["cleared", "not_cleared"]),
        restarted_at=dict(type="str"),
        cooldown=dict(type="int", default=15),
        max_restarts=dict(type="int", default=2),
        window=dict(type="int", default=60),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True, required_if=[("state", "record", ["outcome"])])
SERVICE = restart


def main():
    module = AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS)
    require_k8s(module)
    run_module(module, SERVICE)


if __name__ == "__main__":
    main()
