# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""sentry_issues_info as a task runs it, against real sockets: its failures. The issue summaries, categories, order
and Link header are tested in tests/unit/plugins/module_utils/test_sentry.py; paging and the figures against a Sentry
API are the integration target's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

from http.server import BaseHTTPRequestHandler, HTTPServer

from ansible_collections.kas.fleet_manager.plugins.modules import sentry_issues_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import free_port, run_module


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
