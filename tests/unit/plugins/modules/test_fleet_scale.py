# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of the fleet_scale module through main(): bad input ends in a plain failure. Its service is tested
in tests/unit/plugins/module_utils/test_scale.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.modules import fleet_scale as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module


# -- main(): bad input ends in a plain failure -------------------------------------------------------------
@pytest.mark.parametrize("args,message", [
    ({}, "one of the following is required: replicas, step"),
    ({"replicas": 3, "step": 1}, "parameters are mutually exclusive: replicas|step"),
    ({"step": 0}, "step must be at least 1, got 0"),
    ({"replicas": 3, "max_replicas": 0}, "max_replicas must be at least 1, got 0"),
])
def test_bad_input(capsys, tmp_path, args, message):
    args.update(namespace="ns", kubeconfig=str(tmp_path / "nope"))
    result, _out = run_module(m, args, capsys)
    assert result["failed"] and message in result["msg"]


def test_missing_kubeconfig_fails_without_traceback(capsys, tmp_path):
    result, _out = run_module(m, {"namespace": "ns", "replicas": 3, "kubeconfig": str(tmp_path / "nope")}, capsys)
    assert "kubeconfig %s does not exist" % (tmp_path / "nope") in result["msg"] and "exception" not in result
