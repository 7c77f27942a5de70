# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""request_status_info as a task runs it, against a real PostgreSQL holding upstream's clusters and kafka_requests
tables (the ``pg`` fixture, tests/unit/plugins/fleet_db.py) and a fake Kubernetes API for the runbook's secret. Its
figures are tested in tests/unit/plugins/module_utils/test_request_status.py, the connection in test_db.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import request_status as rs
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.modules import request_status_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.fleet_db import DBNAME, PASSWORD, RUNBOOK_USER
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("psycopg2")


def module_args(pg, **overrides):
    args = {"table": "clusters", "login_host": pg["host"], "port": pg["port"], "login_user": RUNBOOK_USER,
            "login_password": PASSWORD, "ssl_mode": "disable"}
    args.update(overrides)
    return args


def test_module_with_direct_credentials(pg, capsys):
    result, out = run_module(m, module_args(pg, _ansible_check_mode=True), capsys)
    assert result["changed"] is False
    assert result["source"] == "options"
    assert result["statuses"]["cluster_accepted"]["over_threshold"] == 2
    assert result["total"] == 17
    assert PASSWORD not in out


def test_module_failed_requests_do_not_fail_the_task(pg, capsys):
    result, _out = run_module(m, module_args(pg, table="kafka_requests"), capsys)
    assert "failed" not in result  # a top-level "failed" would make Ansible fail the task
    assert [g["count"] for g in result["failed_by_reason"]] == [3, 1]


def test_module_wrong_password_fails_without_the_password(pg, capsys):
    wrong = "Wr0ng-" + PASSWORD
    result, out = run_module(m, module_args(pg, login_password=wrong), capsys)
    assert result["failed"] is True
    assert result["reason"] == "auth_failed"
    assert "password authentication failed" in result["msg"]
    assert "exception" not in result
    assert wrong not in out and PASSWORD not in out


@pytest.mark.parametrize("overrides, message", [
    ({"thresholds": {"cluster_accepted": 0}}, "thresholds: cluster_accepted must be a positive number of minutes, "
                                              "got 0"),
    ({"thresholds": {"cleanup": -5}}, "thresholds: cleanup must be a positive number of minutes, got -5"),
    ({"thresholds": {"cleanup": "soon"}}, "thresholds: cleanup must be a number of minutes, got 'soon'"),
    ({"max_samples": -1}, "max_samples must be between 0 and 1000, got -1"),
    ({"long_idle_minutes": 0}, "long_idle_minutes must be a positive number, got 0.0"),
    ({"statement_timeout": 0}, "statement_timeout must be at least 1 second, got 0"),
    ({"table": "leader_leases"}, "value of table must be one of: clusters, kafka_requests, got: leader_leases"),
])
def test_module_refuses_bad_options(pg, capsys, overrides, message):
    result, _out = run_module(m, module_args(pg, **overrides), capsys)
    assert result["failed"] is True
    assert result["msg"] == message
    assert "exception" not in result


def test_module_warns_on_a_status_upstream_lacks(pg, capsys):
    result, _out = run_module(m, module_args(pg, thresholds={"cluster_waiting_for_kas_fleet_operator": 45}), capsys)
    # ansible-core 2.19 returns warnings as structured summaries, older versions as strings
    warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
    assert warnings == ["thresholds: cluster_waiting_for_kas_fleet_operator is not a status of upstream's "
                        "clusters table (cluster_accepted, cluster_provisioning, cluster_provisioned, "
                        "waiting_for_kas_fleetshard_operator, ready, deprovisioning, cleanup, failed)"]


def test_module_secret_needs_a_namespace(capsys):
    result, _out = run_module(m, {"table": "clusters"}, capsys)
    assert result["failed"] is True
    assert result["msg"] == ("namespace is required to read the database secret kas-fleet-manager-rds (db_secret); "
                             "give namespace, or login_host, login_user and login_password")


def _raise(error):
    if isinstance(error, Exception):
        raise error


