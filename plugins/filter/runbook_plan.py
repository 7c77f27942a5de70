# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: runbook_plan
short_description: The plan a run's rule verdicts make - one remediation at most, one page per team
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Each runbook rule of the kas_fleet role leaves a verdict (C(id), C(rule), C(decision), C(fired), C(reason)).
    This filter applies them section by section in the runbook's order and returns the plan - at most one
    remediation (restart, start or scale up - the first the runbook's order gives) and every escalation whose rule
    fired, grouped into one page per team - and each section's decision trace.
  - A section's "Otherwise, or if unsure about the reason" rule fires when a check the section needs could not
    run, or when no other rule of the section fired and the section's own signs show something wrong.
options:
  _input:
    description: Rule id to verdict.
    type: dict
    required: true
  sections:
    description: The role's section table (C(kas_fleet_sections)).
    type: dict
    required: true
  run_sections:
    description: The sections whose rules ran, in the runbook's order.
    type: list
    elements: str
    required: true
  teams:
    description: Escalation decision to team (C(kas_fleet_decision_teams)).
    type: dict
    required: true
  checks_failed:
    description: Source to reason, for the checks that failed or were denied.
    type: dict
    default: {}
  extra:
    description: Verdicts that fired outside a section's rules (a restart that did not help, a run that failed).
    type: list
    elements: dict
    default: []
  partial:
    description:
      - The run failed before every rule ran. A section whose rules did not all leave a verdict is decided from those
        that did (its first fired rule, else C(escalate_control_plane)) and names its missing rules, instead of
        failing the filter, since a run that failed must still page (the kas_fleet role's rescue sets it).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Make the plan from the rules that fired
  ansible.builtin.set_fact:
    kas_fleet_plan: >-
      {{ kas_fleet_verdicts | kas.fleet_manager.runbook_plan(kas_fleet_sections, ['kafka_provisioning_latency'],
         kas_fleet_decision_teams) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    decision:
      description: The plan's first step (C(decision), C(rule_id), C(rule), C(reason)), or C(healthy).
      type: dict
    remediation:
      description: The one remediation (C(action) restart or scale, C(decision), C(rule_id), C(rule), C(reason), C(section)) or null.
      type: dict
    escalations:
      description: One entry per team (C(team), C(decision), C(rule_id) of its first rule, C(rules), C(sections), C(reason)).
      type: list
      elements: dict
    steps:
      description: The decisions of the plan's steps, in order.
      type: list
      elements: str
    sections:
      description: Per section, its first rule that fired (C(decision), C(rule_id), C(rule), C(reason)) and its C(trace).
      type: list
      elements: dict
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.runbook import runbook_plan


class FilterModule(object):
    def filters(self):
        return {"runbook_plan": as_filter("runbook_plan", runbook_plan)}
