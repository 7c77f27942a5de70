# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The one place for masking: an API's URL without its credentials, a route's URL without its secret path, and text
without the secrets it may quote (and the callers that use them: db.scrub, notify.mask_url and notify.scrub)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import db, notify, redact
from ansible_collections.kas.fleet_manager.plugins.module_utils.redact import MASK, mask_secrets, mask_url, redact_url


def test_redact_url_drops_only_the_credentials():
    assert redact_url("https://u:p@prom.example.com/x") == "https://prom.example.com/x"
    assert redact_url("https://prom.example.com:9090/api?q=1") == "https://prom.example.com:9090/api?q=1"
    assert redact_url("https://u:p@w@prom.example.com:9090/x?y#z") == "https://prom.example.com:9090/x?y#z"


@pytest.mark.parametrize("url,shown", [
    ("https://hooks.slack.com/services/T0/B0/XyZsecret", "https://hooks.slack.com/services/" + MASK),
    ("https://hooks.example.com/webhook?token=abc", "https://hooks.example.com/%s?%s" % (MASK, MASK)),
    ("https://user:pw@hooks.example.com:8443/x", "https://hooks.example.com:8443/" + MASK),
    ("https://hooks.example.com", "https://hooks.example.com"),
    ("", ""),
    (None, None),
    ("https://[::1/x", MASK),
])
def test_mask_url_keeps_the_host_and_first_segment(url, shown):
    assert mask_url(url) == shown
    assert notify.mask_url(url, "slack") == shown


def test_mask_secrets_longest_first_and_only_strings():
    assert mask_secrets("key abcdef and abc", ["abc", "abcdef"]) == "key %s and %s" % (MASK, MASK)
    assert mask_secrets("nothing to hide", [None, ""]) == "nothing to hide"
    assert mask_secrets(42, ["4"]) == 42


def test_db_scrub_masks_the_password_on_the_first_line():
    error = ValueError("FATAL: password pw-7f3b rejected\nDETAIL: pw-7f3b again")
    assert db.scrub(error, {"password": "pw-7f3b"}) == "FATAL: password %s rejected" % MASK
    assert db.scrub(error, {}) == "FATAL: password pw-7f3b rejected"


def test_notify_scrub_masks_the_routes_secrets():
    route = {"type": "slack", "url": "https://hooks.slack.com/services/T0ABC123/B0DEF456/XyZsecretTokenValue123",
             "routing_key": "R0utingKey0123456789"}
    text = "posted to %s with R0utingKey0123456789" % route["url"]
    assert notify.scrub(text, route) == "posted to %s with %s" % (MASK, MASK)
    assert notify.MASK == redact.MASK