class FakeKube(object):
    """Stands in for module_utils.k8s.Kube: a secret (dict), or the FleetError the API would give."""
    secret = None
    secret_error = None
    namespace_error = None
    calls = []

    def __init__(self, params):
        FakeKube.calls.append(("init", params.get("kubeconfig")))

    def read_secret_data(self, namespace, name):
        FakeKube.calls.append(("secret", namespace, name))
        _raise(FakeKube.secret_error)
        return dict(FakeKube.secret)

    def read_namespace(self, namespace):
        _raise(FakeKube.namespace_error)
        return {"metadata": {"name": namespace}}


@pytest.fixture
def fake_kube(monkeypatch):
    FakeKube.secret, FakeKube.secret_error, FakeKube.namespace_error, FakeKube.calls = None, None, None, []
    monkeypatch.setattr(rs, "Kube", FakeKube)  # the service, request_status.gather, makes its Kube
    return FakeKube


def test_module_reads_the_runbook_secret(pg, capsys, fake_kube):
    fake_kube.secret = {"db.host": pg["host"], "db.port": str(pg["port"]), "db.name": DBNAME,
                        "db.user": RUNBOOK_USER, "db.password": PASSWORD}
    result, out = run_module(m, {"table": "kafka_requests", "namespace": "kas-fleet-manager-stage",
                                 "kubeconfig": "/nonexistent", "ssl_mode": "disable"}, capsys)
    assert fake_kube.calls == [("init", "/nonexistent"), ("secret", "kas-fleet-manager-stage", "kas-fleet-manager-rds")]
    assert result["source"] == "secret kas-fleet-manager-stage/kas-fleet-manager-rds"
    assert result["statuses"]["provisioning"]["over_threshold"] == 1
    assert PASSWORD not in out


def test_module_wrong_password_in_the_secret(pg, capsys, fake_kube):
    fake_kube.secret = {"db.host": pg["host"], "db.port": str(pg["port"]), "db.name": DBNAME,
                        "db.user": RUNBOOK_USER, "db.password": "Secret-in-k8s-" + PASSWORD}
    result, out = run_module(m, {"table": "clusters", "namespace": "ns", "ssl_mode": "disable"}, capsys)
    assert result["reason"] == "auth_failed"
    assert PASSWORD not in out


def test_module_forbidden_secret_names_it(capsys, fake_kube):
    fake_kube.secret_error = FleetError(
        'cannot read secret ns/kas-fleet-manager-rds: forbidden (403): secrets "kas-fleet-manager-rds" is forbidden',
        status=403)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns"}, capsys)
    assert result["failed"] is True
    assert result["status"] == 403 and result["reason"] == "forbidden"
    assert result["msg"].startswith("cannot read secret ns/kas-fleet-manager-rds: forbidden (403)")
    assert "need get on secrets in ns to read kas-fleet-manager-rds" in result["msg"]


def test_module_missing_secret_and_missing_namespace(capsys, fake_kube):
    fake_kube.secret_error = FleetError('cannot read secret ns/other: not found (404): secrets "other" not found',
                                        status=404)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns", "db_secret": "other"}, capsys)
    assert result["reason"] == "secret_not_found"
    assert result["msg"] == ('cannot read secret ns/other: not found (404): secrets "other" not found; check db_secret '
                             "(the runbook's secret is kas-fleet-manager-rds) and namespace")
    fake_kube.namespace_error = FleetError('cannot read namespace ns: not found (404): namespaces "ns" not found',
                                           status=404)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns"}, capsys)
    assert result["reason"] == "namespace_not_found"
    assert result["msg"] == ("namespace ns not found: cannot read the database secret kas-fleet-manager-rds there; "
                             "check namespace")
    # No right to read namespaces: the secret's own 404 stands.
    fake_kube.namespace_error = FleetError("cannot read namespace ns: forbidden (403)", status=403)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns"}, capsys)
    assert result["reason"] == "secret_not_found"


def test_module_direct_options_never_touch_kubernetes(pg, capsys, fake_kube):
    result, _out = run_module(m, module_args(pg), capsys)
    assert fake_kube.calls == []
    assert result["source"] == "options"
