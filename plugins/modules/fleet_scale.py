#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_scale
short_description: Scale the kas-fleet-manager deployment up, never down, never above a cap
version_added: 0.1.0
description:
  - The runbook's remediations "Start the pod if none is running (default 3)" (I(Fleet Manager down),
    I(availability)) and "increase the number of replicas" when containers are under pressure (I(availability),
    I(latency)).
  - Scales through the C(deployments/scale) subresource, as C(kubectl scale) does, to O(replicas), or to the
    current count plus O(step).
  - "Guarded: it never scales down (a current count at or above the target is C(skipped_reason=already_at_or_above),
    C(changed=false)), never above O(max_replicas) (the target is capped and C(capped=true) says so), and not while
    a rollout is in progress (C(skipped_reason=rollout_in_progress)). The write is conditional on the deployment's
    resourceVersion, so a concurrent change is re-read and re-decided rather than overwritten."
  - With O(wait), waits until every replica is updated, ready and available, and fails after O(wait_timeout)
    seconds saying what it saw.
  - Check mode never writes; it evaluates the same guards, checks with a SelfSubjectAccessReview that the scale
    would be allowed, and reports the replicas it would set. With C(--diff), shows the replicas before and after.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  replicas:
    description:
      - The number of replicas to scale up to, for example the runbook's default V(3).
      - One of O(replicas) and O(step) is required.
    type: int
  step:
    description:
      - Scale up by this many replicas from the current count.
    type: int
  max_replicas:
    description:
      - Never scale above this many replicas; a higher target is capped to it.
    type: int
    default: 6
extends_documentation_fragment:
  - kas.fleet_manager.deployment
  - kas.fleet_manager.deployment.wait
  - kas.fleet_manager.k8s_auth
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Evaluates every guard and the permission to scale, and returns C(changed=true) when it would scale.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The replicas before and after.
notes:
  - Needs C(get) on C(deployments), C(patch) on C(deployments/scale) and C(list) on C(pods) in the namespace.
seealso:
  - module: kas.fleet_manager.fleet_restart
  - module: kas.fleet_manager.fleet_pods_info
"""

EXAMPLES = r"""
- name: "Start the pod if none is running (default: 3)"
  kas.fleet_manager.fleet_scale:
    namespace: kas-fleet-manager-production
    kubeconfig: /etc/kas-sre/kubeconfig
    replicas: 3
  register: started

- name: "Container performance issue: increase the number of replicas by one, at most 6"
  kas.fleet_manager.fleet_scale:
    namespace: kas-fleet-manager-production
    step: 1
    max_replicas: 6
  register: scaled

- name: Say when the cap was reached
  ansible.builtin.debug:
    msg: "{{ scaled.msg }}"
  when: scaled.capped

- name: See what a scale-up would do, without doing it
  kas.fleet_manager.fleet_scale:
    namespace: kas-fleet-manager-stage
    replicas: 3
  check_mode: true
  diff: true
"""

RETURN = r"""
msg:
  description: What was done, or why not, in one sentence.
  returned: always
  type: str
  sample: scaled deployment kas-fleet-manager from 1 to 3 replicas; 3 pod(s) ready in 4 s
scaled:
  description: True when this run changed the replicas (false in check mode).
  returned: always
  type: bool
  sample: true
skipped_reason:
  description:
    - Why nothing was scaled, or null. C(already_at_or_above) (the current count is at or above the target, which
      is never scaled down), C(rollout_in_progress), or C(deployment_missing) (a failure, returned with it).
  returned: always
  type: str
  sample: already_at_or_above
replicas_before:
  description: spec.replicas before this run.
  returned: always
  type: int
  sample: 1
replicas_after:
  description: spec.replicas after this run (in check mode, what it would be).
  returned: always
  type: int
  sample: 3
target:
  description: The replicas asked for (O(replicas), or the current count plus O(step)), before the cap.
  returned: always
  type: int
  sample: 3
capped:
  description: True when the target was above O(max_replicas) and was lowered to it.
  returned: always
  type: bool
  sample: false
max_replicas:
  description: O(max_replicas).
  returned: always
  type: int
  sample: 6
rollout:
  description: How the scale-up went.
  returned: always
  type: dict
  contains:
    status:
      description: C(complete), C(timeout) (a failure), C(not_waited), C(not_started) or C(check_mode).
      type: str
    seconds:
      description: Seconds spent waiting.
      type: float
    seen:
      description: The deployment's figures at the end of the wait.
      type: dict
  sample: {status: complete, seconds: 4.1}
pods_before:
  description: Names of the deployment's pods (not terminating) before the scale-up.
  returned: always
  type: list
  elements: str
  sample: [kas-fleet-manager-58f7b8b649-2mgcp]
pods_after:
  description: Names of the pods after the wait (the same as RV(pods_before) when nothing was scaled or without
    O(wait)).
  returned: always
  type: list
  elements: str
  sample: [kas-fleet-manager-58f7b8b649-2mgcp, kas-fleet-manager-58f7b8b649-8xk2q, kas-fleet-manager-58f7b8b649-q2w4z]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import deployment_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s
from ansible_collections.kas.fleet_manager.plugins.module_utils.scale import scale


def argument_spec():
    spec = deployment_spec(wait=True)
    spec.update(
        replicas=dict(type="int"),
        step=dict(type="int"),
        max_replicas=dict(type="int", default=6),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True, required_one_of=[("replicas", "step")],
                      mutually_exclusive=[("replicas", "step")])
SERVICE = scale


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=require_k8s)


if __name__ == "__main__":
    main()
