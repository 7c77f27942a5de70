# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""JMESPath selection for the roles' evidence (community.general's json_query is not available offline)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.plain import plain_copy

try:
    import jmespath
    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False


class JmesError(ValueError):
    """A bad expression or missing library; the message says which."""


def search(data, expression):
    if not HAS_JMESPATH:
        raise JmesError("the jmespath Python library is required for kas.fleet_manager.jmes (pip install jmespath)")
    try:
        compiled = jmespath.compile(expression)
    except jmespath.exceptions.ParseError as exc:
        raise JmesError("bad JMESPath expression %r: %s" % (expression, exc))
    try:
        return compiled.search(plain_copy(data))
    except jmespath.exceptions.JMESPathError as exc:
        raise JmesError("JMESPath expression %r failed: %s" % (expression, exc))
