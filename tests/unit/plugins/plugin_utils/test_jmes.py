# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.jmes import JmesError, search

FLEET = {"events": [
    {"type": "Warning", "reason": "FailedScheduling", "object": "Pod/p2"},
    {"type": "Warning", "reason": "NodeNotReady", "object": "Node/ip-10-0-1-1"},
    {"type": "Warning", "reason": "BackOff", "object": "Pod/p1"},
    {"type": "Normal", "reason": "Pulled", "object": "Pod/p1"},
]}


def test_the_roles_cluster_event_query():
    query = ("events[?type=='Warning' && (starts_with(object, 'Node/') || "
             "contains(['FailedScheduling', 'NodeNotReady'], reason))].reason")
    assert search(FLEET, query) == ["FailedScheduling", "NodeNotReady"]


def test_no_match_is_empty_and_missing_key_is_null():
    assert search(FLEET, "events[?type=='Error']") == []
    assert search(FLEET, "nothing.here") is None


def test_bad_expression_names_itself():
    with pytest.raises(JmesError, match="bad JMESPath expression 'events\\[\\?'"):
        search(FLEET, "events[?")
