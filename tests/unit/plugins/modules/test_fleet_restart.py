# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of the fleet_restart module through main(): bad input ends in a plain failure. Its service is tested
in tests/unit/plugins/module_utils/test_restart.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.modules import fleet_restart as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module


# -- main(): bad input ends in a plain failure -------------------------------------------------------------
def test_missing_kubeconfig_fails_without_traceback(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["failed"] and "kubeconfig %s does not exist" % (tmp_path / "nope") in result["msg"]
    assert "exception" not in result


def test_record_needs_an_outcome(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "state": "record", "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["failed"] and "outcome" in result["msg"]


def test_bounds_are_checked(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "max_restarts": 0, "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert result["msg"] == "max_restarts must be at least 1, got 0"
