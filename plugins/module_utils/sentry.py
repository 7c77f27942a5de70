# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""sentry_issues_info's service: the runbook's "Check Sentry to investigate possible causes", as the project's issues
(``GET /api/0/projects/<organization>/<project>/issues/``, following Sentry's ``Link rel=next`` pages), each with the
category the runbook's escalation rules need (module_utils.classify, as the log errors), counted per category."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import parse_qs, quote, urlsplit

from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import CATEGORIES, classify
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_minimums
from ansible_collections.kas.fleet_manager.plugins.module_utils.http_api import (
    HttpApi, HttpError, parse_link_header, reason_of)

PAGE_SIZE = 100
SORT_KEYS = {"date": "last_seen", "freq": "count", "new": "first_seen"}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def events_in_period(issue, period):
    """Sum of the issue's stats buckets ([[ts, n], ...]) for the period; None when Sentry sent no stats."""
    buckets = (issue.get("stats") or {}).get(period)
    if not isinstance(buckets, list):
        return None
    total = 0
    for bucket in buckets:
        if isinstance(bucket, (list, tuple)) and len(bucket) == 2:
            total += _int(bucket[1]) or 0
    return total


def _capped(in_period, count):
    """Events in the period, never more than the issue's events ever (stats buckets are rounded)."""
    if in_period is None or count is None:
        return in_period
    return min(in_period, count)


def summarize_issue(issue, period):
    """The fields the runbook uses, and the issue's category (from title, culprit and the error's value)."""
    metadata = issue.get("metadata") or {}
    title = issue.get("title") or ""
    culprit = issue.get("culprit") or ""
    value = metadata.get("value") or ""
    return {
        "id": str(issue.get("id")),
        "short_id": issue.get("shortId"),
        "title": title,
        "culprit": culprit,
        "level": issue.get("level"),
        "status": issue.get("status"),
        "count": _int(issue.get("count")) or 0,
        "user_count": _int(issue.get("userCount")) or 0,
        "events_in_period": _capped(events_in_period(issue, period), _int(issue.get("count"))),
        "first_seen": issue.get("firstSeen"),
        "last_seen": issue.get("lastSeen"),
        "permalink": issue.get("permalink"),
        "error_type": metadata.get("type"),
        "error_value": value,
        "category": classify(" ".join(t for t in (title, culprit, value) if t)),
    }


def sort_issues(issues, sort):
    """Sentry's order, kept when pages are joined: newest (date, new) or most events (freq) first."""
    key = SORT_KEYS[sort]
    if key == "count":
        return sorted(issues, key=lambda i: (i["count"], i["last_seen"] or ""), reverse=True)
    return sorted(issues, key=lambda i: i[key] or "", reverse=True)


def summarize_categories(issues):
    """(by_category for all categories, categories with issues by events in period then events, totals)."""
    by_category = dict((c, {"issues": 0, "events": 0, "events_in_period": 0}) for c in CATEGORIES)
    for issue in issues:
        entry = by_category[issue["category"]]
        entry["issues"] += 1
        entry["events"] += issue["count"]
        entry["events_in_period"] += issue["events_in_period"] or 0
    present = [c for c in CATEGORIES if by_category[c]["issues"]]
    present.sort(key=lambda c: (by_category[c]["events_in_period"], by_category[c]["events"]), reverse=True)
    total = {"issues": len(issues), "events": sum(i["count"] for i in issues),
             "events_in_period": sum(i["events_in_period"] or 0 for i in issues)}
    return by_category, present, total


def next_cursor(link_header):
    """The cursor of the rel=next link when Sentry says it has results, else None."""
    for link in parse_link_header(link_header):
        if link.get("rel") != "next":
            continue
        if link.get("results", "true").lower() != "true":
            return None
        if link.get("cursor"):
            return link["cursor"]
        cursor = parse_qs(urlsplit(link["url"]).query).get("cursor")
        return cursor[0] if cursor else None
    return None


def explain(exc, params, api):
    """A FleetError that says what Sentry's answer means for the user's options."""
    where = "%s/%s" % (params["organization"], params["project"])
    reason = reason_of(exc.body) if exc.body else ""
    if not exc.reachable:
        return FleetError("cannot read Sentry issues: %s" % exc.msg)
    if exc.status == 401:
        return FleetError("Sentry rejected the token (HTTP 401%s) at %s: give a valid auth token with the project:read "
                          "scope in token" % (": " + reason if reason else "", api.display_url), status=401)
    if exc.status == 403:
        return FleetError("Sentry refused the token access to project %s (HTTP 403%s) at %s: the token needs the "
                          "project:read scope and membership of organization %s"
                          % (where, ": " + reason if reason else "", api.display_url, params["organization"]),
                          status=403)
    if exc.status == 404:
        return FleetError("no project %s on Sentry at %s (HTTP 404): check organization and project (the slugs in the "
                          "project's URL) and url" % (where, api.display_url), status=404)
    if exc.status == 400:
        return FleetError("Sentry refused the issue query (HTTP 400%s): check query, period and sort"
                          % (": " + reason if reason else ""), status=400)
    return FleetError("Sentry at %s answered HTTP %s for the issues of %s%s"
                      % (api.display_url, exc.status, where, ": " + reason if reason else ""), status=exc.status)


def fetch_issues(api, params):
    """(issues as Sentry sent them, at most limit, and whether more exist), following the Link header's cursor."""
    path = "/api/0/projects/%s/%s/issues/" % (quote(params["organization"], safe=""), quote(params["project"], safe=""))
    limit = params["limit"]
    query = {"query": params["query"], "statsPeriod": params["period"], "sort": params["sort"],
             "limit": min(limit, PAGE_SIZE)}
    if params.get("environment"):
        query["environment"] = params["environment"]
    issues = []
    cursor = None
    seen_cursors = set()
    while True:
        page_query = dict(query, cursor=cursor) if cursor else query
        try:
            body, headers = api.get(path, page_query)
        except HttpError as exc:
            raise explain(exc, params, api)
        if not isinstance(body, list):
            raise FleetError("Sentry at %s answered with something other than an issue list (%s): url must be "
                             "Sentry's base URL, such as https://sentry.stage.devshift.net"
                             % (api.display_url, reason_of(body, 120)))
        issues.extend(i for i in body if isinstance(i, dict))
        cursor = next_cursor(headers.get("link"))
        if len(issues) >= limit or not body or not cursor or cursor in seen_cursors:
            break
        seen_cursors.add(cursor)
        query["limit"] = min(limit - len(issues), PAGE_SIZE)
    return issues[:limit], bool(cursor) or len(issues) > limit


def gather(module):
    """sentry_issues_info: the project's issues, summarized, ordered and counted per category."""
    params = module.params
    check_minimums(params, {"limit": 1})
    api = HttpApi(params, name="Sentry")
    raw, truncated = fetch_issues(api, params)
    issues = sort_issues([summarize_issue(i, params["period"]) for i in raw], params["sort"])
    by_category, categories, total = summarize_categories(issues)
    return {
        "issues": issues,
        "by_category": by_category,
        "categories": categories,
        "total": total,
        "truncated": truncated,
        "http_requests": api.requests,
    }
