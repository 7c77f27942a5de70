# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""plain_copy with Ansible's own tagged values: exact types out; what is not JSON's kept as it is, or refused when
strict (the report's writer then hands it to Ansible's encoder)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible._internal._datatag._tags import Origin, TrustedAsTemplate

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.plain import NotPlain, plain_copy


def test_tagged_values_come_out_with_exact_types():
    origin = Origin(path="/evidence.yml", line_num=3)
    values = origin.tag([origin.tag("{{ x }}"), origin.tag(7), 1.5, True, None, ("a", "b")])
    tagged = origin.tag({TrustedAsTemplate().tag("pods"): values})
    for strict in (False, True):
        out = plain_copy(tagged, strict)
        assert out == {"pods": ["{{ x }}", 7, 1.5, True, None, ["a", "b"]]}
        assert [type(v) for v in (out, list(out)[0], out["pods"])] == [dict, str, list]
        assert [type(v) for v in out["pods"]] == [str, int, float, bool, type(None), list]


def test_what_is_not_json_is_kept_or_refused_when_strict():
    when = datetime.date(2026, 12, 6)
    assert plain_copy({"when": when, 1: "a"}) == {"when": when, "1": "a"}
    with pytest.raises(NotPlain, match="a value of type date"):
        plain_copy({"when": when}, strict=True)
    with pytest.raises(NotPlain, match="a key that is not a string: 1"):
        plain_copy({1: "a"}, strict=True)
