# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.sentry: issue summaries and their categories, the Link header, the order and the category counts,
and what Sentry's failures mean. The module against real sockets is tested in
tests/unit/plugins/modules/test_sentry_issues_info.py; paging and the figures against a Sentry API are the integration
target's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import sentry
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import CATEGORIES
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.http_api import HttpApi, HttpError, parse_link_header


def issue(title, culprit="", value=None, count="1", last="2026-11-25T04:00:00Z", first="2026-11-25T03:00:00Z",
          stats=None, level="error", issue_id="4000000001"):
    """An issue as Sentry's project issues endpoint returns it (count is a string there)."""
    return {
        "id": issue_id, "shortId": "KAS-FLEET-MANAGER-1A", "title": title, "culprit": culprit, "level": level,
        "status": "unresolved", "count": count, "userCount": 2, "firstSeen": first, "lastSeen": last,
        "permalink": "https://sentry.stage.devshift.net/organizations/app-sre/issues/%s/" % issue_id,
        "metadata": {"type": "*errors.errorString", "value": title if value is None else value},
        "stats": {"24h": stats if stats is not None else [[1795500000, 0], [1795503600, int(count)]]},
    }


@pytest.mark.parametrize("title, culprit, value, category", [
    ("KAFKAS-MGMT-9: Unspecified error", "handlers.handleError", None, "manager_api"),
    ("kas-fleetshard-operator reported status 'error': strimzi-cluster-operator: Kafka resource not ready",
     "kafka_mgrs.(*ProvisioningKafkaManager).reconcile", None, "kafka"),
    ("*errors.errorString", "clusters_mgr.(*ClusterManager).reconcile",
     "failed to get cluster from OCM: CLUSTERS-MGMT-404", "ocm"),
    ("pq: too many connections for role", "db.(*ConnectionFactory).New", None, "database"),
    ("runtime error: invalid memory address or nil pointer dereference", "", None, "manager_api"),
    ("something odd happened", "workers.(*Reconciler).Start", "no idea", "other"),
])
def test_issue_category_from_title_culprit_and_value(title, culprit, value, category):
    summary = sentry.summarize_issue(issue(title, culprit, value), "24h")
    assert summary["category"] == category


def test_issue_summary_fields():
    summary = sentry.summarize_issue(issue("KAFKAS-MGMT-9: Unspecified error", "handlers.handleError", count="5120",
                                           stats=[[1, 5000], [2, 121]]), "24h")
    assert summary == {
        "id": "4000000001", "short_id": "KAS-FLEET-MANAGER-1A", "title": "KAFKAS-MGMT-9: Unspecified error",
        "culprit": "handlers.handleError", "level": "error", "status": "unresolved", "count": 5120, "user_count": 2,
        "events_in_period": 5120,  # the rounded stats said 5121: never more than the issue's events
        "first_seen": "2026-11-25T03:00:00Z", "last_seen": "2026-11-25T04:00:00Z",
        "permalink": "https://sentry.stage.devshift.net/organizations/app-sre/issues/4000000001/",
        "error_type": "*errors.errorString", "error_value": "KAFKAS-MGMT-9: Unspecified error",
        "category": "manager_api"}
    bare = sentry.summarize_issue({"id": 7, "title": "x", "count": "n/a"}, "24h")
    assert bare["count"] == 0 and bare["events_in_period"] is None and bare["id"] == "7"
    assert sentry.summarize_issue(issue("x", stats=[[1, 3]]), "14d")["events_in_period"] is None


def test_order_by_sort_option():
    issues = [sentry.summarize_issue(issue("a", count="5", last="2026-11-25T01:00:00Z", first="2026-11-20T00:00:00Z"),
                                     "24h"),
              sentry.summarize_issue(issue("b", count="50", last="2026-11-25T00:00:00Z", first="2026-11-24T00:00:00Z"),
                                     "24h"),
              sentry.summarize_issue(issue("c", count="7", last="2026-11-25T02:00:00Z", first="2026-11-01T00:00:00Z"),
                                     "24h")]
    assert [i["title"] for i in sentry.sort_issues(issues, "date")] == ["c", "a", "b"]
    assert [i["title"] for i in sentry.sort_issues(issues, "freq")] == ["b", "c", "a"]
    assert [i["title"] for i in sentry.sort_issues(issues, "new")] == ["b", "a", "c"]


