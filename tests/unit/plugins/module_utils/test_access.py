# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""fleet_access_info's service (module_utils.access) over a fake Kubernetes API: the runbook's permissions, the
secret's readability, and what is denied."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import access
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.modules import fleet_access_info
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import service_module


class FakeKube(object):
    """can_i answers from ``denied`` (permission names); read_secret_data raises ``secret_error`` when set."""

    def __init__(self, denied=(), secret_error=None):
        self.denied, self.secret_error = set(denied), secret_error
        self.reviews, self.secrets = [], []
        self.lock = threading.Lock()

    def can_i(self, namespace, verb, resource, group="", subresource="", name=""):
        with self.lock:
            self.reviews.append((namespace, verb, resource, group, subresource, name))
        shown = access.permission_name({"verb": verb, "resource": resource, "subresource": subresource})
        return (False, "RBAC: no rule") if shown in self.denied else (True, "")

    def read_secret_data(self, namespace, name):
        self.secrets.append((namespace, name))
        if self.secret_error:
            raise self.secret_error
        return {"db.password": "never-returned"}


def review(kube, monkeypatch, **params):
    monkeypatch.setattr(access, "Kube", lambda p: kube)
    params.setdefault("namespace", "ns")
    return access.review(service_module(fleet_access_info, **params))


def test_the_runbooks_permissions_by_default_the_secret_by_name(monkeypatch):
    kube = FakeKube()
    result = review(kube, monkeypatch)
    assert [c["permission"] for c in result["checks"]] == [
        "get deployments", "list pods", "get pods/log", "list events", "get secrets", "patch deployments",
        "patch deployments/scale"]
    assert ("ns", "get", "secrets", "", "", "kas-fleet-manager-rds") in kube.reviews
    assert ("ns", "patch", "deployments", "apps", "scale", "") in kube.reviews
    assert result["denied"] == [] and result["all_allowed"] is True
    assert result["secret"] == {"name": "kas-fleet-manager-rds", "readable": True, "reason": None}
    assert "never-returned" not in repr(result)
    assert access.default_permissions("")[4] == {"verb": "get", "resource": "secrets"}
    assert access.DEFAULT_PERMISSIONS[4] == {"verb": "get", "resource": "secrets"}  # not changed by the naming


def test_denied_permissions_and_an_unreadable_secret(monkeypatch):
    kube = FakeKube(denied=["patch deployments", "patch deployments/scale"],
                    secret_error=FleetError("cannot read secret ns/kas-fleet-manager-rds: forbidden (403)", status=403))
    result = review(kube, monkeypatch)
    assert [(c["permission"], c["reason"]) for c in result["denied"]] == [
        ("patch deployments", "RBAC: no rule"), ("patch deployments/scale", "RBAC: no rule")]
    assert result["secret"]["readable"] is False and "forbidden (403)" in result["secret"]["reason"]
    assert result["all_allowed"] is False


def test_given_permissions_and_no_secret(monkeypatch):
    kube = FakeKube(denied=["get pods/log"])
    permissions = [{"verb": "list", "resource": "pods"}, {"verb": "get", "resource": "pods", "subresource": "log"}]
    result = review(kube, monkeypatch, secret="", permissions=permissions)
    assert [c["allowed"] for c in result["checks"]] == [True, False]
    assert result["secret"] == {"name": "", "readable": None, "reason": None} and kube.secrets == []
    with pytest.raises(FleetError, match="each permission needs verb and resource"):
        review(kube, monkeypatch, permissions=[{"verb": "get"}])


def test_another_api_failure_on_the_secret_fails(monkeypatch):
    kube = FakeKube(secret_error=FleetError("cannot read secret: the Kubernetes API answered 500", status=500))
    with pytest.raises(FleetError, match="answered 500"):
        review(kube, monkeypatch)
