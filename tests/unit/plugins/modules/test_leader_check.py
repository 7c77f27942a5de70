# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""leader_check end to end over a fake Kubernetes API (Kube replaced) and a fake database: its service
(module_utils.leader_scan.check) run by the module. The log scan, the gathering over pods and the lease triangulation
are tested in tests/unit/plugins/module_utils/test_leader_scan.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import re

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.common import warnings
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils import leader_scan as ls
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.workers import LEASE_TYPES, RUNBOOK_WORKERS
from ansible_collections.kas.fleet_manager.plugins.modules import leader_check as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fleet_logs import (
    CM_ID, CM_ID2, DB_ERROR, KM_ID, KM_ID2, NOISE, NS, OCM_ERROR, PODS, STARTUP, XID, glog, lease, started)

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args=None):
        payload = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield


# -- the module over a fake API ----------------------------------------------------------------------------------
def pod_object(name, restarts=0, ready=True, containers=("service", "envoy-sidecar"), phase="Running"):
    return {"metadata": {"name": name, "labels": {"app": "kas-fleet-manager"}},
            "spec": {"containers": [{"name": c} for c in containers]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [{"name": c, "restartCount": restarts if c == "service" else 0}
                                             for c in containers]}}


DEPLOYMENT = {"metadata": {"name": "kas-fleet-manager"},
              "spec": {"selector": {"matchLabels": {"app": "kas-fleet-manager"}}}}


class FakeKube(object):
    """The Kube methods leader_check uses, answering as the API would (FleetError with status on failures)."""

    host = "https://api.example:6443"

    def __init__(self, pods, logs, previous=None, deployment=True, namespaces=(NS,), log_errors=None,
                 secret=None):
        self.pods, self.logs, self.previous = pods, logs, previous or {}
        self.deployment = DEPLOYMENT if deployment is True else deployment
        self.namespaces = namespaces
        self.log_errors = log_errors or {}
        self.secret = secret
        self.calls = []

    def read_namespace(self, namespace):
        self.calls.append(("read_namespace", namespace))
        if namespace not in self.namespaces:
            raise FleetError("cannot read namespace %s: not found (404)" % namespace, status=404)
        return {"metadata": {"name": namespace}}

    def read_deployment(self, namespace, name):
        self.calls.append(("read_deployment", namespace, name))
        if namespace not in self.namespaces or self.deployment is None or name != "kas-fleet-manager":
            return None
        return self.deployment

    def list_pods(self, namespace, label_selector=None):
        self.calls.append(("list_pods", namespace, label_selector))
        return list(self.pods) if namespace in self.namespaces else []

    def stream_log(self, namespace, pod, container, previous=False, since_seconds=None, tail_lines=None,
                   limit_bytes=None):
        self.calls.append(("stream_log", pod, container, previous, since_seconds, tail_lines, limit_bytes))
        error = self.log_errors.get((pod, previous))
        if error:
            raise error
        source = self.previous if previous else self.logs
        if pod not in source:
            raise FleetError("previous terminated container %s in pod %s not found" % (container, pod), status=400)
        return (line for line in source[pod])

    def read_secret_data(self, namespace, name):
        if self.secret is None:
            raise FleetError("cannot read secret %s/%s: forbidden (403): secrets is forbidden" % (namespace, name),
                             status=403)
        return dict(self.secret)


def run(args, kube, monkeypatch, capsys):
    monkeypatch.setattr(ls, "Kube", lambda params: kube)  # the service, leader_scan.check, makes its Kube
    # AnsibleModule keeps warnings in a module-level collection: start each run without the previous ones.
    getattr(warnings, "_global_warnings", []).clear()
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            m.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def warning_text(result):
    """Every warning's text (ansible-core 2.19 returns warnings as structures, older versions as strings)."""
    return json.dumps(result.get("warnings") or [])


def healthy_logs():
    return {PODS[0]: STARTUP + [started("*cluster_mgrs.ClusterManager", CM_ID),
                                started("*kafka_mgrs.KafkaManager", KM_ID)] + NOISE,
            PODS[1]: STARTUP + NOISE + [glog(OCM_ERROR % XID, "E", "clusters_mgr.go:312")],
            PODS[2]: STARTUP + NOISE}


