# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.times: RFC 3339 read and written in one place."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import deployment
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.times import (
    parse_rfc3339, rfc3339, unix_seconds, utcnow)

UTC = datetime.timezone.utc
AT = datetime.datetime(2026, 11, 25, 4, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "2026-11-25T04:00:00Z", "2026-11-25t04:00:00z", "2026-11-25 04:00:00Z", "2026-11-25T04:00:00",
    "2026-11-25T04:00:00.999999999Z", "2026-11-25T06:00:00+02:00", "2026-11-25T01:30:00-0230",
    " 2026-11-25T04:00:00Z ",
])
def test_parse_rfc3339_to_the_second_in_utc(text):
    assert parse_rfc3339(text) == AT


@pytest.mark.parametrize("value", [None, "", "yesterday", "2026-11-25", "2026-13-25T04:00:00Z", 1795579200,
                                   "2026-11-25T04:00:00+2"])
def test_what_is_not_rfc3339_is_none(value):
    assert parse_rfc3339(value) is None


def test_written_as_kubectl_writes_it():
    assert rfc3339(AT) == "2026-11-25T04:00:00Z"
    assert rfc3339(datetime.datetime(2026, 11, 25, 6, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))) \
        == "2026-11-25T04:00:00Z"
    assert rfc3339(1795579200.9) == "2026-11-25T04:00:00Z"
    now = utcnow()
    assert now.tzinfo is not None and now.microsecond == 0
    assert parse_rfc3339(rfc3339(now)) == now


def test_unix_seconds_keep_the_fraction():
    assert unix_seconds("2026-11-25T04:00:00Z") == 1795579200.0
    assert unix_seconds("1795579200.25") == 1795579200.25
    assert unix_seconds(1795579200) == 1795579200.0
    assert unix_seconds("2026-11-25T06:00:00.25+02:00") == 1795579200.25
    with pytest.raises(FleetError, match="time 'soon' is neither RFC 3339"):
        unix_seconds("soon")


def test_deployment_reads_and_writes_times_here():
    assert deployment.parse_rfc3339 is parse_rfc3339 and deployment.rfc3339 is rfc3339 and deployment.utcnow is utcnow


def test_the_time_option_of_slo_metrics_info():
    at = unix_seconds("2026-11-25T04:00:00Z")
    assert at == 1795579200.0
    assert unix_seconds("1795579200") == at
    assert unix_seconds("2026-11-25T04:00:00.500+00:00") == at + 0.5
    with pytest.raises(FleetError):
        unix_seconds("yesterday")
    assert rfc3339(at) == "2026-11-25T04:00:00Z"
