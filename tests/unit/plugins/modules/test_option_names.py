# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The modules run as modules (AnsibleModule, as on a remote host or with a task environment) read the K8S_AUTH_*
variables and take login_port/login_db as well as port/db. The specs themselves: tests/unit/plugins/module_utils/
test_args.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.modules import fleet_pods_info, request_status_info
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import TOKEN, db_args, free_port, run_module

# Every test starts with none of the K8S_AUTH_* variables set (conftest.py).
pytestmark = pytest.mark.usefixtures("no_k8s_env")


def test_module_reads_the_kubeconfig_variable(monkeypatch, tmp_path, capsys):
    missing = str(tmp_path / "no-such-kubeconfig")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", missing)
    result, _out = run_module(fleet_pods_info, {"namespace": "ns"}, capsys)
    assert result["failed"]
    assert result["msg"].startswith("kubeconfig %s does not exist" % missing)


def test_module_reads_host_and_api_key_variables_and_never_shows_the_key(monkeypatch, capsys):
    host = "http://127.0.0.1:%d" % free_port()
    monkeypatch.setenv("K8S_AUTH_HOST", host)
    monkeypatch.setenv("K8S_AUTH_API_KEY", TOKEN)
    result, out = run_module(fleet_pods_info, {"namespace": "ns", "api_timeout": 2}, capsys)
    assert result["failed"]
    assert "cannot reach the Kubernetes API at %s" % host in result["msg"]
    assert TOKEN not in out


@pytest.mark.parametrize("names", [("login_port", "login_db"), ("port", "db")])
def test_module_connects_with_either_name(names, capsys):
    port = free_port()
    result, _out = run_module(request_status_info, db_args(names, port), capsys)
    assert result["failed"]
    assert result["msg"].startswith("cannot connect to database fleet-by-%s at 127.0.0.1:%d as u" % (names[1], port))
