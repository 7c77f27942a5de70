# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""What a role's argument specs cannot say about its settings (a number's range, a name that goes into a path, a
route's URL scheme, a reference to another setting's keys), checked in one pass (the config_problems filter calls it).

Each problem is a sentence naming the setting and what is allowed, so a run refuses a bad configuration before it
gathers anything and says how to fix it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# A name that becomes part of a file name or a dedup key.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
URL_SCHEME = re.compile(r"^https?://")
KINDS = ("greater_than_0", "at_least_0", "not_below", "file_names", "routes", "fallbacks")


def _number(value):
    """The setting as an integer, as Jinja's int filter reads it (a non-number is 0, which no range allows)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def config_problems(values, limits):
    """The problems of ``values`` (setting name -> value) against ``limits``, in the order of ``KINDS``:

    - ``greater_than_0``, ``at_least_0``: names of numbers;
    - ``not_below``: {name: other name}, the first may not be smaller than the second;
    - ``file_names``: names of strings that go into file names and dedup keys;
    - ``routes``: names of {team: {url: ...}} mappings of escalation routes, whose URLs must be http(s);
    - ``fallbacks``: {name: name of a routes mapping}, every team the list names must have a route there.

    Every name ``limits`` uses must have a value: a limit that checks nothing would pass silently."""
    if not isinstance(values, dict) or not isinstance(limits, dict):
        raise TypeError("expects the settings and the limits as mappings, got %s and %s"
                        % (type(values).__name__, type(limits).__name__))
    unknown = sorted(set(limits) - set(KINDS))
    if unknown:
        raise ValueError("unknown kind of limit %s (one of %s)" % (", ".join(unknown), ", ".join(KINDS)))
    named = (list(limits.get("greater_than_0", [])) + list(limits.get("at_least_0", []))
             + [n for pair in limits.get("not_below", {}).items() for n in pair] + list(limits.get("file_names", []))
             + list(limits.get("routes", [])) + [n for pair in limits.get("fallbacks", {}).items() for n in pair])
    missing = [name for name in named if name not in values]
    if missing:
        raise ValueError("no value given for %s" % ", ".join(sorted(set(missing))))

    problems = ["%s must be greater than 0" % name for name in limits.get("greater_than_0", [])
                if _number(values[name]) <= 0]
    problems += ["%s must be 0 or more" % name for name in limits.get("at_least_0", []) if _number(values[name]) < 0]
    problems += ["%s (%s) must be at least %s (%s)" % (name, values[name], other, values[other])
                 for name, other in limits.get("not_below", {}).items()
                 if _number(values[name]) < _number(values[other])]
    problems += ["%s may hold only letters, digits, ., _ and - (it names the report files and the dedup keys)" % name
                 for name in limits.get("file_names", []) if not SAFE_NAME.match(str(values[name]))]
    for name in limits.get("routes", []):
        problems += ["%s.%s.url must start with http:// or https://" % (name, key)
                     for key, entry in (values[name] or {}).items()
                     if not URL_SCHEME.match(str((entry or {}).get("url") or ""))]
    for name, routes in limits.get("fallbacks", {}).items():
        problems += ["%s names %s, which has no route in %s" % (name, team, routes)
                     for team in values[name] or [] if team not in (values[routes] or {})]
    return problems
