# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The jmes filter at its entry point: the role's queries over data as Ansible hands it to a filter, and a bad
expression as a filter error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.kas.fleet_manager.plugins.filter.jmes import FilterModule

jmes = FilterModule().filters()["jmes"]

FLEET = {"pods": [{"name": "p0", "ready": True}, {"name": "p1", "ready": False}, {"name": "p2", "ready": False}],
         "events": [{"type": "Warning", "reason": "NodeNotReady", "object": "Node/ip-10-0-1-1"},
                    {"type": "Normal", "reason": "Pulled", "object": "Pod/p1"}]}


def test_the_examples_over_ansibles_own_types():
    fleet = wrap_var(FLEET)  # unsafe strings, as registered results reach a filter
    assert jmes(fleet, "pods[?!ready].name") == ["p1", "p2"]
    assert jmes(fleet, "events[?starts_with(object, 'Node/')].reason") == ["NodeNotReady"]
    kafkas = {"statuses": {"accepted": {"over_threshold": 0}, "provisioning": {"over_threshold": 2}}}
    assert jmes(kafkas, "statuses | values(@)[?over_threshold > `0`]") == [{"over_threshold": 2}]


def test_nothing_matching():
    assert jmes(FLEET, "events[?type=='Error']") == []
    assert jmes(FLEET, "nothing.here") is None


def test_a_bad_expression_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="bad JMESPath expression 'pods\\[\\?'"):
        jmes(FLEET, "pods[?")
    with pytest.raises(AnsibleFilterError, match="JMESPath expression .* failed"):
        jmes(FLEET, "length(pods[0].name, `1`)")
