"""The Sentry API stand-in and the paging/chat sink, each in a thread of this process on a free port."""
import datetime
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from fleet_lab.sentry import SentryServer
from fleet_lab.sink import SinkServer

from probes import port_open

TOKEN = "0123456789abcdef0123456789abcdef"
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
SCENARIO = {"name": "sentry_test", "sentry": {"issues": [
    {"title": "KAFKAS-MGMT-9: Unspecified error", "culprit": "handlers.handleError", "level": "error",
     "count": 5120, "first_seen_minutes": 32, "last_seen_minutes": 0},
    {"title": "runtime error: invalid memory address or nil pointer dereference", "culprit":
     "handlers.(*kafkaHandler).List", "level": "fatal", "count": 341, "first_seen_minutes": 45,
     "last_seen_minutes": 1, "type": "runtime.Error", "value": "invalid memory address"},
    {"title": "OCM error: status 503: CLUSTERS-MGMT-503: Service Unavailable", "culprit":
     "cluster_mgrs.(*ClusterManager).reconcileAcceptedCluster", "count": 96, "first_seen_minutes": 70,
     "last_seen_minutes": 2, "user_count": 3},
    {"title": "old resolved thing", "culprit": "x.y", "level": "warning", "count": 7000, "first_seen_minutes": 9000,
     "last_seen_minutes": 8000, "status": "resolved"},
]}}


