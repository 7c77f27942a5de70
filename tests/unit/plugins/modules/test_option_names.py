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
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import free_port, run_module

TOKEN = "sha256~env-token-never-shown"
K8S_AUTH_VARIABLES = ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY",
                      "K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT")


@pytest.fixture(autouse=True)
def no_k8s_env(monkeypatch):
    """Start every test with none of the variables set, whatever the shell that runs the tests exports."""
    for name in K8S_AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def db_args(names, port):
    """request_status_info's direct login to a port nothing listens on, with the port and database under ``names``."""
    port_key, db_key = names
    return {"table": "clusters", "login_host": "127.0.0.1", port_key: port, db_key: "fleet-by-%s" % db_key,
            "login_user": "u", "login_password": "pw", "ssl_mode": "disable", "connect_timeout": 2}


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
