# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: findings
short_description: The runbook Steps' checks no rule reads, as findings for the report
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes the evidence of a run (source to module result; C(clusters) and C(kafkas) from
    M(kas.fleet_manager.request_status_info), C(leaders) from M(kas.fleet_manager.leader_check) run with
    O(kas.fleet_manager.leader_check#module:mentions)) and returns the runbook's "check the log for any abnormality"
    (rows in an accepted or in-progress status idle over O(long_idle_minutes), with the log lines naming each),
    "in case there is record with failed status, check the log for the error message" (the failed rows with their
    reason and log lines) and "check if there is at least one OSD cluster created and in ready status".
  - With O(ids=true), returns instead the ids to give leader_check as O(kas.fleet_manager.leader_check#module:mentions),
    from a list of request_status_info results.
options:
  _input:
    description: Source name to module result; with O(ids=true), a list of request_status_info results.
    type: raw
    required: true
  long_idle_minutes:
    description: The runbook's 45.
    type: float
    default: 45
  ids:
    description: Return the row ids to look up in the logs instead of the findings.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The ids of the stuck and failed rows, for leader_check to look up
  ansible.builtin.debug:
    msg: "{{ [kas_fleet_clusters, kas_fleet_kafkas] | kas.fleet_manager.findings(ids=true) }}"

- name: The findings of the run
  ansible.builtin.debug:
    msg: "{{ kas_fleet_evidence | kas.fleet_manager.findings(long_idle_minutes=45) }}"
"""

RETURN = r"""
_value:
  description:
    - The findings, each with C(check) (the runbook's sentence), C(table), C(rows) (C(id), C(status), C(idle_minutes),
      C(failed_reason) for failed rows, C(log_lines)) and for the ready check a C(note); or with O(ids=true) a sorted
      list of ids.
  type: list
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.findings import findings_or_ids


class FilterModule(object):
    def filters(self):
        return {"findings": as_filter("findings", findings_or_ids)}
