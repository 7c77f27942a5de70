"""Prometheus with the fleet manager's metric history: the real ``/usr/bin/prometheus``, backfilled per scenario
with ``promtool tsdb create-blocks-from openmetrics``.

Layout under ``state_dir/prometheus``: ``data/`` (TSDB), ``prometheus.yml`` (``scrape_configs: []``: nothing is
scraped, every sample is backfilled), ``metrics.om.0``/``.1`` (the OpenMetrics input in two halves, removed once
built), ``prometheus.log`` and ``prom.json`` (port, PID). The server listens on 127.0.0.1 only, keeps 30 days
and runs in its own session, so it outlives the process that started it; ``stop(state_dir)`` ends it by its PID.

History: samples every ``STEP`` (30 s) from ``now - metrics.history_hours`` to ``now + 3 h``. Prometheus serves
blocks with future timestamps, so queries at the wall-clock "now" keep working for 3 hours after the scenario
was loaded. With ``metrics.incident_minutes`` the scenario's figures hold from ``now - incident_minutes`` on and
the healthy ``scenario.DEFAULTS["metrics"]`` before (every pod running then), so 5 m and 6 h windows differ.

Series (upstream names; fleet-manager series carry job="kas-fleet-manager-metrics", namespace, pod, instance):

* ``api_inbound_request_count{code,method,path}`` and ``api_inbound_request_duration_bucket|_sum|_count``
  (le 0.1 1 2 5 10 30 +Inf) from the pods that serve traffic (state running), ``request_rate`` split evenly;
  ``error_ratio`` of the requests are 5xx; ``latency_under_100ms`` / ``latency_under_1s`` of the non-5xx
  requests fall in le=0.1 / le=1.
* ``haproxy_backend_http_responses_total{route="kas-fleet-manager",exported_namespace,code=2xx|4xx|5xx}`` from
  the router (present even when no pod runs).
* ``up``: 1 for pods whose process runs (running, not_ready), 0 for crashloop, absent for pending/image_pull;
  0 (absent for pending/image_pull) for every pod when ``metrics.up`` is false, and then no other fleet-manager
  series either.
* ``kas_fleet_manager_leader_worker{worker_type}`` 1/0 per pod and lease type (``leads`` minus ``lost``).
* ``kas_fleet_manager_worker_kafka_duration_bucket{jobType="kafka_create"}`` shaped so that histogram_quantile(0.9)
  is ``kafka_create_seconds_p90`` (upstream buckets; a p90 beyond 7200 s reads as 7200), likewise
  ``worker_cluster_duration`` with ``cluster_create_seconds_p90``; ``kafka_operations_success_count`` /
  ``_total_count{operation=create|delete}`` and ``cluster_operations_*`` per the success ratios. These come from
  one serving pod.
* ``kas_fleet_manager_kafka_requests_status_count{status}`` / ``cluster_status_count{status}`` from the leader pod
  of general_kafka_worker / cluster (absent when nobody leads), counting the database section's live rows
  from ``now - idle_minutes`` on.
* ``container_cpu_usage_seconds_total`` (rate = ``cpu_usage_cores``), ``container_memory_working_set_bytes``,
  ``kube_pod_container_resource_limits`` (cpu 1 core, memory 1 GiB) and ``kube_pod_container_status_restarts_total``
  (a crash-looping pod's restarts accrue over the incident) for container="service".
* ``container_fs_reads_bytes_total`` / ``container_fs_writes_bytes_total`` and the operation counts
  ``container_fs_reads_total`` / ``container_fs_writes_total`` (device="/dev/nvme0n1") for container="service",
  at the ``fs_*_per_second`` rates.
* ``container_network_receive|transmit_bytes_total``, ``_errors_total`` and ``_packets_dropped_total`` per pod,
  as the kubelet reports them: for the pod sandbox (container="POD", interface="eth0"), at the
  ``network_*_per_second`` rates; 0 for a pod whose image does not pull, absent for a pending pod.

With ``metrics.available: false`` Prometheus runs with an empty database.

Environments: given the N copies of a scenario a multi-environment lab serves (``scenario.load_environments``),
the first environment's history is built with promtool and every block's index is rewritten to hold each series
once per environment, with that environment's namespace, pod names and the labels derived from them
(``fleet_lab.tsdb``): the samples are the same (one scenario), the series distinct, and N environments cost about
what one does.
"""
import datetime
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

from fleet_lab.state import alive, free_port, read_json, write_json
from fleet_lab import logformat
from fleet_lab import scenario as scenario_mod
from fleet_lab import tsdb

STEP = 30
FUTURE_SECONDS = 3 * 3600
HOST = "127.0.0.1"
JOB = "kas-fleet-manager-metrics"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"

