# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of module_utils/notify.py: the payloads for PagerDuty, Slack and webhooks, masking of routing keys
and webhook URLs, one POST and its HTTP failures, and delivery of a page with retries (notify.deliver) against a
real HTTP server on loopback that answers from a script: which answers are tried again, how long it waits
(Retry-After, backoff), when it gives up."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.kas.fleet_manager.plugins.module_utils import notify as n
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fakes import HOOK, KEY, PD, SLACK, SLACK_URL
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import free_port


def event(action="trigger", **kw):
    e = {"action": action, "dedup_key": "kas-fleet/stage/osd_provisioning_latency/no_leader",
         "team": "Control Plane", "summary": "[stage] no ClusterManager leader", "severity": "error",
         "source": "kas-fleet-manager-stage/kas-fleet-manager", "rule": "no leader worker is running, restart",
         "evidence": {"leaders": {"ClusterManager": 0}}, "report": "https://reports.example.com/r.html",
         "links": {"Grafana": "https://grafana.example.com/d/x", "Sentry": ""}}
    e.update(kw)
    return e


# -- masking -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url,route_type,shown", [
    (SLACK_URL, "slack", "https://hooks.slack.com/services/********"),
    ("https://events.pagerduty.com/v2/enqueue", "pagerduty", "https://events.pagerduty.com/v2/********"),
    ("https://hooks.example.com/webhook/team-a?token=abc", "webhook", "https://hooks.example.com/webhook/********?********"),
    ("https://user:pw@hooks.example.com:8443/x", "webhook", "https://hooks.example.com:8443/********"),
    ("http://127.0.0.1:41167/slack/mk-sre", "slack", "http://127.0.0.1:41167/slack/********"),
    ("https://hooks.example.com", "webhook", "https://hooks.example.com"),
])
def test_mask_url(url, route_type, shown):
    assert n.mask_url(url, route_type) == shown


def test_scrub_removes_every_secret_part():
    text = "posted to %s with key %s; token XyZsecretTokenValue123 echoed" % (SLACK_URL, KEY)
    route = dict(SLACK, routing_key=KEY)
    scrubbed = n.scrub(text, route)
    assert KEY not in scrubbed and "XyZsecretTokenValue123" not in scrubbed and SLACK_URL not in scrubbed
    assert n.scrub_data({"a": [text], "b": 1}, route)["a"][0] == scrubbed
    assert "abcdef123456" not in n.scrub("token=abcdef123456", HOOK)


def test_masked_payload_hides_routing_key_only():
    payload = n.pagerduty_payload(event(), KEY)
    shown = n.masked_payload(payload)
    assert shown["routing_key"] == "********" and payload["routing_key"] == KEY
    assert shown["dedup_key"] == payload["dedup_key"]


# -- payloads ----------------------------------------------------------------------------------------------
def test_pagerduty_trigger_payload():
    body = n.build_payload(PD, event())
    assert body["routing_key"] == KEY and body["event_action"] == "trigger"
    assert body["dedup_key"] == "kas-fleet/stage/osd_provisioning_latency/no_leader"
    assert body["payload"]["summary"] == "[Control Plane] [stage] no ClusterManager leader"
    assert body["payload"]["severity"] == "error" and body["payload"]["source"] == \
        "kas-fleet-manager-stage/kas-fleet-manager"
    assert body["payload"]["custom_details"] == {
        "team": "Control Plane", "rule": "no leader worker is running, restart",
        "evidence": {"leaders": {"ClusterManager": 0}}, "report": "https://reports.example.com/r.html"}
    # empty links are dropped; a report URL is a link too
    assert body["links"] == [{"href": "https://grafana.example.com/d/x", "text": "Grafana"},
                             {"href": "https://reports.example.com/r.html", "text": "Incident report"}]


def test_pagerduty_summary_is_cut_and_resolve_is_minimal():
    body = n.build_payload(PD, event(summary="x" * 2000))
    assert len(body["payload"]["summary"]) == 1024
    assert n.build_payload(PD, event("resolve")) == {
        "routing_key": KEY, "event_action": "resolve", "dedup_key": "kas-fleet/stage/osd_provisioning_latency/no_leader"}


