# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""fleet_access_info's service: the runbook's "Access required" and "Relevant secrets", asked of the Kubernetes API
(a SelfSubjectAccessReview per permission, and a read of the secret whose values are never returned)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube

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
    """fleet_access_info: a SelfSubjectAccessReview per permission, and whether the secret can be read."""
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