API_BUCKETS = ("0.1", "1", "2", "5", "10", "30")
KAFKA_BUCKETS = (1, 30, 60, 120, 150, 180, 210, 240, 270, 300, 330, 360, 390, 420, 450, 480, 510, 540, 570, 600,
                 900, 1200, 1800, 2400, 3600, 4800, 7200)
CLUSTER_BUCKETS = (1800, 2400, 3600, 4800, 7200, 10800)
# (method, path, code, share of the non-5xx requests)
API_OK = (("GET", "/api/kafkas_mgmt/v1/kafkas", "200", 0.40),
          ("GET", "/api/kafkas_mgmt/v1/kafkas/-", "200", 0.30),
          ("GET", "/api/kafkas_mgmt/v1/agent-clusters/-/kafkas", "200", 0.20),
          ("POST", "/api/kafkas_mgmt/v1/kafkas", "202", 0.05),
          ("GET", "/api/kafkas_mgmt/v1/kafkas/-", "404", 0.05))
# (method, path, code, share of the 5xx requests)
API_5XX = (("GET", "/api/kafkas_mgmt/v1/kafkas", "503", 0.7),
           ("POST", "/api/kafkas_mgmt/v1/kafkas", "500", 0.3))
SHARE_4XX = sum(share for _m, _p, code, share in API_OK if code.startswith("4"))
KAFKA_CREATES_PER_HOUR = 30.0
KAFKA_DELETES_PER_HOUR = 20.0
CLUSTER_CREATES_PER_HOUR = 2.0
CLUSTER_DELETES_PER_HOUR = 1.0
KAFKA_STATUSES = ("accepted", "preparing", "provisioning", "resuming", "ready", "deprovision", "deleting",
                  "suspending", "suspended", "failed")
CLUSTER_STATUSES = ("cluster_accepted", "cluster_provisioning", "cluster_provisioned",
                    "waiting_for_kas_fleetshard_operator", "ready", "deprovisioning", "cleanup", "failed")
ACTIVE_LEASES = tuple(sorted({lease for _c, _l, lease in logformat.WORKERS.values()}))
ROUTER_POD = "router-default-7d9c6b8f4-x2k8p"
# (cAdvisor counter, scenario key of its per-second rate)
NETWORK_SERIES = (("container_network_receive_bytes_total", "network_receive_bytes_per_second"),
                  ("container_network_transmit_bytes_total", "network_transmit_bytes_per_second"),
                  ("container_network_receive_errors_total", "network_receive_errors_per_second"),
                  ("container_network_transmit_errors_total", "network_transmit_errors_per_second"),
                  ("container_network_receive_packets_dropped_total", "network_receive_drops_per_second"),
                  ("container_network_transmit_packets_dropped_total", "network_transmit_drops_per_second"))
FS_SERIES = (("container_fs_reads_bytes_total", "fs_read_bytes_per_second"),
             ("container_fs_writes_bytes_total", "fs_write_bytes_per_second"),
             ("container_fs_reads_total", "fs_reads_per_second"),
             ("container_fs_writes_total", "fs_writes_per_second"))
FS_DEVICE = "/dev/nvme0n1"
MEMORY_LIMIT = 1024 ** 3


class PrometheusError(RuntimeError):
    """The lab Prometheus cannot be built or started; the message says why."""


def _paths(state_dir):
    base = os.path.join(os.path.abspath(state_dir), "prometheus")
    return {"base": base, "data": os.path.join(base, "data"), "config": os.path.join(base, "prometheus.yml"),
            "om": os.path.join(base, "metrics.om"), "log": os.path.join(base, "prometheus.log"),
            "info": os.path.join(base, "prom.json")}


