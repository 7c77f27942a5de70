"""Where the runbook's escalations land: a PagerDuty Events API v2 endpoint, Slack incoming webhooks and generic
JSON webhooks, with read-back for tests. ``SinkServer(host, port)`` serves in a thread of the calling process.

* ``POST /v2/enqueue`` -- PagerDuty Events API v2. Body: ``routing_key``, ``event_action``
  (trigger | acknowledge | resolve), ``dedup_key`` (required for acknowledge/resolve; generated for a trigger
  without one), and for a trigger ``payload`` with ``summary``, ``source`` and ``severity``
  (critical | error | warning | info; ``custom_details`` etc. optional). 202
  ``{"status": "success", "message": "Event processed", "dedup_key": ...}``; 400
  ``{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}`` otherwise.
  Incidents: a trigger opens one per dedup_key (a repeated trigger on an open one only counts:
  ``trigger_count``), acknowledge marks it, resolve closes it (a later trigger opens a new one).
* ``POST /slack/<path>`` -- Slack incoming webhook: a JSON object (or form field ``payload``) with ``text``
  or ``blocks``: 200 ``ok`` (text/html); 400 ``invalid_payload`` otherwise.
* ``POST /webhook/<name>`` -- any JSON document: 200 ``{"status": "ok"}``; 400 if not JSON.
* ``GET /_lab/received`` -- every accepted message in order: ``{kind: pagerduty|slack|webhook, path, body,
  received_at}``; ``GET /_lab/incidents`` -- the open PagerDuty incidents, a mapping dedup_key -> incident
  (``?all=1`` includes resolved ones); ``GET /_lab/attempts`` -- every request the sink received, in order,
  accepted or not, including those a fault answered or held: ``{method, path, status (the code answered; null
  for a hang or a request still held), fault (null, or {id, kind}), body (JSON or text; null if unread),
  received_at}``; ``DELETE /_lab/received`` -- forget messages, incidents and attempts.

Faults (``fleet_lab.faults``, component ``sink``) never touch ``/_lab/``. A ``status`` fault answers its code
without accepting the message (PagerDuty paths a JSON error, Slack paths ``text/html`` as Slack does), with
``Retry-After`` when it has ``retry_after``; ``path`` picks one route (``/slack/mk-sre``, ``/v2/enqueue``).
"""
import datetime
import json
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from fleet_lab.faults import STATUS_PHRASES, FaultHandlerMixin
from fleet_lab.httpservice import LoopbackService

EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_BODY = 512 * 1024  # PagerDuty's own limit is 512 KB


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def validate_pagerduty(event):
    """PagerDuty-style error strings for an Events API v2 event (empty if valid)."""
    if not isinstance(event, dict):
        return ["Event object is invalid: expected a JSON object"]
    errors = []
    if _blank(event.get("routing_key")):
        errors.append("'routing_key' is missing or blank")
    elif not isinstance(event["routing_key"], str):
        errors.append("'routing_key' is invalid")
    action = event.get("event_action")
    if _blank(action):
        errors.append("'event_action' is missing or blank")
    elif action not in EVENT_ACTIONS:
        errors.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
    dedup = event.get("dedup_key")
    if dedup is not None and not isinstance(dedup, str):
        errors.append("'dedup_key' is invalid")
    if action in ("acknowledge", "resolve") and _blank(dedup):
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or blank" if payload is None else "'payload' is invalid")
        else:
            for key in ("summary", "source", "severity"):
                if _blank(payload.get(key)):
                    errors.append("'payload.%s' is missing or blank" % key)
            severity = payload.get("severity")
            if not _blank(severity) and severity not in SEVERITIES:
                errors.append("'payload.severity' is invalid (must be one of critical, error, warning, info)")
            summary = payload.get("summary")
            if isinstance(summary, str) and len(summary) > 1024:
                errors.append("'payload.summary' is too long (max 1024 characters)")
            details = payload.get("custom_details")
            if details is not None and not isinstance(details, (dict, list, str, int, float, bool)):
                errors.append("'payload.custom_details' is invalid")
    return errors


class SinkServer(LoopbackService):
    def __init__(self, host="127.0.0.1", port=0, faults=None):
        self.messages = []
        self.attempts = []
        self.incidents = {}  # dedup_key -> incident (open or resolved, latest per key)
        LoopbackService.__init__(self, "sink", _handler(self), host, port, faults=faults)

    def received(self):
        with self.lock:
            return json.loads(json.dumps(self.messages))

    def tried(self):
        """Every request received (``GET /_lab/attempts``)."""
        with self.lock:
            return json.loads(json.dumps(self.attempts))

    def _attempt(self, method, path, fault):
        attempt = {"method": method, "path": path, "status": None, "body": None, "received_at": _now(),
                   "fault": {"id": fault["id"], "kind": fault["kind"]} if fault else None}
        with self.lock:
            self.attempts.append(attempt)
        return attempt

    def open_incidents(self, include_resolved=False):
        with self.lock:
            return {key: dict(inc) for key, inc in self.incidents.items()
                    if include_resolved or inc["status"] != "resolved"}

    def clear(self):
        with self.lock:
            self.messages = []
            self.attempts = []
            self.incidents = {}

    def _record(self, kind, path, body):
        self.messages.append({"kind": kind, "path": path, "body": body, "received_at": _now()})

    def pagerduty(self, path, event):
        """-> (status code, response body)."""
        errors = validate_pagerduty(event)
        if errors:
            return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        action = event["event_action"]
        with self.lock:
            dedup = event.get("dedup_key") or uuid.uuid4().hex
            stamp = _now()
            self._record("pagerduty", path, event)
            incident = self.incidents.get(dedup)
            if action == "trigger":
                if incident and incident["status"] != "resolved":
                    incident["trigger_count"] += 1
                    incident["updated_at"] = stamp
                else:
                    payload = event["payload"]
                    self.incidents[dedup] = {
                        "dedup_key": dedup, "routing_key": event["routing_key"], "status": "triggered",
                        "summary": payload["summary"], "source": payload["source"], "severity": payload["severity"],
                        "component": payload.get("component"), "group": payload.get("group"),
                        "class": payload.get("class"), "custom_details": payload.get("custom_details"),
                        "links": event.get("links") or [], "client": event.get("client"),
                        "trigger_count": 1, "created_at": stamp, "updated_at": stamp,
                    }
            elif incident and incident["status"] != "resolved":
                incident["status"] = "acknowledged" if action == "acknowledge" else "resolved"
                incident["updated_at"] = stamp
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup}


