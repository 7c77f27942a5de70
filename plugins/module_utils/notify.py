# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Escalation messages for the runbook's teams: PagerDuty Events API v2, Slack incoming webhooks and generic
JSON webhooks. Payload building and masking are pure functions; ``post_json`` sends with Ansible's
``open_url`` and turns every failure into a FleetError that names the masked URL, never a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit, urlunsplit
from ansible.module_utils.urls import open_url

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

ROUTE_TYPES = ("pagerduty", "slack", "webhook")
SEVERITIES = ("critical", "error", "warning", "info")
MASK = "********"
PD_SUMMARY_MAX = 1024
SLACK_TEXT_MAX = 2900  # a section block's text may hold 3000 characters
BODY_EXCERPT = 300
CLIENT = "kas.fleet_manager"


# -- masking -----------------------------------------------------------------------------------------------
def mask_url(url, route_type=None):
    """The URL as it may be shown: no user info, query or fragment, and only the first path segment - Slack and
    generic webhooks carry their secret in the path (``/services/T000/B000/XXXX``); PagerDuty's has none, but
    one rule for all keeps a misfiled secret out of the output too. ``route_type`` is accepted for callers that
    have it."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = "%s:%d" % (host, parts.port)
    except ValueError:
        return MASK
    segments = [s for s in (parts.path or "").split("/") if s]
    if len(segments) > 1:
        path = "/%s/%s" % (segments[0], MASK)
    elif segments:
        path = "/" + MASK
    else:
        path = parts.path or ""
    return urlunsplit((parts.scheme, host, path, MASK if parts.query else "", ""))


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
    if not isinstance(text, str):
        return text
    for secret in secrets_of(route):
        text = text.replace(secret, MASK)
    return text


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
    details = {"team": event["team"], "rule": event["rule"], "evidence": event["evidence"],
               "report": event["report"]}
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
              for name, value in (("Team", event["team"]), ("Severity", event["severity"]),
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


def post_json(route, payload, timeout, validate_certs, ca_path=None, opener=open_url):
    """POST ``payload`` as JSON to the route's URL: ``{"status": int, "body": short text}``; FleetError on any
    failure, naming the masked URL, the HTTP status and a short body, never a secret."""
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
        raise FleetError("the %s route %s answered HTTP %s: %s" % (route["type"], shown, exc.code,
                                                                   _excerpt(body, route) or exc.reason),
                         status=exc.code, body=_excerpt(body, route))
    except URLError as exc:
        reason = scrub(str(getattr(exc, "reason", exc)), route)
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            reason += " (give the CA to the system trust store, or validate_certs=false for a lab)"
        raise FleetError("cannot reach the %s route %s: %s" % (route["type"], shown, reason))
    except (socket.timeout, TimeoutError):
        raise FleetError("the %s route %s did not answer within %s s (timeout)" % (route["type"], shown, timeout))
    except (ConnectionError, OSError, ValueError) as exc:
        raise FleetError("cannot post to the %s route %s: %s" % (route["type"], shown, scrub(str(exc), route)))
