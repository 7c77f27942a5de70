# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Delivery of a page with retries (notify.deliver) against a real HTTP server on loopback that answers from a
script: which answers are tried again, how long it waits (Retry-After, backoff), when it gives up."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import notify as n
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import free_port


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