def _slack_valid(body):
    if not isinstance(body, dict):
        return False
    text, blocks = body.get("text"), body.get("blocks")
    if isinstance(text, str) and text.strip():
        return True
    if isinstance(blocks, list) and blocks and all(isinstance(b, dict) and b.get("type") for b in blocks):
        return True
    attachments = body.get("attachments")  # legacy attachments with a fallback/text also post
    return isinstance(attachments, list) and any(isinstance(a, dict) and (a.get("text") or a.get("fallback"))
                                                 for a in attachments)


def _decode(raw, content_type):
    """A request body for ``/_lab/attempts``: the JSON document (a Slack form's ``payload`` too), else text."""
    try:
        text = raw.decode("utf-8")
        if (content_type or "").split(";")[0].strip() == "application/x-www-form-urlencoded":
            text = urllib.parse.parse_qs(text).get("payload", [text])[-1]
        return json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return raw.decode("utf-8", "replace")


def _handler(server):
    class Handler(FaultHandlerMixin, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fleet-lab-sink"
        sys_version = ""
        attempt = None

        def log_message(self, fmt, *args):
            pass

        # -- faults: every request outside /_lab/ is an attempt, answered by a fault or not --------------
        def fault_seen(self, fault, raw_body):
            self.attempt = server._attempt(self.command, self.fault_request_path, fault)
            if raw_body is not None:
                self._note_body(raw_body)

        def _note_body(self, raw):
            if self.attempt is not None:
                body = _decode(raw, self.headers.get("Content-Type"))
                with server.lock:
                    self.attempt["body"] = body

        def send_response(self, code, message=None):
            if self.attempt is not None:
                with server.lock:
                    self.attempt["status"] = code
                self.attempt = None
            BaseHTTPRequestHandler.send_response(self, code, message)

        def fault_body(self, fault):
            code = fault["code"]
            phrase = STATUS_PHRASES.get(code, "Error")
            if (self.fault_request_path or "").startswith("/slack/"):
                return "text/html", phrase.lower().replace(" ", "_").encode()
            return "application/json", json.dumps({"status": phrase, "message": "fleet-lab fault #%s" % fault["id"],
                                                   "errors": ["%d %s" % (code, phrase)]}).encode()

        def _send(self, code, data, content_type):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, code, body):
            self._send(code, json.dumps(body).encode(), "application/json")

        def _text(self, code, text):
            self._send(code, text.encode(), "text/html")

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.rfile.read(length)
                return None, "too large"
            raw = self.rfile.read(length) if length else b""
            self._note_body(raw)
            return raw, None

        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qs(parsed.query)
            if parsed.path == "/_lab/received":
                return self._json(200, server.received())
            if parsed.path == "/_lab/attempts":
                return self._json(200, server.tried())
            if parsed.path == "/_lab/incidents":
                return self._json(200, server.open_incidents(include_resolved=params.get("all") == ["1"]))
            if parsed.path in ("/", "/_lab/health"):
                return self._json(200, {"status": "ok"})
            return self._json(404, {"error": "not found"})

        def do_DELETE(self):
            if urllib.parse.urlsplit(self.path).path == "/_lab/received":
                server.clear()
                return self._json(200, {"cleared": True})
            return self._json(404, {"error": "not found"})

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            raw, error = self._body()
            if path == "/v2/enqueue":
                if error:
                    return self._json(413, {"status": "invalid event", "message": "Event object is invalid",
                                            "errors": ["Request entity too large"]})
                try:
                    event = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    return self._json(400, {"status": "invalid event", "message": "Event object is invalid",
                                            "errors": ["Malformed JSON"]})
                code, body = server.pagerduty(path, event)
                return self._json(code, body)
            if path.startswith("/slack/") and len(path) > len("/slack/"):
                body = None
                if not error:
                    ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                    try:
                        if ctype == "application/x-www-form-urlencoded":
                            form = urllib.parse.parse_qs(raw.decode("utf-8"))
                            body = json.loads(form.get("payload", [""])[-1])
                        else:
                            body = json.loads(raw.decode("utf-8"))
                    except (UnicodeDecodeError, ValueError):
                        body = None
                if not _slack_valid(body):
                    return self._text(400, "invalid_payload")
                with server.lock:
                    server._record("slack", path, body)
                return self._text(200, "ok")
            if path.startswith("/webhook/") and len(path) > len("/webhook/"):
                try:
                    body = json.loads(raw.decode("utf-8")) if not error else None
                except (UnicodeDecodeError, ValueError):
                    body = None
                if body is None:
                    return self._json(400, {"status": "error", "message": "expected a JSON body"})
                with server.lock:
                    server._record("webhook", path, body)
                return self._json(200, {"status": "ok"})
            return self._json(404, {"error": "not found"})

    return Handler
