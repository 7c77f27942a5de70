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

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube, require_k8s

REVIEW_WORKERS = 4
DEFAULT_PERMISSIONS = [
    {"verb": "get", "resource": "deployments", "group": "apps"},
    {"verb": "list", "resource": "pods"},
    {"verb": "get", "resource": "pods", "subresource": "log"},
    {"verb": "list", "resource": "events"},
    {"verb": "get", "resource": "secrets"},  # named after the secret option (default_permissions)
    {"verb": "patch", "resource": "deployments", "group": "apps"},
    {"verb": "patch", "resource": "deployments", "group": "apps", "subresource": "scale"},
]


def default_permissions(secret):
    """DEFAULT_PERMISSIONS with the secrets check about ``secret`` by name: the runbook needs that one secret, and a
    Role granting it by resourceNames allows a review of it but not of secrets in general."""
    perms = [dict(perm) for perm in DEFAULT_PERMISSIONS]
    for perm in perms:
        if perm["resource"] == "secrets" and secret:
            perm["name"] = secret
    return perms


def permission_name(perm):
    resource = perm["resource"] + ("/" + perm["subresource"] if perm.get("subresource") else "")
    return "%s %s" % (perm["verb"], resource)


def review(module):
    params = module.params
    kube = Kube(params)
    namespace = params["namespace"]
    permissions = params["permissions"]
    if permissions is None:
        permissions = default_permissions(params["secret"])
    for perm in permissions:
        if not perm.get("verb") or not perm.get("resource"):
            raise FleetError("each permission needs verb and resource, got %r" % (perm,))

    def check(perm):
        allowed, reason = kube.can_i(namespace, perm["verb"], perm["resource"], perm.get("group") or "",
                                     perm.get("subresource") or "", perm.get("name") or "")
        return {"permission": permission_name(perm), "allowed": allowed, "reason": reason}

    # The reviews are independent round trips: asked together, a run waits for about one of them, not seven.
    with ThreadPoolExecutor(max_workers=REVIEW_WORKERS) as pool:
        checks = list(pool.map(check, permissions))
    secret = {"name": params["secret"] or "", "readable": None, "reason": None}
    if params["secret"]:
        try:
            kube.read_secret_data(namespace, params["secret"])
            secret["readable"] = True
        except FleetError as exc:
            if exc.details.get("status") not in (403, 404):
                raise
            secret["readable"] = False
            secret["reason"] = exc.msg
    denied = [c for c in checks if not c["allowed"]]
    return {"checks": checks, "denied": denied, "secret": secret,
            "all_allowed": not denied and secret["readable"] is not False}


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
