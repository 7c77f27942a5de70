# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gathered
short_description: What a run's evidence tasks gathered, and why each check that did not run did not
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes the registered results of the evidence tasks (one per data source) and returns the evidence, the checks
    that did not run with their reason, and the sources the run could not see (failed, or denied by the
    Kubernetes RBAC), which the runbook's "if unsure" rule and the role's exit code act on.
  - A skipped result of a source nobody wanted is left out; a source the role did not even try (missing access,
    nothing configured, the access check failed) is named in O(unavailable) with its reason.
options:
  _input:
    description: Source name to registered result.
    type: dict
    required: true
  unavailable:
    description:
      - Source name to C({kind, reason}) for the sources the role did not try; C(kind) is C(not_configured),
        C(denied) or C(failed).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Keep the evidence, and why each check that did not run did not
  ansible.builtin.set_fact:
    kas_fleet_gathered: >-
      {{ {'pods': kas_fleet_pods, 'clusters': kas_fleet_clusters}
         | kas.fleet_manager.gathered({'clusters': {'kind': 'denied', 'reason': 'missing access: secret'}}) }}
"""

RETURN = r"""
_value:
  description: The split.
  type: dict
  contains:
    evidence:
      description: Source to module result, for the sources that ran.
      type: dict
    not_run:
      description: Source to the reason it did not run.
      type: dict
    not_run_kind:
      description: Source to C(not_configured), C(denied) or C(failed).
      type: dict
    failed:
      description: The sources that failed or were denied, sorted.
      type: list
      elements: str
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.runbook import gathered


class FilterModule(object):
    def filters(self):
        return {"gathered": as_filter("gathered", gathered)}
