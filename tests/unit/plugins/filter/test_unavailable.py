# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The unavailable filter at its entry point, with fleet_access_info's result shapes: which checks a run cannot even
try, and the reason the report and the "if unsure" page give."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.filter.unavailable import FilterModule

unavailable = FilterModule().filters()["unavailable"]
CONFIGURED = dict(db_secret="kas-fleet-manager-rds", prometheus_url="http://127.0.0.1:9090",
                  sentry_url="http://127.0.0.1:9000")
ALLOWED = {"changed": False, "denied": [], "secret": {"name": "kas-fleet-manager-rds", "readable": True}}


def test_every_check_can_run_with_full_access_and_everything_configured():
    assert unavailable(ALLOWED, **CONFIGURED) == {}


def test_refused_permissions_stop_the_checks_that_need_them():
    access = dict(ALLOWED, denied=[{"permission": "get pods/log"}, {"permission": "list pods"}],
                  secret={"name": "kas-fleet-manager-rds", "readable": False})
    assert unavailable(access, **CONFIGURED) == {
        "pods": {"kind": "denied", "reason": "missing access: list pods / get deployments"},
        "leaders": {"kind": "denied", "reason": "missing access: get pods/log"},
        "clusters": {"kind": "denied", "reason": "missing access: secret kas-fleet-manager-rds"},
        "kafkas": {"kind": "denied", "reason": "missing access: secret kas-fleet-manager-rds"}}
    only_deployments = dict(ALLOWED, denied=[{"permission": "get deployments"}])
    assert list(unavailable(only_deployments, **CONFIGURED)) == ["pods"]


def test_a_failed_access_check_stops_every_kubernetes_check_but_not_a_direct_database():
    access = {"failed": True, "msg": "Unauthorized (401): the token was rejected"}
    reason = {"kind": "failed", "reason": "the access check failed: Unauthorized (401): the token was rejected"}
    assert unavailable(access, **CONFIGURED) == {"pods": reason, "leaders": reason, "clusters": reason,
                                                 "kafkas": reason}
    direct = dict(prometheus_url=CONFIGURED["prometheus_url"], sentry_url=CONFIGURED["sentry_url"])
    assert unavailable(access, db_secret="", **direct) == {"pods": reason, "leaders": reason}
    # Reached directly, the database needs no secret: an unreadable one stops nothing.
    assert unavailable(dict(ALLOWED, secret={"readable": False}), db_secret="", **direct) == {}


def test_a_check_nobody_configured_is_named_as_such():
    assert unavailable(ALLOWED, db_secret="kas-fleet-manager-rds", prometheus_url=None, sentry_url="") == {
        "metrics": {"kind": "not_configured", "reason": "kas_fleet_prometheus_url is not set"},
        "sentry": {"kind": "not_configured", "reason": "kas_fleet_sentry_url is not set"}}


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="unavailable: .*registered result of fleet_access_info, not list"):
        unavailable([], **CONFIGURED)
