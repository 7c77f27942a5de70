"""HTTPS front of the lab API: routing, bearer-token auth and authorization, discovery, CRUD, PATCH,
watch streams, Tables, ``pods/log``, ``deployments/scale`` and SelfSubjectAccessReview.

Behaviour follows a real kube-apiserver where a client can tell: Status objects for errors (kubectl prints
their message), resourceVersion on every object and list, chunked streams for watches and logs.
Documented differences: LIST in a namespace that does not exist answers an empty list (as a real server
does) but GET/POST there answer 404; ``follow=true`` on logs returns what is there and ends.

Faults (``fleet_lab.faults``, component ``kube``): ``refuse`` resets connections before the TLS handshake;
``status`` answers a ``Status`` with kube-apiserver's reason and message for the code (429 TooManyRequests
with ``details.retryAfterSeconds`` and ``Retry-After``), before authentication, on any path including
``/version`` and discovery unless the fault has a ``path``; ``stall``/``hang`` hold the request; ``cut_log``
ends a ``pods/log`` stream after ``bytes`` (and ``seconds`` of silence) without the final chunk.
"""
import base64
import copy
import datetime
import json
import logging
import re
import secrets as secrets_mod
import select
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from fleet_lab import faults as faults_mod
from fleet_lab.kube import objects, patch as patch_mod, rbac, selectors, tables
from fleet_lab.kube.objects import SECOND, ts
from fleet_lab.kube.store import BY_NAME, GROUPS, lookup

LOG = logging.getLogger("fleet_lab.kube")

VERSION = {"major": "1", "minor": "28", "gitVersion": "v1.28.9+416ecaf", "gitCommit":
           "416ecafd5b76d9ff1a6e8a8d2e4d5d4f8e0c9c4b", "gitTreeState": "clean", "buildDate": "2024-04-24T21:19:36Z",
           "goVersion": "go1.20.12 X:strictfipsruntime", "compiler": "gc", "platform": "linux/amd64"}
STATUS_SUBRESOURCE = ("pods", "deployments", "replicasets", "nodes", "namespaces")
GENERATION = ("deployments", "replicasets")
PUBLIC_PATHS = ("/version", "/version/", "/healthz", "/livez", "/readyz")

# What kube-apiserver says with these codes (reason, message), for status faults.
FAULT_STATUS = {
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
    500: ("InternalError", "Internal error occurred: fleet-lab fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be "
                     "processing the request"),
}

ADMIN_USER = "kube:admin"
RUNBOOK_USER = "system:serviceaccount:kas-sre:runbook"


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details


def status_body(code, reason, message, details=None, status="Failure"):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status, "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    if status == "Success":
        body.pop("message")
        body.pop("reason")
    return body


def not_found(res, name):
    details = {"name": name, "kind": res.name}
    if res.group:
        details["group"] = res.group
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified, name), details)


def invalid(kind, group, name, field, value, detail):
    qualified = "%s.%s" % (kind, group) if group else kind
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s: Invalid value: %s: %s' % (
        qualified, name, field, json.dumps(value) if isinstance(value, str) else value, detail),
        {"name": name, "group": group, "kind": kind,
         "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: %s: %s" % (value, detail),
                     "field": field}]})


def _bool(value):
    return str(value).lower() in ("1", "true", "yes")


def _int(q, key, minimum=None):
    if key not in q or q[key] == "":
        return None
    try:
        value = int(q[key])
    except ValueError:
        raise ApiError(400, "BadRequest", "invalid value %r for %s: strconv.ParseInt: parsing %r: invalid syntax"
                       % (q[key], key, q[key]))
    return value


