"""Pod logs, generated lazily and deterministically (same pod, same request, same bytes).

A container log is a few "special" lines (startup, leader election, errors, the scenario's literal lines)
merged by timestamp with ``N`` noise lines whose content and timestamp are a pure function of their index.
Any line can therefore be reached without producing the ones before it, so ``tailLines``, ``sinceSeconds``
and ``limitBytes`` are exact and cheap even for a 50 MB log, and nothing is ever held in memory whole:
``ContainerLog.stream`` yields ~64 KiB chunks.
"""
import bisect
import datetime
import hashlib
import time

from fleet_lab import logformat

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
US = 1000000
MASK = (1 << 64) - 1


def to_us(dt):
    return (dt - EPOCH) // datetime.timedelta(microseconds=1)


def from_us(us):
    return EPOCH + datetime.timedelta(microseconds=us)


def _seed(*parts):
    return int.from_bytes(hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()[:8], "big")


def mix(x):
    """splitmix64: a cheap, well-spread hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


_XID = "0123456789abcdefghijklmnopqrstuv"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def xid(n):
    """A 20-character xid-looking id ([0-9a-v]) from an integer."""
    out = []
    n = mix(n) | (mix(n + 1) << 64)
    for _ in range(20):
        n, r = divmod(n, 32)
        out.append(_XID[r])
    return "c" + "".join(out[1:])


def _b62(n, length):
    out = []
    n = mix(n) | (mix(n ^ 0x5555) << 64) | (mix(n ^ 0xaaaa) << 128)
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(out)


class _Clock(object):
    """Formats glog headers and RFC 3339 timestamps from epoch microseconds, caching per second."""

    def __init__(self):
        self._sec = None
        self._glog = ""
        self._rfc = ""

    def _load(self, sec):
        tm = time.gmtime(sec)
        self._sec = sec
        self._glog = "%02d%02d %02d:%02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
        self._rfc = "%04d-%02d-%02dT%02d:%02d:%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                                       tm.tm_sec)

    def glog(self, us, severity, source):
        sec, frac = divmod(us, US)
        if sec != self._sec:
            self._load(sec)
        return "%s%s.%06d %7d %s]" % (severity, self._glog, frac, 1, source)

    def rfc3339(self, us):
        """Go's RFC3339Nano as the kubelet prints it (trailing zeros of the fraction trimmed)."""
        sec, frac = divmod(us, US)
        if sec != self._sec:
            self._load(sec)
        if not frac:
            return self._rfc + "Z"
        return "%s.%sZ" % (self._rfc, ("%06d" % frac).rstrip("0"))


def rfc3339(us):
    return _Clock().rfc3339(us)


class ContainerLog(object):
    """One container's log: ``specials`` (list of ``(ts_us, text)``) merged with ``count`` noise lines
    spread over ``[noise_start, noise_end]``; ``noise(i, rnd, clock, ts)`` returns noise line ``i``."""

    def __init__(self, seed, specials, count, noise_start, noise_end, noise):
        self.seed = seed
        self.specials = sorted(specials, key=lambda s: s[0])
        self.count = max(0, int(count))
        self.n0 = noise_start
        self.span = max(0, noise_end - noise_start)
        self.step = self.span // self.count if self.count else 0
        self.noise = noise
        self._sts = [s[0] for s in self.specials]
        self._pos = [self._first_noise_at(ts) for ts in self._sts]
        self._gidx = [p + j for j, p in enumerate(self._pos)]

    @property
    def total(self):
        return self.count + len(self.specials)

    def noise_ts(self, i):
        jitter = mix(self.seed ^ (i * 2654435761)) % self.step if self.step > 1 else 0
        return self.n0 + (i * self.span) // self.count + jitter

    def _first_noise_at(self, ts):
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.noise_ts(mid) < ts:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def index_since(self, ts):
        """Global index of the first line whose timestamp is >= ``ts``."""
        return self._first_noise_at(ts) + bisect.bisect_left(self._sts, ts)

    def lines(self, start=0):
        """Yield ``(ts_us, text)`` from global line ``start`` on."""
        j = bisect.bisect_left(self._gidx, start)
        i = start - j
        k = len(self.specials)
        clock = _Clock()
        pos, specials, count, seed = self._pos, self.specials, self.count, self.seed
        while i < count or j < k:
            if j < k and (i >= count or pos[j] <= i):
                yield specials[j]
                j += 1
            else:
                ts = self.noise_ts(i)
                yield ts, self.noise(i, mix(seed + i), clock, ts)
                i += 1

    def stream(self, tail=None, since_us=None, limit=None, timestamps=False, chunk=65536):
        """Yield the log as bytes chunks, with kubelet semantics: tail first, then since, then limitBytes."""
        start = 0
        if tail is not None and tail >= 0:
            start = max(0, self.total - tail)
        if since_us is not None:
            start = max(start, self.index_since(since_us))
        if limit is not None and limit <= 0:
            return
        sent = 0
        buf = []
        size = 0
        clock = _Clock()
        for ts, text in self.lines(start):
            if timestamps:
                buf.append(clock.rfc3339(ts))
                buf.append(" ")
            buf.append(text)
            buf.append("\n")
            size += len(text) + 40
            if size >= chunk:
                data = "".join(buf).encode("utf-8", "replace")
                buf, size = [], 0
                if limit is not None and sent + len(data) >= limit:
                    yield data[:limit - sent]
                    return
                sent += len(data)
                yield data
        if buf:
            data = "".join(buf).encode("utf-8", "replace")
            if limit is not None and sent + len(data) > limit:
                data = data[:limit - sent]
            if data:
                yield data

    def text(self, **kwargs):
        """The whole (filtered) log as a string: for tests and small logs only."""
        return b"".join(self.stream(**kwargs)).decode()


