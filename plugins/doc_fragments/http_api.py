# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of the modules that read an HTTP API (Prometheus, Thanos, Grafana, Sentry)."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the API, without the API path the module appends.
    type: str
    required: true
  token:
    description:
      - Bearer token, sent in the C(Authorization) header (a Grafana service account token, an OpenShift token for
        a Thanos querier behind oauth-proxy, a Sentry auth token). Never logged nor returned.
      - Mutually exclusive with O(username).
    type: str
  username:
    description:
      - User for HTTP basic authentication, sent with O(password).
    type: str
  password:
    description:
      - Password for HTTP basic authentication. Never logged nor returned.
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Only turn this off for a lab.
    type: bool
    default: true
  ca_cert:
    description:
      - Path to a CA certificate bundle that signed the server's certificate (PEM).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request before giving up on it.
    type: int
    default: 30
notes:
  - The credentials are sent only to O(url)'s host; a redirect does not carry the C(Authorization) header on.
  - Requests go through the proxy named by the usual E(https_proxy)/E(no_proxy) variables.
"""
