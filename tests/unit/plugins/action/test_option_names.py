# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The modules run in the controller's process by their action plugins (plugin_utils.in_process validates with
ArgumentSpecValidator) read the K8S_AUTH_* variables of the controller's environment, never show the api_key, and take
login_port/login_db as well as port/db, as the modules do (tests/unit/plugins/modules/test_option_names.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import types

import pytest

from ansible_collections.kas.fleet_manager.plugins.action.fleet_pods_info import ActionModule as PodsAction
from ansible_collections.kas.fleet_manager.plugins.action.request_status_info import ActionModule as RequestsAction
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import TOKEN, db_args, free_port

# Every test starts with none of the K8S_AUTH_* variables set (conftest.py).
pytestmark = pytest.mark.usefixtures("no_k8s_env")


def run_in_process(action_class, args, environment=None):
    """An action plugin's run() as the strategy calls it for a task on the controller (local connection)."""
    task = types.SimpleNamespace(args=args, async_val=0, check_mode=False, environment=environment or [],
                                 action=action_class.MODULE.__name__, resolved_action=None)
    connection = types.SimpleNamespace(transport="local", _shell=types.SimpleNamespace(tmpdir="unused"))
    play_context = types.SimpleNamespace(become=False, check_mode=False, diff=False)
    action = action_class(task, connection, play_context, loader=None, templar=None)
    return action, action.run(task_vars={})


def test_in_process_action_reads_the_variables_too(monkeypatch, tmp_path):
    missing = str(tmp_path / "no-such-kubeconfig")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", missing)
    action, result = run_in_process(PodsAction, {"namespace": "ns"})
    assert action.in_process()
    assert result["failed"]
    assert result["msg"].startswith("kubeconfig %s does not exist" % missing)
    assert result["invocation"]["module_args"]["kubeconfig"] == missing


def test_in_process_action_reads_host_and_api_key_and_never_shows_the_key(monkeypatch):
    host = "http://127.0.0.1:%d" % free_port()
    monkeypatch.setenv("K8S_AUTH_HOST", host)
    monkeypatch.setenv("K8S_AUTH_API_KEY", TOKEN)
    _action, result = run_in_process(PodsAction, {"namespace": "ns", "api_timeout": 2})
    assert result["failed"]
    assert "cannot reach the Kubernetes API at %s" % host in result["msg"]
    assert result["invocation"]["module_args"]["host"] == host
    assert TOKEN not in json.dumps(result)


def test_a_task_environment_runs_the_module_where_the_task_environment_is_set():
    """The controller's own environment is not the task's: with ``environment:`` the action plugin runs the module
    (which reads the variables in its own process), it does not validate in process."""
    task = types.SimpleNamespace(environment=[{"K8S_AUTH_KUBECONFIG": "/x"}])
    action = PodsAction(task, types.SimpleNamespace(transport="local"), types.SimpleNamespace(become=False),
                        loader=None, templar=None)
    assert not action.in_process()


@pytest.mark.parametrize("names", [("login_port", "login_db"), ("port", "db")])
def test_in_process_action_connects_with_either_name(names):
    port = free_port()
    _action, result = run_in_process(RequestsAction, db_args(names, port))
    assert result["failed"]
    assert result["msg"].startswith("cannot connect to database fleet-by-%s at 127.0.0.1:%d as u" % (names[1], port))
    assert result["invocation"]["module_args"]["login_port"] == port