# --- what the fleet manager's containers log --------------------------------------------------------------


def _service_noise(worker_ids):
    templates = logformat.NOISE_TEMPLATES
    nt = len(templates)
    wids = worker_ids or ["00000000-0000-0000-0000-000000000000"]
    nw = len(wids)

    def noise(i, rnd, clock, ts):
        source, template = templates[rnd % nt]
        msg = template.format(opid=_b62(rnd, 27), wid=wids[(rnd >> 8) % nw])
        return clock.glog(ts, "I", source) + " " + msg

    return noise


_ENVOY_PATHS = ("/api/kafkas_mgmt/v1/kafkas", "/api/kafkas_mgmt/v1/kafkas?page=1&size=100",
                "/api/kafkas_mgmt/v1/cloud_providers", "/api/kafkas_mgmt/v1/agent-clusters/{id}/status",
                "/api/kafkas_mgmt/v1/kafkas/{id}", "/api/kafkas_mgmt")


def _envoy_noise(i, rnd, clock, ts):
    path = _ENVOY_PATHS[rnd % len(_ENVOY_PATHS)].replace("{id}", xid(rnd))
    code = 200 if (rnd >> 8) % 50 else 204
    rid = "%08x-%04x-4%03x-%04x-%012x" % (rnd & 0xffffffff, (rnd >> 32) & 0xffff, (rnd >> 20) & 0xfff,
                                         0x8000 | ((rnd >> 40) & 0x3fff), mix(rnd) & 0xffffffffffff)
    dur = 3 + (rnd >> 16) % 40
    return ('[%s] "GET %s HTTP/1.1" %d - 0 %d %d %d "10.128.%d.%d" "ocm-sdk-go/0.1.390" "%s" '
            '"kas-fleet-manager:9001" "127.0.0.1:8000"') % (
        clock.rfc3339(ts - ts % 1000)[:-1] + "Z", path, code, 200 + (rnd >> 24) % 4000, dur, dur - 1,
        (rnd >> 12) % 4, 1 + (rnd >> 28) % 250, rid)


def _noise_count(noise, seed, target_bytes, clock_ts):
    """How many noise lines make about ``target_bytes`` (from a deterministic sample of line lengths)."""
    if target_bytes <= 0:
        return 0
    clock = _Clock()
    sample = [len(noise(i, mix(seed + i), clock, clock_ts)) + 1 for i in range(64)]
    return max(1, int(target_bytes / (sum(sample) / len(sample))))


STARTUP = (
    ("environment.go:89", "Initializing {env} environment"),
    ("sentry.go:61", "Sentry error reporting enabled to sentry.autom8.in on project 8"),
    ("db_session.go:71", "Connecting to database with sslmode disable"),
    ("api_server.go:183", "Serving with TLS at :8000"),
    ("metrics_server.go:61", "Serving Metrics without TLS at :8080"),
    ("healthcheck_server.go:79", "Serving HealthCheck with TLS at :8083"),
    ("leader_election_mgr.go:42", "Starting LeaderElectionManager"),
)

FATAL = {
    "manager_api": "panic: runtime error: invalid memory address or nil pointer dereference",
    "database": "failed to connect to the database: dial tcp 10.0.45.3:5432: connect: connection refused",
    "ocm": "unable to create OCM connection: context deadline exceeded",
    "kafka": "unable to start workers: no ManagedKafka status from kas-fleetshard-operator: context deadline exceeded",
}


