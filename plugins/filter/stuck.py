# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stuck
short_description: Statuses whose requests sit idle past the runbook's threshold
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes a M(kas.fleet_manager.request_status_info) result and returns the statuses with rows idle past their
    threshold, for the runbook's rules ("records with cluster_accepted ... idle_time over 3 mins",
    "not ready and not accepted ... over 45 mins").
options:
  _input:
    description: A request_status_info result (registered variable).
    type: dict
    required: true
  which:
    description:
      - C(in_progress) for the result's in-progress statuses (not ready, not accepted, not failed, not deleting),
        C(deletion) for its deletion statuses, or a list of status names.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Clusters stuck in cluster_accepted (restart rule)
  ansible.builtin.debug:
    msg: "{{ clusters | kas.fleet_manager.stuck(['cluster_accepted']) }}"

- name: Kafka requests stuck in provisioning statuses (Data Plane rule)
  ansible.builtin.debug:
    msg: "{{ kafkas | kas.fleet_manager.stuck('in_progress') | map(attribute='status') | list }}"
"""

RETURN = r"""
_value:
  description: One entry per stuck status, with status, over_threshold, oldest_idle_minutes, threshold_minutes.
  type: list
  elements: dict
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.evidence import stuck


class FilterModule(object):
    def filters(self):
        return {"stuck": as_filter("stuck", stuck)}
