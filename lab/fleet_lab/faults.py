"""Fault injection: make a lab component fail on purpose, for the next N requests or for a time window.

A fault is a mapping (``fleet-lab fault add``, ``Lab.fault()``, the admin endpoint ``/_lab/faults`` and the
scenario key ``faults:`` all take the same keys)::

    component: sink            # sink | kube | sentry | prometheus | db
    kind: status               # see KINDS below
    code: 503                  # status: the HTTP status answered (default 503)
    retry_after: 2             # status: a Retry-After header (seconds)
    seconds: 30                # stall, hang: how long the request (or connection) is held (default 300);
                               # cut_log: how long the stream stalls after ``bytes`` before it is cut (default 0)
    bytes: 4096                # cut_log: bytes of the log sent before the cut (default 0)
    path: /slack/mk-sre        # only requests whose path starts with this (HTTP components; default every path)
    method: POST               # only requests with this method (default every method)
    count: 2                   # bound: the next N matching requests (connections for refuse and db)
    window: 10                 # bound: for this many seconds from when the fault is added (or the scenario loads)

With neither ``count`` nor ``window`` the fault lasts until it is cleared; with both it ends at the first of the
two. Kinds:

* ``status`` (HTTP components): answer ``code`` at once, without doing what was asked (the sink accepts no
  message, the Kubernetes API changes nothing). The body is the component's own error shape (a Kubernetes
  ``Status``, Prometheus' ``{"status": "error"}``, Sentry's ``{"detail"}``).
* ``stall``: hold the request ``seconds``, then serve it as usual (a slow server). For ``db``: accept the
  connection and forward nothing for ``seconds``, then connect it to PostgreSQL.
* ``hang``: hold the request (db: the connection) ``seconds``, then close the connection without an answer;
  nothing is done.
* ``refuse`` (the component is down): every new connection is accepted and reset at once (the client sees
  "connection reset by peer"; psql "Connection reset by peer" or "server closed the connection
  unexpectedly"); the port stays the lab's. An
  HTTP component also ends a connection opened before when the next request arrives on it (without an
  answer), so a client's kept-alive connection does not outlive the outage; each such end counts like a
  connection. No ``path`` or ``method``: it happens before a request is read. For the sink this also refuses
  its ``/_lab/`` read-back while it lasts; the fault's ``hits`` counts the refused connections.
* ``cut_log`` (kube only): a ``pods/log`` stream sends ``bytes`` bytes, stalls ``seconds`` (if given) and the
  connection is closed without the stream's end (the client reads an incomplete chunked body or times out).

``Faults`` is the registry the lab daemon keeps (one for every component); ``take()`` is what a component calls
for each connection or request. The first active fault that matches wins, and each match uses up one of its
``count``. Clearing a fault also releases the requests it holds. Ended faults stay listed (``active: false``)
until cleared.

The HTTP services use ``FaultHandlerMixin`` (on their request handler) and ``FaultyHTTPServer``; the database
and Prometheus, separate processes, sit behind the daemon's proxies (``fleet_lab.proxy``).
"""
import datetime
import itertools
import json
import socket
import struct
import threading
import time
from http.server import ThreadingHTTPServer

COMPONENTS = ("sink", "kube", "sentry", "prometheus", "db")
HTTP_KINDS = ("status", "stall", "hang", "refuse")
KINDS = {
    "sink": HTTP_KINDS,
    "sentry": HTTP_KINDS,
    "prometheus": HTTP_KINDS,
    "kube": HTTP_KINDS + ("cut_log",),
    "db": ("refuse", "stall", "hang"),
}
# When a kind applies: when a connection is accepted, when a request has been read, in a pod log stream.
STAGES = {"refuse": "connect", "status": "request", "stall": "request", "hang": "request", "cut_log": "log"}
KEYS = ("component", "kind", "code", "retry_after", "seconds", "bytes", "path", "method", "count", "window")
DEFAULT_CODE = 503
DEFAULT_HOLD = 300
MAX_SECONDS = 3600


class FaultError(ValueError):
    """A fault that cannot be set; the message says which key and why."""


def _number(fault, key, kind=float, minimum=0):
    value = fault.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FaultError("%s: expected a number, got %r" % (key, value))
    try:
        number = kind(value)
    except ValueError:
        raise FaultError("%s: expected a number, got %r" % (key, value))
    if kind is int and isinstance(value, float) and value != number:
        raise FaultError("%s: expected a whole number, got %r" % (key, value))
    if number < minimum:
        raise FaultError("%s: must be at least %s, got %r" % (key, minimum, value))
    if key in ("seconds", "window", "retry_after") and number > MAX_SECONDS:
        raise FaultError("%s: at most %d, got %r" % (key, MAX_SECONDS, value))
    return number


