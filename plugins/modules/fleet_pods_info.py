#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_pods_info
short_description: Gather the state of the kas-fleet-manager deployment, its pods and events
version_added: 0.1.0
description:
  - The runbook's first check in the I(Fleet Manager down) and I(availability) sections, "Check
    Deployments/kas-fleet-manager ... make sure pods are configured and started; make sure pod number is configured
    to default 3", and "Check cluster event logs ... Search Error/exception events with keywords".
  - Reads the deployment, its pods and the namespace's events, and names what is wrong as machine-readable
    C(problems) codes with their evidence.
  - Read-only; a missing deployment is a problem reported (C(deployment_missing)), not a failure.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  expected_replicas:
    description:
      - The runbook's default number of pods. Fewer configured replicas is the C(replicas_below_default) problem.
    type: int
    default: 3
  event_keywords:
    description:
      - Events whose reason or message contains one of these (case-insensitive) are returned even when not of
        type Warning, as the runbook says to search events with these keywords.
    type: list
    elements: str
    default: ["Kafka Service Fleet Manager", "image", "deployment"]
  event_since:
    description:
      - Only events last seen within this many minutes are returned.
    type: int
    default: 60
  max_events:
    description:
      - At most this many events are returned, newest first.
    type: int
    default: 20
extends_documentation_fragment:
  - kas.fleet_manager.deployment
  - kas.fleet_manager.k8s_auth
  - kas.fleet_manager.attributes.info_module
"""

EXAMPLES = r"""
- name: Check Deployments/kas-fleet-manager (runbook, Fleet Manager down)
  kas.fleet_manager.fleet_pods_info:
    namespace: kas-fleet-manager-production
    kubeconfig: /etc/kas-sre/kubeconfig
  register: fleet

- name: Name every problem found
  ansible.builtin.debug:
    msg: "{{ fleet.problems | map(attribute='code') | list }}"

- name: Use a token instead of a kubeconfig, and look at events of the last 3 hours
  kas.fleet_manager.fleet_pods_info:
    namespace: kas-fleet-manager-stage
    host: https://api.stage.example.com:6443
    api_key: "{{ vault_kas_sre_token }}"
    ca_cert: /etc/pki/kas/stage-ca.pem
    event_since: 180

- name: Fail early when no pod is running
  kas.fleet_manager.fleet_pods_info:
    namespace: kas-fleet-manager-stage
  register: fleet
  failed_when: "'no_pods_running' in (fleet.problems | map(attribute='code'))"
"""

RETURN = r"""
healthy:
  description: True when no problem was found.
  returned: always
  type: bool
  sample: false
problems:
  description:
    - What is wrong, one entry per kind, most severe first. Codes are C(deployment_missing),
      C(no_pods_running), C(replicas_below_default), C(image_pull_failing), C(crash_looping),
      C(pods_not_ready), C(rollout_stalled) and C(warning_events).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Machine-readable problem code.
      type: str
    message:
      description: The problem in words.
      type: str
    evidence:
      description: The pods, figures or events that show it.
      type: dict
  sample:
    - code: replicas_below_default
      message: deployment kas-fleet-manager is configured for 1 replica(s), the runbook's default is 3
      evidence: {desired: 1, expected: 3}
deployment:
  description: The deployment's spec and status, or C(exists=false).
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the deployment exists.
      type: bool
    name:
      description: Deployment name.
      type: str
    desired_replicas:
      description: spec.replicas.
      type: int
    ready_replicas:
      description: status.readyReplicas (0 when absent).
      type: int
    updated_replicas:
      description: status.updatedReplicas.
      type: int
    available_replicas:
      description: status.availableReplicas.
      type: int
    unavailable_replicas:
      description: status.unavailableReplicas.
      type: int
    generation:
      description: metadata.generation.
      type: int
    observed_generation:
      description: status.observedGeneration.
      type: int
    conditions:
      description: status.conditions (type, status, reason, message, last_update_time).
      type: list
      elements: dict
    rollout_status:
      description: C(complete), C(progressing) or C(stalled) (Progressing condition ProgressDeadlineExceeded), as
        C(kubectl rollout status) judges it.
      type: str
    rollout_in_progress:
      description: True while a rollout is progressing.
      type: bool
    restarted_at:
      description: The template's kubectl.kubernetes.io/restartedAt annotation (last rollout restart), or null.
      type: str
    images:
      description: Container images of the pod template, by container name.
      type: dict
    selector:
      description: The label selector the deployment's pods are found with.
      type: str
    annotations:
      description: The deployment's annotations.
      type: dict
  sample:
    exists: true
    name: kas-fleet-manager
    desired_replicas: 3
    ready_replicas: 0
    rollout_status: stalled
pods:
  description: The deployment's pods, by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pod name.
      type: str
    phase:
      description: status.phase.
      type: str
    ready:
      description: The Ready condition is True.
      type: bool
    restarts:
      description: Sum of the containers' restartCount.
      type: int
    waiting_reasons:
      description: Reasons of containers waiting (CrashLoopBackOff, ImagePullBackOff, ...).
      type: list
      elements: str
    terminated_reasons:
      description: Reasons of containers' last termination.
      type: list
      elements: str
    containers:
      description: Per container name, ready, restarts, state, reason, message, last_state_reason, last_exit_code.
      type: list
      elements: dict
    start_time:
      description: status.startTime.
      type: str
    node:
      description: spec.nodeName.
      type: str
  sample:
    - name: kas-fleet-manager-58f7b8b649-2mgcp
      phase: Running
      ready: false
      restarts: 7
      waiting_reasons: [CrashLoopBackOff]
events:
  description: Warning events and events matching O(event_keywords), newest first, at most O(max_events).
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: Normal or Warning.
      type: str
    reason:
      description: Event reason.
      type: str
    message:
      description: Event message.
      type: str
    count:
      description: How many times it occurred.
      type: int
    object:
      description: involvedObject kind/name.
      type: str
    last_seen:
      description: lastTimestamp (or eventTime).
      type: str
    keywords:
      description: Which O(event_keywords) it matched.
      type: list
      elements: str
  sample:
    - type: Warning
      reason: Failed
      message: 'Failed to pull image "quay.io/app-sre/kas-fleet-manager:0000bad": manifest unknown'
      count: 14
      object: Pod/kas-fleet-manager-58f7b8b649-2mgcp
      keywords: [image]
events_total:
  description: How many events matched before O(max_events) cut the list.
  returned: always
  type: int
  sample: 3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import deployment_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s
from ansible_collections.kas.fleet_manager.plugins.module_utils.pods import gather


def argument_spec():
    spec = deployment_spec()
    spec.update(
        expected_replicas=dict(type="int", default=3),
        event_keywords=dict(type="list", elements="str", no_log=False,
                            default=["Kafka Service Fleet Manager", "image", "deployment"]),
        event_since=dict(type="int", default=60),
        max_events=dict(type="int", default=20),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True)
SERVICE = gather


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=require_k8s)


if __name__ == "__main__":
    main()
