"""A Sentry API stand-in: the project issues list the runbook reads ("Check Sentry to investigate possible causes").

``SentryServer(host, port, token, org, project)`` serves, in a thread of the calling process:

* ``GET /api/0/`` -> 200 ``{"version": "0", ...}`` (health check, no auth)
* ``GET /api/0/projects/{org}/{project}/issues/`` with ``Authorization: Bearer <token>``
  (401 ``{"detail": "Invalid token"}`` without it; 404 ``{"detail": "The requested resource does not exist"}``
  for another org or project). Query parameters as Sentry's:
  ``query`` (absent = ``is:unresolved``; ``""`` = every issue; tokens ``is:unresolved|resolved|ignored``,
  ``level:<level>``, other ``key:value`` tokens are accepted and ignored, bare words must appear in the title or
  culprit), ``statsPeriod`` (``24h`` default, ``14d``, ``""``; anything else 400), ``sort``
  (``date`` default = lastSeen, ``freq`` = count, ``new`` = firstSeen, newest/largest first; anything else 400),
  ``limit`` (1..100, default 100) and ``cursor`` (``0:<offset>:<is_prev>``), with a ``Link`` header like
  Sentry's: ``<url>; rel="previous"; results="false"; cursor="0:0:1", <url>; rel="next"; results="true";
  cursor="0:25:0"``.
* ``GET /api/0/issues/{id}/`` -> one issue (same auth).

Issues come from ``scenario["sentry"]["issues"]``; each entry::

    title: "KAFKAS-MGMT-9: Unspecified error"   # required
    culprit: "handlers.handleError"             # default ""
    level: error                                # fatal | error | warning | info | debug (default error)
    count: 42                                   # events (default 1); served as a string, like Sentry
    user_count: 0                               # default 0
    first_seen_minutes: 60                      # before the scenario's now (default 60)
    last_seen_minutes: 1                        # before now (default 0)
    status: unresolved                          # unresolved | resolved | ignored (default unresolved)
    type: "*errors.errorString"                 # metadata.type (default *errors.errorString)
    value: "..."                                # metadata.value (default: the title)

Issue ids and short ids (``KAS-FLEET-MANAGER-1A``, Sentry's base32) are stable per scenario.

Projects: one (``project``) with ``load_scenario``; ``load_projects({slug: scenario})`` serves one per fleet
environment of a multi-environment lab (``kas-fleet-manager-env01`` ...), each with its scenario's issues.

Faults (``fleet_lab.faults``, component ``sentry``): ``status`` answers ``{"detail": ...}`` with the code,
``stall``/``hang`` hold a request, ``refuse`` resets connections; ``path`` matches e.g. ``/api/0/projects/``.
"""
import datetime
import hashlib
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fleet_lab.faults import STATUS_PHRASES, FaultHandlerMixin
from fleet_lab.httpservice import LoopbackService

LEVELS = ("fatal", "error", "warning", "info", "debug")
STATUSES = ("unresolved", "resolved", "ignored")
SORTS = {"date": "lastSeen", "freq": "count", "new": "firstSeen"}
PERIODS = ("24h", "14d", "")
_SHORT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NOT_FOUND = {"detail": "The requested resource does not exist"}


def _iso(ts):
    """ISO 8601 in UTC with a Z, as Sentry writes firstSeen/lastSeen."""
    return ts.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(n):
    out = ""
    while True:
        n, r = divmod(n, 32)
        out = _SHORT_ALPHABET[r] + out
        if not n:
            return out


