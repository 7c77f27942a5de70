# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: jmes
short_description: Select or reshape evidence with a JMESPath expression
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Applies a JMESPath expression to data, as community.general's json_query does (which is not available
    where Galaxy cannot be reached). The roles use it to pick evidence out of the fact modules' results.
options:
  _input:
    description: The data to query.
    type: raw
    required: true
  expression:
    description: A JMESPath expression.
    type: str
    required: true
requirements:
  - jmespath (Python library)
"""

EXAMPLES = r"""
- name: Names of the pods that are not ready
  ansible.builtin.debug:
    msg: "{{ fleet | kas.fleet_manager.jmes('pods[?!ready].name') }}"

- name: Statuses over their idle threshold
  ansible.builtin.debug:
    msg: "{{ kafkas | kas.fleet_manager.jmes('statuses | values(@)[?over_threshold > `0`]') }}"
"""

RETURN = r"""
_value:
  description: What the expression selects (null when nothing matches).
  type: raw
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.jmes import search


class FilterModule(object):
    def filters(self):
        return {"jmes": as_filter("jmes", search)}
