# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Escalation messages for the runbook's teams: PagerDuty Events API v2, Slack incoming webhooks and generic
JSON webhooks. Payload building and masking are pure functions; ``post_json`` sends once with Ansible's
``open_url`` and turns every failure into a FleetError that names the masked URL, never a secret, and says
whether trying again can help; ``deliver`` sends with bounded retries and backoff, honouring ``Retry-After``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import socket
import ssl
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import Request, make_context

from ansible_collections.kas.fleet_manager.plugins.module_utils import redact
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

ROUTE_TYPES = ("pagerduty", "slack", "webhook")
SEVERITIES = ("critical", "error", "warning", "info")
MASK = redact.MASK
PD_SUMMARY_MAX = 1024
SLACK_TEXT_MAX = 2900  # a section block's text may hold 3000 characters
BODY_EXCERPT = 300
CLIENT = "kas.fleet_manager"
# Answers worth another try: the route is overloaded, rate-limiting or failing for now. Any other 4xx means the
# routing key, URL or payload is wrong, and the same request would be refused again.
RETRYABLE_4XX = (408, 425, 429)
BACKOFF_FIRST = 1.0


# -- masking -----------------------------------------------------------------------------------------------
def mask_url(url, route_type=None):
    """The route's URL as it may be shown (redact.mask_url: host and first path segment); ``route_type`` is accepted
    for callers that have it."""
    return redact.mask_url(url)


def secrets_of(route):
    """Every string that must never appear in output: the routing key, the URL, and its secret parts."""
    found = []
    key = route.get("routing_key")
    if key:
        found.append(key)
    url = route.get("url") or ""
    if url:
        found.append(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is not None:
            segments = [s for s in (parts.path or "").split("/") if s]
            found.extend(s for s in segments[1:] if len(s) >= 8)
            if parts.query:
                found.append(parts.query)
            if parts.password:
                found.append(parts.password)
    return sorted(set(found), key=len, reverse=True)


def scrub(text, route):
    """``text`` with every secret of ``route`` replaced by the mask."""
    return redact.mask_secrets(text, secrets_of(route))


def scrub_data(value, route):
    """A JSON-like structure with every secret of ``route`` masked in its string values."""
    if isinstance(value, dict):
        return dict((k, scrub_data(v, route)) for k, v in value.items())
    if isinstance(value, list):
        return [scrub_data(v, route) for v in value]
    return scrub(value, route)


def masked_payload(payload):
    """The payload as returned (``would_send``): the routing key masked."""
    shown = dict(payload)
    if "routing_key" in shown:
        shown["routing_key"] = MASK
    return shown


# -- payloads ----------------------------------------------------------------------------------------------
def _links_list(links, report):
    out = [{"href": href, "text": text} for text, href in sorted((links or {}).items()) if href]
    if report and str(report).startswith(("http://", "https://")):
        out.append({"href": report, "text": "Incident report"})
    return out


def _title(event):
    return "[%s] %s" % (event["team"] or "escalation", event["summary"] or event["dedup_key"])


def pagerduty_payload(event, routing_key):
    """PagerDuty Events API v2 event: a trigger with payload and links, or a resolve for the dedup key."""
    body = {"routing_key": routing_key, "event_action": event["action"], "dedup_key": event["dedup_key"]}
    if event["action"] == "resolve":
        return body
    details = {"team": event["team"], "decision": event.get("decision"), "rule": event["rule"],
               "evidence": event["evidence"], "report": event["report"]}
    body["payload"] = {
        "summary": _title(event)[:PD_SUMMARY_MAX],
        "source": event["source"],
        "severity": event["severity"],
        "component": event.get("component") or "kas-fleet-manager",
        "custom_details": dict((k, v) for k, v in details.items() if v not in (None, {}, "")),
    }
    links = _links_list(event["links"], event["report"])
    if links:
        body["links"] = links
    body["client"] = CLIENT
    return body


def _slack_escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event):
    """Slack incoming-webhook message: ``text`` (the notification line) and ``blocks``."""
    if event["action"] == "resolve":
        text = "RESOLVED %s" % _title(event)
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": ":white_check_mark: *%s*" % _slack_escape(text)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "dedup key `%s`, source %s" % (
                _slack_escape(event["dedup_key"]), _slack_escape(event["source"]))}]},
        ]
        return {"text": text, "blocks": blocks}
    text = "%s %s" % (event["severity"].upper(), _title(event))
    fields = [{"type": "mrkdwn", "text": "*%s*\n%s" % (name, _slack_escape(value))}
              for name, value in (("Team", event["team"]), ("Decision", event.get("decision")),
                                  ("Severity", event["severity"]),
                                  ("Source", event["source"]), ("Dedup key", event["dedup_key"]))
              if value]
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": text[:150]}},
              {"type": "section", "fields": fields}]
    if event["rule"]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "*Rule*\n%s" % _slack_escape(event["rule"])[:SLACK_TEXT_MAX]}})
    if event["evidence"]:
        evidence = json.dumps(event["evidence"], indent=1, sort_keys=True, default=str)
        if len(evidence) > SLACK_TEXT_MAX - 20:
            evidence = evidence[:SLACK_TEXT_MAX - 40] + "\n... (truncated)"
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "*Evidence*\n```%s```" % _slack_escape(evidence)}})
    links = ["<%s|%s>" % (link["href"], _slack_escape(link["text"]))
             for link in _links_list(event["links"], event["report"])]
    if event["report"] and not str(event["report"]).startswith(("http://", "https://")):
        links.append("report: `%s`" % _slack_escape(event["report"]))
    if links:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " | ".join(links)[:SLACK_TEXT_MAX]}]})
    return {"text": text, "blocks": blocks}


