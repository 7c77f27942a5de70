# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""JMESPath selection for the roles' evidence (community.general's json_query is not available offline)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import jmespath
    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False


class JmesError(ValueError):
    """A bad expression or missing library; the message says which."""


def _plain(data):
    """Ansible hands filters its own str/dict/list subclasses (and lazy containers); jmespath wants plain ones."""
    if isinstance(data, dict):
        return dict((str(k), _plain(v)) for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, str):
        return str(data)
    return data


def search(data, expression):
    if not HAS_JMESPATH:
        raise JmesError("the jmespath Python library is required for kas.fleet_manager.jmes (pip install jmespath)")
    try:
        compiled = jmespath.compile(expression)
    except jmespath.exceptions.ParseError as exc:
        raise JmesError("bad JMESPath expression %r: %s" % (expression, exc))
    try:
        return compiled.search(_plain(data))
    except jmespath.exceptions.JMESPathError as exc:
        raise JmesError("JMESPath expression %r failed: %s" % (expression, exc))
