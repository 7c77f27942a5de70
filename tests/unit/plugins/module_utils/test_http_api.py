# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The JSON client of the HTTP APIs: what it refuses, the URL it shows, and the Link header it pages with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.http_api import HttpApi, HttpError


def test_http_api_checks():
    with pytest.raises(FleetError, match="not an http"):
        HttpApi({"url": "prom.example.com:9090"})
    assert issubclass(HttpError, FleetError)


def test_the_url_shown_has_no_credentials():
    api = HttpApi({"url": "https://sre:pa55word@grafana.example.com/api/datasources/proxy/uid/abc/"}, name="Grafana")
    assert api.display_url == "https://grafana.example.com/api/datasources/proxy/uid/abc"
