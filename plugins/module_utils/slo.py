# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The fleet manager's SLO figures from a Prometheus-compatible API, as three pure steps and one that talks HTTP.

* ``plan(config)``: every PromQL query the figures need, as ``Query`` objects (figure, window, PromQL); the same
  PromQL asked for twice (a reporting window that is also a burn-rate window) is one query.
* ``run(api, queries, at)``: runs each distinct PromQL once against ``/api/v1/query`` at one evaluation time,
  so every figure describes the same instant; returns an ``Outcome`` per PromQL.
* ``assemble(config, queries, outcomes)``: the figures per window, burn rates, pods, ``up``; every query error,
  empty result and 0/0 as an ``unavailable`` entry.
* ``evaluate(config, result)``: the breaches of the thresholds, and ``healthy`` (null when evidence is missing).
* ``series_span(config, at)``, ``series_plan(config, result)``, ``run_range(api, plan, span)``,
  ``series_of(plan, outcomes)``: with ``series``, each figure that has an SLO or limit as a ``/api/v1/query_range``
  series over the window the run looked at, its threshold line and the spans where it crossed it (the incident
  window).
* ``gather(module)``: slo_metrics_info's service, the steps above at the ``time`` option (RFC 3339 or Unix seconds,
  read by module_utils.times) or now.

Metric names and label selectors are upstream's (kas-fleet-manager ``pkg/handlers/metrics_middleware.go``,
``pkg/metrics/metrics.go``; the SLO rules of app-interface) and cAdvisor's (the kubelet's ``/metrics/cadvisor``);
names can be overridden, labels come from options. cAdvisor reports network counters once per pod, for its
sandbox (``container="POD"`` under CRI-O and dockershim, ``container=""`` under containerd), one series per
interface; filesystem IO per container and block device.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
import time

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.http_api import HttpApi, HttpError, reason_of
from ansible_collections.kas.fleet_manager.plugins.module_utils.times import rfc3339, unix_seconds

DEFAULT_METRICS = {
    "up": "up",
    "request_count": "api_inbound_request_count",
    "request_duration": "api_inbound_request_duration",
    "router_responses": "haproxy_backend_http_responses_total",
    "cpu_usage": "container_cpu_usage_seconds_total",
    "memory_working_set": "container_memory_working_set_bytes",
    "resource_limits": "kube_pod_container_resource_limits",
    "restarts": "kube_pod_container_status_restarts_total",
    "kafka_duration": "kas_fleet_manager_worker_kafka_duration",
    "kafka_operations_success": "kas_fleet_manager_kafka_operations_success_count",
    "kafka_operations_total": "kas_fleet_manager_kafka_operations_total_count",
    "network_receive_bytes": "container_network_receive_bytes_total",
    "network_transmit_bytes": "container_network_transmit_bytes_total",
    "network_receive_errors": "container_network_receive_errors_total",
    "network_transmit_errors": "container_network_transmit_errors_total",
    "network_receive_drops": "container_network_receive_packets_dropped_total",
    "network_transmit_drops": "container_network_transmit_packets_dropped_total",
    "fs_read_bytes": "container_fs_reads_bytes_total",
    "fs_write_bytes": "container_fs_writes_bytes_total",
    "fs_reads": "container_fs_reads_total",
    "fs_writes": "container_fs_writes_total",
}

# Upstream's multi-window burn-rate alerts (KasFleetManagerAPI30mto6hErrorBudgetBurn and friends).
DEFAULT_BURN_RATES = (
    {"short": "30m", "long": "6h", "factor": 6.0, "severity": "critical"},
    {"short": "2h", "long": "1d", "factor": 3.0, "severity": "high"},
    {"short": "6h", "long": "3d", "factor": 1.0, "severity": "high"},
)
# Upstream's latency SLOs: 99 % of requests under 1 s, 90 % under 0.1 s.
DEFAULT_LATENCY = ({"seconds": 1.0, "target": 0.99}, {"seconds": 0.1, "target": 0.90})
DEFAULT_THRESHOLDS = {
    "availability": 0.95,
    "burn_rates": [dict(b) for b in DEFAULT_BURN_RATES],
    "latency": [dict(t) for t in DEFAULT_LATENCY],
    "kafka_create_p90_seconds": 900.0,
    "kafka_create_p99_seconds": 1800.0,
    "kafka_create_success": 0.99,
    "kafka_delete_success": 0.99,
    "cpu": 0.8,
    "memory": 0.8,
    "restarts": 0,
    "network_errors_sustained": 0.5,
    "network_drops_sustained": 0.5,
    "network_spike_factor": 3.0,
    "network_spike_min_bytes_per_second": 1048576.0,
    "network_bytes_per_second": None,
    "io_spike_factor": 3.0,
    "io_spike_min_bytes_per_second": 1048576.0,
    "io_bytes_per_second": None,
    "spike_baseline": "6h",
}
DEFAULT_WINDOWS = ("5m", "1h")
INCLUDE = ("requests", "latency", "resources", "kafka", "burn_rates", "network", "io")
# (label value in the network/io queries, metric_names key); the figures are <group>_<value>_per_second
NETWORK_FIGURES = (("receive_bytes", "network_receive_bytes"), ("transmit_bytes", "network_transmit_bytes"),
                   ("receive_errors", "network_receive_errors"), ("transmit_errors", "network_transmit_errors"),
                   ("receive_drops", "network_receive_drops"), ("transmit_drops", "network_transmit_drops"))
IO_FIGURES = (("read_bytes", "fs_read_bytes"), ("write_bytes", "fs_write_bytes"), ("reads", "fs_reads"),
              ("writes", "fs_writes"))
# cAdvisor's sandbox container: "POD" (CRI-O, dockershim) or "" (containerd)
NETWORK_CONTAINER = "POD|"
# Series: at most this many steps in the range (so at most one more point), and the steps the default is taken from
MAX_SERIES_POINTS = 300
SERIES_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
KAFKA_OPERATIONS = ("create", "delete")
LATENCY_QUANTILES = ((0.99, "latency_p99_seconds"), (0.95, "latency_p95_seconds"))
KAFKA_QUANTILES = ((0.9, "kafka_create_p90_seconds"), (0.99, "kafka_create_p99_seconds"))

