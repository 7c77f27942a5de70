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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import deployment_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s
from ansible_collections.kas.fleet_manager.plugins.module_utils.restart import restart


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
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=require_k8s)


if __name__ == "__main__":
    main()