def test_slack_payload_has_text_and_blocks():
    body = n.build_payload(SLACK, event(report="/var/reports/r.html", rule="a <b> & c"))
    assert body["text"] == "ERROR [Control Plane] [stage] no ClusterManager leader"
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context"]
    assert "a &lt;b&gt; &amp; c" in body["blocks"][2]["text"]["text"]
    assert '"ClusterManager": 0' in body["blocks"][3]["text"]["text"]
    assert "report: `/var/reports/r.html`" in body["blocks"][4]["elements"][0]["text"]
    resolved = n.build_payload(SLACK, event("resolve", summary="[stage] healthy again"))
    assert resolved["text"] == "RESOLVED [Control Plane] [stage] healthy again"
    assert resolved["blocks"][0]["text"]["text"].startswith(":white_check_mark:")


def test_slack_evidence_is_truncated():
    body = n.build_payload(SLACK, event(evidence={"log": "y" * 10000}))
    text = body["blocks"][3]["text"]["text"]
    assert len(text) < 3000 and "(truncated)" in text


def test_webhook_payload_has_every_field():
    body = n.build_payload(HOOK, event())
    assert body["event_action"] == "trigger" and body["status"] == "triggered"
    assert body["team"] == "Control Plane" and body["evidence"] == {"leaders": {"ClusterManager": 0}}
    assert n.build_payload(HOOK, event("resolve"))["status"] == "resolved"


# -- sending -----------------------------------------------------------------------------------------------
class Response(object):
    def __init__(self, status, body):
        self.status, self.body = status, body

    def getcode(self):
        return self.status

    def read(self):
        return self.body


def test_post_json_sends_json():
    seen = {}

    def opener(url, **kw):
        seen.update(kw, url=url)
        return Response(202, b'{"status": "success"}')

    out = n.post_json(PD, {"a": 1}, 10, True, opener=opener)
    assert out == {"status": 202, "body": '{"status": "success"}'}
    assert seen["method"] == "POST" and json.loads(seen["data"]) == {"a": 1}
    assert seen["headers"]["Content-Type"] == "application/json" and seen["timeout"] == 10


def test_http_error_is_plain_and_secret_free():
    def opener(url, **kw):
        raise HTTPError(url, 400, "Bad Request", {}, io.BytesIO(
            ('{"status": "invalid event", "errors": ["bad routing_key %s"], "url": "%s"}' % (KEY, SLACK_URL)).encode()))

    with pytest.raises(FleetError) as err:
        n.post_json(dict(SLACK, routing_key=KEY), {}, 10, True, opener=opener)
    assert err.value.msg.startswith("the slack route https://hooks.slack.com/services/******** answered HTTP 400:")
    assert KEY not in err.value.msg and "XyZsecretTokenValue123" not in err.value.msg
    assert err.value.details["status"] == 400 and KEY not in err.value.details["body"]


def test_unreachable_route_is_plain():
    def opener(url, **kw):
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(FleetError, match=r"cannot reach the slack route https://hooks.slack.com/services/\*+: "
                                         r".*Connection refused") as err:
        n.post_json(SLACK, {}, 10, True, opener=opener)
    assert "XyZsecret" not in err.value.msg


def test_long_error_body_is_cut():
    def opener(url, **kw):
        raise HTTPError(url, 500, "err", {}, io.BytesIO(b"z" * 5000))

    with pytest.raises(FleetError) as err:
        n.post_json(PD, {}, 10, True, opener=opener)
    assert len(err.value.details["body"]) <= n.BODY_EXCERPT + 3


# -- delivery with retries ---------------------------------------------------------------------------------
class ScriptedRoute(object):
    """A route on 127.0.0.1 answering each POST with the next (status, headers, body) of ``script``
    (``"hang"`` holds the request for ``hang_seconds``); after the script, 200."""

    def __init__(self, script, hang_seconds=3):
        self.script = list(script)
        self.received = []
        self.hang_seconds = hang_seconds
        route = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                route.received.append(json.loads(self.rfile.read(length) or b"null"))
                step = route.script.pop(0) if route.script else (200, {}, "ok")
                if step == "hang":
                    time.sleep(route.hang_seconds)
                    step = (200, {}, "late")
                status, headers, body = step
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def route(self):
        return {"type": "slack", "url": "http://127.0.0.1:%d/slack/secret-webhook-path-123" % self.httpd.server_address[1],
                "validate_certs": True}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(script, **kw):
        server = ScriptedRoute(script, **kw)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


