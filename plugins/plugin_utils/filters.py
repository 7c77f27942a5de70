# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""How the collection's filters turn a plain function of plugin_utils into a filter: one place that makes a bad input
(the functions raise ValueError or TypeError naming it) an AnsibleFilterError naming the filter, never a traceback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def as_filter(name, function):
    """``function`` as the filter ``name``."""
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise AnsibleFilterError("%s: %s" % (name, exc))
    run.__name__ = "%s_filter" % name
    run.__doc__ = function.__doc__
    return run
