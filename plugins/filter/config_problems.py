# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: config_problems
short_description: What a role's argument specs cannot say about its settings, as sentences a person can act on
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes the settings (name to value) and the limits they must keep, and returns one sentence per problem, naming
    the setting and what is allowed; an empty list when there is none.
  - Checks, in this order, numbers that must be greater than 0, numbers that must be 0 or more, a number that may not
    be below another, names that go into file names and dedup keys (letters, digits, C(.), C(_) and C(-), not starting
    with C(.), at most 63), escalation routes whose URLs must be C(http://) or C(https://), and fallback lists whose
    teams must have a route.
  - Numbers are read as the C(int) filter reads them (a value that is not a number counts as 0). Types, choices and
    required fields are the argument specs' job, which run first.
  - The kas_fleet role runs it in an M(ansible.builtin.assert) before it gathers anything, with the limits of
    its C(kas_fleet_config_limits).
options:
  _input:
    description: The settings, name to value. Every name O(limits) uses must be there.
    type: dict
    required: true
  limits:
    description: What each setting must keep, by kind.
    type: dict
    required: true
    suboptions:
      greater_than_0:
        description: Names of numbers that must be greater than 0.
        type: list
        elements: str
      at_least_0:
        description: Names of numbers that must be 0 or more.
        type: list
        elements: str
      not_below:
        description: A number's name to the name of the number it may not be below.
        type: dict
      file_names:
        description: Names of strings that go into file names and dedup keys.
        type: list
        elements: str
      routes:
        description: Names of mappings of team to route (a dict with C(url)) whose URLs must be http or https.
        type: list
        elements: str
      fallbacks:
        description: The name of a list of teams to the name of the routes mapping each of them needs a route in.
        type: dict
"""

EXAMPLES = r"""
- name: Refuse a bad configuration before gathering anything
  ansible.builtin.assert:
    that: _problems | length == 0
    fail_msg: "Invalid configuration: {{ _problems | join('; ') }}"
  vars:
    _problems: >-
      {{ {'replicas': replicas, 'max_replicas': max_replicas, 'environment': environment,
          'routes': routes, 'fallback': fallback}
         | kas.fleet_manager.config_problems({'greater_than_0': ['replicas', 'max_replicas'],
                                              'not_below': {'max_replicas': 'replicas'}, 'file_names': ['environment'],
                                              'routes': ['routes'], 'fallbacks': {'fallback': 'routes'}}) }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order of the kinds above; empty when the settings keep every limit.
  type: list
  elements: str
  sample:
    - kas_fleet_stuck_idle_minutes must be greater than 0
    - kas_fleet_escalation_fallback names ocm_support, which has no route in kas_fleet_escalation_routes
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.settings import config_problems


class FilterModule(object):
    def filters(self):
        return {"config_problems": as_filter("config_problems", config_problems)}
