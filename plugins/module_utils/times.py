# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""RFC 3339 times, read and written in one place: the Kubernetes API's and kubectl's times (events, annotations,
the restart history), Sentry's, and the times a user gives (slo_metrics_info's ``time``).

Written as kubectl writes them, in UTC to the second (``2026-11-25T04:00:00Z``). Read with ``Z`` or an offset,
``T`` or a space between date and time, any fraction of a second; a time without a zone is taken as UTC.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$", re.IGNORECASE)


def utcnow():
    """Now, an aware UTC datetime to the second."""
    return datetime.datetime.now(UTC).replace(microsecond=0)


def rfc3339(when):
    """``2026-11-25T04:00:00Z`` (what kubectl writes, in UTC, to the second) of a datetime or of Unix seconds."""
    if isinstance(when, (int, float)):
        when = datetime.datetime.fromtimestamp(int(when), UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value):
    """(aware UTC datetime to the second, fraction of a second) of an RFC 3339 string, or None."""
    if not value or not isinstance(value, str):
        return None
    m = _RFC3339.match(value.strip())
    if not m:
        return None
    zone = (m.group(4) or "Z").upper()
    try:
        base = datetime.datetime.strptime("%s %s" % (m.group(1), m.group(2)), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    base = base.replace(tzinfo=UTC)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        base -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return base, float(m.group(3) or 0)


def parse_rfc3339(value):
    """Aware UTC datetime from an RFC 3339 string, to the second (a fraction is dropped, as two stamps of the same
    second are the same restart), or None when ``value`` is not one."""
    parsed = _parse(value)
    return parsed[0] if parsed else None


def unix_seconds(value):
    """Unix seconds (a float, with the fraction) from an RFC 3339 time or a number; FleetError otherwise."""
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    parsed = _parse(text)
    if parsed is None:
        raise FleetError("time %r is neither RFC 3339 (2026-11-25T04:00:00Z) nor Unix seconds" % text)
    return (parsed[0] - _EPOCH).total_seconds() + parsed[1]
