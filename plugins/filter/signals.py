# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: signals
short_description: What the runbook's rules read, derived once from a run's evidence
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes the evidence of a run (source to module result - C(pods) from M(kas.fleet_manager.fleet_pods_info),
    C(leaders) from M(kas.fleet_manager.leader_check), C(clusters) and C(kafkas) from
    M(kas.fleet_manager.request_status_info), C(metrics) from M(kas.fleet_manager.slo_metrics_info), C(sentry) from
    M(kas.fleet_manager.sentry_issues_info); any may be missing) and returns the C(signals) the "How to handle"
    rules quote and the C(signs) the sections' symptoms and "if unsure" rules are made of.
  - '"Error/exception" means the pod logs and Sentry alike: C(signals.errors) has, per category (C(manager_api),
    C(ocm), C(kafka), C(database), C(other)), the C(logs) and C(sentry) counts and their C(total).'
  - 'Signs: C(deployment_missing), C(no_pod_ready), C(replicas_zero), C(service_down) (no target up),
    C(pod_problems), C(unclassified_errors) (database and other errors), C(api_5xx_burn), C(api_latency_burn),
    C(container_pressure) (CPU or memory over the limit), C(clusters_accepted_idle), C(clusters_stuck),
    C(clusters_failed_recently), C(no_cluster_ready), C(cluster_leader_problems), C(kafkas_stuck),
    C(kafkas_accepted_idle), C(kafkas_failed_recently), C(kafka_creation_slo), C(kafka_leader_problems),
    C(kafkas_deletion_stuck), C(kafka_deletion_slo). A sign holds when it is true, a number above 0 or a non-empty
    list.'
  - Failed rows count as recent when they are within the C(failed) status's threshold given to request_status_info.
  - With O(sections) and O(section), also what the run does with them, so the evidence is read once - C(symptoms)
    (section to the signs of its entry symptom that hold), C(eval_sections) (a section run's own section, or for
    C(triage) the sections whose symptom is present), their C(run_rules) and C(rule_workers), and the report's
    C(findings) (as the M(kas.fleet_manager.findings#filter) filter gives them).
options:
  _input:
    description: Source name to module result.
    type: dict
    required: true
  sections:
    description: The kas_fleet role's section table (C(symptom), C(rules), C(leader_workers) per section).
    type: dict
  section:
    description: The section of the run, or C(triage).
    type: str
  long_idle_minutes:
    description: The runbook's 45, for the findings.
    type: float
    default: 45
"""

EXAMPLES = r"""
- name: Derive the signals and signs from the evidence
  ansible.builtin.set_fact:
    kas_fleet_derived: "{{ kas_fleet_evidence | kas.fleet_manager.signals }}"

- name: And what a section run does with them, in the same pass
  ansible.builtin.set_fact:
    kas_fleet_derived: "{{ kas_fleet_evidence | kas.fleet_manager.signals(kas_fleet_sections, 'kafka_provisioning_latency') }}"
"""

RETURN = r"""
_value:
  description: The signals and the signs.
  type: dict
  contains:
    signals:
      description: C(errors), C(error_samples), C(missing_leaders), C(duplicated_leaders), C(problems),
        C(no_pods_running), C(replicas_configured), C(cluster_level_events), C(clusters_accepted_stuck),
        C(clusters_in_progress_stuck), C(kafkas_in_progress_stuck), C(kafkas_deletion_stuck), C(metric_breaches),
        C(container_pressure).
      type: dict
    signs:
      description: Sign name to its value.
      type: dict
    symptoms:
      description: With O(sections), section to the signs of its entry symptom that hold.
      type: dict
    eval_sections:
      description: With O(sections), the sections whose rules apply.
      type: list
      elements: str
    run_rules:
      description: With O(sections), the rules of those sections, in order, once each.
      type: list
      elements: str
    rule_workers:
      description: With O(sections), the leader-elected workers those sections check.
      type: list
      elements: str
    findings:
      description: With O(sections), the report's findings.
      type: list
      elements: dict
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.signals import signals_or_derive


class FilterModule(object):
    def filters(self):
        return {"signals": as_filter("signals", signals_or_derive)}
