# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""slo_metrics_info as a task runs it, against real (tiny) HTTP servers: how it fails and what it reports when
Prometheus cannot answer. Its PromQL, the reading of answers, the breaches and the series are tested in
tests/unit/plugins/module_utils/test_slo.py; the figures against a real Prometheus are the integration target's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

from http.server import BaseHTTPRequestHandler, HTTPServer

from ansible_collections.kas.fleet_manager.plugins.modules import slo_metrics_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import free_port, run_module

NS = "kas-fleet-manager-stage"


def test_series_are_not_asked_when_prometheus_is_unreachable(capsys):
    url = "http://127.0.0.1:%d" % free_port()
    result, _out = run_module(m, {"url": url, "namespace": NS, "fail_on_unreachable": False, "series": True}, capsys)
    assert result["series"] == {} and result["incident_window"] is None
    assert result["series_range"]["step"] == 30 and result["series_range"]["lookback"] == "5m"
    assert result["http_requests"] == 1


# -- HTTP behaviour against a real (tiny) server: what the lab Prometheus cannot do -----------------------------------
class _Server(object):
    """A loopback HTTP server answering every GET with (status, content type, body) and recording headers."""

    def __init__(self, status, ctype, body):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                seen.append((self.path, dict(self.headers)))
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_nothing_listening_fails_plainly_once(capsys):
    url = "http://127.0.0.1:%d" % free_port()
    result, _out = run_module(m, {"url": url, "namespace": NS, "token": "s3cret-token"}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("cannot reach the Prometheus API at %s: " % url)
    assert "s3cret-token" not in json.dumps(result)


def test_nothing_listening_can_be_reported_instead(capsys):
    url = "http://127.0.0.1:%d" % free_port()
    result, _out = run_module(m, {"url": url, "namespace": NS, "fail_on_unreachable": False}, capsys)
    assert result.get("failed") is not True
    assert result["healthy"] is None and result["breaches"] == []
    [entry] = result["unavailable"]
    assert entry["kind"] == "error" and "cannot reach" in entry["reason"]
    assert result["http_requests"] == 1  # the probe, not one failure per query
    assert set(q["status"] for q in result["queries"]) == {"not_run"}


def test_rejected_credentials_fail_with_grafanas_reason_and_no_secret(capsys):
    with _Server(401, "application/json", '{"message":"invalid API key"}') as server:
        result, _out = run_module(m, {"url": server.url + "/api/datasources/proxy/uid/abc/", "namespace": NS,
                                      "username": "sre", "password": "pa55word"}, capsys)
        assert server.seen[0][0].startswith("/api/datasources/proxy/uid/abc/api/v1/query?query=up%7B")
        assert server.seen[0][1]["Authorization"].startswith("Basic ")
    assert result["failed"] is True and result["status"] == 401
    assert result["msg"] == ("the Prometheus API at %s/api/datasources/proxy/uid/abc rejected the credentials (HTTP 401: "
                             "invalid API key): check token, or username and password" % server.url)
    assert "pa55word" not in json.dumps(result)


def test_a_login_page_is_not_taken_for_the_api(capsys):
    with _Server(200, "text/html", "<html><body>Log in with OpenShift</body></html>") as server:
        result, _out = run_module(m, {"url": server.url, "namespace": NS, "token": "t0ken-value"}, capsys)
        assert server.seen[0][1]["Authorization"] == "Bearer t0ken-value"
    assert result["failed"] is True
    assert "something other than the Prometheus HTTP API (Log in with OpenShift)" in result["msg"]
    assert "t0ken-value" not in json.dumps(result)


def test_prometheus_query_errors_are_unavailable_not_failures(capsys):
    body = '{"status":"error","errorType":"execution","error":"query processing would load too many samples"}'
    args = {"url": "", "namespace": NS, "windows": ["5m"], "include": ["requests"]}
    with _Server(422, "application/json", body) as server:
        # every query failing is no evidence at all: a failure, unless told to go on without it
        failed, _out = run_module(m, dict(args, url=server.url), capsys)
        result, _out = run_module(m, dict(args, url=server.url, fail_on_unreachable=False), capsys)
        assert len(server.seen) == 8
    assert failed["failed"] and "answered none of the 4 queries: HTTP 422 execution: query processing" in failed["msg"]
    assert result["healthy"] is None
    assert len(result["unavailable"]) == 4
    assert all("too many samples" in u["reason"] for u in result["unavailable"])
    assert set(q["status"] for q in result["queries"]) == {"error"}