def service_log(pod_name, profile, start, end, volume_bytes, with_errors=True, previous=False, environment="stage"):
    """The ``service`` container log of one container instance running from ``start`` to ``end`` (us).

    ``profile`` holds the scenario's pod keys (leads, lost, worker_prefix, errors, log_lines,
    previous_log_lines, state) and ``rows``, the database rows its workers reconcile (scenario.py): error lines of
    a fitting category name them, the others get INFO lines (logformat.row_info). ``previous=True`` builds the
    instance before the last restart: it ends with ``previous_log_lines`` and a fatal line.
    """
    seed = _seed(pod_name, "service", "previous" if previous else "current", start)
    specials = []
    t = start
    for source, msg in STARTUP:
        specials.append((t, logformat.line(from_us(t), msg.format(env=environment), source=source)))
        t += 1000 + mix(seed + t) % 4000
    prefix = profile.get("worker_prefix", "current")
    leads = list(profile.get("leads") or [])
    lost = [w for w in (profile.get("lost") or []) if w in leads]
    wids = {w: logformat.worker_uuid(pod_name, w) for w in leads}
    t = start + 2 * US
    for w in leads:
        wtype = logformat.worker_type(w, prefix)
        specials.append((t, logformat.leader_started(from_us(t), wtype, wids[w])))
        specials.append((t + 300, logformat.line(from_us(t + 300), "Initial reconciliation loop for %s [%s]"
                                                 % (wtype, wids[w]), source="reconciler.go:54")))
        t += 1000 + mix(seed ^ t) % 9000
    span = max(0, end - start)
    # Errors live in the last 30 minutes (or the last half of a short-lived container).
    err_window = min(30 * 60 * US, span // 2)
    err_start = end - err_window
    if lost:
        t_lost = err_start - 15 * 60 * US if span > 90 * 60 * US else start + span // 3
        for n, w in enumerate(lost):
            wtype = logformat.worker_type(w, prefix)
            ts = t_lost + n * 2000
            specials.append((ts, logformat.leader_stopped(from_us(ts), wtype, wids[w])))
            specials.append((ts + 500, logformat.line(from_us(ts + 500), "Stopping reconciliation loop for %s [%s]"
                                                      % (wtype, wids[w]), source="reconciler.go:73")))
    errors = [(cat, n) for cat, n in sorted((profile.get("errors") or {}).items()) if n] if with_errors else []
    total_errors = sum(n for _, n in errors)
    rows = [] if previous else list(profile.get("rows") or [])
    named = set()  # ids of rows an error line names
    if total_errors:
        slot = max(1, (err_window - 2 * US) // total_errors)
        k = 0
        for cat, n in errors:
            templates = logformat.ERROR_TEMPLATES[cat]
            by_line = _row_error_lines(cat, n, len(templates), rows)
            for m in range(n):
                source, template = templates[m % len(templates)]
                ts = err_start + k * slot + mix(seed ^ (k + 77)) % max(1, slot // 2)
                row = by_line.get(m)
                if row is not None:
                    source, msg = logformat.row_error(cat, m % len(templates), source, template, row)
                    named.add(row["id"])
                else:
                    msg = template.replace("{id}", xid(seed + k))
                specials.append((ts, logformat.line(from_us(ts), msg, severity="E", source=source)))
                k += 1
    tail_lines = list(profile.get("previous_log_lines") or []) if previous else list(profile.get("log_lines") or [])
    n_tail = len(tail_lines) + (1 if previous else 0)
    tail_ts = end - n_tail * 1000
    # INFO lines about the rows no error line names (and every failed row's failure), spread over the error window
    infos = [logformat.row_info(row) for row in rows if row["status"] == "failed" or row["id"] not in named]
    if infos:
        lo, hi = err_start + 1000, max(err_start + 1000, tail_ts - 2000)
        step = max(1, (hi - lo) // len(infos))
        for j, (source, msg) in enumerate(infos):
            ts = min(hi, lo + j * step + mix(seed ^ (j + 991)) % max(1, step // 2))
            specials.append((ts, logformat.line(from_us(ts), msg, source=source)))
    for n, text in enumerate(tail_lines):
        specials.append((tail_ts + n * 1000, text))
    if previous:
        cause = next((FATAL[c] for c, _ in errors if c in FATAL), "error running server: exit status 1")
        ts = end - 1000
        specials.append((ts, logformat.line(from_us(ts), cause, severity="F", source="main.go:51")))
    worker_ids = [logformat.worker_uuid(pod_name, w) for w in sorted(logformat.WORKERS)]
    noise = _service_noise(worker_ids)
    used = sum(len(s[1]) + 1 for s in specials)
    count = _noise_count(noise, seed, volume_bytes - used, start)
    noise_start = start + 3 * US if span > 6 * US else start + span // 2
    noise_end = max(noise_start, tail_ts - 2000)
    return ContainerLog(seed, specials, count, noise_start, noise_end, noise)


def _row_error_lines(category, n, n_templates, rows):
    """{error line index: row} for the ``n`` error lines of ``category`` (template ``m % n_templates``): each line
    whose template fits a row's status names such a row, the rows taking turns (logformat.ROW_ERROR_TEMPLATES)."""
    fits = logformat.ROW_ERROR_TEMPLATES.get(category)
    if not fits or not rows:
        return {}
    table = logformat.ROW_CATEGORY_TABLE[category]
    out = {}
    for t, statuses in sorted(fits.items()):
        candidates = [r for r in rows if r["table"] == table and r["status"] in statuses]
        if not candidates:
            continue
        for j, m in enumerate(m for m in range(n) if m % n_templates == t):
            out[m] = candidates[j % len(candidates)]
    return out


def envoy_log(pod_name, start, end, volume_bytes):
    seed = _seed(pod_name, "envoy-sidecar", start)
    count = _noise_count(_envoy_noise, seed, volume_bytes, start)
    return ContainerLog(seed, [], count, start + US if end - start > 2 * US else start, end, _envoy_noise)
