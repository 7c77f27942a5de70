# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The report_evidence filter at its entry point: registered results keep what the modules found, never their
arguments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.filter.report_evidence import FilterModule

report_evidence = FilterModule().filters()["report_evidence"]


def test_bookkeeping_and_arguments_are_dropped():
    registered = {
        "pods": {"changed": False, "failed": False, "invocation": {"module_args": {"api_key": "s3cret"}},
                 "warnings": ["w"], "deprecations": [], "_ansible_no_log": False, "healthy": True, "problems": []},
        "sentry": {"skipped": True, "skip_reason": "Conditional result was False", "false_condition": "x"},
        "note": "not a result",
    }
    assert report_evidence(registered) == {"pods": {"healthy": True, "problems": []}, "sentry": {},
                                           "note": "not a result"}
    assert "s3cret" not in repr(report_evidence(registered))
    assert registered["pods"]["invocation"]  # the input is left as it was


def test_anything_but_a_dict_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="report_evidence.. takes the dict of registered results, not 'list'"):
        report_evidence(["not", "a", "dict"])
