# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Ansible's values as plain Python ones: Ansible hands plugins its own str/dict/list subclasses (tagged values, lazy
containers), which libraries such as jmespath and Jinja2's own environment should not see."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class NotPlain(TypeError):
    """A value that is none of JSON's types, or a dict key that is not a string (only with ``strict``)."""


def plain_copy(data, strict=False):
    """``data`` copied with exact types: str, int, float, bool, None, dict and list (a tuple becomes a list). Any other
    value is kept as it is, its dict keys made strings; with ``strict`` either raises NotPlain instead, for a caller
    that hands such values to Ansible's JSON encoder (a vaulted value, a date)."""
    if isinstance(data, str):
        return str(data)
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if strict and not isinstance(key, str):
                raise NotPlain("a key that is not a string: %r" % (key,))
            out[str(key)] = plain_copy(value, strict)
        return out
    if isinstance(data, (list, tuple)):
        return [plain_copy(value, strict) for value in data]
    if strict:
        raise NotPlain("a value of type %s" % type(data).__name__)
    return data
