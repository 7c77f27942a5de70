#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_access_info
short_description: Check the runbook's "Access required" before gathering evidence
version_added: 0.1.0
description:
  - Every runbook section starts with "Access required" (pods, deployments, events in the fleet manager's namespace)
    and "Relevant secrets" (C(kas-fleet-manager-rds)). This module asks the Kubernetes API, with a
    SelfSubjectAccessReview per permission, whether the credentials in use have each one.
  - A missing permission is named in C(denied), so the checks that need it are reported as not run rather than
    silently empty.
  - Read-only.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  namespace:
    description:
      - Namespace of the fleet manager.
    type: str
    required: true
  permissions:
    description:
      - The permissions to check, each a dict with C(verb), C(resource), and optionally C(group), C(subresource)
        and C(name).
      - With C(name), the review is about that one object, as a Role rule with C(resourceNames) grants it.
      - Defaults to what the runbook's sections need, reads for the evidence and the two writes of the remediation
        (rollout restart and scale) - C(get deployments), C(list pods), C(get pods/log), C(list events),
        C(get secrets) about the O(secret) secret by name (any secret when O(secret) is empty),
        C(patch deployments) and C(patch deployments/scale).
      - The collection's Roles in C(roles/kas_fleet/files/rbac/) grant exactly these, the reads in C(recommend/)
        and the two patches in C(apply/); with only the read-only Role bound the two patch checks are denied.
    type: list
    elements: dict
  secret:
    description:
      - A secret whose readability is checked by reading it (its values are never returned), as the runbook's
        "Relevant secrets". Empty to skip.
    type: str
    default: kas-fleet-manager-rds
extends_documentation_fragment:
  - kas.fleet_manager.k8s_auth
  - kas.fleet_manager.attributes.info_module
"""

EXAMPLES = r"""
- name: Check the access the runbook requires
  kas.fleet_manager.fleet_access_info:
    namespace: kas-fleet-manager-stage
    kubeconfig: /etc/kas-sre/kubeconfig
  register: access

- name: Say plainly what is missing
  ansible.builtin.debug:
    msg: "Missing permissions: {{ access.denied | map(attribute='permission') | join(', ') }}"
  when: access.denied | length > 0

- name: Check only what the OSD sections need
  kas.fleet_manager.fleet_access_info:
    namespace: kas-fleet-manager-stage
    permissions:
      - {verb: list, resource: pods}
      - {verb: get, resource: pods, subresource: log}
    secret: ""
"""

RETURN = r"""
checks:
  description: One entry per permission, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    permission:
      description: The permission as C(verb resource[/subresource]) (for example C(get pods/log)).
      type: str
    allowed:
      description: Whether the API allows it.
      type: bool
    reason:
      description: The API's reason, when it gives one.
      type: str
  sample:
    - {permission: get pods/log, allowed: true, reason: ""}
denied:
  description: The checks that were not allowed (same shape as RV(checks)).
  returned: always
  type: list
  elements: dict
  sample:
    - {permission: get secrets, allowed: false, reason: ""}
secret:
  description: Whether O(secret) could be read, and why not. Never its values.
  returned: always
  type: dict
  contains:
    name:
      description: The secret's name (empty when not checked).
      type: str
    readable:
      description: True when it was read; null when not checked.
      type: bool
    reason:
      description: Why it could not be read.
      type: str
  sample: {name: kas-fleet-manager-rds, readable: true, reason: null}
all_allowed:
  description: True when every permission is allowed and the secret (if checked) is readable.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.access import review
from ansible_collections.kas.fleet_manager.plugins.module_utils.args import k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s


def argument_spec():
    spec = k8s_auth_spec()
    spec.update(
        namespace=dict(type="str", required=True),
        permissions=dict(type="list", elements="dict"),
        secret=dict(type="str", default="kas-fleet-manager-rds", no_log=False),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True)
SERVICE = review


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=require_k8s)


if __name__ == "__main__":
    main()