def test_categories_are_counted_in_issues_and_events():
    issues = [sentry.summarize_issue(i, "24h") for i in (
        issue("KAFKAS-MGMT-9: Unspecified error", count="100", stats=[[1, 10]]),
        issue("KAFKAS-MGMT-21: timeout", count="30", stats=[[1, 30]]),
        issue("strimzi: Kafka resource not ready", count="12", stats=[[1, 12]]),
    )]
    by_category, present, total = sentry.summarize_categories(issues)
    assert sorted(by_category) == sorted(CATEGORIES)
    assert by_category["manager_api"] == {"issues": 2, "events": 130, "events_in_period": 40}
    assert by_category["kafka"] == {"issues": 1, "events": 12, "events_in_period": 12}
    assert by_category["ocm"] == {"issues": 0, "events": 0, "events_in_period": 0}
    assert present == ["manager_api", "kafka"]
    assert total == {"issues": 3, "events": 142, "events_in_period": 52}
    assert sentry.summarize_categories([]) == (dict((c, {"issues": 0, "events": 0, "events_in_period": 0})
                                               for c in CATEGORIES), [], {"issues": 0, "events": 0,
                                                                          "events_in_period": 0})


SENTRY_LINK = ('<https://sentry.example/api/0/projects/app-sre/kas-fleet-manager/issues/?limit=25&cursor=0%3A0%3A1>;'
               ' rel="previous"; results="false"; cursor="0:0:1", '
               '<https://sentry.example/api/0/projects/app-sre/kas-fleet-manager/issues/?limit=25&cursor=0%3A25%3A0>;'
               ' rel="next"; results="true"; cursor="0:25:0"')


def test_link_header_as_sentry_writes_it():
    links = parse_link_header(SENTRY_LINK)
    assert [(link["rel"], link["results"], link["cursor"]) for link in links] == [
        ("previous", "false", "0:0:1"), ("next", "true", "0:25:0")]
    assert links[1]["url"].endswith("cursor=0%3A25%3A0")
    assert sentry.next_cursor(SENTRY_LINK) == "0:25:0"
    assert sentry.next_cursor(SENTRY_LINK.replace('results="true"', 'results="false"')) is None
    assert sentry.next_cursor(None) is None
    assert sentry.next_cursor("") is None
    # without Sentry's cursor parameter, the URL's cursor is used (GlitchTip-style links)
    assert sentry.next_cursor('<https://gt.example/api/0/projects/o/p/issues/?cursor=abc%3D>; rel="next"') == "abc="


def test_errors_say_what_to_fix():
    api = HttpApi({"url": "https://sentry.example"}, name="Sentry")
    params = {"organization": "app-sre", "project": "kas-fleet-manager"}

    def msg(status, body=None, reachable=True):
        return sentry.explain(HttpError("x", status=status, body=body, reachable=reachable), params, api)

    assert msg(401, {"detail": "Invalid token"}).msg.startswith("Sentry rejected the token (HTTP 401: Invalid token)")
    assert "project:read scope and membership of organization app-sre" in msg(403, {"detail": "no"}).msg
    assert msg(404).msg.startswith("no project app-sre/kas-fleet-manager on Sentry at https://sentry.example")
    assert "check query, period and sort" in msg(400, {"detail": "Invalid sort"}).msg
    assert msg(502, "<h1>Bad Gateway</h1>").msg.endswith("HTTP 502 for the issues of app-sre/kas-fleet-manager: "
                                                         "Bad Gateway")
    assert msg(None, reachable=False).msg.startswith("cannot read Sentry issues: ")
    assert msg(401).details == {"status": 401}


class PagedApi(object):
    """Stands for HttpApi: each get answers the next page (body, headers) and records the query."""

    display_url = "https://sentry.example"

    def __init__(self, pages):
        self.pages, self.queries = list(pages), []

    def get(self, path, query=None):
        self.queries.append((path, dict(query)))
        return self.pages.pop(0)


def test_issues_are_read_page_by_page_up_to_the_limit():
    link = '<https://sentry.example/x?cursor=0%3A2%3A0>; rel="next"; results="true"; cursor="0:2:0"'
    api = PagedApi([([issue("a", issue_id="1"), issue("b", issue_id="2")], {"link": link}),
                    ([issue("c", issue_id="3"), issue("d", issue_id="4")], {"link": link.replace("0:2:0", "0:4:0")})])
    params = {"organization": "app sre", "project": "kas-fleet-manager", "query": "is:unresolved", "period": "24h",
              "sort": "date", "limit": 3, "environment": "stage"}
    issues, truncated = sentry.fetch_issues(api, params)
    assert [i["title"] for i in issues] == ["a", "b", "c"] and truncated is True
    assert api.queries[0] == ("/api/0/projects/app%20sre/kas-fleet-manager/issues/", {
        "query": "is:unresolved", "statsPeriod": "24h", "sort": "date", "limit": 3, "environment": "stage"})
    assert api.queries[1][1]["cursor"] == "0:2:0" and api.queries[1][1]["limit"] == 1


def test_an_answer_that_is_no_issue_list_is_a_clear_error():
    api = PagedApi([({"detail": "Sign in"}, {})])
    with pytest.raises(FleetError, match="answered with something other than an issue list .Sign in."):
        sentry.fetch_issues(api, {"organization": "o", "project": "p", "query": "", "period": "24h", "sort": "date",
                                  "limit": 5})