class SentryServer(LoopbackService):
    def __init__(self, host="127.0.0.1", port=0, token="", org="app-sre", project="kas-fleet-manager", faults=None):
        self.token = token
        self.org = org
        self.project = project
        self.issues = []  # dicts with internal "_first"/"_last" datetimes, of every project
        self.projects = {project: []}  # project slug -> its issues
        self.now = None
        LoopbackService.__init__(self, "sentry", _handler(self), host, port, faults=faults)

    def load_scenario(self, scenario, now):
        """Replace the issues with the scenario's (see the module doc for the entry format)."""
        self.load_projects({self.project: scenario}, now)

    def load_projects(self, projects, now):
        """Replace every project's issues: ``{project slug: scenario}`` (a multi-environment lab has a project per
        environment, each with its scenario's issues; issue ids differ between projects)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=datetime.timezone.utc)
        loaded = {}
        for n, (project, scenario) in enumerate(projects.items()):
            loaded[project] = self._issues(scenario, now, project, n)
        with self.lock:
            self.projects = loaded
            self.issues = [issue for issues in loaded.values() for issue in issues]
            self.now = now

    def _issues(self, scenario, now, project, n):
        entries = ((scenario or {}).get("sentry") or {}).get("issues") or []
        suffix = ((scenario or {}).get("lab_environment") or {}).get("suffix")
        key = ((scenario or {}).get("name") or "") + ("/" + suffix if suffix else "")
        seed = int(hashlib.sha256(key.encode()).hexdigest()[:6], 16)
        issues = []
        for i, entry in enumerate(entries):
            if not entry.get("title"):
                raise ValueError("sentry.issues[%d]: title is required" % i)
            level = entry.get("level", "error")
            status = entry.get("status", "unresolved")
            if level not in LEVELS:
                raise ValueError("sentry.issues[%d].level %r is not one of %s" % (i, level, ", ".join(LEVELS)))
            if status not in STATUSES:
                raise ValueError("sentry.issues[%d].status %r is not one of %s" % (i, status, ", ".join(STATUSES)))
            first = now - datetime.timedelta(minutes=float(entry.get("first_seen_minutes", 60)))
            last = now - datetime.timedelta(minutes=float(entry.get("last_seen_minutes", 0)))
            if last < first:
                last = first
            issue_id = str(4000000000 + seed * 100 + i)
            issues.append({
                "id": issue_id,
                "shortId": "%s-%s" % (project.upper(), _short(40 + seed % 200 + i)),
                "title": entry["title"],
                "culprit": entry.get("culprit", ""),
                "level": level,
                "status": status,
                "statusDetails": {},
                "count": str(int(entry.get("count", 1))),
                "userCount": int(entry.get("user_count", 0)),
                "firstSeen": _iso(first),
                "lastSeen": _iso(last),
                "logger": None,
                "type": "error",
                "metadata": {"type": entry.get("type", "*errors.errorString"),
                             "value": entry.get("value", entry["title"])},
                "numComments": 0,
                "assignedTo": None,
                "isBookmarked": False,
                "isSubscribed": False,
                "isPublic": False,
                "hasSeen": False,
                "shareId": None,
                "annotations": [],
                "platform": "go",
                "project": {"id": str(8 + n), "name": project, "slug": project, "platform": "go"},
                "_first": first,
                "_last": last,
            })
        return issues

    # -- the API ---------------------------------------------------------------------------------------------
    def public(self, issue, period, base_url):
        out = {k: v for k, v in issue.items() if not k.startswith("_")}
        out["permalink"] = "%s/organizations/%s/issues/%s/" % (base_url, self.org, issue["id"])
        if period:
            out["stats"] = {period: self._stats(issue, period)}
        return out

    def _stats(self, issue, period):
        """Event counts per hour (24h) or per day (14d), spread evenly between firstSeen and lastSeen."""
        now = self.now or datetime.datetime.now(datetime.timezone.utc)
        size, n = (3600, 24) if period == "24h" else (86400, 14)
        end = int(now.timestamp()) // size * size
        first, last = issue["_first"].timestamp(), issue["_last"].timestamp()
        span = max(last - first, 1.0)
        count = int(issue["count"])
        buckets = []
        for k in range(n - 1, -1, -1):
            lo = end - k * size
            hi = lo + size
            overlap = max(0.0, min(hi, last + 1) - max(lo, first))
            buckets.append([lo, int(round(count * overlap / (span + 1)))])
        return buckets

    def list_issues(self, params, project=None):
        """-> (status code, body, extra headers) for the issues endpoint of ``project`` (default: the first)."""
        query = params.get("query")
        query = "is:unresolved" if query is None else query
        period = params.get("statsPeriod", "24h")
        if period not in PERIODS:
            return 400, {"detail": "Invalid stats_period. Valid choices are '', '24h', and '14d'"}, {}
        sort = params.get("sort", "date") or "date"
        if sort not in SORTS:
            return 400, {"detail": "Invalid sort: %s" % sort}, {}
        try:
            limit = int(params.get("limit", 100))
        except ValueError:
            return 400, {"detail": "Invalid limit"}, {}
        limit = max(1, min(limit, 100))
        try:
            offset = int((params.get("cursor") or "0:0:0").split(":")[1])
        except (IndexError, ValueError):
            return 400, {"detail": "Invalid cursor parameter."}, {}
        with self.lock:
            issues = [i for i in self.projects.get(project or self.project, []) if _matches(i, query)]
        key = SORTS[sort]
        if key == "count":
            issues.sort(key=lambda i: (int(i["count"]), i["_last"]), reverse=True)
        else:
            issues.sort(key=lambda i: i["_last"] if key == "lastSeen" else i["_first"], reverse=True)
        page = issues[offset:offset + limit]
        return 200, page, {"_offset": offset, "_limit": limit, "_more": offset + limit < len(issues),
                           "_period": period}


def _matches(issue, query):
    for token in query.split():
        if ":" in token:
            key, _sep, value = token.partition(":")
            negate = key.startswith("!")
            key = key.lstrip("!")
            if key == "is":
                if value in STATUSES:
                    hit = issue["status"] == value
                else:
                    continue  # is:assigned, is:unassigned ... not modelled: no filter
            elif key == "level":
                hit = issue["level"] == value
            else:
                continue  # environment:, release: ... accepted, not modelled
            if hit == negate:
                return False
        else:
            word = token.strip('"').lower()
            if word not in issue["title"].lower() and word not in issue["culprit"].lower():
                return False
    return True


def _handler(server):
    class Handler(FaultHandlerMixin, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def log_message(self, fmt, *args):
            pass

        def fault_body(self, fault):
            code = fault["code"]
            return "application/json", json.dumps({"detail": "%s (fleet-lab fault #%s)" % (
                STATUS_PHRASES.get(code, "Error"), fault["id"])}).encode()

        def _reply(self, code, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _base(self):
            host = self.headers.get("Host") or "%s:%d" % server.httpd.server_address[:2]
            return "http://%s" % host

        def _authorized(self):
            auth = self.headers.get("Authorization") or ""
            scheme, _sep, token = auth.partition(" ")
            return scheme.lower() == "bearer" and server.token and token.strip() == server.token

        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            path = parsed.path if parsed.path.endswith("/") else parsed.path + "/"
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
            if path == "/api/0/":
                return self._reply(200, {"version": "0", "auth": None, "user": None})
            parts = path.strip("/").split("/")
            if parts[:2] != ["api", "0"]:
                return self._reply(404, NOT_FOUND)
            if not self._authorized():
                return self._reply(401, {"detail": "Invalid token"})
            if len(parts) == 6 and parts[2] == "projects" and parts[5] == "issues":
                if parts[3] != server.org or parts[4] not in server.projects:
                    return self._reply(404, NOT_FOUND)
                code, body, meta = server.list_issues(params, parts[4])
                if code != 200:
                    return self._reply(code, body)
                base = self._base()
                page = [server.public(i, meta["_period"], base) for i in body]
                return self._reply(200, page, {"Link": self._link(base + parsed.path, params, meta)})
            if len(parts) == 4 and parts[2] == "issues":
                with server.lock:
                    issue = next((i for i in server.issues if i["id"] == parts[3]), None)
                if issue is None:
                    return self._reply(404, NOT_FOUND)
                return self._reply(200, server.public(issue, "24h", self._base()))
            return self._reply(404, NOT_FOUND)

        def _link(self, url, params, meta):
            offset, limit = meta["_offset"], meta["_limit"]

            def one(rel, cursor, results):
                query = dict(params, cursor=cursor)
                return '<%s?%s>; rel="%s"; results="%s"; cursor="%s"' % (
                    url, urllib.parse.urlencode(query), rel, "true" if results else "false", cursor)
            prev_cursor = "0:%d:1" % max(0, offset - limit)
            next_cursor = "0:%d:0" % (offset + limit)
            return "%s, %s" % (one("previous", prev_cursor, offset > 0), one("next", next_cursor, meta["_more"]))

        def do_POST(self):
            self._reply(405, {"detail": 'Method "POST" not allowed.'})

    return Handler
