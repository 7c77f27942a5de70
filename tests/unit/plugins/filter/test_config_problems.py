# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The config_problems filter at its entry point, with the kas_fleet role's own limits (read from vars/main.yml): the
sentences a run refuses a bad configuration with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.filter.config_problems import FilterModule

config_problems = FilterModule().filters()["config_problems"]
ROLE_VARS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "kas_fleet", "vars", "main.yml")
with open(ROLE_VARS) as handle:
    LIMITS = yaml.safe_load(handle)["kas_fleet_config_limits"]
ROUTE = {"kind": "slack", "url": "https://hooks.example/services/T0"}
GOOD = dict({name: 5 for name in LIMITS["greater_than_0"]}, kas_fleet_max_replicas=6,
            kas_fleet_restart_cooldown_minutes=0, kas_fleet_log_limit_bytes=0, kas_fleet_environment="stage-eu_1.a",
            kas_fleet_escalation_routes={"control_plane": ROUTE, "data_plane": dict(ROUTE, url="http://127.0.0.1:9/x")},
            kas_fleet_escalation_fallback=["control_plane"])


def test_the_role_defaults_shape_has_no_problem():
    assert config_problems(GOOD, LIMITS) == []


def test_every_number_out_of_range_is_named_with_what_is_allowed():
    values = dict(GOOD, kas_fleet_stuck_idle_minutes=0, kas_fleet_scale_step=-2, kas_fleet_restart_max="x",
                  kas_fleet_restart_cooldown_minutes=-1, kas_fleet_log_limit_bytes="-5")
    assert config_problems(values, LIMITS) == [
        "kas_fleet_scale_step must be greater than 0", "kas_fleet_stuck_idle_minutes must be greater than 0",
        "kas_fleet_restart_max must be greater than 0", "kas_fleet_restart_cooldown_minutes must be 0 or more",
        "kas_fleet_log_limit_bytes must be 0 or more"]
    # Numbers as the int filter reads them: "3" and 2.7 are numbers, 0.5 is 0.
    assert config_problems(dict(GOOD, kas_fleet_rollout_timeout="3", kas_fleet_escalation_tries=2.7), LIMITS) == []
    assert config_problems(dict(GOOD, kas_fleet_rollout_timeout=0.5), LIMITS) == [
        "kas_fleet_rollout_timeout must be greater than 0"]


def test_a_maximum_below_the_expected_number_quotes_both():
    assert config_problems(dict(GOOD, kas_fleet_max_replicas=2, kas_fleet_expected_replicas=3), LIMITS) == [
        "kas_fleet_max_replicas (2) must be at least kas_fleet_expected_replicas (3)"]


@pytest.mark.parametrize("name", ["../../x", ".hidden", "a/b", "", "x" * 64, "stage eu", "é"])
def test_a_name_that_would_escape_a_path_or_a_dedup_key_is_refused(name):
    assert config_problems(dict(GOOD, kas_fleet_environment=name), LIMITS) == [
        "kas_fleet_environment may hold only letters, digits, ., _ and - (it names the report files and the dedup "
        "keys)"]


def test_routes_need_http_urls_and_the_fallback_needs_routes():
    routes = {"control_plane": ROUTE, "data_plane": dict(ROUTE, url="file:///etc/passwd"), "ocm": {"kind": "slack"}}
    values = dict(GOOD, kas_fleet_escalation_routes=routes, kas_fleet_escalation_fallback=["ocm_support", "ocm"])
    assert config_problems(values, LIMITS) == [
        "kas_fleet_escalation_routes.data_plane.url must start with http:// or https://",
        "kas_fleet_escalation_routes.ocm.url must start with http:// or https://",
        "kas_fleet_escalation_fallback names ocm_support, which has no route in kas_fleet_escalation_routes"]
    assert config_problems(dict(GOOD, kas_fleet_escalation_routes={}, kas_fleet_escalation_fallback=[]), LIMITS) == []


def test_a_limit_without_its_setting_or_of_an_unknown_kind_is_a_filter_error():
    values = dict(GOOD)
    del values["kas_fleet_scale_step"]
    with pytest.raises(AnsibleFilterError, match="config_problems: no value given for kas_fleet_scale_step"):
        config_problems(values, LIMITS)
    with pytest.raises(AnsibleFilterError, match="config_problems: unknown kind of limit positive"):
        config_problems(GOOD, {"positive": ["kas_fleet_scale_step"]})
    with pytest.raises(AnsibleFilterError, match="config_problems: expects the settings and the limits as mappings"):
        config_problems(["kas_fleet_scale_step"], LIMITS)