def test_module_healthy_with_window_and_previous_log(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0]), pod_object(PODS[1], restarts=2), pod_object(PODS[2])], healthy_logs(),
                    previous={PODS[1]: [glog(DB_ERROR, "E"), started("*cluster_mgrs.ClusterManager", CM_ID2)]})
    args = {"namespace": NS, "since_seconds": 7200, "tail_lines": 5000, "limit_bytes": 10485760}
    result = run(args, kube, monkeypatch, capsys)[0]
    assert result["changed"] is False and result["healthy"] is True
    assert result["missing"] == [] and result["duplicated"] == []
    assert result["selector"] == "app=kas-fleet-manager"
    assert ("list_pods", NS, "app=kas-fleet-manager") in kube.calls
    assert ("stream_log", PODS[1], "service", True, 7200, 5000, 10485760) in kube.calls
    assert not any(c[0] == "stream_log" and c[3] for c in kube.calls if c[1] != PODS[1])
    assert result["workers"]["ClusterManager"]["leaders"] == [PODS[0]]
    assert result["errors"]["by_category"]["ocm"] == 1 and result["errors"]["by_category"]["database"] == 1
    assert result["errors"]["by_pod"][PODS[1]]["previous"] == 1
    assert result["pods"][0]["name"] == PODS[1]  # sorted by name
    assert result["unreadable"] == [] and result["disagreements"] == []
    assert "warnings" not in result


def test_module_unreadable_pod_is_reported_not_failed(monkeypatch, capsys):
    waiting = FleetError('cannot read the log of container service in pod %s/%s: the Kubernetes API answered 400: '
                         'container "service" in pod "%s" is waiting to start: ContainerCreating'
                         % (NS, PODS[2], PODS[2]), status=400)
    kube = FakeKube([pod_object(p) for p in PODS], healthy_logs(), log_errors={(PODS[2], False): waiting})
    result = run({"namespace": NS, "_ansible_check_mode": True}, kube, monkeypatch, capsys)[0]
    assert result["healthy"] is True and result["changed"] is False
    assert result["unreadable"] == [{"pod": PODS[2], "container": "service", "previous": False,
                                     "reason": waiting.msg, "status": 400}]
    assert result["scanned"]["pods"] == 2


def test_module_forbidden_pod_logs_names_the_permission(monkeypatch, capsys):
    denied = FleetError("cannot read the log of container service in pod x: forbidden (403): pods \"x\" is forbidden",
                        status=403)
    kube = FakeKube([pod_object(PODS[0])], healthy_logs(), log_errors={(PODS[0], False): denied})
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert result["failed"] is True
    assert "the credentials need get pods/log in namespace %s" % NS in result["msg"]
    assert result["permission"] == "get pods/log" and result["status"] == 403


def test_module_missing_deployment_and_namespace(monkeypatch, capsys):
    kube = FakeKube([], {}, deployment=None)
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert result["msg"] == ("deployment kas-fleet-manager not found in namespace %s; give label_selector to pick "
                             "pods directly" % NS)
    result = run({"namespace": "nope"}, kube, monkeypatch, capsys)[0]
    assert result["failed"] and result["msg"].startswith("namespace nope not found")
    result = run({"namespace": "nope", "label_selector": "app=x"}, kube, monkeypatch, capsys)[0]
    assert result["failed"] and result["msg"].startswith("namespace nope not found")


def test_module_no_pods_is_no_leader(monkeypatch, capsys):
    kube = FakeKube([], {})
    result = run({"namespace": NS, "label_selector": "app=kas-fleet-manager"}, kube, monkeypatch, capsys)[0]
    assert result["missing"] == ["ClusterManager", "KafkaManager"] and not result["healthy"]
    assert "no pod matches app=kas-fleet-manager" in warning_text(result)
    assert not any(c[0] == "read_deployment" for c in kube.calls)


def test_module_window_warns_when_leaders_are_missing(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0])], {PODS[0]: NOISE})
    result = run({"namespace": NS, "tail_lines": 100}, kube, monkeypatch, capsys)[0]
    assert "tail_lines may have cut the 'Running as the leader' line" in warning_text(result)
    assert "no pod matches" not in warning_text(result)


def test_module_container_missing_everywhere_fails(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0], containers=("app",))], {})
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert result["msg"] == "no pod has a container named service (container); the pods' containers are: app"


def test_module_restarts_are_the_containers_and_a_pod_not_started_is_still_read(monkeypatch, capsys):
    # The sidecar restarted, the service did not: no previous service log is asked for, and the pod's restarts are
    # the service's (the pod summary's container figure); a pod whose containers have no status yet is still read.
    sidecar = pod_object(PODS[0])
    sidecar["status"]["containerStatuses"][1]["restartCount"] = 4
    pending = pod_object(PODS[1], phase="Pending", ready=False)
    del pending["status"]["containerStatuses"]
    kube = FakeKube([sidecar, pending, pod_object(PODS[2], restarts=1)], healthy_logs())
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert [c[1] for c in kube.calls if c[0] == "stream_log" and c[3]] == [PODS[2]]
    assert dict((p["name"], p["restarts"]) for p in result["pods"]) == {PODS[0]: 0, PODS[1]: 0, PODS[2]: 1}
    assert ("stream_log", PODS[1], "service", False, None, None, None) in kube.calls
    assert result["unreadable"] == [{"pod": PODS[2], "container": "service", "previous": True, "status": 400,
                                     "reason": "previous terminated container service in pod %s not found" % PODS[2]}]


