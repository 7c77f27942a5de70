# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""fleet_pods_info as a task runs it: how it fails on bad options and kubeconfigs. Its service, the summaries and the
problem rules are tested in tests/unit/plugins/module_utils (test_pods.py, test_deployment.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.modules import fleet_pods_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module


def test_missing_kubeconfig_fails_without_traceback(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["failed"] is True
    assert "kubeconfig %s does not exist" % (tmp_path / "nope") in result["msg"]
    assert "exception" not in result


def test_negative_window_is_rejected(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "event_since": 0, "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["msg"] == "event_since must be at least 1, got 0"


def test_malformed_kubeconfig_is_a_clear_failure(capsys, tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nclusters: [\n")
    result, _out = run_module(m, {"namespace": "ns", "kubeconfig": str(bad)}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("cannot ")
    assert str(bad) in result["msg"]