_DURATION = re.compile(r"^(\d+(ms|[smhdwy]))+$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


# -- configuration ---------------------------------------------------------------------------------------------
def duration_seconds(window):
    """Seconds of a PromQL duration such as 5m or 1h30m; FleetError for anything else."""
    if not isinstance(window, str) or not _DURATION.match(window):
        raise FleetError("window %r is not a PromQL duration such as 5m, 1h or 1h30m" % (window,))
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", window))
    if seconds <= 0:
        raise FleetError("window %r must be longer than 0" % (window,))
    return seconds


def metric_names(overrides):
    """The metric names with the user's overrides; FleetError for an unknown key or a name PromQL refuses."""
    names = dict(DEFAULT_METRICS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_METRICS:
            raise FleetError("metric_names: unknown key %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_METRICS))))
        if not isinstance(value, str) or not _METRIC_NAME.match(value):
            raise FleetError("metric_names.%s: %r is not a Prometheus metric name" % (key, value))
        names[key] = value
    return names


def le_label(seconds):
    """Name of a latency bound in figures and SLOs: 1 -> 1s, 0.1 -> 100ms, 2.5 -> 2500ms."""
    seconds = float(seconds)
    if seconds >= 1 and seconds.is_integer():
        return "%ds" % seconds
    ms = seconds * 1000
    return "%gms" % round(ms, 3)


def thresholds_of(given):
    """DEFAULT_THRESHOLDS overlaid with the user's (None disables a check); FleetError for nonsense."""
    out = dict(DEFAULT_THRESHOLDS)
    for key, value in (given or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise FleetError("thresholds: unknown key %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_THRESHOLDS))))
        out[key] = value
    for key in ("availability", "kafka_create_success", "kafka_delete_success", "cpu", "memory"):
        if out[key] is not None and not 0 < float(out[key]) <= 1.5:
            raise FleetError("thresholds.%s must be a ratio such as 0.95, got %r" % (key, out[key]))
    for key in ("network_errors_sustained", "network_drops_sustained"):
        if out[key] is not None and not 0 <= float(out[key]) < 1:
            raise FleetError("thresholds.%s must be a share of the window from 0 to below 1, such as 0.5, got %r"
                             % (key, out[key]))
    for key in ("network_spike_factor", "io_spike_factor", "network_bytes_per_second", "io_bytes_per_second"):
        if out[key] is not None and float(out[key]) <= 0:
            raise FleetError("thresholds.%s must be positive, got %r" % (key, out[key]))
    for key in ("network_spike_min_bytes_per_second", "io_spike_min_bytes_per_second"):
        if out[key] is None:
            out[key] = 0.0
        if float(out[key]) < 0:
            raise FleetError("thresholds.%s must be at least 0, got %r" % (key, out[key]))
    if out["spike_baseline"] is None:
        out["spike_baseline"] = DEFAULT_THRESHOLDS["spike_baseline"]
    duration_seconds(out["spike_baseline"])
    burn = []
    for i, pair in enumerate(out["burn_rates"] or []):
        try:
            item = {"short": pair["short"], "long": pair["long"], "factor": float(pair["factor"]),
                    "severity": pair.get("severity") or "high"}
        except (KeyError, TypeError, ValueError):
            raise FleetError("thresholds.burn_rates[%d] needs short, long and factor, got %r" % (i, pair))
        duration_seconds(item["short"])
        duration_seconds(item["long"])
        burn.append(item)
    out["burn_rates"] = burn
    latency = []
    for i, slo in enumerate(out["latency"] or []):
        try:
            item = {"seconds": float(slo["seconds"]), "target": float(slo["target"])}
        except (KeyError, TypeError, ValueError):
            raise FleetError("thresholds.latency[%d] needs seconds and target, got %r" % (i, slo))
        if not 0 < item["target"] < 1 or item["seconds"] <= 0:
            raise FleetError("thresholds.latency[%d]: target must be between 0 and 1 and seconds positive" % i)
        latency.append(item)
    out["latency"] = latency
    return out


def config_of(params):
    """The module's options as the configuration plan/assemble/evaluate work on."""
    windows = list(DEFAULT_WINDOWS if params.get("windows") is None else params["windows"])
    if not windows:
        raise FleetError("windows must name at least one window, such as [5m, 1h]")
    for window in windows:
        duration_seconds(window)
    include = list(params.get("include") or INCLUDE)
    return {
        "namespace": params["namespace"],
        "job": params.get("job") or "kas-fleet-manager-metrics",
        "route": params.get("route") or "kas-fleet-manager",
        "deployment": params.get("deployment") or "kas-fleet-manager",
        "container": params.get("container") or "service",
        "windows": windows,
        "include": include,
        "metrics": metric_names(params.get("metric_names")),
        "thresholds": thresholds_of(params.get("thresholds")),
        "series": series_config(params, windows),
    }


def duration_text(seconds):
    """A PromQL duration for whole seconds: 300 -> 5m, 7200 -> 2h, 90 -> 90s."""
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%ds" % seconds


def series_config(params, windows):
    """None without ``series``; else the range (seconds, default the longest window), the step (seconds, default the
    first of SERIES_STEPS giving at most 120 steps) and the lookback of each point (the shortest window, or the
    step when that is longer, so the points tile the range); FleetError past MAX_SERIES_POINTS."""
    if not params.get("series"):
        return None
    range_text = params.get("series_range") or max(windows, key=duration_seconds)
    span = duration_seconds(range_text)
    if params.get("series_step"):
        step = duration_seconds(params["series_step"])
        if step < 1 or step != int(step):
            raise FleetError("series_step must be whole seconds, at least 1s, got %r" % params["series_step"])
    else:
        step = next((s for s in SERIES_STEPS if span <= 120 * s), None) or int(math.ceil(span / 120.0))
    if span // step > MAX_SERIES_POINTS:
        raise FleetError("series_step %s over series_range %s gives %d points, more than %d: give a step of at least "
                         "%s, or leave series_step out" % (duration_text(step), range_text, span // step + 1,
                                                           MAX_SERIES_POINTS + 1,
                                                           duration_text(math.ceil(span / float(MAX_SERIES_POINTS)))))
    shortest = min(windows, key=duration_seconds)
    lookback = shortest if duration_seconds(shortest) >= step else duration_text(step)
    return {"range": int(span), "range_text": range_text, "step": int(step), "lookback": lookback}


# -- PromQL ----------------------------------------------------------------------------------------------------
def quote(value):
    """A PromQL string literal."""
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def regex_quote(text):
    """``text`` matched literally inside a PromQL regex (RE2), as a PromQL string literal body."""
    return re.sub(r"([.+*?()\[\]{}|^$\\])", r"\\\1", str(text))


def le_regex(seconds_list):
    """A regex for the ``le`` labels of these bounds, both as client_golang writes them (1, 0.1) and as
    Prometheus 3 normalizes them (1.0)."""
    values = []
    for seconds in seconds_list:
        seconds = float(seconds)
        forms = ["%g" % seconds, repr(seconds)]
        for form in forms:
            if form not in values:
                values.append(form)
    return "|".join(regex_quote(v) for v in values)


class Selectors(object):
    def __init__(self, config):
        ns = quote(config["namespace"])
        self.app = "job=%s,namespace=%s" % (quote(config["job"]), ns)
        # The latency SLO's selector: federate calls and 5xx answers do not count (upstream's rules).
        self.latency = self.app + ',path!~".*federate$",code!~"5.."'
        self.router = "route=%s,exported_namespace=%s" % (quote(config["route"]), ns)
        pod_re = '"%s-[a-z0-9]+-[a-z0-9]+"' % regex_quote(config["deployment"]).replace("\\", "\\\\")
        self.pods = "namespace=%s,container=%s,pod=~%s" % (ns, quote(config["container"]), pod_re)
        # cAdvisor's network counters are the pod sandbox's, not the container's
        self.network = 'namespace=%s,container=~"%s",pod=~%s' % (ns, NETWORK_CONTAINER, pod_re)


class Query(object):
    """One figure's query: ``name`` (figure), ``window`` (None for instant figures), ``promql``."""

    def __init__(self, name, window, promql, group=None):
        self.name = name
        self.window = window
        self.promql = promql
        self.group = group or "windows"

    def __repr__(self):
        return "Query(%r, %r, %r)" % (self.name, self.window, self.promql)


def window_queries(config, window, sel=None):
    """The queries of one reporting window."""
    m = config["metrics"]
    sel = sel or Selectors(config)
    inc = config["include"]
    w = window
    out = []
    if "requests" in inc:
        out.append(Query("request_rate", w, "sum(rate(%s{%s}[%s]))" % (m["request_count"], sel.app, w)))
        out.append(Query("error_ratio", w, "sum(rate(%s{%s,code=~\"5..\"}[%s])) / sum(rate(%s{%s}[%s]))"
                         % (m["request_count"], sel.app, w, m["request_count"], sel.app, w)))
        out.append(router_ratio_query(config, w, sel))
    if "latency" in inc:
        for q, name in LATENCY_QUANTILES:
            out.append(Query(name, w, "histogram_quantile(%g, sum by (le) (rate(%s_bucket{%s}[%s])))"
                             % (q, m["request_duration"], sel.latency, w)))
        if config["thresholds"]["latency"]:
            out.append(latency_under_query(config, w, sel))
    if "resources" in inc:
        out.append(Query("cpu_cores", w, "sum by (pod) (rate(%s{%s}[%s]))" % (m["cpu_usage"], sel.pods, w)))
        out.append(Query("memory_bytes", w, "max by (pod) (max_over_time(%s{%s}[%s]))"
                         % (m["memory_working_set"], sel.pods, w)))
        out.append(Query("limits", w, "max by (pod, resource) (max_over_time(%s{%s,resource=~\"cpu|memory\"}[%s]))"
                         % (m["resource_limits"], sel.pods, w)))
        out.append(Query("restarts", w, "sum by (pod) (increase(%s{%s}[%s]))" % (m["restarts"], sel.pods, w)))
    if "kafka" in inc:
        for q, name in KAFKA_QUANTILES:
            out.append(Query(name, w, "histogram_quantile(%g, sum by (le) (rate(%s_bucket{%s,jobType=\"kafka_create\"}"
                                      "[%s])))" % (q, m["kafka_duration"], sel.app, w)))
        ops = "operation=~\"%s\"" % "|".join(KAFKA_OPERATIONS)
        out.append(Query("kafka_success_ratio", w,
                         "sum by (operation) (increase(%s{%s,%s}[%s])) / sum by (operation) (increase(%s{%s,%s}[%s]))"
                         % (m["kafka_operations_success"], sel.app, ops, w, m["kafka_operations_total"], sel.app,
                            ops, w)))
    if "network" in inc:
        out.extend(network_queries(config, w, sel))
    if "io" in inc:
        out.extend(io_queries(config, w, sel))
    return out


def tagged(parts, label="figure"):
    """One PromQL for several expressions: each one's series get ``label`` set to its tag, joined with ``or``."""
    return " or ".join('label_replace(%s, "%s", "%s", "", "")' % (expr, label, tag) for tag, expr in parts)


def network_rate(config, sel, key, window):
    """Per pod and interface; max drops a second report of the same network namespace (the pod's cgroup and its
    sandbox both reporting it), which would otherwise count twice."""
    return "max by (pod, interface) (rate(%s{%s}[%s]))" % (config["metrics"][key], sel.network, window)


def baseline_of(config, expr, window):
    """The median of ``expr`` (a rate over ``window``) through the spike_baseline before the window."""
    base = config["thresholds"]["spike_baseline"]
    step = duration_text(max(30, int(duration_seconds(base) // 60)))
    return "quantile_over_time(0.5, (%s)[%s:%s] offset %s)" % (expr, base, step, window)


def network_queries(config, w, sel):
    """Rates per pod (one query, label figure), the share of the window with errors and with drops per pod, and
    the receive/transmit baselines of the whole deployment."""
    th = config["thresholds"]
    out = [Query("network", w, tagged([(tag, "sum by (pod) (%s)" % network_rate(config, sel, key, w))
                                       for tag, key in NETWORK_FIGURES]))]
    if th["network_errors_sustained"] is not None or th["network_drops_sustained"] is not None:
        sub = max(30, int(duration_seconds(w) // 60))
        inner = duration_text(max(120, sub))
        parts = []
        for kind in ("errors", "drops"):
            both = tagged([(d, network_rate(config, sel, "network_%s_%s" % (d, kind), inner))
                           for d in ("receive", "transmit")], label="direction")
            parts.append((kind, "avg_over_time((sum by (pod) (%s) > bool 0)[%s:%s])" % (both, w, duration_text(sub))))
        out.append(Query("network_sustained", w, tagged(parts)))
    if th["network_spike_factor"] is not None:
        out.append(Query("network_baseline", w, tagged([
            (tag, baseline_of(config, "sum(%s)" % network_rate(config, sel, key, w), w))
            for tag, key in NETWORK_FIGURES[:2]])))
    return out


def io_queries(config, w, sel):
    """Filesystem IO rates per pod (bytes and operations, one query) and the read/write baselines."""
    m = config["metrics"]
    out = [Query("io", w, tagged([(tag, "sum by (pod) (rate(%s{%s}[%s]))" % (m[key], sel.pods, w))
                                  for tag, key in IO_FIGURES]))]
    if config["thresholds"]["io_spike_factor"] is not None:
        out.append(Query("io_baseline", w, tagged([
            (tag, baseline_of(config, "sum(rate(%s{%s}[%s]))" % (m[key], sel.pods, w), w))
            for tag, key in IO_FIGURES[:2]])))
    return out


def router_ratio_query(config, window, sel):
    """The availability SLI of upstream's rules: 5xx share of the router's (haproxy) responses for the route."""
    name = config["metrics"]["router_responses"]
    return Query("error_ratio_router", window, "sum(rate(%s{%s,code=\"5xx\"}[%s])) / sum(rate(%s{%s}[%s]))"
                 % (name, sel.router, window, name, sel.router, window))


def latency_under_query(config, window, sel):
    """Share of the (non-5xx, non-federate) requests faster than each latency SLO's bound: one series per le."""
    name = config["metrics"]["request_duration"]
    bounds = le_regex([t["seconds"] for t in config["thresholds"]["latency"]])
    return Query("fraction_under", window,
                 "sum by (le) (rate(%s_bucket{%s,le=~\"%s\"}[%s])) / ignoring (le) group_left "
                 "sum(rate(%s_count{%s}[%s]))" % (name, sel.latency, bounds.replace("\\", "\\\\"), window, name,
                                                  sel.latency, window))


def plan(config):
    """Every query the figures need: ``up`` first (it doubles as the probe), then each reporting window's, then
    the burn-rate windows'. A PromQL asked twice is kept once (first figure name wins)."""
    sel = Selectors(config)
    queries = [Query("up", None, "up{%s}" % sel.app, group="up")]
    for window in config["windows"]:
        queries.extend(window_queries(config, window, sel))
    inc = config["include"]
    if "burn_rates" in inc:
        burn_windows = []
        for pair in config["thresholds"]["burn_rates"]:
            for window in (pair["short"], pair["long"]):
                if window not in burn_windows:
                    burn_windows.append(window)
        for window in burn_windows:
            if config["thresholds"]["availability"] is not None:
                queries.append(router_ratio_query(config, window, sel))
            if config["thresholds"]["latency"]:
                queries.append(latency_under_query(config, window, sel))
    seen = set()
    unique = []
    for query in queries:
        if query.promql not in seen:
            seen.add(query.promql)
            unique.append(query)
    return unique


# -- running ---------------------------------------------------------------------------------------------------
class Outcome(object):
    """What one PromQL gave: status ok (result holds the series), empty (no series) or error (reason)."""

    def __init__(self, status, result=None, reason=None, result_type=None):
        self.status = status
        self.result = result or []
        self.reason = reason
        self.result_type = result_type


def parse_response(body, expect="vector"):
    """An Outcome from the JSON of /api/v1/query (``expect="vector"``) or /api/v1/query_range (``"matrix"``):
    success or Prometheus's error answer."""
    if not isinstance(body, dict) or "status" not in body:
        return Outcome("error", reason="not a Prometheus API answer: %s" % reason_of(body, 200))
    if body["status"] != "success":
        return Outcome("error", reason="%s: %s" % (body.get("errorType") or "error", body.get("error") or "?"))
    data = body.get("data") or {}
    rtype = data.get("resultType")
    result = data.get("result")
    if rtype == "scalar" or rtype == "string":
        return Outcome("ok", [{"metric": {}, "value": result}], result_type=rtype)
    if (rtype == "matrix") != (expect == "matrix"):
        return Outcome("error", reason="%s result where a %s was expected" % (rtype, expect), result_type=rtype)
    if not result:
        return Outcome("empty", [], reason="no series matched", result_type=rtype)
    return Outcome("ok", result, result_type=rtype)


def sample_value(sample):
    """The float of a result sample (value [ts, "1.5"]; NaN and +Inf as floats)."""
    try:
        return float(sample["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return float("nan")


def query_one(api, promql, at):
    """Outcome of one instant query; HttpError only when the API itself fails (unreachable, auth, wrong URL)."""
    params = {"query": promql}
    if at is not None:
        params["time"] = "%.3f" % at
    return ask(api, "/api/v1/query", params, "vector")


def query_range(api, promql, span):
    """Outcome of one range query over ``span`` ({start, end, step} in Unix seconds)."""
    return ask(api, "/api/v1/query_range", {"query": promql, "start": "%d" % span["start"], "end": "%d" % span["end"],
                                            "step": "%d" % span["step"]}, "matrix")


def ask(api, path, params, expect):
    """Outcome of one query at ``path``; HttpError only when the API itself fails (unreachable, auth, wrong URL)."""
    try:
        body, _headers = api.get(path, params)
    except HttpError as exc:
        # Prometheus answers a bad or failed query with 400/422/503 and its JSON error: that query is unavailable.
        if exc.status in (400, 422, 503) and isinstance(exc.body, dict) and exc.body.get("status") == "error":
            return Outcome("error", reason="HTTP %s %s: %s" % (exc.status, exc.body.get("errorType") or "error",
                                                               exc.body.get("error")))
        if exc.timed_out:
            return Outcome("error", reason="timed out after %s s" % api.timeout)
        if exc.status in (401, 403):
            raise HttpError("%s at %s rejected the credentials (HTTP %s: %s): check token, or username and password"
                            % (api.name, api.display_url, exc.status, reason_of(exc.body) or "no reason given"),
                            status=exc.status, body=exc.body)
        if exc.status == 404:
            raise HttpError("%s at %s has no %s (HTTP 404): url must be the API base, such as "
                            "https://prometheus.example.com, a Thanos querier, or "
                            "https://grafana.example.com/api/datasources/proxy/uid/<uid>"
                            % (api.name, api.display_url, path), status=404, body=exc.body)
        raise
    outcome = parse_response(body, expect)
    if outcome.status == "error" and not isinstance(body, dict):
        # HTML or text with a 200: a login page or the UI, not the API.
        raise HttpError("%s at %s answered with something other than the Prometheus HTTP API (%s): url must be the "
                        "API base, such as https://prometheus.example.com, a Thanos querier, or "
                        "https://grafana.example.com/api/datasources/proxy/uid/<uid>"
                        % (api.name, api.display_url, reason_of(body, 120)))
    return outcome


def run(api, queries, at, workers=4, ask_one=None):
    """{promql: Outcome} for every query. The first query runs alone: when the API is unreachable or rejects the
    credentials it raises HttpError once instead of failing every query. ``ask_one(api, promql)`` replaces the
    instant query at ``at`` (the series' range queries)."""
    ask_one = ask_one or (lambda api_, promql: query_one(api_, promql, at))
    outcomes = {}
    if not queries:
        return outcomes
    first = queries[0]
    outcomes[first.promql] = ask_one(api, first.promql)
    rest = []
    for q in queries[1:]:
        if q.promql not in outcomes and q.promql not in rest:
            rest.append(q.promql)
    if workers > 1 and len(rest) > 1:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for promql, outcome in zip(rest, pool.map(lambda p: ask_one(api, p), rest)):
                outcomes[promql] = outcome
    else:
        for promql in rest:
            outcomes[promql] = ask_one(api, promql)
    return outcomes


# -- assembling ------------------------------------------------------------------------------------------------
def _round(value, digits=6):
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return value
    return round(value, digits)


class Assembler(object):
    """Reads figures from the outcomes, recording each one that could not be read in ``unavailable``."""

    def __init__(self, outcomes):
        self.outcomes = outcomes
        self.unavailable = []
        self.reported = set()

    def missing(self, name, window, promql, kind, reason):
        key = (name, window, kind)
        if key in self.reported:
            return
        self.reported.add(key)
        self.unavailable.append({"figure": name, "window": window, "query": promql, "kind": kind, "reason": reason})

    def series(self, name, window, promql, empty=None):
        """(series list or None); records an unavailable entry for an error or an empty result (``empty`` says
        what an empty one means, when not the usual)."""
        outcome = self.outcomes.get(promql) or Outcome("error", reason="not run")
        if outcome.status == "error":
            self.missing(name, window, promql, "error", outcome.reason)
            return None
        if outcome.status == "empty":
            self.missing(name, window, promql, "empty", empty or "no series matched: nothing is scraped under these "
                                                                 "labels (no pod runs, or namespace, job, route or "
                                                                 "metric_names do not match)")
            return None
        return outcome.result

    def scalar(self, name, window, promql, no_events="0/0: nothing happened in the window to compute it from"):
        result = self.series(name, window, promql)
        if result is None:
            return None
        value = sum(sample_value(s) for s in result) if len(result) > 1 else sample_value(result[0])
        if math.isnan(value):
            self.missing(name, window, promql, "no_events", no_events)
            return None
        return _round(value)

    def by_label(self, name, window, promql, label):
        result = self.series(name, window, promql)
        if result is None:
            return None
        return dict(((s.get("metric") or {}).get(label, ""), sample_value(s)) for s in result)

    def by_labels(self, name, window, promql, labels, empty=None):
        """{(value of each label): float}; sums series that share them."""
        result = self.series(name, window, promql, empty=empty)
        if result is None:
            return None
        out = {}
        for sample in result:
            metric = sample.get("metric") or {}
            key = tuple(metric.get(label, "") for label in labels)
            out[key] = out.get(key, 0.0) + sample_value(sample)
        return out


def assemble(config, queries, outcomes):
    """The figures from the outcomes; see the module's RETURN for the shape."""
    # Rebuild the full (not de-duplicated) plan, so a figure whose PromQL was shared still finds it.
    sel = Selectors(config)
    full = {}
    for window in config["windows"]:
        for q in window_queries(config, window, sel):
            full[(q.name, q.window)] = q.promql
    burn_windows = []
    for pair in config["thresholds"]["burn_rates"]:
        for window in (pair["short"], pair["long"]):
            if window not in burn_windows:
                burn_windows.append(window)
    if "burn_rates" in config["include"]:
        for window in burn_windows:
            if config["thresholds"]["availability"] is not None:
                full[("error_ratio_router", window)] = router_ratio_query(config, window, sel).promql
            if config["thresholds"]["latency"]:
                full[("fraction_under", window)] = latency_under_query(config, window, sel).promql
    up_promql = queries[0].promql if queries and queries[0].name == "up" else "up{%s}" % sel.app
    a = Assembler(outcomes)
    result = {"windows": {}, "burn_windows": {}}

    # up: an absent series is the fleet manager being down (upstream's absent(up == 1) alert), not missing evidence
    up_outcome = outcomes.get(up_promql) or Outcome("error", reason="not run")
    anything = any(o.status == "ok" for p, o in outcomes.items() if p != up_promql)
    if up_outcome.status == "error":
        a.missing("up", None, up_promql, "error", up_outcome.reason)
        result["up"] = {"targets": None, "up": None, "pods": {}, "down": []}
    elif up_outcome.status == "empty" and not anything:
        # Not a single series under these labels: a wrong namespace/job/url is likelier than a dead fleet manager.
        a.missing("up", None, up_promql, "empty", "no query matched any series: check url, namespace, job, route and "
                                                  "metric_names (or Prometheus has no data)")
        result["up"] = {"targets": None, "up": None, "pods": {}, "down": []}
    else:
        pods = {}
        for sample in up_outcome.result:
            labels = sample.get("metric") or {}
            pods[labels.get("pod") or labels.get("instance") or ""] = int(sample_value(sample) == 1)
        result["up"] = {"targets": len(pods), "up": sum(pods.values()), "pods": pods,
                        "down": sorted(p for p, v in pods.items() if not v)}

    latency = config["thresholds"]["latency"]
    for window in config["windows"]:
        fig = {}
        inc = config["include"]
        if "requests" in inc:
            fig["request_rate"] = a.scalar("request_rate", window, full[("request_rate", window)])
            fig["error_ratio"] = a.scalar("error_ratio", window, full[("error_ratio", window)],
                                          no_events="0/0: no API request in the window")
            fig["error_ratio_router"] = a.scalar("error_ratio_router", window, full[("error_ratio_router", window)],
                                                 no_events="0/0: no request through the router in the window")
        if "latency" in inc:
            for _q, name in LATENCY_QUANTILES:
                fig[name] = a.scalar(name, window, full[(name, window)], no_events="no API request in the window")
            fig.update(latency_fractions(a, window, full.get(("fraction_under", window)), latency))
        if "resources" in inc:
            fig["pods"] = pod_figures(a, window, full)
            ratios = [(p["cpu_ratio"], p["memory_ratio"]) for p in fig["pods"]]
            fig["cpu_ratio_max"] = max([c for c, _m in ratios if c is not None] or [None], key=_none_low)
            fig["memory_ratio_max"] = max([m for _c, m in ratios if m is not None] or [None], key=_none_low)
            restarts = [p["restarts"] for p in fig["pods"] if p["restarts"] is not None]
            fig["restarts"] = _round(sum(restarts), 2) if restarts else None
        if "kafka" in inc:
            for _q, name in KAFKA_QUANTILES:
                fig[name] = a.scalar(name, window, full[(name, window)],
                                     no_events="no Kafka creation finished in the window")
            promql = full[("kafka_success_ratio", window)]
            ratios = a.by_label("kafka_success_ratio", window, promql, "operation")
            for op in KAFKA_OPERATIONS:
                key = "kafka_%s_success_ratio" % op
                value = None if ratios is None else ratios.get(op)
                if ratios is not None and value is None:
                    a.missing(key, window, promql, "empty", "no series for operation=%s" % op)
                elif value is not None and math.isnan(value):
                    a.missing(key, window, promql, "no_events", "no Kafka %s operation in the window" % op)
                    value = None
                fig[key] = _round(value)
        if "network" in inc:
            fig.update(group_figures(a, config, window, full, "network", NETWORK_FIGURES))
        if "io" in inc:
            fig.update(group_figures(a, config, window, full, "io", IO_FIGURES))
        result["windows"][window] = fig

    if "burn_rates" in config["include"]:
        for window in burn_windows:
            fig = {}
            if ("error_ratio_router", window) in full:
                fig["error_ratio_router"] = a.scalar("error_ratio_router", window,
                                                     full[("error_ratio_router", window)],
                                                     no_events="0/0: no request through the router in the window")
            if ("fraction_under", window) in full:
                fig.update(latency_fractions(a, window, full[("fraction_under", window)], latency))
            result["burn_windows"][window] = fig
    result["unavailable"] = a.unavailable
    return result


def _none_low(value):
    return -1.0 if value is None else value


def latency_fractions(a, window, promql, latency):
    """{"fraction_under_1s": x, ...} from the one latency_under query of a window."""
    out = {}
    if not latency or promql is None:
        return out
    values = a.by_label("fraction_under", window, promql, "le")
    by_le = {}
    for le, value in (values or {}).items():
        try:
            by_le[float(le)] = value
        except ValueError:
            continue
    for slo in latency:
        key = "fraction_under_%s" % le_label(slo["seconds"])
        value = None
        if values is not None:
            value = by_le.get(float(slo["seconds"]))
            if value is None:
                a.missing(key, window, promql, "empty", "the histogram has no bucket le=%g: a latency bound must be "
                                                        "one of its buckets (upstream: 0.1 1 2 5 10 30)" % slo["seconds"])
            elif math.isnan(value):
                a.missing(key, window, promql, "no_events", "no API request in the window")
                value = None
        out[key] = _round(value)
    return out


def pod_figures(a, window, full):
    """Per pod: CPU cores and memory bytes against the container limits, and restarts in the window."""
    cpu = a.by_label("cpu_cores", window, full[("cpu_cores", window)], "pod")
    mem = a.by_label("memory_bytes", window, full[("memory_bytes", window)], "pod")
    restarts = a.by_label("restarts", window, full[("restarts", window)], "pod")
    limits_promql = full[("limits", window)]
    limits_result = a.series("limits", window, limits_promql)
    limits = {}
    for sample in limits_result or []:
        labels = sample.get("metric") or {}
        limits[(labels.get("pod", ""), labels.get("resource", ""))] = sample_value(sample)
    names = sorted(set(cpu or {}) | set(mem or {}) | set(restarts or {}) | set(p for p, _r in limits))
    pods = []
    for name in names:
        cpu_v = (cpu or {}).get(name)
        mem_v = (mem or {}).get(name)
        cpu_l = limits.get((name, "cpu"))
        mem_l = limits.get((name, "memory"))
        pods.append({
            "pod": name,
            "cpu_cores": _round(cpu_v),
            "cpu_limit_cores": _round(cpu_l),
            "cpu_ratio": _ratio(cpu_v, cpu_l),
            "memory_bytes": _int(mem_v),
            "memory_limit_bytes": _int(mem_l),
            "memory_ratio": _ratio(mem_v, mem_l),
            "restarts": _round((restarts or {}).get(name), 2),
        })
    return pods


def group_figures(a, config, window, full, group, figures):
    """The network or io figures of a window: ``<group>_<tag>_per_second`` summed over the pods, their
    ``..._baseline`` (bytes only), and ``<group>_pods`` with each pod's rates (and, for network, the share of
    the window its errors and drops rose in)."""
    out = {}
    pods = {}
    promql = full[(group, window)]
    values = a.by_labels(group, window, promql, ("figure", "pod"))
    for tag, key in figures:
        name = "%s_%s_per_second" % (group, tag)
        found = dict((pod, v) for (f, pod), v in (values or {}).items() if f == tag)
        if values is not None and not found:
            a.missing(name, window, promql, "empty", "no %s series under these labels (cAdvisor reports network "
                                                     "per pod sandbox, container=POD or \"\", and IO per container)"
                                                     % config["metrics"][key])
        out[name] = _round(sum(found.values())) if found else None
        for pod, value in found.items():
            pods.setdefault(pod, {})["%s_per_second" % tag] = _round(value)
    base_promql = full.get((group + "_baseline", window))
    if base_promql:
        empty = "no history in the %s before the window to take a baseline from" % (
            config["thresholds"]["spike_baseline"])
        base = a.by_labels(group + "_baseline", window, base_promql, ("figure",), empty=empty)
        for tag, _key in figures[:2]:
            name = "%s_%s_per_second_baseline" % (group, tag)
            value = None if base is None else base.get((tag,))
            if base is not None and value is None:
                a.missing(name, window, base_promql, "empty", empty)
            out[name] = _round(value)
    share_promql = full.get((group + "_sustained", window))
    kinds = ("errors", "drops") if share_promql else ()
    if share_promql:
        shares = a.by_labels(group + "_sustained", window, share_promql, ("figure", "pod"))
        for (kind, pod), value in (shares or {}).items():
            pods.setdefault(pod, {})["%s_share" % kind] = _round(value, 4)
    rows = []
    for pod in sorted(pods):
        row = {"pod": pod}
        for tag, _key in figures:
            row["%s_per_second" % tag] = pods[pod].get("%s_per_second" % tag)
        for kind in kinds:
            row["%s_share" % kind] = pods[pod].get("%s_share" % kind)
        rows.append(row)
    out["%s_pods" % group] = rows
    return out


def _ratio(value, limit):
    if value is None or limit is None or math.isnan(value) or math.isnan(limit) or limit <= 0:
        return None
    return _round(value / limit, 4)


def _int(value):
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return int(round(value))


# -- evaluating ------------------------------------------------------------------------------------------------
def _breach(slo, window, value, threshold, above, **extra):
    by = value - threshold if above else threshold - value
    item = {"slo": slo, "window": window, "value": _round(value), "threshold": _round(threshold),
            "by": _round(by), "comparison": ">" if above else "<"}
    item.update(extra)
    return item


# (group, direction, what the pods did) of the bytes figures with a spike and a limit rule
TRAFFIC = (("network", "receive", "received"), ("network", "transmit", "sent"),
           ("io", "read", "read from disk"), ("io", "write", "wrote to disk"))


def human_bytes(value):
    """1536 -> '1.5 KiB'."""
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return "%.1f %s" % (value, unit)
        value /= 1024.0
    return "%.1f TiB" % value


def spike_line(th, group, baseline):
    """Above this, a bytes figure is a spike: factor times its baseline, and at least the minimum."""
    factor = th["%s_spike_factor" % group]
    if factor is None or baseline is None:
        return None
    return max(float(factor) * baseline, float(th["%s_spike_min_bytes_per_second" % group] or 0.0))


def traffic_breaches(th, window, fig):
    """Network and IO: bytes over the limit or spiking above their baseline (the pods together), and pods whose
    network errors or drops rose during more than the sustained share of the window."""
    out = []
    for group, direction, did in TRAFFIC:
        key = "%s_%s_bytes_per_second" % (group, direction)
        value = fig.get(key)
        if value is None:
            continue
        limit = th["%s_bytes_per_second" % group]
        if limit is not None and value > float(limit):
            out.append(_breach("%s_%s_limit" % (group, direction), window, value, float(limit), True,
                               message="the pods %s %s/s over %s, the limit is %s/s"
                                       % (did, human_bytes(value), window, human_bytes(limit))))
        baseline = fig.get(key + "_baseline")
        line = spike_line(th, group, baseline)
        if line is not None and value > line:
            ratio = value / baseline if baseline > 0 else None
            out.append(_breach("%s_%s_spike" % (group, direction), window, value, line, True, baseline=baseline,
                               ratio=_round(ratio, 2) if ratio is not None else None,
                               message="the pods %s %s/s over %s, %s their baseline of %s/s (median of the %s before); "
                                       "a spike is over %gx and over %s/s"
                                       % (did, human_bytes(value), window,
                                          "%.1fx" % ratio if ratio is not None else "far over",
                                          human_bytes(baseline), th["spike_baseline"], th["%s_spike_factor" % group],
                                          human_bytes(th["%s_spike_min_bytes_per_second" % group] or 0))))
    for kind, words in (("errors", "network errors"), ("drops", "dropped packets")):
        limit = th["network_%s_sustained" % kind]
        if limit is None:
            continue
        over = [p for p in fig.get("network_pods") or [] if p.get("%s_share" % kind) is not None
                and p["%s_share" % kind] > float(limit)]
        if over:
            worst = max(p["%s_share" % kind] for p in over)
            out.append(_breach("network_%s" % kind, window, worst, float(limit), True, pods=[p["pod"] for p in over],
                               message="%d pod(s) had %s (received or sent) during %.0f%% of the window, more than "
                                       "%.0f%% is sustained" % (len(over), words, worst * 100, float(limit) * 100)))
    return out


def availability_ratio(fig):
    """(5xx ratio, source): the router's (upstream's SLI), else the application's."""
    if fig.get("error_ratio_router") is not None:
        return fig["error_ratio_router"], "router"
    if fig.get("error_ratio") is not None:
        return fig["error_ratio"], "application"
    return None, None


def evaluate(config, result):
    """breaches, burn_rates and healthy, added to ``result`` (which ``assemble`` made)."""
    th = config["thresholds"]
    breaches = []
    up = result.get("up") or {}
    if up.get("targets") is not None and not up.get("up"):
        breaches.append(_breach("up", None, float(up.get("up") or 0), 1.0, False,
                                message="no fleet manager target is up (%d scraped): the service is down"
                                        % up.get("targets", 0)))
    for window, fig in result["windows"].items():
        if th["availability"] is not None:
            value, source = availability_ratio(fig)
            limit = 1.0 - th["availability"]
            if value is not None and value > limit:
                breaches.append(_breach("availability", window, value, limit, True, source=source,
                                        message="%.2f%% of requests answered 5xx (%s), the SLO allows %.2f%%"
                                                % (value * 100, source, limit * 100)))
        for slo in th["latency"]:
            key = "fraction_under_%s" % le_label(slo["seconds"])
            value = fig.get(key)
            if value is not None and value < slo["target"]:
                breaches.append(_breach("latency_under_%s" % le_label(slo["seconds"]), window, value, slo["target"],
                                        False, message="%.2f%% of requests were faster than %gs, the SLO is %.2f%%"
                                                       % (value * 100, slo["seconds"], slo["target"] * 100)))
        for key, name in (("kafka_create_p90_seconds", "kafka_create_p90"),
                          ("kafka_create_p99_seconds", "kafka_create_p99")):
            value = fig.get(key)
            if th[key] is not None and value is not None and value > th[key]:
                breaches.append(_breach(name, window, value, float(th[key]), True,
                                        message="Kafka creation %s is %.0f s, the SLO is %.0f s"
                                                % (name.rsplit("_", 1)[1], value, th[key])))
        for op in KAFKA_OPERATIONS:
            value = fig.get("kafka_%s_success_ratio" % op)
            limit = th["kafka_%s_success" % op]
            if limit is not None and value is not None and value < limit:
                breaches.append(_breach("kafka_%s_success" % op, window, value, float(limit), False,
                                        message="%.1f%% of Kafka %s operations succeeded, the SLO is %.1f%%"
                                                % (value * 100, op, limit * 100)))
        for resource in ("cpu", "memory"):
            limit = th[resource]
            over = [p for p in fig.get("pods") or [] if limit is not None and p["%s_ratio" % resource] is not None
                    and p["%s_ratio" % resource] > limit]
            if over:
                worst = max(p["%s_ratio" % resource] for p in over)
                breaches.append(_breach(resource, window, worst, float(limit), True,
                                        pods=[p["pod"] for p in over],
                                        message="%d pod(s) use more than %.0f%% of their %s limit (highest %.0f%%)"
                                                % (len(over), limit * 100, resource, worst * 100)))
        if th["restarts"] is not None:
            restarted = [p for p in fig.get("pods") or [] if p["restarts"] is not None
                         and round(p["restarts"]) > th["restarts"]]
            if restarted:
                total = sum(round(p["restarts"]) for p in restarted)
                breaches.append(_breach("restarts", window, float(total), float(th["restarts"]), True,
                                        pods=[p["pod"] for p in restarted],
                                        message="%d restart(s) of %d pod(s) in the window"
                                                % (total, len(restarted))))
        breaches.extend(traffic_breaches(th, window, fig))
    burn_rates = []
    windows = result.get("burn_windows") or {}
    if windows:
        slos = []
        if th["availability"] is not None:
            slos.append(("availability", 1.0 - th["availability"],
                         lambda fig: availability_ratio(fig)[0]))
        for slo in th["latency"]:
            key = "fraction_under_%s" % le_label(slo["seconds"])
            slos.append(("latency_under_%s" % le_label(slo["seconds"]), 1.0 - slo["target"],
                         lambda fig, key=key: None if fig.get(key) is None else 1.0 - fig[key]))
        for name, budget, burn_of in slos:
            for pair in th["burn_rates"]:
                short = burn_of(windows.get(pair["short"]) or {})
                long_ = burn_of(windows.get(pair["long"]) or {})
                threshold = pair["factor"] * budget
                firing = None if short is None or long_ is None else (short > threshold and long_ > threshold)
                label = "%s/%s" % (pair["short"], pair["long"])
                burn_rates.append({"slo": name, "windows": label, "short": _round(short), "long": _round(long_),
                                   "factor": pair["factor"], "threshold": _round(threshold),
                                   "severity": pair["severity"], "firing": firing})
                if firing:
                    value = min(short, long_)
                    breaches.append(_breach(name, label, value, threshold, True, severity=pair["severity"],
                                            burn_rate=_round(value / budget, 3) if budget else None,
                                            message="error budget burning %.1fx over %s and %s (alert at %gx)"
                                                    % (value / budget if budget else 0, pair["short"], pair["long"],
                                                       pair["factor"])))
    result["breaches"] = breaches
    result["burn_rates"] = burn_rates
    missing = [u for u in result["unavailable"] if u["kind"] in ("error", "empty")]
    result["healthy"] = False if breaches else (None if missing else True)
    return result


# -- series ----------------------------------------------------------------------------------------------------
class Series(object):
    """One chart: a figure as a range query, its threshold line (None when it has none) and which side of it is
    the breach (``>``: the figure must stay below, ``<``: above)."""

    def __init__(self, name, title, unit, promql, threshold, comparison=">"):
        self.name = name
        self.title = title
        self.unit = unit
        self.promql = promql
        self.threshold = None if threshold is None else _round(float(threshold))
        self.comparison = comparison


def series_span(config, at):
    """{start, end, step}: the range's points at whole multiples of the step, inside [at - range, at]."""
    sc = config["series"]
    step = sc["step"]
    end = int(math.floor(at / step) * step)
    start = int(math.ceil((at - sc["range"]) / float(step)) * step)
    return {"start": start, "end": end, "step": step, "lookback": sc["lookback"]}


def series_plan(config, result):
    """The series of every figure of the included groups that has an SLO or a limit, each point being that
    figure over the lookback (the shortest window) before it. Spike lines come from the shortest window's
    baselines in ``result``."""
    th = config["thresholds"]
    m = config["metrics"]
    inc = config["include"]
    sel = Selectors(config)
    lb = config["series"]["lookback"]
    shortest = min(config["windows"], key=duration_seconds)
    fig = (result.get("windows") or {}).get(shortest) or {}
    same = dict((q.name, q.promql) for q in window_queries(config, lb, sel))
    out = []
    if "requests" in inc:
        limit = None if th["availability"] is None else 1.0 - th["availability"]
        out.append(Series("error_ratio_router", "5xx share of the route's responses (router)", "ratio",
                          same["error_ratio_router"], limit))
        out.append(Series("error_ratio", "5xx share of the API's requests (application)", "ratio", same["error_ratio"],
                          limit))
    if "latency" in inc:
        p99 = next((slo["seconds"] for slo in th["latency"] if abs(slo["target"] - 0.99) < 1e-9), None)
        out.append(Series("latency_p99_seconds", "API request duration, 99th percentile", "seconds",
                          same["latency_p99_seconds"], p99))
        name = m["request_duration"]
        for slo in th["latency"]:
            bound = le_regex([slo["seconds"]]).replace("\\", "\\\\")
            out.append(Series("fraction_under_%s" % le_label(slo["seconds"]),
                              "Share of API requests faster than %gs" % slo["seconds"], "ratio",
                              'sum(rate(%s_bucket{%s,le=~"%s"}[%s])) / sum(rate(%s_count{%s}[%s]))'
                              % (name, sel.latency, bound, lb, name, sel.latency, lb), slo["target"], "<"))
    if "resources" in inc:
        limits = m["resource_limits"]
        out.append(Series("cpu_ratio_max", "CPU of the busiest pod, share of its limit", "ratio",
                          'max(sum by (pod) (rate(%s{%s}[%s])) / on (pod) max by (pod) (%s{%s,resource="cpu"}))'
                          % (m["cpu_usage"], sel.pods, lb, limits, sel.pods), th["cpu"]))
        out.append(Series("memory_ratio_max", "Memory of the fullest pod, share of its limit", "ratio",
                          'max(max by (pod) (max_over_time(%s{%s}[%s])) / on (pod) max by (pod) '
                          '(%s{%s,resource="memory"}))' % (m["memory_working_set"], sel.pods, lb, limits, sel.pods),
                          th["memory"]))
        out.append(Series("restarts", "Restarts of all pods", "count",
                          "sum(increase(%s{%s}[%s]))" % (m["restarts"], sel.pods, lb), th["restarts"]))
    if "kafka" in inc:
        for _q, name in KAFKA_QUANTILES:
            out.append(Series(name, "Kafka creation duration, %s" % name.split("_")[2], "seconds", same[name], th[name]))
        for op in KAFKA_OPERATIONS:
            ops = 'operation="%s"' % op
            out.append(Series("kafka_%s_success_ratio" % op, "Share of Kafka %s operations that succeeded" % op,
                              "ratio", "sum(increase(%s{%s,%s}[%s])) / sum(increase(%s{%s,%s}[%s]))"
                              % (m["kafka_operations_success"], sel.app, ops, lb, m["kafka_operations_total"],
                                 sel.app, ops, lb), th["kafka_%s_success" % op], "<"))
    if "network" in inc:
        titles = {"receive_bytes": "Network received by the pods", "transmit_bytes": "Network sent by the pods",
                  "receive_errors": "Network receive errors", "transmit_errors": "Network transmit errors",
                  "receive_drops": "Received packets dropped", "transmit_drops": "Transmitted packets dropped"}
        for tag, key in NETWORK_FIGURES:
            name = "network_%s_per_second" % tag
            if tag.endswith("_bytes"):
                threshold, unit = traffic_line(th, "network", fig.get(name + "_baseline")), "bytes_per_second"
            else:
                kind = tag.split("_")[1]
                threshold = 0.0 if th["network_%s_sustained" % kind] is not None else None
                unit = "per_second"
            out.append(Series(name, titles[tag], unit, "sum(%s)" % network_rate(config, sel, key, lb), threshold))
    if "io" in inc:
        for tag, key in IO_FIGURES[:2]:
            name = "io_%s_per_second" % tag
            out.append(Series(name, "Filesystem %s of the service containers" % tag.replace("_bytes", "s"),
                              "bytes_per_second", "sum(rate(%s{%s}[%s]))" % (m[key], sel.pods, lb),
                              traffic_line(th, "io", fig.get(name + "_baseline"))))
    return out


def traffic_line(th, group, baseline):
    """The lowest rate a bytes figure breaches at: the limit, or the spike line, whichever is lower."""
    lines = [float(th["%s_bytes_per_second" % group])] if th["%s_bytes_per_second" % group] is not None else []
    spike = spike_line(th, group, baseline)
    if spike is not None:
        lines.append(spike)
    return min(lines) if lines else None


def run_range(api, plan, span, workers=4):
    """{promql: Outcome} of the range queries, four at a time; HttpError as ``run``."""
    return run(api, [Query(s.name, None, s.promql) for s in plan], None, workers=workers,
               ask_one=lambda api_, promql: query_range(api_, promql, span))


def _point(ts, raw):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = float("nan")
    ts = float(ts)
    return [int(ts) if ts.is_integer() else ts, None if math.isnan(value) or math.isinf(value) else _round(value)]


def breached_spans(points, threshold, comparison):
    """[[from, to], ...]: the runs of consecutive points on the breach side of the threshold."""
    if threshold is None:
        return []
    spans = []
    current = None
    for ts, value in points:
        over = value is not None and (value > threshold if comparison == ">" else value < threshold)
        if over:
            if current is None:
                current = [ts, ts]
                spans.append(current)
            current[1] = ts
        else:
            current = None
    return spans


def series_of(plan, outcomes):
    """({name: series}, incident window or None) from the range queries' outcomes."""
    out = {}
    start = end = None
    figures = []
    for s in plan:
        outcome = outcomes.get(s.promql) or Outcome("error", reason="not run")
        item = {"title": s.title, "unit": s.unit, "threshold": _round(s.threshold), "comparison": s.comparison,
                "query": s.promql, "points": [], "breached": [], "reason": None}
        if outcome.status == "ok":
            if len(outcome.result) > 1:  # the plans aggregate to one series; never more than one line per chart
                item["reason"] = "%d series where one was expected" % len(outcome.result)
            else:
                item["points"] = [_point(ts, v) for ts, v in outcome.result[0].get("values") or []]
        else:
            item["reason"] = outcome.reason if outcome.status == "error" else "no series matched"
        item["breached"] = breached_spans(item["points"], s.threshold, s.comparison)
        if item["breached"]:
            figures.append(s.name)
            first, last = item["breached"][0][0], item["breached"][-1][1]
            start = first if start is None else min(start, first)
            end = last if end is None else max(end, last)
        out[s.name] = item
    incident = None if start is None else {"start": start, "end": end, "figures": figures}
    return out, incident


# -- the service ------------------------------------------------------------------------------------------------------
def dashboard_links(url, at, windows):
    """The Grafana SLO dashboard over the longest window before ``at`` (Unix seconds), when its URL is given."""
    if not url:
        return []
    span = max(duration_seconds(w) for w in windows)
    sep = "&" if "?" in url else "?"
    return [{"title": "Grafana kas-fleet-manager SLOs",
             "url": "%s%sfrom=%d&to=%d" % (url, sep, int((at - span) * 1000), int(at * 1000))}]


def gather(module):
    """slo_metrics_info: the figures at one instant, their breaches, and with ``series`` the range series."""
    params = module.params
    config = config_of(params)
    at = unix_seconds(params["time"]) if params.get("time") else time.time()
    api = HttpApi(params, name="the Prometheus API")
    queries = plan(config)
    try:
        outcomes = run(api, queries, at)
    except HttpError as exc:
        if params["fail_on_unreachable"]:
            raise
        outcomes = {}
        unreachable = exc.msg
    else:
        unreachable = None
    failed = [o for o in outcomes.values() if o.status == "error"]
    if outcomes and len(failed) == len(outcomes) and params["fail_on_unreachable"]:
        # Every query failed (a 503 from an overloaded or broken Prometheus): the API answered, but gave nothing.
        raise HttpError("%s at %s answered none of the %d queries: %s" % (
            api.name, api.display_url, len(outcomes), failed[0].reason))
    result = assemble(config, queries, outcomes)
    if unreachable:
        result["unavailable"] = [{"figure": "*", "window": None, "query": None, "kind": "error",
                                  "reason": unreachable}]
    evaluate(config, result)
    if config["series"]:
        result.update(gather_series(api, config, result, at, ran=unreachable is None,
                                    fail_on_unreachable=params["fail_on_unreachable"]))
    result.update({
        "queries": [{"figure": q.name, "window": q.window, "query": q.promql,
                     "status": outcomes[q.promql].status if q.promql in outcomes else "not_run"}
                    for q in queries],
        "links": dashboard_links(params.get("grafana_dashboard_url"), at, config["windows"]),
        "evaluated_at": rfc3339(at),
        "http_requests": api.requests,
    })
    return result


def gather_series(api, config, result, at, ran, fail_on_unreachable):
    """series, series_range and incident_window: the range queries, after the figures (spike lines need the
    baselines). Nothing is asked when the API could not be reached for the figures."""
    span = series_span(config, at)
    wanted = series_plan(config, result) if ran else []
    try:
        outcomes = run_range(api, wanted, span)
    except HttpError as exc:
        if fail_on_unreachable:
            raise
        outcomes = dict((s.promql, Outcome("error", reason=exc.msg)) for s in wanted)
    charts, incident = series_of(wanted, outcomes)
    return {"series": charts, "series_range": span, "incident_window": incident}
