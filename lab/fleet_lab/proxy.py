"""The lab daemon's proxies in front of the two components that are separate processes, so faults can reach them.

* ``TcpProxy`` (the database): a loopback TCP port that forwards every byte to PostgreSQL, two threads per
  connection, TCP_NODELAY both ways (the proxy adds tens of microseconds to a round trip). A ``db`` fault acts
  when a connection is accepted: ``refuse`` resets it, ``stall`` forwards nothing for ``seconds`` and then
  connects it, ``hang`` holds it ``seconds`` and closes it. Connections already made are not affected.
* ``HttpProxy`` (Prometheus): an HTTP/1.1 reverse proxy (keep-alive to the client, one upstream connection per
  client connection), so a ``prometheus`` fault acts per request and can match a path (``/api/v1/query_range``)
  or answer a status in Prometheus' own error shape.

The secret ``kas-fleet-manager-rds``, the inventory, ``integration-config`` and ``env.sh`` name the proxies;
``lab.json`` keeps the real servers' addresses (``db``, ``prometheus``) for the lab's own work and direct tests.
"""
import http.client
import json
import logging
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fleet_lab.faults import STATUS_PHRASES, FaultHandlerMixin, drop, reset
from fleet_lab.httpservice import LoopbackService

LOG = logging.getLogger("fleet_lab.proxy")
BUFFER = 65536
HOP_BY_HOP = ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length")


class TcpProxy(object):
    def __init__(self, name, upstream, faults, host="127.0.0.1", port=0):
        self.name = name
        self.upstream = tuple(upstream)
        self.faults = faults
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(128)
        self.lock = threading.Lock()
        self.sockets = set()
        self.stopping = False
        self.thread = None

    @property
    def address(self):
        return self.listener.getsockname()[:2]

    def start(self):
        self.thread = threading.Thread(target=self._accept_loop, name="%s-proxy" % self.name, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            open_sockets = list(self.sockets)
        for sock in open_sockets:
            drop(sock)
        if self.thread:
            self.thread.join(5)

    def _accept_loop(self):
        while not self.stopping:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                if self.stopping:
                    return
                continue
            taken = self.faults.take(self.name, "connect") if self.faults is not None else None
            if taken is not None and taken.kind == "refuse":
                reset(client)
                continue
            threading.Thread(target=self._serve, args=(client, taken), name="%s-conn" % self.name,
                             daemon=True).start()

    def _track(self, sock, add=True):
        with self.lock:
            if add:
                self.sockets.add(sock)
            else:
                self.sockets.discard(sock)

    def _serve(self, client, taken):
        self._track(client)
        upstream = None
        try:
            if taken is not None:
                held = taken.hold()
                if taken.kind == "hang" or self.stopping:
                    return
                LOG.debug("%s: stall of fault #%s over (%s)", self.name, taken.id, "ran out" if held else "cleared")
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError as exc:
                LOG.warning("%s: upstream %s:%s: %s", self.name, self.upstream[0], self.upstream[1], exc)
                return
            upstream.settimeout(None)
            self._track(upstream)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            other = threading.Thread(target=_pump, args=(upstream, client), name="%s-pump" % self.name, daemon=True)
            other.start()
            _pump(client, upstream)
            other.join()
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    self._track(sock, add=False)
                    try:
                        sock.close()
                    except OSError:
                        pass


def _pump(src, dst):
    """Copy ``src`` to ``dst`` until ``src`` ends, then end ``dst``'s sending side (or all of it on an error)."""
    try:
        while True:
            data = src.recv(BUFFER)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        drop(dst)
        drop(src)


class HttpProxy(LoopbackService):
    """Forwards every request to ``upstream_url`` (http://host:port); faults of component ``name`` act first.
    ``resolve()``, if given, returns the upstream's current URL: asked again when the upstream refuses (a
    restarted Prometheus that had to take another port)."""

    def __init__(self, name, upstream_url, faults, host="127.0.0.1", port=0, resolve=None):
        self.upstream = _host_port(upstream_url)
        self.resolve = resolve
        LoopbackService.__init__(self, name, _proxy_handler(self), host, port, faults=faults)

    def refresh(self):
        """Ask ``resolve()`` for the upstream again; True if it moved."""
        url = self.resolve() if self.resolve else None
        if not url or _host_port(url) == self.upstream:
            return False
        self.upstream = _host_port(url)
        return True


def _host_port(url):
    split = urllib.parse.urlsplit(url)
    return split.hostname, split.port


def _proxy_handler(proxy):
    class Handler(FaultHandlerMixin, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream_conn = None

        def log_message(self, fmt, *args):
            pass

        def fault_exempt(self, path):
            return False

        def fault_body(self, fault):
            code = fault["code"]
            return "application/json", json.dumps({
                "status": "error", "errorType": "unavailable" if code >= 500 else "bad_data",
                "error": "%d %s (fleet-lab fault #%s)" % (code, STATUS_PHRASES.get(code, "Error"), fault["id"])
            }).encode()

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            for attempt in (1, 2):  # a kept-alive upstream connection may have been closed meanwhile
                if self.upstream_conn is None:
                    self.upstream_conn = http.client.HTTPConnection(*proxy.upstream, timeout=300)
                try:
                    self.upstream_conn.request(self.command, self.path, body=body, headers=headers)
                    resp = self.upstream_conn.getresponse()
                    data = resp.read()
                    break
                except (OSError, http.client.HTTPException) as exc:
                    self.upstream_conn.close()
                    self.upstream_conn = None
                    if attempt == 2 or isinstance(exc, ConnectionRefusedError) and not proxy.refresh():
                        data = json.dumps({"status": "error", "errorType": "unavailable",
                                           "error": "fleet-lab proxy: %s" % exc}).encode()
                        self.send_response(502)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
            self.send_response_only(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def finish(self):
            if self.upstream_conn is not None:
                self.upstream_conn.close()
            BaseHTTPRequestHandler.finish(self)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _forward

    return Handler