def webhook_payload(event):
    """Generic JSON webhook document: every field of the escalation."""
    body = {
        "event_action": event["action"],
        "status": "resolved" if event["action"] == "resolve" else "triggered",
        "dedup_key": event["dedup_key"],
        "team": event["team"],
        "decision": event.get("decision"),
        "summary": event["summary"],
        "severity": event["severity"],
        "source": event["source"],
        "rule": event["rule"],
        "evidence": event["evidence"],
        "report": event["report"],
        "links": event["links"] or {},
        "client": CLIENT,
    }
    return body


def build_payload(route, event):
    """The JSON document to POST to ``route`` for ``event`` (action, dedup_key, team, summary, severity,
    source, rule, evidence, report, links)."""
    kind = route["type"]
    if kind == "pagerduty":
        return pagerduty_payload(event, route.get("routing_key"))
    if kind == "slack":
        return slack_payload(event)
    return webhook_payload(event)


# -- sending -----------------------------------------------------------------------------------------------
def _excerpt(raw, route):
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    text = " ".join(raw.split())
    if len(text) > BODY_EXCERPT:
        text = text[:BODY_EXCERPT] + "..."
    return scrub(text, route)


def retryable_status(status):
    return status in RETRYABLE_4XX or (status is not None and 500 <= status <= 599)


def retry_after_seconds(value, now=None):
    """Seconds a ``Retry-After`` header asks to wait (a number, or an HTTP date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_CONTEXTS = {}


def _open(url, data=None, method="POST", timeout=10, validate_certs=True, headers=None, follow_redirects="safe",
          http_agent=None, ca_path=None):
    """``open_url`` with the TLS context built once per CA and verification setting: building one costs about 25 ms
    of CPU, paid on every try and every page otherwise. A plain http:// route needs none and gets an empty one."""
    if url.startswith("https://"):
        key = (bool(validate_certs), ca_path)
        if key not in _CONTEXTS:
            _CONTEXTS[key] = make_context(cafile=ca_path, validate_certs=validate_certs)
        context = _CONTEXTS[key]
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return Request(context=context).open(method, url, data=data, headers=headers, timeout=timeout,
                                         validate_certs=validate_certs, follow_redirects=follow_redirects,
                                         http_agent=http_agent, ca_path=ca_path)


