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
options:
  _input:
    description: Source name to module result.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Derive the signals and signs from the evidence
  ansible.builtin.set_fact:
    kas_fleet_derived: "{{ kas_fleet_evidence | kas.fleet_manager.signals }}"
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
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.evidence import EvidenceError
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.signals import SignalsError, signals


def signals_filter(evidence):
    try:
        return signals(evidence)
    except (SignalsError, EvidenceError) as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"signals": signals_filter}
