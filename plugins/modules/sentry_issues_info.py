#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sentry_issues_info
short_description: Read the fleet manager's unresolved Sentry issues and classify them like the log errors
version_added: 0.1.0
description:
  - The runbook's "Check Sentry to investigate possible causes" step (I(down), I(availability), I(latency) and the
    provisioning sections), as data a playbook can decide from.
  - Reads the project's issues (C(GET /api/0/projects/<organization>/<project>/issues/)), newest or most frequent
    first, following Sentry's C(Link rel=next) pages up to O(limit) issues.
  - Each issue gets the C(category) the runbook's escalation rules need (C(manager_api), C(ocm), C(kafka),
    C(database), C(other)), from the same classification data as the pod log errors of
    M(kas.fleet_manager.leader_check), applied to its title, culprit and error value.
  - Works with Sentry and Sentry-API-compatible services such as GlitchTip.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  url:
    description:
      - Base URL of Sentry, such as C(https://sentry.stage.devshift.net) (stage) or C(https://sentry.devshift.net)
        (production).
  token:
    description:
      - A Sentry auth token with the C(project:read) scope (or C(event:read)). Never logged nor returned.
      - One of O(token) and O(username) (a legacy API key, sent as basic auth) is required.
  organization:
    description:
      - The organization's slug, as in the project's URL.
    type: str
    required: true
  project:
    description:
      - The fleet manager's project slug.
    type: str
    default: kas-fleet-manager
  query:
    description:
      - Sentry search query.
    type: str
    default: "is:unresolved"
  environment:
    description:
      - Only issues seen in this Sentry environment (the fleet manager reports its OCM_ENV, such as C(stage) or
        C(production)). All environments when omitted.
    type: str
  period:
    description:
      - The period of the per-issue event counts (C(statsPeriod)), returned as RV(issues[].events_in_period).
    type: str
    choices: ["24h", "14d"]
    default: "24h"
  sort:
    description:
      - C(date) is most recently seen first, C(freq) most events first, C(new) most recently first seen first.
    type: str
    choices: [date, freq, new]
    default: date
  limit:
    description:
      - At most this many issues are read (pages of up to 100).
    type: int
    default: 25
extends_documentation_fragment:
  - kas.fleet_manager.http_api
  - kas.fleet_manager.attributes.info_module
seealso:
  - module: kas.fleet_manager.slo_metrics_info
"""

EXAMPLES = r"""
- name: Check Sentry to investigate possible causes (runbook, availability)
  kas.fleet_manager.sentry_issues_info:
    url: https://sentry.stage.devshift.net
    token: "{{ vault_sentry_token }}"
    organization: app-sre
    project: kas-fleet-manager
  register: sentry

- name: Which team the errors point at
  ansible.builtin.debug:
    msg: "{{ sentry.by_category | dict2items | selectattr('value.issues') | map(attribute='key') | list }}"

- name: The ten noisiest issues of the last two weeks in production
  kas.fleet_manager.sentry_issues_info:
    url: https://sentry.devshift.net
    token: "{{ vault_sentry_token }}"
    organization: app-sre
    environment: production
    sort: freq
    period: 14d
    limit: 10
"""

RETURN = r"""
issues:
  description: The issues, in the order of O(sort), at most O(limit).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Sentry's issue id.
      type: str
    short_id:
      description: The short id shown in Sentry, such as C(KAS-FLEET-MANAGER-1A).
      type: str
    title:
      description: The issue's title.
      type: str
    culprit:
      description: Where it happened (function or transaction).
      type: str
    level:
      description: C(fatal), C(error), C(warning), C(info) or C(debug).
      type: str
    status:
      description: C(unresolved), C(resolved) or C(ignored).
      type: str
    count:
      description: Events of the issue, ever.
      type: int
    user_count:
      description: Users affected.
      type: int
    events_in_period:
      description: Events in O(period) (from the issue's stats; null when Sentry sent none).
      type: int
    first_seen:
      description: First event (ISO 8601).
      type: str
    last_seen:
      description: Latest event (ISO 8601).
      type: str
    permalink:
      description: The issue's page in Sentry.
      type: str
    error_type:
      description: The error's type (metadata.type).
      type: str
    error_value:
      description: The error's message (metadata.value).
      type: str
    category:
      description: C(manager_api), C(ocm), C(kafka), C(database) or C(other), as the log errors are classified.
      type: str
  sample:
    - id: "4000123400"
      short_id: KAS-FLEET-MANAGER-1A
      title: "KAFKAS-MGMT-9: Unspecified error"
      culprit: handlers.handleError
      level: error
      status: unresolved
      count: 5120
      user_count: 0
      events_in_period: 5120
      first_seen: "2026-11-25T03:28:00Z"
      last_seen: "2026-11-25T04:00:00Z"
      permalink: https://sentry.stage.devshift.net/organizations/app-sre/issues/4000123400/
      error_type: "*errors.errorString"
      error_value: "KAFKAS-MGMT-9: Unspecified error"
      category: manager_api
by_category:
  description: Per category (all five, zeros included), the issues read, their events ever and in O(period).
  returned: always
  type: dict
  sample:
    manager_api: {issues: 1, events: 5120, events_in_period: 5120}
    ocm: {issues: 0, events: 0, events_in_period: 0}
    kafka: {issues: 0, events: 0, events_in_period: 0}
    database: {issues: 0, events: 0, events_in_period: 0}
    other: {issues: 0, events: 0, events_in_period: 0}
categories:
  description: The categories that have issues, most events in O(period) first.
  returned: always
  type: list
  elements: str
  sample: [manager_api]
total:
  description: The issues read and their events.
  returned: always
  type: dict
  sample: {issues: 1, events: 5120, events_in_period: 5120}
truncated:
  description: Sentry has more issues than O(limit).
  returned: always
  type: bool
  sample: false
http_requests:
  description: How many pages were read.
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import parse_qs, quote, urlsplit

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import (
    HTTP_API_MUTUALLY_EXCLUSIVE, http_api_spec)
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import CATEGORIES, classify
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, run_module
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
    params = module.params
    if params["limit"] < 1:
        raise FleetError("limit must be at least 1, got %d" % params["limit"])
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


def argument_spec():
    spec = http_api_spec()
    spec.update(
        organization=dict(type="str", required=True),
        project=dict(type="str", default="kas-fleet-manager"),
        query=dict(type="str", default="is:unresolved"),
        environment=dict(type="str"),
        period=dict(type="str", choices=["24h", "14d"], default="24h"),
        sort=dict(type="str", choices=list(SORT_KEYS), default="date"),
        limit=dict(type="int", default=25),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True, mutually_exclusive=HTTP_API_MUTUALLY_EXCLUSIVE,
                      required_one_of=[["token", "username"]])
SERVICE = gather


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE)


if __name__ == "__main__":
    main()