def _is_ours(pid, data_dir):
    """True if ``pid`` is a prometheus serving ``data_dir`` (so a recycled PID is never killed)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            args = handle.read().split(b"\0")
    except OSError:
        return False
    return bool(args) and os.path.basename(args[0]) == b"prometheus" and \
        ("--storage.tsdb.path=%s" % data_dir).encode() in args


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _port_free(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


class Prometheus(object):
    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)
        self.paths = _paths(self.state_dir)
        missing = [path for path in (PROMETHEUS, PROMTOOL) if not os.access(path, os.X_OK)]
        self.available = not missing
        self.reason = None if self.available else "not installed: %s (apt-get install prometheus)" % ", ".join(missing)

    def _require(self):
        if not self.available:
            raise PrometheusError(self.reason)

    def running(self):
        info = read_json(self.paths["info"]) or {}
        pid = info.get("pid")
        return alive(pid) and _is_ours(pid, self.paths["data"])

    # -- data ----------------------------------------------------------------------------------------------
    def build(self, scenario, now, data_dir):
        """Write the scenario's OpenMetrics and build TSDB blocks into ``data_dir`` (created fresh). ``scenario``
        may be the list of a multi-environment lab's copies: the first is built, the rest are relabelled copies
        of its series (see the module doc).

        The history is cut in two halves by time; promtool builds the first while the second is rendered
        (two cores), giving blocks that do not overlap."""
        self._require()
        scenarios = list(scenario) if isinstance(scenario, (list, tuple)) else [scenario]
        scenario = scenarios[0]
        os.makedirs(self.paths["base"], exist_ok=True)
        if os.path.exists(data_dir):
            shutil.rmtree(data_dir)
        os.makedirs(data_dir)
        writer = history(scenario, now)
        if writer is None:
            return
        mid = len(writer.times) // 2
        procs = []
        try:
            for part, (k_lo, k_hi) in enumerate(((0, mid), (mid, len(writer.times)))):
                path = "%s.%d" % (self.paths["om"], part)
                with open(path, "w") as handle:
                    handle.write(writer.text(k_lo, k_hi))
                procs.append(subprocess.Popen(
                    [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet", "--max-block-duration=54h",
                     path, data_dir], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE))
            for proc in procs:
                _out, err = proc.communicate(timeout=120)
                if proc.returncode != 0:
                    raise PrometheusError("promtool create-blocks-from openmetrics failed (input kept in %s.*): %s"
                                          % (self.paths["om"], err.decode(errors="replace").strip()[-2000:]))
            for part in range(2):  # ~90 MB: keep them only when promtool failed
                os.unlink("%s.%d" % (self.paths["om"], part))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if len(scenarios) > 1:
            relabels = [lambda labels: labels] + [environment_relabel(scenario, other) for other in scenarios[1:]]
            for block in tsdb.blocks(data_dir):
                tsdb.multiply_block(block, relabels)

    def load_scenario(self, scenario, now):
        """Replace the TSDB with the scenario's history (Prometheus must not be running: use switch()); a list of
        scenarios: each environment's."""
        if self.running():
            raise PrometheusError("Prometheus is running on this data: use switch()")
        self.build(scenario, now, self.paths["data"])

    def start(self, port=None):
        """Start Prometheus (on ``port``, else the port of the last run, else a free one); wait for /-/ready."""
        self._require()
        p = self.paths
        info = read_json(p["info"]) or {}
        if self.running():
            return {"url": info["url"], "pid": info["pid"]}
        if not os.path.isdir(p["data"]):
            raise PrometheusError("no data: load_scenario() first")
        port = port or info.get("port")
        if not port or not _port_free(port):
            port = free_port(HOST)
        with open(p["config"], "w") as handle:
            handle.write("# fleet_lab: nothing is scraped; the history is backfilled with promtool\n"
                         "global:\n  scrape_interval: 30s\n  evaluation_interval: 30s\nscrape_configs: []\n")
        log = open(p["log"], "ab")
        try:
            proc = subprocess.Popen(
                [PROMETHEUS, "--config.file=%s" % p["config"], "--storage.tsdb.path=%s" % p["data"],
                 "--web.listen-address=%s:%d" % (HOST, port), "--storage.tsdb.retention.time=30d",
                 "--log.level=warn"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=p["base"], start_new_session=True,
                close_fds=True)
        finally:
            log.close()
        url = "http://%s:%d" % (HOST, port)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise PrometheusError("prometheus exited with %s: %s" % (proc.returncode, _tail(p["log"])))
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                proc.kill()
                raise PrometheusError("prometheus not ready within 20 s: %s" % _tail(p["log"]))
            time.sleep(0.02)
        write_json(p["info"], {"url": url, "port": port, "pid": proc.pid})
        return {"url": url, "pid": proc.pid}

    def switch(self, scenario, now):
        """Rebuild the history for another scenario (or environments' scenarios) and restart on the same port."""
        self._require()
        info = read_json(self.paths["info"]) or {}
        fresh = self.paths["data"] + ".new"
        self.build(scenario, now, fresh)  # while the old one still serves
        stop(self.state_dir)
        shutil.rmtree(self.paths["data"], ignore_errors=True)
        os.rename(fresh, self.paths["data"])
        return self.start(port=info.get("port"))


def stop(state_dir, timeout=10):
    """Stop the Prometheus started for ``state_dir`` (SIGTERM, then SIGKILL). True if none is left."""
    p = _paths(state_dir)
    info = read_json(p["info"]) or {}
    pid = info.get("pid")
    if not alive(pid) or not _is_ours(pid, p["data"]):
        if pid:
            _reap(pid)
        return True
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not alive(pid):
            return True
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _reap(pid)
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def _tail(path, n=2000):
    try:
        with open(path, errors="replace") as handle:
            return handle.read()[-n:].strip()
    except OSError:
        return ""


# -- the history -------------------------------------------------------------------------------------------
def _labels(**labels):
    return ",".join('%s="%s"' % (k, str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
                    for k, v in labels.items())


def _pod_ip(name):
    digest = hashlib.sha256(name.encode()).digest()
    return "10.128.%d.%d" % (digest[0] % 8, 2 + digest[1] % 250)


def _shape(p90, buckets):
    """Cumulative fractions at each finite bucket so that linear interpolation puts the 0.9 quantile at p90,
    and the mean (for _sum)."""
    n = len(buckets)
    p = max(float(p90), 1e-3)
    if p > buckets[-1]:  # beyond the last bucket: 15 % in +Inf, histogram_quantile says buckets[-1]
        cum = [0.85 * (k + 1) / n for k in range(n)]
    else:
        j = next(k for k, b in enumerate(buckets) if p <= b)
        lo = buckets[j - 1] if j else 0.0
        hi = buckets[j]
        f = min(max((p - lo) / (hi - lo), 1e-6), 1.0)
        if j == 0:
            c_lo, c_hi = 0.0, min(1.0, 0.9 / f)
        else:
            m = min(0.5, 0.1 / (1 - f) if f < 1 else 1.0, 0.9 / f)
            c_lo = 0.9 - m * f
            c_hi = c_lo + m
        cum = []
        for k in range(n):
            if k < j:
                cum.append(c_lo * (k + 1) / j)
            elif k == j:
                cum.append(c_hi)
            else:
                cum.append(1.0)
    mean, prev, lower = 0.0, 0.0, 0.0
    for b, c in zip(buckets, cum):
        mean += (c - prev) * (lower + b) / 2.0
        prev, lower = c, b
    mean += (1.0 - prev) * buckets[-1] * 1.5
    return cum, mean


def _api_shape(under_100ms, under_1s):
    """Cumulative fractions at le 0.1 1 2 5 10 30 for non-5xx requests, and the mean duration."""
    p1 = max(0.0, min(1.0, float(under_1s)))
    p01 = max(0.0, min(p1, float(under_100ms)))
    rest = 1.0 - p1
    cum = [p01, p1, p1 + rest * 0.5, p1 + rest * 0.8, p1 + rest * 0.95, 1.0]
    mean = p01 * 0.04 + (p1 - p01) * 0.35 + rest * (0.5 * 1.5 + 0.3 * 3.5 + 0.15 * 7.5 + 0.05 * 20)
    return cum, mean


API_5XX_SHAPE = ([0.3, 0.8, 0.9, 1.0, 1.0, 1.0], 0.3 * 0.05 + 0.5 * 0.5 + 0.1 * 1.5 + 0.1 * 3.5)


class _Phase(object):
    """What holds during one stretch of the history: figures and pod states."""

    def __init__(self, metrics, pods, healthy):
        self.m = metrics
        self.pods = []
        for pod in pods:
            state = "running" if healthy else pod.get("state", "running")
            leads = list(pod.get("leads") or [])
            if not healthy:
                leads = [w for w in leads if w not in (pod.get("lost") or [])]
            self.pods.append({"name": pod["name"], "state": state, "leads": leads,
                              "restarts": pod.get("restarts", 0)})
        up = bool(metrics.get("up", True))
        for pod in self.pods:
            if pod["state"] in ("pending", "image_pull"):
                pod["up"] = None
            elif pod["state"] in ("running", "not_ready"):
                pod["up"] = 1 if up else 0
            else:
                pod["up"] = 0
            pod["scraped"] = pod["up"] == 1
            pod["serving"] = pod["state"] == "running"
            pod["container"] = pod["state"] in ("running", "not_ready", "crashloop")
            # the pod sandbox (its network namespace) runs once the pod is scheduled, even while the image pulls
            pod["sandbox"] = pod["state"] != "pending"
        self.serving = [pod for pod in self.pods if pod["serving"]]
        scraped_serving = [pod for pod in self.serving if pod["scraped"]]
        self.ops_pod = scraped_serving[0]["name"] if scraped_serving else None

    def leader_of(self, lease):
        for pod in self.pods:
            if pod["scraped"] and any(logformat.WORKERS.get(w, (0, 0, None))[2] == lease for w in pod["leads"]):
                return pod["name"]
        return None


def render(scenario, now):
    """The scenario's history as OpenMetrics text (series by series, samples every STEP)."""
    writer = history(scenario, now)
    return writer.text() if writer else "# EOF\n"


def history(scenario, now):
    """A ``_Writer`` holding the scenario's series (None when ``metrics.available`` is false)."""
    metrics = scenario["metrics"]
    if not metrics.get("available", True):
        return None
    healthy_metrics = dict(scenario_mod.DEFAULTS["metrics"])
    if now.tzinfo is None:  # a naive now is UTC
        now = now.replace(tzinfo=datetime.timezone.utc)
    now_s = int(now.timestamp())
    start = (now_s - int(float(metrics.get("history_hours") or 6) * 3600)) // STEP * STEP
    end = now_s + FUTURE_SECONDS
    times = list(range(start, end + 1, STEP))
    incident = metrics.get("incident_minutes")
    t_inc = now_s - int(float(incident) * 60) if incident else start
    pods = scenario.get("pods") or []
    history_pods = pods or _previous_pods(scenario)
    phases = [(t_inc, _Phase(metrics, pods, healthy=False))]
    if t_inc > start:
        phases.insert(0, (start, _Phase(healthy_metrics, history_pods, healthy=True)))
    writer = _Writer(times, phases)
    writer.now = now_s
    ns = scenario["namespace"]
    _api_series(writer, ns)
    _router_series(writer, ns)
    _pod_series(writer, ns)
    _worker_series(writer, ns, scenario, now_s)
    return writer


def environment_relabel(base, other):
    """``relabel(labels) -> labels`` turning a series of environment ``base`` (a loaded scenario) into the same
    series of environment ``other``: its namespace, pod names and what is derived from them (instance, uid, the
    sandbox's name and cgroup id)."""
    exact = {base["namespace"]: other["namespace"]}
    subs = [(base["namespace"], other["namespace"])]
    names = [(a["name"], b["name"]) for a, b in zip(base.get("pods") or [], other.get("pods") or [])]
    names += [(a["name"], b["name"]) for a, b in zip(_previous_pods(base), _previous_pods(other))]
    for a, b in names:
        exact[a] = b
        exact["%s:8080" % _pod_ip(a)] = "%s:8080" % _pod_ip(b)
        exact[_uid(a)] = _uid(b)
        sandbox = [hashlib.sha256(("sandbox/" + n).encode()).hexdigest() for n in (a, b)]
        subs += [(a, b), (_uid(a), _uid(b)), (_uid(a).replace("-", "_"), _uid(b).replace("-", "_")),
                 tuple(sandbox)]

    def relabel(labels):
        out = []
        for name, value in labels:
            if value in exact:
                value = exact[value]
            elif name in ("name", "id"):
                for old, new in subs:
                    value = value.replace(old, new)
            out.append((name, value))
        return out

    return relabel


def _previous_pods(scenario):
    """Pods of the deployment before it lost them (for the healthy history of a scaled-to-zero scenario)."""
    dep = scenario["deployment"]
    suffix = (scenario.get("lab_environment") or {}).get("suffix")
    digest = hashlib.sha256(("previous/" + scenario["name"] + ("/" + suffix if suffix else "")).encode()).hexdigest()
    pods = []
    for i in range(3):
        pod = {"name": "%s-%s-%s" % (dep["name"], scenario_mod._kube_suffix(digest[:10], 10),
                                     scenario_mod._kube_suffix(digest[10 + 5 * i:], 5)),
               "leads": list(scenario_mod.ALL_WORKERS_DEFAULT) if i == 0 else []}
        pods.append(pod)
    return pods


class _Writer(object):
    """Collects series as per-phase values and renders them; counters integrate their per-phase rates."""

    def __init__(self, times, phases):
        self.times = times
        self.phases = phases  # [(t_from, _Phase)], ascending
        self.series = {}  # name -> [(labels, kind, [value or None per phase], start)]
        bounds = [t for t, _p in phases] + [times[-1] + 1]
        self.ranges = []
        for i in range(len(phases)):
            lo = next((k for k, t in enumerate(times) if t >= bounds[i]), len(times))
            hi = next((k for k, t in enumerate(times) if t >= bounds[i + 1]), len(times))
            self.ranges.append((lo, hi))

    def add(self, name, labels, kind, values, start=None):
        self.series.setdefault(name, []).append((labels, kind, values, start))

    def add_steps(self, name, labels, present, base, steps):
        """A gauge worth ``base`` plus the counts of ``steps`` [(t_from, count)] already reached, in the phases
        where ``present`` is not None."""
        self.series.setdefault(name, []).append((labels, "steps", (present, base, sorted(steps)), None))

    def each(self, fn):
        """[fn(phase) for each phase] -- a value (gauge) or rate (counter) per phase, None = absent."""
        return [fn(phase) for _t, phase in self.phases]

    def text(self, k_lo=0, k_hi=None, eof=True):
        """OpenMetrics for the samples with index in [k_lo, k_hi) of ``times`` (all series, name order)."""
        out = []
        times, step = self.times, STEP
        k_hi = len(times) if k_hi is None else k_hi
        for name in sorted(self.series):
            for labels, kind, values, start in self.series[name]:
                head = "%s{%s} " % (name, labels)
                if kind == "steps":
                    present, base, steps = values
                    for (lo, hi), flag in zip(self.ranges, present):
                        if flag is None:
                            continue
                        for ts in times[max(lo, k_lo):min(hi, k_hi)]:
                            count = base + sum(c for t_from, c in steps if ts >= t_from)
                            out.append("%s%d %d\n" % (head, count, ts))
                    continue
                if kind == "gauge":
                    for (lo, hi), value in zip(self.ranges, values):
                        a, b = max(lo, k_lo), min(hi, k_hi)
                        if value is None or a >= b:
                            continue
                        tail = "%s " % _num(value)
                        out.extend(["%s%s%d\n" % (head, tail, ts) for ts in times[a:b]])
                    continue
                if start is None:  # a counter that has been counting for two days before the history
                    start = round(2 * 86400 * max(v or 0.0 for v in values), 3)
                value = float(start)  # the counter's value at index lo of the current phase
                for (lo, hi), rate in zip(self.ranges, values):
                    if rate is None or lo >= hi:
                        continue
                    inc = rate * step
                    a, b = max(lo, k_lo), min(hi, k_hi)
                    if a < b:
                        base = value + inc * (a - lo)
                        if kind == "whole":  # a counter of events (restarts): whole numbers
                            out.extend(["%s%d %d\n" % (head, int(base + inc * k + 1e-9), ts)
                                        for k, ts in enumerate(times[a:b])])
                        else:
                            out.extend(["%s%.4f %d\n" % (head, base + inc * k, ts)
                                        for k, ts in enumerate(times[a:b])])
                    value += inc * (hi - lo)
        if eof:
            out.append("# EOF\n")
        return "".join(out)


def _num(value):
    if isinstance(value, int) or float(value).is_integer():
        return "%d" % value
    return repr(float(value))


def _pod_labels(ns, pod):
    return {"job": JOB, "namespace": ns, "pod": pod, "instance": "%s:8080" % _pod_ip(pod)}


def _all_pod_names(writer):
    names = []
    for _t, phase in writer.phases:
        for pod in phase.pods:
            if pod["name"] not in names:
                names.append(pod["name"])
    return names


def _pod_in(phase, name):
    return next((pod for pod in phase.pods if pod["name"] == name), None)


def _api_series(writer, ns):
    for name in _all_pod_names(writer):
        base = _pod_labels(ns, name)

        def per_request(phase, name=name):
            pod = _pod_in(phase, name)
            if not pod or not pod["scraped"] or not pod["serving"]:
                return None
            return float(phase.m["request_rate"]) / len(phase.serving)

        for combos, is_5xx in ((API_OK, False), (API_5XX, True)):
            for method, path, code, share in combos:
                labels = dict(base, code=code, method=method, path=path)

                def rate(phase, share=share, is_5xx=is_5xx):
                    per_pod = per_request(phase)
                    if per_pod is None:
                        return None
                    err = max(0.0, min(1.0, float(phase.m["error_ratio"])))
                    return per_pod * share * (err if is_5xx else 1.0 - err)

                rates = writer.each(rate)
                shapes = writer.each(lambda phase: API_5XX_SHAPE if is_5xx else _api_shape(
                    phase.m["latency_under_100ms"], phase.m["latency_under_1s"]))
                writer.add("api_inbound_request_count", _labels(**labels), "counter", rates)
                for k, le in enumerate(API_BUCKETS):
                    writer.add("api_inbound_request_duration_bucket", _labels(**dict(labels, le=le)), "counter",
                               [None if r is None else r * s[0][k] for r, s in zip(rates, shapes)])
                writer.add("api_inbound_request_duration_bucket", _labels(**dict(labels, le="+Inf")), "counter", rates)
                writer.add("api_inbound_request_duration_sum", _labels(**labels), "counter",
                           [None if r is None else r * s[1] for r, s in zip(rates, shapes)])
                writer.add("api_inbound_request_duration_count", _labels(**labels), "counter", rates)


def _router_series(writer, ns):
    base = {"job": "router-internal-default", "namespace": "openshift-ingress", "pod": ROUTER_POD,
            "instance": "10.0.131.7:1936", "service": "router-internal-default", "backend": "reencrypt",
            "route": "kas-fleet-manager", "exported_namespace": ns}
    for code in ("2xx", "4xx", "5xx"):
        def rate(phase, code=code):
            total = float(phase.m["request_rate"])
            err = max(0.0, min(1.0, float(phase.m["error_ratio"])))
            if code == "5xx":
                return total * err
            ok = total * (1.0 - err)
            return ok * SHARE_4XX if code == "4xx" else ok * (1.0 - SHARE_4XX)
        writer.add("haproxy_backend_http_responses_total", _labels(**dict(base, code=code)), "counter",
                   writer.each(rate))


def _pod_series(writer, ns):
    for name in _all_pod_names(writer):
        base = _pod_labels(ns, name)
        writer.add("up", _labels(**base), "gauge",
                   writer.each(lambda phase, name=name: (_pod_in(phase, name) or {}).get("up")))
        for lease in ACTIVE_LEASES:
            def leader(phase, name=name, lease=lease):
                pod = _pod_in(phase, name)
                if not pod or not pod["scraped"]:
                    return None
                return 1 if any(logformat.WORKERS.get(w, (0, 0, None))[2] == lease for w in pod["leads"]) else 0
            writer.add("kas_fleet_manager_leader_worker", _labels(**dict(base, worker_type=lease)), "gauge",
                       writer.each(leader))
        kube = {"namespace": ns, "pod": name, "container": "service"}
        has_container = lambda phase, name=name: bool((_pod_in(phase, name) or {}).get("container"))  # noqa: E731
        writer.add("container_cpu_usage_seconds_total",
                   _labels(**dict(kube, job="kubelet", metrics_path="/metrics/cadvisor")), "counter",
                   writer.each(lambda phase: float(phase.m["cpu_usage_cores"]) if has_container(phase) else None))
        writer.add("container_memory_working_set_bytes",
                   _labels(**dict(kube, job="kubelet", metrics_path="/metrics/cadvisor")), "gauge",
                   writer.each(lambda phase: int(phase.m["memory_bytes"]) if has_container(phase) else None))
        _network_series(writer, ns, name)
        _fs_series(writer, kube, has_container)
        exists = lambda phase, name=name: _pod_in(phase, name) is not None  # noqa: E731
        ksm = dict(kube, job="kube-state-metrics", uid=_uid(name))
        writer.add("kube_pod_container_resource_limits", _labels(**dict(ksm, resource="cpu", unit="core")), "gauge",
                   writer.each(lambda phase: 1 if exists(phase) else None))
        writer.add("kube_pod_container_resource_limits", _labels(**dict(ksm, resource="memory", unit="byte")),
                   "gauge", writer.each(lambda phase: MEMORY_LIMIT if exists(phase) else None))
        # restarts: constant, except that a crash-looping pod's accrue over its incident stretch
        last = writer.phases[-1]
        pod_now = _pod_in(last[1], name)
        restarts = int((pod_now or {}).get("restarts") or 0)
        t_inc = last[0]
        span = max(writer.times[0], t_inc)
        if pod_now and pod_now["state"] == "crashloop" and restarts:
            now_s = writer.now
            rate = restarts / float(max(now_s - span, 600))
            start = max(0.0, restarts - rate * (now_s - span))
            values = [None if _pod_in(phase, name) is None else (rate if phase is last[1] else 0.0)
                      for _t, phase in writer.phases]
            writer.add("kube_pod_container_status_restarts_total", _labels(**ksm), "whole", values, start=start)
        else:
            writer.add("kube_pod_container_status_restarts_total", _labels(**ksm), "gauge",
                       writer.each(lambda phase: restarts if exists(phase) else None))


def _network_series(writer, ns, name):
    """cAdvisor's network counters of one pod. The kubelet reports them once per pod, for the sandbox (pause)
    container: container="POD" under CRI-O (OpenShift), container="" under containerd; interface="eth0". A pod
    whose container runs carries the scenario's rates; one whose image does not pull has a sandbox that sends
    nothing (0); a pending pod has none."""
    uid = _uid(name)
    labels = {"namespace": ns, "pod": name, "container": "POD", "image": "", "interface": "eth0",
              "name": "k8s_POD_%s_%s_%s_0" % (name, ns, uid), "job": "kubelet", "metrics_path": "/metrics/cadvisor",
              "id": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/crio-%s.scope"
                    % (uid.replace("-", "_"), hashlib.sha256(("sandbox/" + name).encode()).hexdigest())}
    for metric, key in NETWORK_SERIES:
        def rate(phase, key=key):
            pod = _pod_in(phase, name)
            if not pod or not pod["sandbox"]:
                return None
            return float(phase.m[key]) if pod["container"] else 0.0
        writer.add(metric, _labels(**labels), "counter", writer.each(rate))


def _fs_series(writer, kube, has_container):
    """cAdvisor's filesystem IO counters of the service container (one block device)."""
    labels = dict(kube, job="kubelet", metrics_path="/metrics/cadvisor", device=FS_DEVICE)
    for metric, key in FS_SERIES:
        writer.add(metric, _labels(**labels), "counter",
                   writer.each(lambda phase, key=key: float(phase.m[key]) if has_container(phase) else None))


def _uid(name):
    return "%s-%s-%s-%s-%s" % tuple(hashlib.sha256(name.encode()).hexdigest()[i:j]
                                    for i, j in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))


def _worker_series(writer, ns, scenario, now_s):
    # operations and durations: from one serving pod
    for name in _all_pod_names(writer):
        base = _pod_labels(ns, name)
        on = lambda phase, name=name: phase.ops_pod == name  # noqa: E731
        if not any(on(phase) for _t, phase in writer.phases):
            continue
        for metric, job, buckets, key, per_hour in (
                ("kas_fleet_manager_worker_kafka_duration", "kafka_create", KAFKA_BUCKETS,
                 "kafka_create_seconds_p90", KAFKA_CREATES_PER_HOUR),
                ("kas_fleet_manager_worker_cluster_duration", "cluster_create", CLUSTER_BUCKETS,
                 "cluster_create_seconds_p90", CLUSTER_CREATES_PER_HOUR)):
            labels = dict(base, jobType=job)
            rate = per_hour / 3600.0
            shapes = writer.each(lambda phase, key=key, buckets=buckets: _shape(
                phase.m.get(key, scenario_mod.DEFAULTS["metrics"].get(key, 2400)), buckets))
            present = writer.each(on)
            for k, le in enumerate(buckets):
                writer.add(metric + "_bucket", _labels(**dict(labels, le=_num(le))), "counter",
                           [rate * s[0][k] if p else None for s, p in zip(shapes, present)])
            writer.add(metric + "_bucket", _labels(**dict(labels, le="+Inf")), "counter",
                       [rate if p else None for p in present])
            writer.add(metric + "_sum", _labels(**labels), "counter",
                       [rate * s[1] if p else None for s, p in zip(shapes, present)])
            writer.add(metric + "_count", _labels(**labels), "counter", [rate if p else None for p in present])
        for prefix, operation, per_hour, key in (
                ("kafka", "create", KAFKA_CREATES_PER_HOUR, "kafka_create_success_ratio"),
                ("kafka", "delete", KAFKA_DELETES_PER_HOUR, "kafka_delete_success_ratio"),
                ("cluster", "create", CLUSTER_CREATES_PER_HOUR, "cluster_create_success_ratio"),
                ("cluster", "delete", CLUSTER_DELETES_PER_HOUR, None)):
            rate = per_hour / 3600.0
            labels = _labels(**dict(base, operation=operation))
            writer.add("kas_fleet_manager_%s_operations_total_count" % prefix, labels, "counter",
                       writer.each(lambda phase: rate if on(phase) else None))
            writer.add("kas_fleet_manager_%s_operations_success_count" % prefix, labels, "counter",
                       writer.each(lambda phase, key=key: rate * max(0.0, min(1.0, float(
                           phase.m.get(key, 1.0) if key else 1.0))) if on(phase) else None))
    # status counts: from the leader of the kafka / cluster manager, counting rows from when they got there
    volume = scenario.get("volume") or {}
    database = scenario.get("database") or {}
    for metric, lease, statuses, filler, rows in (
            ("kas_fleet_manager_kafka_requests_status_count", "general_kafka_worker", KAFKA_STATUSES,
             int(volume.get("kafka_requests") or 0), database.get("kafka_requests") or []),
            ("kas_fleet_manager_cluster_status_count", "cluster", CLUSTER_STATUSES,
             int(volume.get("clusters") or 0), database.get("clusters") or [])):
        extra = [row["status"] for row in rows if row["status"] not in statuses]
        for status in list(statuses) + sorted(set(extra)):
            steps = sorted((now_s - int(float(row.get("idle_minutes", 1) or 0) * 60), int(row.get("count", 1)))
                           for row in rows if row["status"] == status and not row.get("deleted"))
            base_count = filler if status == "ready" else 0
            for name in _all_pod_names(writer):
                labels = _labels(**dict(_pod_labels(ns, name), status=status))
                values = writer.each(lambda phase, name=name: 1 if phase.leader_of(lease) == name else None)
                if not any(v is not None for v in values):
                    continue
                writer.add_steps(metric, labels, values, base_count, steps)