def _request(url, method="GET", body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            headers.setdefault("Content-Type", "application/json")
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.fixture(scope="module")
def sentry():
    server = SentryServer(host="127.0.0.1", port=0, token=TOKEN, org="app-sre", project="kas-fleet-manager")
    server.start()
    server.load_scenario(SCENARIO, NOW)
    yield server
    url, thread = server.url, server.thread
    server.stop()
    assert not thread.is_alive() and not port_open(url)


@pytest.fixture(scope="module")
def sink_server():
    server = SinkServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    url, thread = server.url, server.thread
    server.stop()
    assert not thread.is_alive() and not port_open(url)


@pytest.fixture()
def sink(sink_server):
    sink_server.clear()
    yield sink_server
    sink_server.clear()


def _issues(sentry, query=None, token=TOKEN, project="kas-fleet-manager", org="app-sre"):
    url = "%s/api/0/projects/%s/%s/issues/" % (sentry.url, org, project)
    if query is not None:
        url += "?" + urllib.parse.urlencode(query)
    headers = {"Authorization": "Bearer %s" % token} if token else {}
    status, headers, body = _request(url, headers=headers)
    return status, headers, json.loads(body)


# -- Sentry ----------------------------------------------------------------------------------------------------
def test_sentry_health_and_auth(sentry):
    assert sentry.url.startswith("http://127.0.0.1:")
    status, _h, body = _request(sentry.url + "/api/0/")
    assert status == 200 and json.loads(body)["version"] == "0"
    assert _issues(sentry, token=None)[::2] == (401, {"detail": "Invalid token"})
    assert _issues(sentry, token="wrong")[::2] == (401, {"detail": "Invalid token"})
    missing = {"detail": "The requested resource does not exist"}
    assert _issues(sentry, project="other")[::2] == (404, missing)
    assert _issues(sentry, org="other-org")[::2] == (404, missing)


def test_sentry_issue_objects(sentry):
    status, _h, issues = _issues(sentry)
    assert status == 200
    assert [i["title"] for i in issues] == [  # default: is:unresolved, sorted by lastSeen
        "KAFKAS-MGMT-9: Unspecified error", "runtime error: invalid memory address or nil pointer dereference",
        "OCM error: status 503: CLUSTERS-MGMT-503: Service Unavailable"]
    first = issues[0]
    assert first["count"] == "5120" and isinstance(first["count"], str)
    assert first["userCount"] == 0 and issues[2]["userCount"] == 3
    assert first["level"] == "error" and first["status"] == "unresolved" and first["culprit"] == "handlers.handleError"
    assert first["firstSeen"] == "2026-11-25T11:28:00Z" and first["lastSeen"] == "2026-11-25T12:00:00Z"
    assert all(re.match(r"^KAS-FLEET-MANAGER-[0-9A-Z]+$", i["shortId"]) for i in issues)
    assert len({i["shortId"] for i in issues}) == len({i["id"] for i in issues}) == 3
    assert first["permalink"] == "%s/organizations/app-sre/issues/%s/" % (sentry.url, first["id"])
    assert first["project"]["slug"] == "kas-fleet-manager"
    assert first["metadata"] == {"type": "*errors.errorString", "value": "KAFKAS-MGMT-9: Unspecified error"}
    assert issues[1]["metadata"] == {"type": "runtime.Error", "value": "invalid memory address"}
    assert len(first["stats"]["24h"]) == 24 and sum(n for _t, n in first["stats"]["24h"]) > 0
    status, _h, one = _request("%s/api/0/issues/%s/" % (sentry.url, first["id"]),
                               headers={"Authorization": "Bearer " + TOKEN})
    assert status == 200 and json.loads(one)["shortId"] == first["shortId"]


def test_sentry_query_sort_period(sentry):
    every = _issues(sentry, {"query": ""})[2]
    assert len(every) == 4
    assert [i["title"] for i in _issues(sentry, {"query": "is:resolved"})[2]] == ["old resolved thing"]
    assert [i["level"] for i in _issues(sentry, {"query": "is:unresolved level:fatal"})[2]] == ["fatal"]
    assert [i["title"] for i in _issues(sentry, {"query": "is:unresolved OCM"})[2]] == [
        "OCM error: status 503: CLUSTERS-MGMT-503: Service Unavailable"]
    assert _issues(sentry, {"query": "is:unresolved environment:production"})[2] == _issues(sentry)[2]
    by_freq = [int(i["count"]) for i in _issues(sentry, {"query": "", "sort": "freq"})[2]]
    assert by_freq == sorted(by_freq, reverse=True) == [7000, 5120, 341, 96]
    by_new = [i["firstSeen"] for i in _issues(sentry, {"sort": "new"})[2]]
    assert by_new == sorted(by_new, reverse=True)
    assert _issues(sentry, {"sort": "bogus"})[0] == 400
    assert "stats" not in _issues(sentry, {"statsPeriod": ""})[2][0]
    assert len(_issues(sentry, {"statsPeriod": "14d"})[2][0]["stats"]["14d"]) == 14
    status, _h, body = _issues(sentry, {"statsPeriod": "7d"})
    assert status == 400 and "stats_period" in body["detail"]


def test_sentry_pagination_link_header(sentry):
    status, headers, page1 = _issues(sentry, {"query": "", "limit": "3"})
    assert status == 200 and len(page1) == 3
    link = headers["Link"]
    assert 'rel="previous"; results="false"; cursor="0:0:1"' in link
    assert 'rel="next"; results="true"; cursor="0:3:0"' in link
    next_url = re.search(r'<([^>]+)>; rel="next"', link).group(1)
    status, headers, body = _request(next_url, headers={"Authorization": "Bearer " + TOKEN})
    page2 = json.loads(body)
    assert status == 200 and len(page2) == 1
    assert {i["id"] for i in page1}.isdisjoint({i["id"] for i in page2})
    assert 'rel="next"; results="false"' in headers["Link"] and 'rel="previous"; results="true"' in headers["Link"]


def test_sentry_reload_replaces_issues(sentry):
    sentry.load_scenario({"name": "empty", "sentry": {"issues": []}}, NOW)
    try:
        status, headers, body = _issues(sentry)
        assert status == 200 and body == [] and 'rel="next"; results="false"' in headers["Link"]
        with pytest.raises(ValueError, match="level"):
            sentry.load_scenario({"name": "bad", "sentry": {"issues": [{"title": "x", "level": "loud"}]}}, NOW)
    finally:
        sentry.load_scenario(SCENARIO, NOW)
    assert len(_issues(sentry)[2]) == 3


# -- PagerDuty -------------------------------------------------------------------------------------------------
def _pd(sink, event):
    status, _h, body = _request(sink.url + "/v2/enqueue", "POST", event)
    return status, json.loads(body)


def _trigger(**extra):
    event = {"routing_key": TOKEN, "event_action": "trigger",
             "payload": {"summary": "OSD clusters stuck in cluster_provisioning", "source": "kas-fleet-manager-stage",
                         "severity": "critical", "custom_details": {"rule": "escalate_ocm"}}}
    event.update(extra)
    return event


def test_pagerduty_trigger_dedup_resolve(sink):
    status, body = _pd(sink, _trigger())
    assert status == 202 and body["status"] == "success" and body["message"] == "Event processed"
    generated = body["dedup_key"]
    assert re.match(r"^[0-9a-f]{32}$", generated)
    assert _pd(sink, _trigger(dedup_key="kas-osd-stuck")) == (
        202, {"status": "success", "message": "Event processed", "dedup_key": "kas-osd-stuck"})
    assert _pd(sink, _trigger(dedup_key="kas-osd-stuck"))[0] == 202  # again: the same incident
    incidents = json.loads(_request(sink.url + "/_lab/incidents")[2])
    assert set(incidents) == {generated, "kas-osd-stuck"}
    assert incidents["kas-osd-stuck"]["trigger_count"] == 2 and incidents[generated]["trigger_count"] == 1
    assert incidents["kas-osd-stuck"]["severity"] == "critical"
    assert incidents["kas-osd-stuck"]["custom_details"] == {"rule": "escalate_ocm"}
    ack = {"routing_key": TOKEN, "event_action": "acknowledge", "dedup_key": "kas-osd-stuck"}
    assert _pd(sink, ack)[0] == 202
    assert sink.open_incidents()["kas-osd-stuck"]["status"] == "acknowledged"
    resolve = {"routing_key": TOKEN, "event_action": "resolve", "dedup_key": "kas-osd-stuck"}
    assert _pd(sink, resolve)[0] == 202
    assert set(json.loads(_request(sink.url + "/_lab/incidents")[2])) == {generated}
    assert json.loads(_request(sink.url + "/_lab/incidents?all=1")[2])["kas-osd-stuck"]["status"] == "resolved"
    assert _pd(sink, _trigger(dedup_key="kas-osd-stuck"))[0] == 202  # a new incident after the resolve
    assert sink.open_incidents()["kas-osd-stuck"]["trigger_count"] == 1
    kinds = [(m["kind"], m["path"], m["body"]["event_action"]) for m in sink.received()]
    assert kinds == [("pagerduty", "/v2/enqueue", a) for a in
                     ("trigger", "trigger", "trigger", "acknowledge", "resolve", "trigger")]


@pytest.mark.parametrize("event,error", [
    ({"event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "error"}},
     "'routing_key' is missing or blank"),
    ({"routing_key": TOKEN, "event_action": "page", "dedup_key": "k"}, "'event_action' is invalid"),
    ({"routing_key": TOKEN}, "'event_action' is missing or blank"),
    ({"routing_key": TOKEN, "event_action": "trigger"}, "'payload' is missing or blank"),
    ({"routing_key": TOKEN, "event_action": "trigger", "payload": {"source": "x", "severity": "error"}},
     "'payload.summary' is missing or blank"),
    ({"routing_key": TOKEN, "event_action": "trigger", "payload": {"summary": "s", "source": "x",
                                                                    "severity": "high"}},
     "'payload.severity' is invalid"),
    ({"routing_key": TOKEN, "event_action": "resolve"}, "'dedup_key' is missing or blank"),
])
def test_pagerduty_rejects_invalid_events(sink, event, error):
    status, body = _pd(sink, event)
    assert status == 400
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert any(e.startswith(error) for e in body["errors"]), body["errors"]
    assert sink.received() == [] and sink.open_incidents() == {}


def test_pagerduty_rejects_malformed_json(sink):
    status, _h, body = _request(sink.url + "/v2/enqueue", "POST", "{not json")
    assert status == 400 and json.loads(body)["errors"] == ["Malformed JSON"]


# -- Slack and webhooks ----------------------------------------------------------------------------------------
def test_slack_webhook(sink):
    assert _request(sink.url + "/slack/mk-sre", "POST", {"text": "Kafka stuck in provisioning"})[::2] == (200, "ok")
    blocks = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*escalate*"}}]}
    assert _request(sink.url + "/slack/mk-sre", "POST", blocks)[::2] == (200, "ok")
    form = {"payload": json.dumps({"text": "form-encoded"})}
    assert _request(sink.url + "/slack/T000/B000/XXX", "POST", form, form=True)[::2] == (200, "ok")
    for bad in ({}, {"text": ""}, {"blocks": []}, "not json", [1, 2]):
        assert _request(sink.url + "/slack/mk-sre", "POST", bad)[::2] == (400, "invalid_payload"), bad
    received = sink.received()
    assert [(m["kind"], m["path"]) for m in received] == [("slack", "/slack/mk-sre")] * 2 + [
        ("slack", "/slack/T000/B000/XXX")]
    assert received[0]["body"] == {"text": "Kafka stuck in provisioning"}
    assert received[2]["body"]["text"] == "form-encoded"


def test_generic_webhook_readback_and_clear(sink):
    assert _request(sink.url + "/webhook/awx", "POST", {"decision": "restart_pods"})[0] == 200
    assert _request(sink.url + "/webhook/awx", "POST", "nope")[0] == 400
    assert _request(sink.url + "/slack/x", "POST", {"text": "hi"})[0] == 200
    assert _pd(sink, _trigger(dedup_key="k1"))[0] == 202
    status, _h, body = _request(sink.url + "/_lab/received")
    received = json.loads(body)
    assert status == 200 and [m["kind"] for m in received] == ["webhook", "slack", "pagerduty"]
    assert received[0] == dict(received[0], path="/webhook/awx", body={"decision": "restart_pods"})
    stamps = [datetime.datetime.strptime(m["received_at"], "%Y-%m-%dT%H:%M:%S.%fZ") for m in received]
    assert stamps == sorted(stamps)
    assert received == sink.received()
    assert _request(sink.url + "/_lab/received", "DELETE")[0] == 200
    assert sink.received() == [] and json.loads(_request(sink.url + "/_lab/incidents")[2]) == {}
    assert _request(sink.url + "/nowhere", "POST", {"a": 1})[0] == 404
    sink.clear()
    assert sink.received() == []