def test_the_documented_workers_are_upstreams():
    doc = yaml.safe_load(m.DOCUMENTATION)["options"]["workers"]
    assert doc["default"] == list(RUNBOOK_WORKERS) == m.argument_spec()["workers"]["default"]
    named = set(re.findall(r"C\((\w+Manager)\)", " ".join(doc["description"])))
    assert named == set(LEASE_TYPES)


@pytest.mark.parametrize("args, message", [
    ({"error_patterns": ["Error", "[unclosed"]}, "error_patterns: '[unclosed' is not a valid regular expression"),
    ({"workers": ["ClusterManager", "Foo"]}, "workers: unknown worker(s) Foo; the leader-elected workers"),
    ({"max_samples": 101}, "max_samples must be between 0 and 100, got 101"),
    ({"since_seconds": 0}, "since_seconds must be at least 1, got 0"),
    ({"label_selector": "app=x", "deployment": "other"}, "parameters are mutually exclusive: deployment|label_selector"),
])
def test_module_refuses_bad_options(args, message, monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0])], healthy_logs())
    params = {"namespace": NS}
    params.update(args)
    result = run(params, kube, monkeypatch, capsys)[0]
    assert result["failed"] is True
    assert message in result["msg"]
    assert "exception" not in result
    assert not any(c[0] == "stream_log" for c in kube.calls)


class FakeConn(object):
    def __init__(self):
        self.closed = False
        self.rolled_back = False

    def rollback(self):
        self.rolled_back = True

    def close(self):
        self.closed = True


def test_module_with_the_database_from_the_secret(monkeypatch, capsys):
    seen = {}
    conn = FakeConn()

    def connect(settings, params):
        seen["settings"] = settings
        return conn

    def query(conn_, statement, args=None, settings=None, what=""):
        seen["query"] = (statement, args)
        return [lease("cluster", CM_ID), lease("general_kafka_worker", KM_ID2)]

    monkeypatch.setattr(db, "connect", connect)
    monkeypatch.setattr(db, "query", query)
    secret = {"db.host": "db.example", "db.port": "5432", "db.name": "kas-fleet-manager", "db.user": "kas_runbook",
              "db.password": "Pw-never-print-7f3b"}
    kube = FakeKube([pod_object(p) for p in PODS], healthy_logs(), secret=secret)
    result, raw = run({"namespace": NS, "db_secret": "kas-fleet-manager-rds"}, kube, monkeypatch, capsys)
    assert seen["query"] == (ls.LEASE_QUERY, (["cluster", "general_kafka_worker"],))
    assert "lease_type = ANY(%s)" in ls.LEASE_QUERY
    assert seen["settings"]["host"] == "db.example"
    assert conn.rolled_back and conn.closed
    assert "Pw-never-print-7f3b" not in raw
    assert result["sources"]["database"] == "secret %s/kas-fleet-manager-rds" % NS
    assert result["workers"]["ClusterManager"]["agree"] is True
    assert result["workers"]["KafkaManager"]["agree"] is False
    assert [d["kind"] for d in result["disagreements"]] == ["lease_holder_not_log_leader"]
    assert result["healthy"] is True


def test_module_db_secret_forbidden_is_plain(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0])], healthy_logs(), secret=None)
    result = run({"namespace": NS, "db_secret": "kas-fleet-manager-rds"}, kube, monkeypatch, capsys)[0]
    assert result["failed"] and "need get on secrets in %s to read kas-fleet-manager-rds" % NS in result["msg"]
    assert result["permission"] == "get secrets"


def test_module_db_login_failure_is_plain(monkeypatch, capsys):
    def connect(settings, params):
        raise FleetError("cannot connect to database kas-fleet-manager at db.example:5432 as kas_runbook: password "
                         "authentication failed", reason="auth_failed")

    monkeypatch.setattr(db, "connect", connect)
    kube = FakeKube([pod_object(PODS[0])], healthy_logs())
    result, raw = run({"namespace": NS, "login_host": "db.example", "login_user": "kas_runbook",
                       "login_password": "Pw-never-print-7f3b"}, kube, monkeypatch, capsys)
    assert result["failed"] and result["reason"] == "auth_failed"
    assert "Pw-never-print-7f3b" not in raw
    assert not any(c[0] == "stream_log" for c in kube.calls)  # fails before reading any log