def post_json(route, payload, timeout, validate_certs, ca_path=None, opener=_open):
    """POST ``payload`` as JSON to the route's URL once: ``{"status": int, "body": short text}``; FleetError on any
    failure, naming the masked URL, the HTTP status and a short body, never a secret. Its details say whether
    another try may succeed (``retryable``) and how long the route asked to wait (``retry_after``)."""
    shown = mask_url(route["url"], route["type"])
    data = json.dumps(payload, default=str)
    try:
        response = opener(route["url"], data=data, method="POST", timeout=timeout, validate_certs=validate_certs,
                          headers={"Content-Type": "application/json", "Accept": "application/json"},
                          follow_redirects="safe", http_agent=CLIENT, ca_path=ca_path)
        status = response.getcode() if hasattr(response, "getcode") else getattr(response, "status", None)
        body = response.read()
        return {"status": status, "body": _excerpt(body, route)}
    except HTTPError as exc:
        try:
            body = exc.read()
        except Exception:  # pylint: disable=broad-except  # an unreadable body: the status is enough
            body = b""
        headers = getattr(exc, "headers", None) or {}
        retryable = retryable_status(exc.code)
        hint = "" if retryable else " (not retried: check the route's URL%s)" % (
            " and routing_key" if route["type"] == "pagerduty" else "")
        raise FleetError("the %s route %s answered HTTP %s: %s%s" % (route["type"], shown, exc.code,
                                                                     _excerpt(body, route) or exc.reason, hint),
                         status=exc.code, body=_excerpt(body, route), retryable=retryable,
                         retry_after=retry_after_seconds(headers.get("Retry-After")))
    except URLError as exc:
        reason = scrub(str(getattr(exc, "reason", exc)), route)
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            raise FleetError("cannot reach the %s route %s: %s (give the CA to the system trust store, or "
                             "validate_certs=false for a lab)" % (route["type"], shown, reason), retryable=False)
        if "timed out" in reason:
            raise FleetError("the %s route %s did not answer within %s s (timeout)" % (route["type"], shown, timeout),
                             retryable=True)
        raise FleetError("cannot reach the %s route %s: %s" % (route["type"], shown, reason), retryable=True)
    except (socket.timeout, TimeoutError):
        raise FleetError("the %s route %s did not answer within %s s (timeout)" % (route["type"], shown, timeout),
                         retryable=True)
    except (ConnectionError, OSError) as exc:
        raise FleetError("cannot post to the %s route %s: %s" % (route["type"], shown, scrub(str(exc), route)),
                         retryable=True)
    except ValueError as exc:
        raise FleetError("cannot post to the %s route %s: %s" % (route["type"], shown, scrub(str(exc), route)),
                         retryable=False)


def deliver(route, payload, timeout, tries=3, window=30, sender=None, sleep=time.sleep, clock=time.monotonic):
    """Send ``payload`` to ``route`` with up to ``tries`` tries within ``window`` seconds: retried on connection
    errors, timeouts, 429 and 5xx, after 1 s, 2 s, 4 s ... or what ``Retry-After`` asks; never on another 4xx.

    Returns ``{"tries": n, "response": {...}}``; raises FleetError (details: ``tries``, ``status``,
    ``retryable``) when no try got through. Each try's timeout is cut to what is left of the window."""
    sender = sender or post_json
    start = clock()
    attempt, last = 0, None
    while attempt < tries:
        attempt += 1
        left = window - (clock() - start)
        try:
            response = sender(route, payload, max(1, min(timeout, int(left) if left >= 1 else 1)),
                              route.get("validate_certs", True), route.get("ca_path"))
            return {"tries": attempt, "response": response}
        except FleetError as exc:
            last = exc
            if not exc.details.get("retryable") or attempt >= tries:
                break
            delay = exc.details.get("retry_after")
            delay = BACKOFF_FIRST * (2 ** (attempt - 1)) if delay is None else delay
            if clock() - start + delay >= window:
                last = FleetError("%s; no time left in the %s s retry window for another try" % (exc.msg, window),
                                  **exc.details)
                break
            sleep(delay)
    details = dict(last.details)
    details.update(tries=attempt)
    details.pop("retry_after", None)
    suffix = "" if attempt == 1 and not details.get("retryable") else " (%d %s)" % (
        attempt, "try" if attempt == 1 else "tries")
    raise FleetError(last.msg + suffix, **details)
