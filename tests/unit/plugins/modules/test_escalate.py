# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of the escalate module through main(): bad input ends in a plain failure that never shows a routing
key. Its service is tested in tests/unit/plugins/module_utils/test_escalation.py, the payloads and the delivery in
test_notify.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.kas.fleet_manager.plugins.modules import escalate as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fakes import KEY, PD
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module


# -- main(): bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,message", [
    ({"route": PD, "dedup_key": "k", "summary": "s"}, "missing: team"),
    ({"route": PD, "team": "t", "summary": "s"}, "dedup_key"),
    ({"route": PD, "routes": {"t": PD}, "team": "t", "dedup_key": "k", "summary": "s"}, "mutually exclusive"),
    ({"routes": {"t": PD}, "team": "t", "dedup_key": "k", "summary": "s"}, "missing: route"),
    ({"route": {"type": "pagerduty", "url": "https://x"}, "team": "t", "dedup_key": "k", "summary": "s"},
     "type is pagerduty but all of the following are missing: routing_key"),
    ({"route": {"type": "email", "url": "https://x"}, "team": "t", "dedup_key": "k", "summary": "s"},
     "value of type must be one of: pagerduty, slack, webhook"),
    ({"route": {"type": "slack"}, "team": "t", "dedup_key": "k", "summary": "s"}, "missing required arguments: url"),
    ({"route": PD, "team": "t", "dedup_key": "k", "summary": "s", "tries": 0}, "tries must be at least 1"),
    ({"route": PD, "team": "t", "dedup_key": "k", "summary": "s", "timeout": -5}, "timeout must be at least 1"),
])
def test_bad_input(capsys, args, message):
    result, _out = run_module(m, args, capsys)
    assert result["failed"] and message in result["msg"]
    assert KEY not in json.dumps(result)