def normalize(fault):
    """Check a fault mapping and fill its defaults; raise FaultError naming the first problem."""
    if not isinstance(fault, dict):
        raise FaultError("a fault is a mapping, got %r" % (fault,))
    unknown = set(fault) - set(KEYS)
    if unknown:
        raise FaultError("unknown key(s) %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(KEYS)))
    component, kind = fault.get("component"), fault.get("kind")
    if component not in COMPONENTS:
        raise FaultError("component %r is not one of %s" % (component, ", ".join(COMPONENTS)))
    if kind not in KINDS[component]:
        raise FaultError("kind %r is not one of %s (for %s)" % (kind, ", ".join(KINDS[component]), component))
    out = {"component": component, "kind": kind}
    code = _number(fault, "code", int, 100)
    retry_after = _number(fault, "retry_after", int, 0)
    if kind == "status":
        out["code"] = DEFAULT_CODE if code is None else code
        if out["code"] > 599:
            raise FaultError("code: an HTTP status 100-599, got %r" % fault.get("code"))
        out["retry_after"] = retry_after
    elif code is not None or retry_after is not None:
        raise FaultError("code and retry_after are for kind status, not %s" % kind)
    seconds = _number(fault, "seconds")
    if kind in ("stall", "hang"):
        out["seconds"] = DEFAULT_HOLD if seconds is None else seconds
    elif kind == "cut_log":
        out["seconds"] = seconds or 0
    elif seconds is not None:
        raise FaultError("seconds is for kinds stall, hang and cut_log, not %s (a time window is: window)" % kind)
    nbytes = _number(fault, "bytes", int)
    if kind == "cut_log":
        out["bytes"] = nbytes or 0
    elif nbytes is not None:
        raise FaultError("bytes is for kind cut_log, not %s" % kind)
    for key in ("path", "method"):
        value = fault.get(key)
        if value in (None, ""):
            out[key] = None
            continue
        if not isinstance(value, str):
            raise FaultError("%s: expected a string, got %r" % (key, value))
        if component == "db" or kind == "refuse":
            raise FaultError("%s: a %s fault on %s happens before any request is read; it matches no %s"
                             % (key, kind, component, key))
        if key == "path" and not value.startswith("/"):
            raise FaultError("path: a path prefix starting with /, got %r" % value)
        out[key] = value.upper() if key == "method" else value
    out["count"] = _number(fault, "count", int, 1)
    out["window"] = _number(fault, "window", float)
    if out["window"] == 0:
        raise FaultError("window: must be more than 0 seconds")
    return out


def describe(fault):
    """One line in words: ``sink status 503 (Retry-After 2) on POST /slack/mk-sre, 2 of 2 requests left``."""
    kind = fault["kind"]
    what = "%s %s" % (fault["component"], kind)
    if kind == "status":
        what += " %d" % fault["code"]
        if fault.get("retry_after") is not None:
            what += " (Retry-After %d)" % fault["retry_after"]
    elif kind in ("stall", "hang"):
        what += " %gs" % fault["seconds"]
    elif kind == "cut_log":
        what += " after %d bytes" % fault["bytes"] + (", stalling %gs" % fault["seconds"] if fault["seconds"] else "")
    if fault.get("path") or fault.get("method"):
        what += " on %s" % " ".join(p for p in (fault.get("method"), fault.get("path")) if p)
    bounds = []
    if fault.get("count") is not None:
        bounds.append("%d of %d %s left" % (fault.get("remaining", fault["count"]), fault["count"],
                                            "connections" if STAGES[kind] == "connect" or fault["component"] == "db"
                                            else "requests"))
    if fault.get("window") is not None:
        left = fault.get("window_left")
        bounds.append("%gs window" % fault["window"] + (" (%.1fs left)" % left if left else ""))
    if not bounds:
        bounds.append("until cleared")
    state = "" if fault.get("active", True) else " [ended]"
    return "#%s %s, %s, %d hit(s)%s" % (fault.get("id", "-"), what, ", ".join(bounds), fault.get("hits", 0), state)


class Faults(object):
    """The faults of one lab, shared by its components (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self._faults = []  # internal records: the public dict plus "_deadline" (monotonic) and "_released"
        self._ids = itertools.count(1)

    def add(self, fault=None, **options):
        """Add one fault (a mapping or keyword options); returns its public view (with ``id``)."""
        spec = normalize(dict(fault or {}, **options))
        record = dict(spec, id=next(self._ids), hits=0, remaining=spec["count"], active=True,
                      added_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
        record["_deadline"] = time.monotonic() + spec["window"] if spec["window"] is not None else None
        record["_released"] = threading.Event()
        with self.lock:
            self._faults.append(record)
        return _public(record)

    def replace(self, faults):
        """Clear every fault and add ``faults`` (a list of mappings, checked first): a scenario load."""
        specs = [normalize(f) for f in faults or []]
        self.clear()
        return [self.add(spec) for spec in specs]

    def list(self):
        with self.lock:
            self._expire()
            return [_public(f) for f in self._faults]

    def clear(self, component=None):
        """Forget the faults (of one component, or all) and release the requests they hold. Returns how many."""
        with self.lock:
            gone = [f for f in self._faults if component in (None, f["component"])]
            self._faults = [f for f in self._faults if f not in gone]
        for record in gone:
            record["_released"].set()
        return len(gone)

    def take(self, component, stage, path=None, method=None):
        """The fault that applies to this connection (``stage`` connect), request (request) or log stream (log),
        or None. Uses up one of its count."""
        with self.lock:
            self._expire()
            for record in self._faults:
                if not record["active"] or record["component"] != component:
                    continue
                if STAGES[record["kind"]] != stage and not (component == "db" and stage == "connect"):
                    continue
                if record.get("path") and not (path or "").startswith(record["path"]):
                    continue
                if record.get("method") and record["method"] != (method or "").upper():
                    continue
                record["hits"] += 1
                if record["remaining"] is not None:
                    record["remaining"] -= 1
                    if record["remaining"] <= 0:
                        record["active"] = False
                return Taken(record)
        return None

    def _expire(self):
        now = time.monotonic()
        for record in self._faults:
            if record["active"] and record["_deadline"] is not None and now >= record["_deadline"]:
                record["active"] = False


def _public(record):
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    if record["_deadline"] is not None:
        out["window_left"] = round(max(0.0, record["_deadline"] - time.monotonic()), 3)
    return out


class Taken(object):
    """A fault a component is acting on: its settings, and ``hold(seconds)`` that a clear cuts short."""

    def __init__(self, record):
        self.fault = _public(record)
        self._released = record["_released"]

    def __getattr__(self, key):
        try:
            return self.fault[key]
        except KeyError:
            raise AttributeError(key)

    def hold(self, seconds=None):
        """Wait ``seconds`` (default the fault's); True if it ran out, False if the fault was cleared first."""
        return not self._released.wait(self.fault.get("seconds") if seconds is None else seconds)


# -- sockets ----------------------------------------------------------------------------------------------
def no_delay(sock):
    """TCP_NODELAY on an accepted connection, as Go's net/http (the real API servers) sets it: http.server writes a
    response's headers and its body apart, and without it the body waits for the client's delayed ACK of the
    headers, 40 ms a request."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


def reset(sock, close=True):
    """Close ``sock`` with a TCP reset (SO_LINGER 0): the peer sees "connection reset by peer" at once. With
    ``close`` False the owner closes it (a request handler's connection: the server closes it after the handler)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    if close:
        try:
            sock.close()
        except OSError:
            pass


def drop(sock):
    """End a connection without another byte (for a hang or a cut stream): shut both ways, then close."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class FaultyHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server whose new connections a ``refuse`` fault resets. Set ``faults`` and ``component``."""

    daemon_threads = True
    faults = None
    component = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.faults is not None and self.faults.take(self.component, "connect"):
            reset(sock)
            raise OSError("refused by a fleet-lab fault")  # socketserver skips the connection
        no_delay(sock)
        return sock, addr


STATUS_PHRASES = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                  503: "Service Unavailable", 504: "Gateway Timeout"}


class FaultHandlerMixin(object):
    """For a ``BaseHTTPRequestHandler`` subclass (put it first) whose server has ``faults`` and ``component``:
    after each request line and headers are read, a matching ``status``, ``stall`` or ``hang`` fault acts.

    Subclasses may override ``fault_body(fault)`` -> (content type, bytes) for the component's error shape,
    ``fault_exempt(path)`` (paths never faulted, such as the lab's own ``/_lab/``) and ``fault_seen(fault,
    raw_body)`` (called for every request that is not exempt: ``fault`` None when no fault matched; ``raw_body``
    the request body when a status fault consumed it)."""

    fault_request_path = None

    def fault_exempt(self, path):
        return path.startswith("/_lab/")

    def fault_seen(self, fault, raw_body):
        pass

    def fault_body(self, fault):
        code = fault["code"]
        return "application/json", json.dumps({"error": "%d %s" % (code, STATUS_PHRASES.get(code, "Error")),
                                               "message": "fleet-lab fault #%s" % fault["id"]}).encode()

    def parse_request(self):
        if not super(FaultHandlerMixin, self).parse_request():
            return False
        path = self.path.split("?", 1)[0]
        self.fault_request_path = path
        faults = getattr(self.server, "faults", None)
        if faults is None or self.fault_exempt(path):
            return True
        if faults.take(self.server.component, "connect"):  # down: a connection opened before ends too
            self.close_connection = True
            reset(self.connection, close=False)
            return False
        taken = faults.take(self.server.component, "request", path, self.command)
        if taken is None:
            self.fault_seen(None, None)
            return True
        if taken.kind == "stall":
            self.fault_seen(taken.fault, None)
            taken.hold()
            return True
        if taken.kind == "hang":
            self.fault_seen(taken.fault, None)
            taken.hold()
            self.close_connection = True
            drop(self.connection)
            return False
        raw = self._fault_discard_body()
        self.fault_seen(taken.fault, raw)
        content_type, data = self.fault_body(taken.fault)
        self.send_response(taken.code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if taken.retry_after is not None:
            self.send_header("Retry-After", str(taken.retry_after))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        return False

    def _fault_discard_body(self):
        """Read the request body (so the connection stays usable); a chunked one closes the connection instead."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""
