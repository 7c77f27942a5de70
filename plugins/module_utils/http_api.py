# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""A small JSON client for the HTTP APIs the runbook reads (Prometheus, Grafana's datasource proxy, Sentry).

It is built on ``ansible.module_utils.urls.Request`` (no third-party library), takes the options of
``args.http_api_spec()`` (documented in the ``kas.fleet_manager.http_api`` doc fragment) and raises ``HttpError``
(a ``FleetError``) with the status and the API's own reason, never the token or password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import socket
import ssl
import threading

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode, urlsplit
from ansible.module_utils.urls import Request, make_context

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.redact import redact_url

USER_AGENT = "kas.fleet_manager"


class HttpError(FleetError):
    """An HTTP call that failed: ``status`` is the HTTP status (None when there was no answer), ``body`` the
    decoded JSON answer or text (for the caller to pick the API's reason from), ``reachable`` whether anything
    answered at all."""

    def __init__(self, msg, status=None, body=None, reachable=True, timed_out=False):
        details = {"status": status} if status is not None else {}
        super(HttpError, self).__init__(msg, **details)
        self.status = status
        self.body = body
        self.reachable = reachable
        self.timed_out = timed_out


def _decode(raw):
    text = to_text(raw or b"", errors="surrogate_or_replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def reason_of(body, limit=300):
    """The API's reason from an error answer: Prometheus ``error``, Sentry ``detail``, Grafana ``message``."""
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            if body.get(key):
                return to_text(body[key])[:limit]
        return json.dumps(body, sort_keys=True)[:limit]
    text = re.sub(r"<[^>]+>", " ", to_text(body or ""))
    return " ".join(text.split())[:limit]


class HttpApi(object):
    """GET JSON from ``url`` + path with the auth options; ``name`` names the API in messages."""

    def __init__(self, params, name="the API"):
        self.name = name
        self.base = params["url"].rstrip("/")
        self.display_url = redact_url(self.base)
        self.token = params.get("token")
        self.username = params.get("username")
        self.password = params.get("password")
        self.validate_certs = params.get("validate_certs", True)
        self.ca_cert = params.get("ca_cert")
        self.timeout = params.get("timeout") or 30
        if urlsplit(self.base).scheme not in ("http", "https"):
            raise FleetError("url %r is not an http:// or https:// URL of %s" % (self.display_url, name))
        self.requests = 0
        self._lock = threading.Lock()
        # One TLS context for every request of the module: building one costs about 25 ms of CPU, which open_url
        # pays on every call (15 PromQL queries made 0.4 s). Plain http:// needs none, and gets an empty one.
        if urlsplit(self.base).scheme == "https":
            context = make_context(cafile=self.ca_cert, validate_certs=self.validate_certs)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._request = Request(
            headers=self.headers(), timeout=self.timeout, validate_certs=self.validate_certs, ca_path=self.ca_cert,
            url_username=self.username, url_password=(self.password or "") if self.username else None,
            force_basic_auth=bool(self.username), use_netrc=False, http_agent=USER_AGENT,
            unredirected_headers=["Authorization"], context=context)

    def headers(self):
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        return headers

    def url_for(self, path, query=None):
        url = path if re.match(r"^https?://", path) else self.base + path
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        return url

    def get(self, path, query=None):
        """(decoded JSON body, response headers as a dict with lower-case keys). Raises HttpError."""
        url = self.url_for(path, query)
        shown = redact_url(url)
        with self._lock:  # modules may query from several threads
            self.requests += 1
        try:
            resp = self._request.open("GET", url)
            raw = resp.read()
            headers = dict((k.lower(), v) for k, v in resp.headers.items())
        except HTTPError as exc:
            try:
                body = _decode(exc.read())
            except Exception:  # pylint: disable=broad-except
                body = ""
            raise HttpError("%s answered HTTP %s for GET %s: %s"
                            % (self.name, exc.code, shown, reason_of(body) or exc.reason),
                            status=exc.code, body=body)
        except (socket.timeout, TimeoutError):
            raise HttpError("%s at %s did not answer within %d s (timeout option)"
                            % (self.name, self.display_url, self.timeout), reachable=False, timed_out=True)
        except ssl.SSLError as exc:
            raise HttpError(self._tls_message(exc), reachable=False)
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in to_native(reason):
                raise HttpError(self._tls_message(reason), reachable=False)
            timed_out = isinstance(reason, socket.timeout) or "timed out" in to_native(reason)
            raise HttpError("cannot reach %s at %s: %s" % (self.name, self.display_url, to_native(reason)),
                            reachable=False, timed_out=timed_out)
        except (socket.error, OSError) as exc:  # connection reset, remote closed without answer
            raise HttpError("cannot reach %s at %s: %s" % (self.name, self.display_url, to_native(exc)),
                            reachable=False)
        body = _decode(raw)
        return body, headers

    def _tls_message(self, exc):
        return ("TLS with %s at %s failed: %s; give the CA that signed its certificate with ca_cert, or set "
                "validate_certs=false for a lab" % (self.name, self.display_url, to_native(exc)))


# Link: <https://sentry.example/api/0/...&cursor=0:25:0>; rel="next"; results="true"; cursor="0:25:0"
_LINK_PART = re.compile(r'<([^>]*)>((?:\s*;\s*[A-Za-z0-9_-]+\s*=\s*(?:"[^"]*"|[^;,]*))*)')
_LINK_PARAM = re.compile(r';\s*([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^;,]*))')


def parse_link_header(value):
    """RFC 8288 Link header -> [{"url": ..., "rel": ..., <other params>}], in order (Sentry adds results, cursor)."""
    links = []
    for match in _LINK_PART.finditer(value or ""):
        link = {"url": match.group(1)}
        for pmatch in _LINK_PARAM.finditer(match.group(2)):
            link[pmatch.group(1).lower()] = pmatch.group(2) if pmatch.group(2) is not None else \
                pmatch.group(3).strip()
        links.append(link)
    return links