class Auth(object):
    """Bearer tokens and what each may do: admin may do everything; the runbook's token is denied the
    resources listed in the scenario's ``access.denied`` (every verb). Tokens issued to ServiceAccounts
    (``kubectl create token``) may do what the Roles bound to them allow (``rbac``, kube/rbac.py)."""

    def __init__(self, service_accounts=None):
        self.tokens = {"admin": secrets_mod.token_urlsafe(32), "runbook": secrets_mod.token_urlsafe(32)}
        self.denied = set()
        self.rbac = service_accounts

    def user(self, header):
        if not header or not header.lower().startswith("bearer "):
            return None
        token = header.split(" ", 1)[1].strip()
        for role, value in self.tokens.items():
            if secrets_mod.compare_digest(token, value):
                return role
        return (self.rbac.user(token) if self.rbac else None) or False

    @staticmethod
    def username(role):
        if isinstance(role, rbac.ServiceAccountUser):
            return role.username
        return ADMIN_USER if role == "admin" else RUNBOOK_USER

    def decide(self, role, verb, group, resource, subresource, ns, name):
        """(allowed, reason) of a request or a SelfSubjectAccessReview's resourceAttributes."""
        if isinstance(role, rbac.ServiceAccountUser):
            return self.rbac.authorize(role, verb, group, resource, subresource, ns, name)
        allowed = self.allowed(role, verb, "%s/%s" % (resource, subresource) if subresource else resource)
        return allowed, self.reason(role, allowed, ns)

    def allowed(self, role, verb, resource):
        if role == "admin":
            return True
        if resource == "*":
            return not self.denied
        return resource not in self.denied

    def reason(self, role, allowed, ns):
        if not allowed:
            return ""
        if role == "admin":
            return 'RBAC: allowed by ClusterRoleBinding "cluster-admins" of ClusterRole "cluster-admin" to User "%s"' \
                % ADMIN_USER
        return 'RBAC: allowed by RoleBinding "kas-sre-runbook/%s" of Role "kas-sre-runbook" to ServiceAccount ' \
               '"runbook/kas-sre"' % (ns or "")


class KubeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    component = "kube"

    def __init__(self, address, cluster, auth, ssl_context, faults=None):
        self.cluster = cluster
        self.auth = auth
        self.ssl_context = ssl_context
        self.faults = faults
        self.connections = set()
        self.conn_lock = threading.Lock()
        ThreadingHTTPServer.__init__(self, address, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.faults is not None and self.faults.take("kube", "connect"):
            faults_mod.reset(sock)
            raise OSError("refused by a fleet-lab fault")  # socketserver skips the connection
        sock.settimeout(120)
        faults_mod.no_delay(sock)
        # The TLS handshake happens in the connection's own thread (first read), not in the accept loop.
        conn = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.conn_lock:
            self.connections.add(conn)
        return conn, addr

    def shutdown_request(self, request):
        with self.conn_lock:
            self.connections.discard(request)
        ThreadingHTTPServer.shutdown_request(self, request)

    def close_connections(self):
        """End every open connection (idle keep-alives, watches, log streams)."""
        with self.conn_lock:
            conns = list(self.connections)
            self.connections.clear()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        LOG.debug("connection error from %s", client_address, exc_info=True)


class Handler(faults_mod.FaultHandlerMixin, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fleet-lab-kube/1"

    def fault_exempt(self, path):
        return False

    def fault_body(self, fault):
        code = fault["code"]
        reason, message = FAULT_STATUS.get(code, ("InternalError" if code >= 500 else "BadRequest",
                                                  "fleet-lab fault: %d" % code))
        details = {"retryAfterSeconds": fault["retry_after"]} if fault.get("retry_after") is not None else None
        return "application/json", json.dumps(status_body(code, reason, message, details),
                                              separators=(",", ":")).encode()

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        LOG.debug("%s " + fmt, self.address_string(), *args)

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError, socket.timeout):
            self.close_connection = True
            raise

    def handle(self):
        try:
            BaseHTTPRequestHandler.handle(self)
        except (ConnectionError, ssl.SSLError, socket.timeout, BrokenPipeError):
            pass

    # -- plumbing ------------------------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("GET")

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return data
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, code, body, content_type="application/json"):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self._audit)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_text(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self._audit)
        self.end_headers()

    def _chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _dispatch(self, method):
        self._audit = secrets_mod.token_hex(8)
        started = time.monotonic()
        code = None
        try:
            url = urllib.parse.urlsplit(self.path)
            self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
            path = url.path.rstrip("/") or "/"
            body = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            role = self.server.auth.user(self.headers.get("Authorization"))
            if role is False or (role is None and path not in PUBLIC_PATHS):
                raise ApiError(401, "Unauthorized", "Unauthorized")
            self.role = role
            code = self._route(method, path, body)
        except ApiError as err:
            code = err.code
            self._send_json(err.code, status_body(err.code, err.reason, err.message, err.details))
        except (ConnectionError, BrokenPipeError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as exc:  # a bug: answer 500 as a Status, keep serving
            LOG.exception("internal error on %s %s", method, self.path)
            code = 500
            try:
                self._send_json(500, status_body(500, "InternalError", "Internal error occurred: %s" % exc))
            except Exception:
                self.close_connection = True
        LOG.debug("%s %s -> %s (%.1f ms)", method, self.path, code, (time.monotonic() - started) * 1000)

    # -- routing -------------------------------------------------------------------------------------------
    def _route(self, method, path, body):
        srv = self.server
        if path in ("/healthz", "/livez", "/readyz"):
            self._send_text(200, "ok")
            return 200
        if path == "/version":
            self._send_json(200, VERSION)
            return 200
        if path == "/api":
            port = srv.server_address[1]
            self._send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:%d" % port}]})
            return 200
        if path == "/apis":
            groups = []
            for group, (version, _res) in GROUPS.items():
                if not group:
                    continue
                gv = {"groupVersion": "%s/%s" % (group, version), "version": version}
                groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
            self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            return 200
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            group = parts[1]
            if len(parts) == 2:
                if group not in GROUPS or not group:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                version = GROUPS[group][0]
                gv = {"groupVersion": "%s/%s" % (group, version), "version": version}
                self._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv],
                                      "preferredVersion": gv})
                return 200
            version, rest = parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if group not in GROUPS or GROUPS[group][0] != version:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            resources = []
            for res in GROUPS[group][1]:
                resources.extend(res.discovery())
            self._send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                  "groupVersion": "%s/%s" % (group, version) if group else version,
                                  "resources": resources})
            return 200
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            ns, rest = rest[1], rest[2:]
        resource = lookup(group, version, rest[0])
        if resource is None or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if ns is not None and not resource.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub and sub not in [s[0] for s in resource.subresources]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        watch = _bool(self.q.get("watch", ""))
        if name is None:
            verb = {"GET": "watch" if watch else "list", "POST": "create", "DELETE": "deletecollection"}.get(method)
        else:
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete", "POST": "create"}.get(method)
        if verb is None or verb not in (resource.verbs if not sub else
                                        next(s[4] for s in resource.subresources if s[0] == sub)):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if resource.name == "selfsubjectaccessreviews":
            return self._ssar(body)
        self._authorize(verb, resource, sub, ns, name)
        cluster = srv.cluster
        if sub == "token":
            return self._token_request(ns, name, body)
        if sub == "log":
            return self._pod_log(ns, name)
        if sub == "scale":
            return self._scale(method, ns, name, body)
        if name is None:
            if method == "GET":
                return self._watch(resource, ns) if watch else self._list(resource, ns)
            if method == "POST":
                return self._create(resource, ns, body)
            return self._delete_collection(resource, ns, body)
        if method == "GET":
            with cluster.store.lock:
                obj = cluster.store.get(resource.name, ns, name)
                if obj is None:
                    raise not_found(resource, name)
                self._send_json(200, self._maybe_table(resource, [obj], single=True) or obj)
            return 200
        if method in ("PUT", "PATCH"):
            return self._update(method, resource, ns, name, sub, body)
        if method == "DELETE":
            return self._delete(resource, ns, name, body)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _authorize(self, verb, resource, sub, ns, name):
        auth = self.server.auth
        full = "%s/%s" % (resource.name, sub) if sub else resource.name
        if auth.decide(self.role, verb, resource.group, resource.name, sub, ns, name)[0]:
            return
        user = auth.username(self.role)
        subject = '%s "%s"' % (resource.qualified, name) if name else resource.qualified
        scope = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
        details = {"kind": resource.name}
        if name:
            details["name"] = name
        if resource.group:
            details["group"] = resource.group
        raise ApiError(403, "Forbidden", '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
                       % (subject, user, verb, full, resource.group, scope), details)

    # -- helpers ------------------------------------------------------------------------------------------
    def _wants_table(self):
        accept = self.headers.get("Accept", "")
        for part in accept.split(","):
            params = [p.strip() for p in part.split(";")]
            if "as=Table" in params and "g=meta.k8s.io" in params:
                return True
        return False

    def _maybe_table(self, resource, items, single=False, list_meta=None):
        if not self._wants_table():
            return None
        cluster = self.server.cluster
        return tables.table(resource.name, items, cluster.clock(), cluster.store.rv,
                            include=self.q.get("includeObject", "Metadata"), list_meta=list_meta)

    def _decode(self, body, content_type=None):
        ctype = (content_type or self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if "protobuf" in ctype:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: application/json, application/yaml")
        try:
            if ctype in ("application/yaml", patch_mod.APPLY):
                return yaml.safe_load(body.decode() or "null")
            return json.loads(body.decode() or "null")
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError(400, "BadRequest", "the object provided is unrecognized: %s" % exc)

    def _selectors(self, resource):
        try:
            labels = selectors.parse_labels(self.q.get("labelSelector", ""))
            fields = selectors.parse_fields(self.q.get("fieldSelector", ""), resource.name)
        except selectors.SelectorError as exc:
            raise ApiError(400, "BadRequest", str(exc))
        return labels, fields

    def _matching(self, resource, ns, labels, fields):
        out = []
        for obj in self.server.cluster.store.items(resource.name, ns):
            if selectors.match_labels(labels, obj["metadata"].get("labels")) and selectors.match_fields(fields, obj):
                out.append(obj)
        return out

    # -- list / watch -------------------------------------------------------------------------------------
    def _list(self, resource, ns):
        labels, fields = self._selectors(resource)
        store = self.server.cluster.store
        limit = _int(self.q, "limit")
        cont = self.q.get("continue") or ""
        with store.lock:
            items = self._matching(resource, ns, labels, fields)
            rv = str(store.rv)
            start = 0
            if cont:
                try:
                    token = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                    start, rv = int(token["start"]), token["rv"]
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "continue key is not valid: illegal base64 data")
            meta = {"resourceVersion": rv}
            if limit and limit > 0 and start + limit < len(items):
                meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"start": start + limit, "rv": rv}).encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
                items = items[start:start + limit]
            else:
                items = items[start:]
            table = self._maybe_table(resource, items, list_meta=meta)
            if table is not None:
                table["metadata"] = meta
                self._send_json(200, table)
                return 200
            body = {"kind": resource.kind + "List", "apiVersion": resource.api_version, "metadata": meta,
                    "items": items}
            data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self._audit)
        self.end_headers()
        self.wfile.write(data)
        return 200

    def _watch(self, resource, ns):
        labels, fields = self._selectors(resource)
        cluster = self.server.cluster
        store = cluster.store
        timeout = _int(self.q, "timeoutSeconds")
        timeout = 1800 if timeout is None or timeout <= 0 else min(timeout, 3600)
        deadline = time.monotonic() + timeout
        rv_param = self.q.get("resourceVersion", "")
        table = self._wants_table()
        first_table = [True]

        def encode(etype, obj):
            if table and etype != "ERROR" and etype != "BOOKMARK":
                obj = tables.table(resource.name, [obj], cluster.clock(), obj["metadata"]["resourceVersion"],
                                   include=self.q.get("includeObject", "Object"), columns=first_table[0])
                first_table[0] = False
            return json.dumps({"type": etype, "object": obj}, separators=(",", ":")).encode() + b"\n"

        def matches(res_name, obj):
            if res_name != resource.name:
                return False
            if ns is not None and obj["metadata"].get("namespace") != ns:
                return False
            return selectors.match_labels(labels, obj["metadata"].get("labels")) and \
                selectors.match_fields(fields, obj)

        with store.lock:
            epoch = store.epoch
            pending = []
            if rv_param in ("", "0"):
                pending = [encode("ADDED", o) for o in self._matching(resource, ns, labels, fields)]
                last = store.rv
            else:
                try:
                    last = int(rv_param)
                except ValueError:
                    raise ApiError(400, "BadRequest", "invalid resource version %r" % rv_param)
                history = store.events_since(last)
                if history is None:
                    gone = status_body(410, "Expired", "too old resource version: %s (%d)" % (rv_param, store.floor))
                    pending = [json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n"]
                    last = None
                else:
                    for rv, etype, res_name, obj in history:
                        if matches(res_name, obj):
                            pending.append(encode(etype, obj))
                        last = rv
                    last = max(last, store.rv) if not history else last
        self._start_chunked("application/json")
        try:
            for data in pending:
                self._chunk(data)
            self.wfile.flush()
            while last is not None and time.monotonic() < deadline:
                with store.lock:
                    if store.stopped or store.epoch != epoch:
                        break
                    history = store.events_since(last)
                    if history is None:
                        break
                    if not history:
                        store.cond.wait(min(1.0, max(0.0, deadline - time.monotonic())))
                        history = store.events_since(last) or []
                if not history and self._client_gone():
                    break
                with store.lock:
                    out = []
                    for rv, etype, res_name, obj in history:
                        last = rv
                        if matches(res_name, obj):
                            out.append(encode(etype, obj))
                for data in out:
                    self._chunk(data)
                if out:
                    self.wfile.flush()
            self._end_chunked()
        except (ConnectionError, BrokenPipeError, ssl.SSLError, socket.timeout, OSError):
            self.close_connection = True
        return 200

    def _client_gone(self):
        """True when the client closed a streaming connection (it sends nothing while it reads a watch)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        timeout = self.connection.gettimeout()
        try:
            self.connection.settimeout(0.01)
            return not self.connection.recv(1)
        except (ssl.SSLWantReadError, socket.timeout):
            return False
        except (OSError, ssl.SSLError):
            return True
        finally:
            try:
                self.connection.settimeout(timeout)
            except OSError:
                pass

    # -- create / update / delete -------------------------------------------------------------------------
    def _check_kind(self, resource, obj):
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest",
                           "the object provided is unrecognized (must be of type %s)" % resource.kind)
        kind = obj.get("kind")
        if kind and kind != resource.kind:
            raise ApiError(400, "BadRequest", "the API version in the data (%s) does not match the expected API "
                           "version (%s)" % (obj.get("apiVersion"), resource.api_version)
                           if obj.get("apiVersion") != resource.api_version else
                           "the object provided is unrecognized (must be of type %s): kind %s" % (resource.kind, kind))
        obj["kind"] = resource.kind
        obj["apiVersion"] = resource.api_version

    def _create(self, resource, ns, body):
        cluster = self.server.cluster
        store = cluster.store
        obj = self._decode(body)
        self._check_kind(resource, obj)
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                               "namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        dry = self.q.get("dryRun") == "All"
        with store.lock:
            if not meta.get("name"):
                if meta.get("generateName"):
                    meta["name"] = meta["generateName"] + secrets_mod.token_hex(3)[:5]
                else:
                    raise ApiError(422, "Invalid", '%s "" is invalid: metadata.name: Required value: name or '
                                   'generateName is required' % resource.kind,
                                   {"kind": resource.kind, "group": resource.group,
                                    "causes": [{"reason": "FieldValueRequired", "field": "metadata.name",
                                                "message": "Required value: name or generateName is required"}]})
            if resource.namespaced and store.get("namespaces", "", ns) is None:
                raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                               {"name": ns, "kind": "namespaces"})
            if store.get(resource.name, ns if resource.namespaced else "", meta["name"]) is not None:
                details = {"name": meta["name"], "kind": resource.name}
                if resource.group:
                    details["group"] = resource.group
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (resource.qualified, meta["name"]),
                               details)
            now = cluster.clock()
            meta["uid"] = objects.uid_for("created", resource.name, ns, meta["name"], now)
            meta["creationTimestamp"] = ts(now)
            for key in ("resourceVersion", "deletionTimestamp", "managedFields"):
                meta.pop(key, None)
            if resource.name in GENERATION:
                meta["generation"] = 1
            self._validate(resource, obj, None)
            if resource.name == "secrets":
                _secret_string_data(obj)
                obj.setdefault("type", "Opaque")
            if resource.name in ("deployments", "replicasets", "pods"):
                obj["status"] = {}
            if resource.name == "namespaces":
                obj["status"] = {"phase": "Active"}
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            if resource.name == "events":
                obj.setdefault("count", 1)
                obj.setdefault("firstTimestamp", ts(now))
                obj.setdefault("lastTimestamp", ts(now))
            if dry:
                self._send_json(201, obj)
                return 201
            store.put(resource.name, obj, "ADDED")
            if resource.name == "pods":
                cluster.pod_created(obj)
                store.put("pods", obj)
            elif resource.name == "deployments":
                cluster.deployment_created(obj)
            elif resource.name == "replicasets":
                cluster.replicaset_changed(obj)
            self._send_json(201, obj)
        return 201

    def _validate(self, resource, obj, old):
        name = obj["metadata"].get("name", "")
        refused = rbac.validate(resource.name, obj, old)
        if refused:
            raise ApiError(422, "Invalid", *refused)
        if resource.name == "deployments":
            spec = obj.get("spec") or {}
            replicas = spec.get("replicas", 1)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise invalid("Deployment", "apps", name, "spec.replicas", replicas,
                              "must be greater than or equal to 0")
            spec.setdefault("replicas", 1)
            sel = (spec.get("selector") or {}).get("matchLabels") or {}
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not sel:
                raise ApiError(422, "Invalid", 'Deployment.apps "%s" is invalid: spec.selector: Required value'
                               % name, {"name": name, "group": "apps", "kind": "Deployment"})
            if any(labels.get(k) != v for k, v in sel.items()):
                raise invalid("Deployment", "apps", name, "spec.template.metadata.labels",
                              "map[string]string{%s}" % ", ".join('"%s":"%s"' % kv for kv in sorted(labels.items())),
                              "`selector` does not match template `labels`")
            if old is not None and (old.get("spec") or {}).get("selector") != spec.get("selector"):
                raise invalid("Deployment", "apps", name, "spec.selector", "v1.LabelSelector{...}",
                              "field is immutable")
            containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
            if not containers:
                raise ApiError(422, "Invalid", 'Deployment.apps "%s" is invalid: spec.template.spec.containers: '
                               'Required value' % name, {"name": name, "group": "apps", "kind": "Deployment"})
        if resource.name == "replicasets":
            replicas = (obj.get("spec") or {}).get("replicas", 1)
            if not isinstance(replicas, int) or replicas < 0:
                raise invalid("ReplicaSet", "apps", name, "spec.replicas", replicas,
                              "must be greater than or equal to 0")

    def _update(self, method, resource, ns, name, sub, body):
        cluster = self.server.cluster
        store = cluster.store
        ctype = self.headers.get("Content-Type", "application/json")
        if method == "PATCH":
            ptype = ctype.split(";")[0].strip().lower()
            if ptype not in patch_mod.TYPES:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            patch_body = self._decode(body, ptype)
        else:
            new_obj = self._decode(body)
        dry = self.q.get("dryRun") == "All"
        with store.lock:
            old = store.get(resource.name, ns or "", name)
            if old is None:
                raise not_found(resource, name)
            if method == "PATCH":
                try:
                    new_obj = patch_mod.apply(ptype, old, patch_body)
                except patch_mod.PatchError as exc:
                    raise ApiError(422, "Invalid", str(exc) if ptype != patch_mod.JSON_PATCH else
                                   "the server rejected our request due to an error in our request: %s" % exc)
            self._check_kind(resource, new_obj)
            meta = new_obj.setdefault("metadata", {})
            if meta.get("name", name) != name:
                raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL "
                               "(%s)" % (meta.get("name"), name))
            if resource.namespaced and meta.get("namespace", ns) != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                               "namespace sent on the request")
            rv = meta.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                               'modified; please apply your changes to the latest version and try again'
                               % (resource.qualified, name),
                               {"name": name, "group": resource.group, "kind": resource.name})
            for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "generation", "resourceVersion"):
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            meta["name"] = name
            if resource.namespaced:
                meta["namespace"] = ns
            if sub == "status":
                status = new_obj.get("status")
                new_obj = copy.deepcopy(old)
                new_obj["status"] = status
            elif resource.name in STATUS_SUBRESOURCE:
                new_obj["status"] = copy.deepcopy(old.get("status"))
            if resource.name == "secrets":
                _secret_string_data(new_obj)
            self._validate(resource, new_obj, old)
            if resource.name in GENERATION and new_obj.get("spec") != old.get("spec"):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
            if dry:
                self._send_json(200, new_obj)
                return 200
            if new_obj != old:
                old.clear()
                old.update(new_obj)
                store.put(resource.name, old)
                if resource.name == "replicasets":
                    cluster.replicaset_changed(old)
                cluster.kick.set()
            self._send_json(200, old)
        return 200

    def _delete(self, resource, ns, name, body):
        cluster = self.server.cluster
        store = cluster.store
        opts = self._decode(body) if body else {}
        opts = opts if isinstance(opts, dict) else {}
        grace = opts.get("gracePeriodSeconds", _int(self.q, "gracePeriodSeconds"))
        dry = self.q.get("dryRun") == "All" or "All" in (opts.get("dryRun") or [])
        with store.lock:
            obj = store.get(resource.name, ns or "", name)
            if obj is None:
                raise not_found(resource, name)
            pre = (opts.get("preconditions") or {})
            if pre.get("uid") and pre["uid"] != obj["metadata"]["uid"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": Precondition failed: '
                               'UID in precondition: %s, UID in object meta: %s'
                               % (resource.qualified, name, pre["uid"], obj["metadata"]["uid"]))
            if dry:
                self._send_json(200, obj)
                return 200
            if resource.name == "pods":
                pod = cluster.pod_deleted(ns, name, grace)
                self._send_json(200, pod)
                return 200
            if resource.name == "namespaces":
                for res_name in store.objects:
                    for other in store.items(res_name, name):
                        store.remove(res_name, name, other["metadata"]["name"])
                        cluster.pods.pop((name, other["metadata"]["name"]), None)
                gone = store.remove("namespaces", "", name)
                gone["status"] = {"phase": "Terminating"}
                gone["metadata"]["deletionTimestamp"] = ts(cluster.clock())
                self._send_json(200, gone)
                return 200
            gone = store.remove(resource.name, ns or "", name)
            cluster.kick.set()
            details = {"name": name, "kind": resource.name, "uid": gone["metadata"]["uid"]}
            if resource.group:
                details["group"] = resource.group
            self._send_json(200, status_body(200, "", "", details, status="Success"))
        return 200

    def _delete_collection(self, resource, ns, body):
        labels, fields = self._selectors(resource)
        cluster = self.server.cluster
        store = cluster.store
        with store.lock:
            deleted = []
            for obj in self._matching(resource, ns, labels, fields):
                meta = obj["metadata"]
                if resource.name == "pods":
                    deleted.append(cluster.pod_deleted(meta["namespace"], meta["name"]))
                else:
                    deleted.append(store.remove(resource.name, meta.get("namespace", ""), meta["name"]))
            cluster.kick.set()
            self._send_json(200, {"kind": resource.kind + "List", "apiVersion": resource.api_version,
                                  "metadata": {"resourceVersion": str(store.rv)}, "items": deleted})
        return 200

    # -- subresources -------------------------------------------------------------------------------------
    def _scale(self, method, ns, name, body):
        cluster = self.server.cluster
        store = cluster.store
        resource = BY_NAME["deployments"]
        if method in ("PUT", "PATCH"):
            ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
            if method == "PATCH" and ctype not in patch_mod.TYPES:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            payload = self._decode(body, ctype)
        with store.lock:
            dep = store.get("deployments", ns, name)
            if dep is None:
                raise not_found(resource, name)
            scale = _scale_of(dep)
            if method == "GET":
                self._send_json(200, scale)
                return 200
            if method == "PATCH":
                try:
                    new = patch_mod.apply(ctype, scale, payload)
                except patch_mod.PatchError as exc:
                    raise ApiError(422, "Invalid", str(exc))
            else:
                new = payload if isinstance(payload, dict) else {}
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != dep["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on deployments.apps "%s": the object '
                               'has been modified; please apply your changes to the latest version and try again'
                               % name, {"name": name, "group": "apps", "kind": "deployments"})
            replicas = (new.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise invalid("Scale", "autoscaling", name, "spec.replicas", replicas,
                              "must be greater than or equal to 0")
            if self.q.get("dryRun") != "All" and replicas != dep["spec"].get("replicas"):
                dep["spec"]["replicas"] = replicas
                dep["metadata"]["generation"] = dep["metadata"].get("generation", 1) + 1
                store.put("deployments", dep)
                cluster.kick.set()
            out = _scale_of(dep)
            out["spec"]["replicas"] = replicas
            self._send_json(200, out)
        return 200

    def _pod_log(self, ns, name):
        cluster = self.server.cluster
        store = cluster.store
        q = self.q
        tail = _int(q, "tailLines")
        since_s = _int(q, "sinceSeconds")
        limit = _int(q, "limitBytes")
        if tail is not None and tail < 0:
            raise ApiError(422, "Invalid", 'PodLogOptions "%s" is invalid: tailLines: Invalid value: %d: must be '
                           'greater than or equal to 0' % (name, tail))
        if since_s is not None and since_s < 1:
            raise ApiError(422, "Invalid", 'PodLogOptions "%s" is invalid: sinceSeconds: Invalid value: %d: must be '
                           'greater than 0' % (name, since_s))
        if limit is not None and limit < 1:
            raise ApiError(422, "Invalid", 'PodLogOptions "%s" is invalid: limitBytes: Invalid value: %d: must be '
                           'greater than 0' % (name, limit))
        since_us = None
        with store.lock:
            pod = store.get("pods", ns, name)
            if pod is None:
                raise not_found(BY_NAME["pods"], name)
            names = [c["name"] for c in pod["spec"].get("containers", [])]
            container = q.get("container") or ""
            if not container:
                if len(names) != 1:
                    raise ApiError(400, "BadRequest", "a container name must be specified for pod %s, choose one "
                                   "of: [%s]" % (name, " ".join(names)))
                container = names[0]
            if container not in names:
                raise ApiError(400, "BadRequest", "container %s is not valid for pod %s" % (container, name))
            info = cluster.pods.get((ns, name))
            now = cluster.clock()
            if since_s is not None:
                since_us = now - since_s * SECOND
            elif q.get("sinceTime"):
                try:
                    dt = _parse_rfc3339(q["sinceTime"])
                except ValueError:
                    raise ApiError(400, "BadRequest", 'parsing time "%s" as "2006-01-02T15:04:05Z07:00": cannot '
                                   'parse' % q["sinceTime"])
                since_us = objects.logs.to_us(dt)
            previous = _bool(q.get("previous", ""))
            log = None
            if info is not None:
                stage = info.stage(now)
                if previous:
                    if info.restart_count(now) < 1 and container == "service" or container != "service":
                        raise ApiError(400, "BadRequest", 'previous terminated container "%s" in pod "%s" not found'
                                       % (container, name))
                    log = info.log(container, True)
                    if log is None:
                        raise ApiError(400, "BadRequest", 'previous terminated container "%s" in pod "%s" not found'
                                       % (container, name))
                else:
                    service = container == names[0]
                    if stage in ("new", "creating", "unschedulable"):
                        raise ApiError(400, "BadRequest", 'container "%s" in pod "%s" is waiting to start: '
                                       'ContainerCreating' % (container, name))
                    if service and stage in ("image_pull", "errimagepull"):
                        raise ApiError(400, "BadRequest", 'container "%s" in pod "%s" is waiting to start: trying '
                                       'and failing to pull image' % (container, name))
                    log = info.log(container, False)
            elif previous:
                raise ApiError(400, "BadRequest", 'previous terminated container "%s" in pod "%s" not found'
                               % (container, name))
        cut = self.server.faults.take("kube", "log", self.fault_request_path, self.command) \
            if self.server.faults is not None else None
        self._start_chunked("text/plain")
        try:
            left = cut.bytes if cut is not None else None
            if log is not None:
                for data in log.stream(tail=tail, since_us=since_us, limit=limit, timestamps=_bool(
                        q.get("timestamps", ""))):
                    if left is not None:
                        data = data[:left]
                        left -= len(data)
                    self._chunk(data)
                    if left == 0:
                        break
            if cut is not None:  # a cut_log fault: stall, then end the connection without the stream's end
                self.wfile.flush()
                if cut.seconds:
                    cut.hold()
                self.close_connection = True
                faults_mod.drop(self.connection)
                return 200
            self._end_chunked()
        except (ConnectionError, BrokenPipeError, ssl.SSLError, socket.timeout, OSError):
            self.close_connection = True
        return 200

    def _ssar(self, body):
        review = self._decode(body)
        if not isinstance(review, dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized")
        spec = review.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        auth = self.server.auth
        if attrs:
            allowed, reason = auth.decide(self.role, attrs.get("verb", ""), attrs.get("group", ""),
                                          attrs.get("resource", ""), attrs.get("subresource", ""),
                                          attrs.get("namespace"), attrs.get("name"))
        else:
            allowed = self.role == "admin" or bool(spec.get("nonResourceAttributes"))
            reason = "" if isinstance(self.role, rbac.ServiceAccountUser) else auth.reason(self.role, allowed, None)
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec,
               "status": {"allowed": allowed}}
        if reason:
            out["status"]["reason"] = reason
        self._send_json(201, out)
        return 201

    def _token_request(self, ns, name, body):
        """``kubectl create token NAME``: a token for the ServiceAccount, authorised by kube/rbac.py."""
        store = self.server.cluster.store
        with store.lock:
            sa = store.get("serviceaccounts", ns, name)
        if sa is None:
            raise not_found(BY_NAME["serviceaccounts"], name)
        try:
            out = self.server.auth.rbac.token_request(sa, self._decode(body))
        except ValueError as exc:
            raise ApiError(422, "Invalid", 'TokenRequest.authentication.k8s.io "%s" is invalid: %s' % (name, exc))
        self._send_json(201, out)
        return 201


def _parse_rfc3339(value):
    """RFC 3339 with optional fraction (up to nanoseconds, truncated to microseconds) and Z or offset."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$", value.strip())
    if not m:
        raise ValueError(value)
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat("%s.%s%s" % (m.group(1), frac, zone))


def _scale_of(dep):
    meta = dep["metadata"]
    sel = (dep["spec"].get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                         "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
            "spec": {"replicas": dep["spec"].get("replicas", 0)},
            "status": {"replicas": (dep.get("status") or {}).get("replicas", 0),
                       "selector": ",".join("%s=%s" % kv for kv in sorted(sel.items()))}}


def _secret_string_data(obj):
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {}) or {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data
