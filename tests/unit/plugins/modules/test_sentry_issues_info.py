# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of sentry_issues_info: issue summaries and their categories, the Link header, the order and the
category counts, and its failures. Paging and the figures against a Sentry API are the integration target's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import CATEGORIES
from ansible_collections.kas.fleet_manager.plugins.module_utils.http_api import HttpApi, HttpError, parse_link_header
from ansible_collections.kas.fleet_manager.plugins.modules import sentry_issues_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import free_port, run_module


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
    summary = m.summarize_issue(issue(title, culprit, value), "24h")
    assert summary["category"] == category


def test_issue_summary_fields():
    summary = m.summarize_issue(issue("KAFKAS-MGMT-9: Unspecified error", "handlers.handleError", count="5120",
                                      stats=[[1, 5000], [2, 121]]), "24h")
    assert summary == {
        "id": "4000000001", "short_id": "KAS-FLEET-MANAGER-1A", "title": "KAFKAS-MGMT-9: Unspecified error",
        "culprit": "handlers.handleError", "level": "error", "status": "unresolved", "count": 5120, "user_count": 2,
        "events_in_period": 5120,  # the rounded stats said 5121: never more than the issue's events
        "first_seen": "2026-11-25T03:00:00Z", "last_seen": "2026-11-25T04:00:00Z",
        "permalink": "https://sentry.stage.devshift.net/organizations/app-sre/issues/4000000001/",
        "error_type": "*errors.errorString", "error_value": "KAFKAS-MGMT-9: Unspecified error",
        "category": "manager_api"}
    bare = m.summarize_issue({"id": 7, "title": "x", "count": "n/a"}, "24h")
    assert bare["count"] == 0 and bare["events_in_period"] is None and bare["id"] == "7"
    assert m.summarize_issue(issue("x", stats=[[1, 3]]), "14d")["events_in_period"] is None


def test_order_by_sort_option():
    issues = [m.summarize_issue(issue("a", count="5", last="2026-11-25T01:00:00Z", first="2026-11-20T00:00:00Z"),
                                "24h"),
              m.summarize_issue(issue("b", count="50", last="2026-11-25T00:00:00Z", first="2026-11-24T00:00:00Z"),
                                "24h"),
              m.summarize_issue(issue("c", count="7", last="2026-11-25T02:00:00Z", first="2026-11-01T00:00:00Z"),
                                "24h")]
    assert [i["title"] for i in m.sort_issues(issues, "date")] == ["c", "a", "b"]
    assert [i["title"] for i in m.sort_issues(issues, "freq")] == ["b", "c", "a"]
    assert [i["title"] for i in m.sort_issues(issues, "new")] == ["b", "a", "c"]


def test_categories_are_counted_in_issues_and_events():
    issues = [m.summarize_issue(i, "24h") for i in (
        issue("KAFKAS-MGMT-9: Unspecified error", count="100", stats=[[1, 10]]),
        issue("KAFKAS-MGMT-21: timeout", count="30", stats=[[1, 30]]),
        issue("strimzi: Kafka resource not ready", count="12", stats=[[1, 12]]),
    )]
    by_category, present, total = m.summarize_categories(issues)
    assert sorted(by_category) == sorted(CATEGORIES)
    assert by_category["manager_api"] == {"issues": 2, "events": 130, "events_in_period": 40}
    assert by_category["kafka"] == {"issues": 1, "events": 12, "events_in_period": 12}
    assert by_category["ocm"] == {"issues": 0, "events": 0, "events_in_period": 0}
    assert present == ["manager_api", "kafka"]
    assert total == {"issues": 3, "events": 142, "events_in_period": 52}
    assert m.summarize_categories([]) == (dict((c, {"issues": 0, "events": 0, "events_in_period": 0})
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
    assert m.next_cursor(SENTRY_LINK) == "0:25:0"
    assert m.next_cursor(SENTRY_LINK.replace('results="true"', 'results="false"')) is None
    assert m.next_cursor(None) is None
    assert m.next_cursor("") is None
    # without Sentry's cursor parameter, the URL's cursor is used (GlitchTip-style links)
    assert m.next_cursor('<https://gt.example/api/0/projects/o/p/issues/?cursor=abc%3D>; rel="next"') == "abc="


def test_errors_say_what_to_fix():
    api = HttpApi({"url": "https://sentry.example"}, name="Sentry")
    params = {"organization": "app-sre", "project": "kas-fleet-manager"}

    def msg(status, body=None, reachable=True):
        return m.explain(HttpError("x", status=status, body=body, reachable=reachable), params, api)

    assert msg(401, {"detail": "Invalid token"}).msg.startswith("Sentry rejected the token (HTTP 401: Invalid token)")
    assert "project:read scope and membership of organization app-sre" in msg(403, {"detail": "no"}).msg
    assert msg(404).msg.startswith("no project app-sre/kas-fleet-manager on Sentry at https://sentry.example")
    assert "check query, period and sort" in msg(400, {"detail": "Invalid sort"}).msg
    assert msg(502, "<h1>Bad Gateway</h1>").msg.endswith("HTTP 502 for the issues of app-sre/kas-fleet-manager: "
                                                         "Bad Gateway")
    assert msg(None, reachable=False).msg.startswith("cannot read Sentry issues: ")
    assert msg(401).details == {"status": 401}


# -- the module, against real sockets ------------------------------------------------------------------------------


def test_a_token_or_a_key_is_required(capsys):
    result, _out = run_module(m, {"url": "https://sentry.example", "organization": "app-sre"}, capsys)
    assert result["failed"] is True and "one of the following is required: token, username" in result["msg"]


def test_unreachable_sentry_fails_plainly_without_the_token(capsys):
    url = "http://127.0.0.1:%d" % free_port()
    result, _out = run_module(m, {"url": url, "organization": "app-sre", "token": "sntrys_s3cret"}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("cannot read Sentry issues: cannot reach Sentry at %s: " % url)
    assert "sntrys_s3cret" not in json.dumps(result)


def test_bad_limit_is_refused(capsys):
    result, _out = run_module(m, {"url": "https://sentry.example", "organization": "o", "token": "sntrys_abc", "limit": 0}, capsys)
    assert result["msg"] == "limit must be at least 1, got 0"


class _Html(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        data = b"<html><title>Sign in | Sentry</title></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_a_page_that_is_not_the_api_is_a_clear_failure(capsys):
    httpd = HTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d" % httpd.server_address[1]
        result, _out = run_module(m, {"url": url, "organization": "app-sre", "token": "tok"}, capsys)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result["failed"] is True
    assert "answered with something other than an issue list (Sign in | Sentry)" in result["msg"]