class Waits(object):
    def __init__(self):
        self.seconds = []

    def __call__(self, seconds):
        self.seconds.append(seconds)


def test_503_twice_then_200_is_delivered_on_the_third_try(scripted):
    server, waits = scripted([(503, {}, "busy"), (503, {}, "busy")]), Waits()
    out = n.deliver(server.route, {"text": "page"}, timeout=5, tries=3, window=30, sleep=waits)
    assert out["tries"] == 3 and out["response"]["status"] == 200
    assert len(server.received) == 3 and server.received[-1] == {"text": "page"}
    assert waits.seconds == [1.0, 2.0]  # backoff: 1 s, then 2 s


def test_retry_after_is_honoured(scripted):
    server, waits = scripted([(429, {"Retry-After": "4"}, "slow down")]), Waits()
    out = n.deliver(server.route, {"text": "page"}, timeout=5, tries=3, window=30, sleep=waits)
    assert out["tries"] == 2 and waits.seconds == [4.0]


def test_retry_after_past_the_window_gives_up(scripted):
    server, waits = scripted([(503, {"Retry-After": "120"}, "maintenance")]), Waits()
    with pytest.raises(FleetError, match="no time left in the 30 s retry window") as err:
        n.deliver(server.route, {"text": "page"}, timeout=5, tries=3, window=30, sleep=waits)
    assert err.value.details["tries"] == 1 and err.value.details["status"] == 503
    assert waits.seconds == [] and len(server.received) == 1


def test_other_4xx_is_not_retried_and_names_the_masked_route(scripted):
    server, waits = scripted([(404, {}, "no_service")]), Waits()
    with pytest.raises(FleetError) as err:
        n.deliver(server.route, {"text": "page"}, timeout=5, tries=3, window=30, sleep=waits)
    assert len(server.received) == 1 and waits.seconds == []
    assert "answered HTTP 404: no_service (not retried: check the route's URL)" in err.value.msg
    assert "secret-webhook-path-123" not in err.value.msg and "/slack/********" in err.value.msg
    assert err.value.details["retryable"] is False and err.value.details["tries"] == 1


def test_every_try_failing_says_how_many(scripted):
    server, waits = scripted([(500, {}, "e1"), (502, {}, "e2"), (503, {}, "e3"), (200, {}, "never")]), Waits()
    with pytest.raises(FleetError, match=r"answered HTTP 503: e3 \(3 tries\)") as err:
        n.deliver(server.route, {"text": "page"}, timeout=5, tries=3, window=30, sleep=waits)
    assert err.value.details["tries"] == 3 and len(server.received) == 3


def test_connection_refused_is_retried():
    route = {"type": "webhook", "url": "http://127.0.0.1:%d/webhook/x" % free_port()}
    waits = Waits()
    with pytest.raises(FleetError, match=r"cannot reach the webhook route .*Connection refused.*\(2 tries\)") as err:
        n.deliver(route, {}, timeout=2, tries=2, window=30, sleep=waits)
    assert err.value.details["retryable"] is True and waits.seconds == [1.0]


def test_a_hanging_route_times_out_and_is_retried(scripted):
    server, waits = scripted(["hang"], hang_seconds=3), Waits()
    out = n.deliver(server.route, {"text": "page"}, timeout=1, tries=2, window=30, sleep=waits)
    assert out["tries"] == 2 and waits.seconds == [1.0]


@pytest.mark.parametrize("value,seconds", [("7", 7.0), ("0", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
                                           ("soon", None), (None, None)])
def test_retry_after_header_values(value, seconds):
    assert n.retry_after_seconds(value) == seconds


def test_retry_after_http_date_in_the_future():
    assert n.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
