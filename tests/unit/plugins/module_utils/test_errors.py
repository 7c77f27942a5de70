# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.errors: the one place option bounds are checked, and the FleetError they raise."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_bounds, check_minimums


def test_minimums_and_the_first_option_below_its_own():
    check_minimums({"a": 1, "b": None}, {"a": 1, "b": 5, "c": 3})
    with pytest.raises(FleetError) as err:
        check_minimums({"a": 0, "b": 0}, {"a": 1, "b": 1})
    assert err.value.msg == "a must be at least 1, got 0" and err.value.details == {}
    with pytest.raises(FleetError) as err:
        check_minimums({"statement_timeout": 0}, {"statement_timeout": 1}, unit="second", reason="bad_option")
    assert err.value.msg == "statement_timeout must be at least 1 second, got 0"
    assert err.value.details == {"reason": "bad_option"}


@pytest.mark.parametrize("value, message", [
    (-1, "max_samples must be between 0 and 100, got -1"),
    (101, "max_samples must be between 0 and 100, got 101"),
    (0, None), (100, None), (None, None),
])
def test_bounds_with_both_ends(value, message):
    if message is None:
        check_bounds({"max_samples": value}, {"max_samples": (0, 100)})
        return
    with pytest.raises(FleetError) as err:
        check_bounds({"max_samples": value}, {"max_samples": (0, 100)})
    assert err.value.msg == message


def test_a_maximum_alone():
    with pytest.raises(FleetError, match="^limit must be at most 1000, got 1001$"):
        check_bounds({"limit": 1001}, {"limit": (None, 1000)})
