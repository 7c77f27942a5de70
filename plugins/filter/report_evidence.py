# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: report_evidence
short_description: Strip Ansible's bookkeeping from registered results before they go into a report
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes a dict of registered module results (source name to result) and drops what Ansible adds to every result
    (C(invocation) with the module arguments, C(changed), C(failed), C(skipped), ...), so a report holds only what
    the modules found and never an argument such as a token.
options:
  _input:
    description: Source name to registered result.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Keep only the findings
  ansible.builtin.copy:
    content: "{{ {'pods': fleet_pods, 'leaders': leaders} | kas.fleet_manager.report_evidence | to_nice_json }}"
    dest: /tmp/evidence.json
    mode: "0600"
"""

RETURN = r"""
_value:
  description: The same dict with each result's bookkeeping keys removed.
  type: dict
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.evidence import report_evidence


class FilterModule(object):
    def filters(self):
        return {"report_evidence": as_filter("report_evidence", report_evidence)}
