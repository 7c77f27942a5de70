# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.slo: the PromQL it plans, how it reads Prometheus answers, the breach arithmetic, the series and the
dashboard link. slo_metrics_info's service against real HTTP servers is tested with the module
(tests/unit/plugins/modules/test_slo_metrics_info.py), the figures against a real Prometheus by its integration
target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import slo
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

NS = "kas-fleet-manager-stage"


def config(**params):
    params.setdefault("namespace", NS)
    return slo.config_of(params)


# -- configuration and PromQL --------------------------------------------------------------------------------------
def test_durations_and_latency_labels():
    assert slo.duration_seconds("5m") == 300
    assert slo.duration_seconds("1h30m") == 5400
    assert slo.duration_seconds("3d") == 259200
    for bad in ("5", "five minutes", "5 m", "", "-5m", "0s"):
        with pytest.raises(FleetError):
            slo.duration_seconds(bad)
    assert slo.le_label(1) == "1s"
    assert slo.le_label(0.1) == "100ms"
    assert slo.le_label(2.5) == "2500ms"
    assert slo.le_label(30) == "30s"


def test_le_regex_matches_both_label_spellings_literally():
    # client_golang writes le="1", Prometheus 3 normalizes to le="1.0"; dots are literal so "1.0" never matches "100"
    assert slo.le_regex([1.0, 0.1]) == r"1|1\.0|0\.1"
    assert slo.quote('a"b\\c') == '"a\\"b\\\\c"'


def test_default_plan_is_up_then_one_query_per_figure_and_window_then_burn_windows():
    cfg = config()
    queries = slo.plan(cfg)
    assert queries[0].name == "up" and queries[0].promql == 'up{job="kas-fleet-manager-metrics",namespace="%s"}' % NS
    per_window = [q for q in queries if q.window == "5m"]
    assert [q.name for q in per_window] == [
        "request_rate", "error_ratio", "error_ratio_router", "latency_p99_seconds", "latency_p95_seconds",
        "fraction_under", "cpu_cores", "memory_bytes", "limits", "restarts", "kafka_create_p90_seconds",
        "kafka_create_p99_seconds", "kafka_success_ratio", "network", "network_sustained", "network_baseline", "io",
        "io_baseline"]
    burn = [q for q in queries if q.window in ("30m", "6h", "2h", "1d", "3d")]
    assert sorted(set(q.window for q in burn)) == ["1d", "2h", "30m", "3d", "6h"]
    assert len(burn) == 10  # router ratio and latency fractions for each of the five windows
    assert len(queries) == 1 + 2 * 18 + 10
    assert len(set(q.promql for q in queries)) == len(queries)


def test_a_reporting_window_that_is_also_a_burn_window_is_queried_once():
    queries = slo.plan(config(windows=["5m", "30m"]))
    thirty = [q for q in queries if q.window == "30m"]
    assert [q.name for q in thirty].count("error_ratio_router") == 1
    assert [q.name for q in thirty].count("fraction_under") == 1
    assert len(queries) == 1 + 2 * 18 + 8


def test_promql_is_upstreams():
    queries = dict(((q.name, q.window), q.promql) for q in slo.plan(config()))
    assert queries[("error_ratio_router", "30m")] == (
        'sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",exported_namespace="%s",'
        'code="5xx"}[30m])) / sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",'
        'exported_namespace="%s"}[30m]))' % (NS, NS))
    assert queries[("error_ratio", "5m")] == (
        'sum(rate(api_inbound_request_count{job="kas-fleet-manager-metrics",namespace="%s",code=~"5.."}[5m])) / '
        'sum(rate(api_inbound_request_count{job="kas-fleet-manager-metrics",namespace="%s"}[5m]))' % (NS, NS))
    latency = 'job="kas-fleet-manager-metrics",namespace="%s",path!~".*federate$",code!~"5.."' % NS
    assert queries[("latency_p99_seconds", "1h")] == (
        "histogram_quantile(0.99, sum by (le) (rate(api_inbound_request_duration_bucket{%s}[1h])))" % latency)
    assert queries[("fraction_under", "6h")] == (
        'sum by (le) (rate(api_inbound_request_duration_bucket{%s,le=~"1|1\\\\.0|0\\\\.1"}[6h])) / ignoring (le) '
        'group_left sum(rate(api_inbound_request_duration_count{%s}[6h]))' % (latency, latency))
    pods = 'namespace="%s",container="service",pod=~"kas-fleet-manager-[a-z0-9]+-[a-z0-9]+"' % NS
    assert queries[("cpu_cores", "5m")] == "sum by (pod) (rate(container_cpu_usage_seconds_total{%s}[5m]))" % pods
    assert queries[("limits", "5m")] == (
        'max by (pod, resource) (max_over_time(kube_pod_container_resource_limits{%s,resource=~"cpu|memory"}[5m]))'
        % pods)
    assert queries[("restarts", "1h")] == (
        "sum by (pod) (increase(kube_pod_container_status_restarts_total{%s}[1h]))" % pods)
    assert queries[("kafka_create_p90_seconds", "5m")] == (
        'histogram_quantile(0.9, sum by (le) (rate(kas_fleet_manager_worker_kafka_duration_bucket{'
        'job="kas-fleet-manager-metrics",namespace="%s",jobType="kafka_create"}[5m])))' % NS)
    assert "kas_fleet_manager_kafka_operations_success_count" in queries[("kafka_success_ratio", "5m")]


def test_options_shape_the_selectors_and_names():
    cfg = config(namespace='we"ird', job="fm", route="r1", deployment="fm.v2", container="app",
                 metric_names={"request_count": "fm:requests_total", "restarts": "restarts_total"},
                 include=["requests", "resources"], windows=["10m"])
    text = "\n".join(q.promql for q in slo.plan(cfg))
    assert 'namespace="we\\"ird"' in text
    assert "fm:requests_total{job=\"fm\"" in text
    assert 'route="r1"' in text
    assert 'pod=~"fm\\\\.v2-[a-z0-9]+-[a-z0-9]+"' in text and 'container="app"' in text
    assert "restarts_total{" in text and "kube_pod_container_status_restarts_total" not in text
    assert "histogram_quantile" not in text and "kafka" not in text
    assert "[6h]" not in text  # no burn_rates in include


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(FleetError, match="unknown key 'requests'"):
        slo.metric_names({"requests": "x"})
    with pytest.raises(FleetError, match="not a Prometheus metric name"):
        slo.metric_names({"up": "up{job='x'}"})
    with pytest.raises(FleetError, match="windows must name"):
        config(windows=[])
    with pytest.raises(FleetError, match="not a PromQL duration"):
        config(windows=["5 minutes"])
    with pytest.raises(FleetError, match="must be a ratio"):
        slo.thresholds_of({"availability": 95})
    with pytest.raises(FleetError, match="needs short, long and factor"):
        slo.thresholds_of({"burn_rates": [{"short": "5m"}]})
    with pytest.raises(FleetError, match="target must be between 0 and 1"):
        slo.thresholds_of({"latency": [{"seconds": 1, "target": 99}]})


def test_null_thresholds_skip_their_queries():
    cfg = config(thresholds={"availability": None, "latency": None})
    names = set(q.name for q in slo.plan(cfg))
    assert "fraction_under" not in names
    assert not [q for q in slo.plan(cfg) if q.window == "6h"]  # nothing left to burn


# -- reading answers ------------------------------------------------------------------------------------------------
def vector(*samples):
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [1795500000.0, value]} for labels, value in samples]}}


def test_parse_response():
    ok = slo.parse_response(vector(({}, "0.25")))
    assert ok.status == "ok" and slo.sample_value(ok.result[0]) == 0.25
    assert slo.parse_response(vector()).status == "empty"
    err = slo.parse_response({"status": "error", "errorType": "bad_data", "error": "parse error"})
    assert (err.status, err.reason) == ("error", "bad_data: parse error")
    scalar = slo.parse_response({"status": "success", "data": {"resultType": "scalar", "result": [1, "3"]}})
    assert slo.sample_value(scalar.result[0]) == 3.0
    assert slo.parse_response("<html>login</html>").status == "error"
    assert slo.parse_response({"status": "success", "data": {"resultType": "matrix", "result": [1]}}).status == "error"
    nan = slo.parse_response(vector(({}, "NaN")))
    assert str(slo.sample_value(nan.result[0])) == "nan"


PODS = ("kas-fleet-manager-5c7p5l8wwp-92qnr", "kas-fleet-manager-5c7p5l8wwp-n6nf9", "kas-fleet-manager-5c7p5l8wwp-vpfkf")


def healthy_answers(cfg, overrides=None, **by_name):
    """An answer per planned query, like the lab's healthy scenario; overrides by (name, window) or name."""
    overrides = dict(overrides or {}, **by_name)
    answers = {}
    for q in slo.plan(cfg):
        key = (q.name, q.window)
        if key in overrides or q.name in overrides:
            answers[q.promql] = overrides.get(key, overrides.get(q.name))
            continue
        if q.name == "up":
            body = vector(*[({"pod": p, "instance": "10.0.0.%d:8080" % i}, "1") for i, p in enumerate(PODS)])
        elif q.name == "request_rate":
            body = vector(({}, "20"))
        elif q.name in ("error_ratio", "error_ratio_router"):
            body = vector(({}, "0.002"))
        elif q.name == "latency_p99_seconds":
            body = vector(({}, "0.85"))
        elif q.name == "latency_p95_seconds":
            body = vector(({}, "0.1"))
        elif q.name == "fraction_under":
            body = vector(({"le": "1"}, "0.998"), ({"le": "0.1"}, "0.95"))
        elif q.name == "cpu_cores":
            body = vector(*[({"pod": p}, "0.15") for p in PODS])
        elif q.name == "memory_bytes":
            body = vector(*[({"pod": p}, "367001600") for p in PODS])
        elif q.name == "limits":
            body = vector(*([({"pod": p, "resource": "cpu"}, "1") for p in PODS]
                            + [({"pod": p, "resource": "memory"}, "1073741824") for p in PODS]))
        elif q.name == "restarts":
            body = vector(*[({"pod": p}, "0") for p in PODS])
        elif q.name == "kafka_create_p90_seconds":
            body = vector(({}, "420"))
        elif q.name == "kafka_create_p99_seconds":
            body = vector(({}, "447"))
        elif q.name == "kafka_success_ratio":
            body = vector(({"operation": "create"}, "1"), ({"operation": "delete"}, "1"))
        elif q.name == "network":
            body = vector(*[({"figure": f, "pod": p}, NETWORK[f]) for p in PODS for f in NETWORK])
        elif q.name == "network_sustained":
            body = vector(*[({"figure": f, "pod": p}, "0") for p in PODS for f in ("errors", "drops")])
        elif q.name == "network_baseline":
            body = vector(({"figure": "receive_bytes"}, "360000"), ({"figure": "transmit_bytes"}, "750000"))
        elif q.name == "io":
            body = vector(*[({"figure": f, "pod": p}, IO[f]) for p in PODS for f in IO])
        elif q.name == "io_baseline":
            body = vector(({"figure": "read_bytes"}, "12288"), ({"figure": "write_bytes"}, "98304"))
        else:
            raise AssertionError(q.name)
        answers[q.promql] = body
    return answers


# per pod, like the lab's healthy defaults
NETWORK = {"receive_bytes": "120000", "transmit_bytes": "250000", "receive_errors": "0", "transmit_errors": "0",
           "receive_drops": "0", "transmit_drops": "0"}
IO = {"read_bytes": "4096", "write_bytes": "32768", "reads": "1", "writes": "4"}


def figures(cfg, answers):
    queries = slo.plan(cfg)
    outcomes = dict((promql, slo.parse_response(body)) for promql, body in answers.items())
    return slo.evaluate(cfg, slo.assemble(cfg, queries, outcomes))


def test_healthy_answers_are_healthy():
    cfg = config()
    result = figures(cfg, healthy_answers(cfg))
    assert result["healthy"] is True
    assert result["breaches"] == [] and result["unavailable"] == []
    five = result["windows"]["5m"]
    assert five["request_rate"] == 20.0
    assert five["fraction_under_1s"] == 0.998 and five["fraction_under_100ms"] == 0.95
    assert five["pods"][0] == {"pod": PODS[0], "cpu_cores": 0.15, "cpu_limit_cores": 1.0, "cpu_ratio": 0.15,
                               "memory_bytes": 367001600, "memory_limit_bytes": 1073741824, "memory_ratio": 0.3418,
                               "restarts": 0.0}
    assert five["kafka_create_success_ratio"] == 1.0
    assert result["up"] == {"targets": 3, "up": 3, "pods": dict((p, 1) for p in PODS), "down": []}
    assert len(result["burn_rates"]) == 9 and not any(b["firing"] for b in result["burn_rates"])
    assert set(result["burn_windows"]) == {"30m", "6h", "2h", "1d", "3d"}


def test_5xx_breach_says_by_how_much_and_prefers_the_router():
    cfg = config()
    result = figures(cfg, healthy_answers(cfg, {("error_ratio_router", "5m"): vector(({}, "0.25")),
                                                ("error_ratio", "5m"): vector(({}, "0.2"))}))
    assert result["healthy"] is False
    [breach] = result["breaches"]
    assert breach["slo"] == "availability" and breach["window"] == "5m" and breach["source"] == "router"
    assert (breach["value"], breach["threshold"], breach["by"]) == (0.25, 0.05, 0.2)
    assert breach["comparison"] == ">"


def test_application_ratio_stands_in_when_the_router_has_none():
    cfg = config(windows=["5m"])
    result = figures(cfg, healthy_answers(cfg, {("error_ratio_router", "5m"): vector(),
                                                ("error_ratio", "5m"): vector(({}, "0.07"))}))
    [breach] = result["breaches"]
    assert breach["source"] == "application" and breach["value"] == 0.07
    assert [u["figure"] for u in result["unavailable"]] == ["error_ratio_router"]


def test_burn_rate_fires_only_when_both_windows_burn():
    cfg = config(windows=["5m"])
    both = healthy_answers(cfg, {("error_ratio_router", "30m"): vector(({}, "0.4")),
                                 ("error_ratio_router", "6h"): vector(({}, "0.31"))})
    result = figures(cfg, both)
    [breach] = [b for b in result["breaches"] if b["window"] == "30m/6h"]
    assert breach["slo"] == "availability" and breach["severity"] == "critical"
    assert breach["value"] == 0.31 and breach["threshold"] == 0.3 and breach["by"] == 0.01
    assert breach["burn_rate"] == 6.2
    only_short = figures(cfg, healthy_answers(cfg, {("error_ratio_router", "30m"): vector(({}, "0.4"))}))
    assert not [b for b in only_short["breaches"] if b["window"] == "30m/6h"]
    rate = [b for b in only_short["burn_rates"] if b["slo"] == "availability" and b["windows"] == "30m/6h"][0]
    assert rate["firing"] is False and rate["short"] == 0.4


def test_latency_breaches_per_window_and_by_burn():
    cfg = config(windows=["5m"])
    slow = vector(({"le": "1.0"}, "0.88"), ({"le": "0.1"}, "0.55"))  # Prometheus 3 spelling of le
    result = figures(cfg, healthy_answers(cfg, {("fraction_under", "5m"): slow, ("fraction_under", "2h"): slow,
                                                ("fraction_under", "1d"): slow}))
    slos = sorted((b["slo"], b["window"]) for b in result["breaches"])
    # 45 % slower than 0.1 s burns the 10 % budget 4.5x: over the 2h/1d pair's 3x, under the 30m/6h pair's 6x
    assert slos == [("latency_under_100ms", "2h/1d"), ("latency_under_100ms", "5m"), ("latency_under_1s", "2h/1d"),
                    ("latency_under_1s", "5m")]
    five = [b for b in result["breaches"] if b["window"] == "5m" and b["slo"] == "latency_under_1s"][0]
    assert (five["value"], five["threshold"], five["by"], five["comparison"]) == (0.88, 0.99, 0.11, "<")
    burn = [b for b in result["breaches"] if b["window"] == "2h/1d"][0]
    assert burn["value"] == 0.12 and burn["threshold"] == 0.03 and burn["burn_rate"] == 12.0


def test_a_latency_bound_that_is_not_a_bucket_is_unavailable():
    cfg = config(windows=["5m"], include=["latency"], thresholds={"latency": [{"seconds": 0.25, "target": 0.9}]})
    result = figures(cfg, healthy_answers(cfg))
    [missing] = result["unavailable"]
    assert missing["figure"] == "fraction_under_250ms" and missing["kind"] == "empty"
    assert "no bucket le=0.25" in missing["reason"]
    assert result["healthy"] is None


def test_resources_kafka_and_restarts_breaches():
    cfg = config(windows=["5m"], include=["resources", "kafka"])
    result = figures(cfg, healthy_answers(cfg, {
        "cpu_cores": vector(({"pod": PODS[0]}, "0.97"), ({"pod": PODS[1]}, "0.5"), ({"pod": PODS[2]}, "0.85")),
        "memory_bytes": vector(*[({"pod": p}, "1000000000") for p in PODS]),
        "restarts": vector(({"pod": PODS[0]}, "2.04"), ({"pod": PODS[1]}, "0.2"), ({"pod": PODS[2]}, "0")),
        "kafka_create_p90_seconds": vector(({}, "3300")),
        "kafka_success_ratio": vector(({"operation": "create"}, "0.7"), ({"operation": "delete"}, "NaN")),
    }))
    by_slo = dict((b["slo"], b) for b in result["breaches"])
    assert sorted(by_slo) == ["cpu", "kafka_create_p90", "kafka_create_success", "memory", "restarts"]
    assert by_slo["cpu"]["pods"] == [PODS[0], PODS[2]] and by_slo["cpu"]["value"] == 0.97
    assert by_slo["memory"]["value"] == 0.9313 and len(by_slo["memory"]["pods"]) == 3
    assert by_slo["restarts"]["pods"] == [PODS[0]] and by_slo["restarts"]["value"] == 2.0
    assert by_slo["kafka_create_p90"]["by"] == 2400.0
    assert by_slo["kafka_create_success"]["by"] == 0.29
    # no Kafka deletion in the window: 0/0 is said, and does not make the evidence missing
    [nan] = result["unavailable"]
    assert (nan["figure"], nan["kind"]) == ("kafka_delete_success_ratio", "no_events")
    assert result["windows"]["5m"]["kafka_delete_success_ratio"] is None


def test_missing_up_is_the_fleet_manager_down_and_missing_series_are_said():
    cfg = config(windows=["5m"])
    empty = dict((name, vector()) for name in ("up", "request_rate", "error_ratio", "latency_p99_seconds",
                                               "latency_p95_seconds", "fraction_under", "cpu_cores", "memory_bytes"))
    result = figures(cfg, healthy_answers(cfg, empty, error_ratio_router=vector(({}, "1"))))
    assert result["up"] == {"targets": 0, "up": 0, "pods": {}, "down": []}
    assert [b["slo"] for b in result["breaches"]][:2] == ["up", "availability"]
    assert result["healthy"] is False
    kinds = set((u["figure"], u["kind"]) for u in result["unavailable"])
    assert ("request_rate", "empty") in kinds and ("cpu_cores", "empty") in kinds
    assert all(u["query"] for u in result["unavailable"])


def test_nothing_matching_at_all_is_missing_evidence_not_an_outage():
    cfg = config(windows=["5m"], include=["requests"], thresholds={"availability": None})
    result = figures(cfg, dict((q.promql, vector()) for q in slo.plan(cfg)))
    assert result["breaches"] == [] and result["healthy"] is None
    assert result["up"]["targets"] is None
    assert [u["figure"] for u in result["unavailable"]] == ["up", "request_rate", "error_ratio", "error_ratio_router"]
    assert "check url, namespace, job" in result["unavailable"][0]["reason"]


def test_a_failed_query_makes_healthy_null_never_true():
    cfg = config(windows=["5m"], include=["requests"])
    result = figures(cfg, healthy_answers(cfg, request_rate={"status": "error", "errorType": "timeout",
                                                             "error": "query timed out in expression evaluation"}))
    assert result["breaches"] == []
    assert result["healthy"] is None
    [missing] = result["unavailable"]
    assert missing["kind"] == "error" and "timed out" in missing["reason"]
    assert missing["query"].startswith("sum(rate(api_inbound_request_count")


def test_no_requests_at_all_is_no_events_not_missing_evidence():
    cfg = config(windows=["5m"], include=["requests"])
    result = figures(cfg, healthy_answers(cfg, request_rate=vector(({}, "0")), error_ratio=vector(({}, "NaN")),
                                          error_ratio_router=vector(({}, "NaN"))))
    assert result["healthy"] is True
    assert sorted(u["kind"] for u in result["unavailable"]) == ["no_events", "no_events"]


def test_dashboard_link():
    at = 1795579200.0  # 2026-11-25T04:00:00Z
    [link] = slo.dashboard_links("https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos?orgId=1", at,
                                 ["5m", "1h"])
    assert link["url"] == ("https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos?orgId=1"
                           "&from=1795575600000&to=1795579200000")
    assert slo.dashboard_links(None, at, ["5m"]) == []


# -- network and IO ---------------------------------------------------------------------------------------------------
SANDBOX = 'namespace="%s",container=~"POD|",pod=~"kas-fleet-manager-[a-z0-9]+-[a-z0-9]+"' % NS
SERVICE = 'namespace="%s",container="service",pod=~"kas-fleet-manager-[a-z0-9]+-[a-z0-9]+"' % NS


def test_network_promql_reads_the_pod_sandbox_per_interface_once():
    queries = dict(((q.name, q.window), q.promql) for q in slo.plan(config(include=["network", "io"])))
    network = queries[("network", "5m")]
    assert network.startswith(
        'label_replace(sum by (pod) (max by (pod, interface) (rate(container_network_receive_bytes_total{%s}[5m]))), '
        '"figure", "receive_bytes", "", "") or label_replace(' % SANDBOX)
    for name, tag in (("container_network_transmit_bytes_total", "transmit_bytes"),
                      ("container_network_receive_errors_total", "receive_errors"),
                      ("container_network_transmit_errors_total", "transmit_errors"),
                      ("container_network_receive_packets_dropped_total", "receive_drops"),
                      ("container_network_transmit_packets_dropped_total", "transmit_drops")):
        assert ('label_replace(sum by (pod) (max by (pod, interface) (rate(%s{%s}[5m]))), "figure", "%s", "", "")'
                % (name, SANDBOX, tag)) in network
    errors = ('sum by (pod) (label_replace(max by (pod, interface) (rate(container_network_receive_errors_total{%s}[2m]))'
              ', "direction", "receive", "", "") or label_replace(max by (pod, interface) (rate('
              'container_network_transmit_errors_total{%s}[2m])), "direction", "transmit", "", ""))' % (SANDBOX, SANDBOX))
    assert queries[("network_sustained", "5m")].startswith(
        'label_replace(avg_over_time((%s > bool 0)[5m:30s]), "figure", "errors", "", "") or ' % errors)
    assert "[1h:1m]" in queries[("network_sustained", "1h")]
    assert queries[("network_baseline", "1h")].startswith(
        'label_replace(quantile_over_time(0.5, (sum(max by (pod, interface) (rate(container_network_receive_bytes_total'
        '{%s}[1h]))))[6h:6m] offset 1h), "figure", "receive_bytes", "", "")' % SANDBOX)
    assert queries[("io", "5m")].startswith(
        'label_replace(sum by (pod) (rate(container_fs_reads_bytes_total{%s}[5m])), "figure", "read_bytes", "", "")'
        % SERVICE)
    for name in ("container_fs_writes_bytes_total", "container_fs_reads_total", "container_fs_writes_total"):
        assert "rate(%s{%s}[5m])" % (name, SERVICE) in queries[("io", "5m")]
    assert queries[("io_baseline", "5m")] == (
        'label_replace(quantile_over_time(0.5, (sum(rate(container_fs_reads_bytes_total{%s}[5m])))[6h:6m] offset 5m), '
        '"figure", "read_bytes", "", "") or label_replace(quantile_over_time(0.5, (sum(rate('
        'container_fs_writes_bytes_total{%s}[5m])))[6h:6m] offset 5m), "figure", "write_bytes", "", "")'
        % (SERVICE, SERVICE))
    assert set(q.name for q in slo.plan(config(include=["network", "io"]))) == {
        "up", "network", "network_sustained", "network_baseline", "io", "io_baseline"}


def test_network_and_io_names_thresholds_and_null_checks_shape_the_plan():
    cfg = config(include=["network", "io"], windows=["10m"], deployment="fm",
                 metric_names={"network_receive_drops": "node:rx_dropped", "fs_reads": "fs_reads_completed"},
                 thresholds={"network_errors_sustained": None, "network_drops_sustained": None,
                             "io_spike_factor": None, "spike_baseline": "1d"})
    names = dict((q.name, q.promql) for q in slo.plan(cfg))
    assert sorted(names) == ["io", "network", "network_baseline", "up"]
    assert "node:rx_dropped{" in names["network"]
    assert "container_network_receive_packets_dropped_total" not in names["network"]
    assert "container_network_transmit_packets_dropped_total{" in names["network"]
    assert "fs_reads_completed{" in names["io"] and 'pod=~"fm-[a-z0-9]+-[a-z0-9]+"' in names["io"]
    assert "[1d:24m] offset 10m" in names["network_baseline"]


def test_network_and_io_thresholds_are_checked():
    with pytest.raises(FleetError, match="network_errors_sustained must be a share of the window"):
        slo.thresholds_of({"network_errors_sustained": 1.0})
    with pytest.raises(FleetError, match="io_spike_factor must be positive"):
        slo.thresholds_of({"io_spike_factor": 0})
    with pytest.raises(FleetError, match="network_bytes_per_second must be positive"):
        slo.thresholds_of({"network_bytes_per_second": -5})
    with pytest.raises(FleetError, match="io_spike_min_bytes_per_second must be at least 0"):
        slo.thresholds_of({"io_spike_min_bytes_per_second": -1})
    with pytest.raises(FleetError, match="not a PromQL duration"):
        slo.thresholds_of({"spike_baseline": "six hours"})
    th = slo.thresholds_of({"network_spike_min_bytes_per_second": None, "spike_baseline": None})
    assert th["network_spike_min_bytes_per_second"] == 0.0 and th["spike_baseline"] == "6h"
    assert th["network_bytes_per_second"] is None and th["io_bytes_per_second"] is None


def test_healthy_network_and_io_figures_per_pod_and_in_total():
    cfg = config(include=["network", "io"])
    result = figures(cfg, healthy_answers(cfg))
    assert result["healthy"] is True and result["breaches"] == [] and result["unavailable"] == []
    five = result["windows"]["5m"]
    assert five["network_receive_bytes_per_second"] == 360000.0
    assert five["network_transmit_bytes_per_second"] == 750000.0
    assert five["network_receive_errors_per_second"] == 0.0 and five["network_transmit_drops_per_second"] == 0.0
    assert five["network_receive_bytes_per_second_baseline"] == 360000.0
    assert five["network_pods"][0] == {
        "pod": PODS[0], "receive_bytes_per_second": 120000.0, "transmit_bytes_per_second": 250000.0,
        "receive_errors_per_second": 0.0, "transmit_errors_per_second": 0.0, "receive_drops_per_second": 0.0,
        "transmit_drops_per_second": 0.0, "errors_share": 0.0, "drops_share": 0.0}
    assert [p["pod"] for p in five["network_pods"]] == list(PODS)
    assert (five["io_read_bytes_per_second"], five["io_write_bytes_per_second"]) == (12288.0, 98304.0)
    assert (five["io_reads_per_second"], five["io_writes_per_second"]) == (3.0, 12.0)
    assert five["io_write_bytes_per_second_baseline"] == 98304.0
    assert five["io_pods"][2] == {"pod": PODS[2], "read_bytes_per_second": 4096.0, "write_bytes_per_second": 32768.0,
                                  "reads_per_second": 1.0, "writes_per_second": 4.0}
    assert "kafka_create_p90_seconds" not in five and "pods" not in five


def _network(pod_values):
    """A network answer: {figure: per-pod value} for every pod."""
    return vector(*[({"figure": f, "pod": p}, v) for f, v in pod_values.items() for p in PODS])


def test_network_and_io_spikes_against_baseline_and_limits():
    cfg = config(include=["network", "io"], windows=["5m"], thresholds={"network_bytes_per_second": 5000000})
    answers = healthy_answers(cfg, {
        "network": _network(dict(NETWORK, receive_bytes="2400000", transmit_bytes="600000")),
        "io": vector(*[({"figure": f, "pod": p}, v) for f, v in dict(IO, read_bytes="25000000").items()
                       for p in PODS]),
        "io_baseline": vector(({"figure": "read_bytes"}, "0"), ({"figure": "write_bytes"}, "98304"))})
    result = figures(cfg, answers)
    by_slo = dict((b["slo"], b) for b in result["breaches"])
    assert sorted(by_slo) == ["io_read_spike", "network_receive_limit", "network_receive_spike"]
    spike = by_slo["network_receive_spike"]
    assert (spike["value"], spike["threshold"], spike["baseline"], spike["ratio"]) == (7200000.0, 1080000.0,
                                                                                       360000.0, 20.0)
    assert spike["by"] == 6120000.0 and spike["comparison"] == ">"
    assert spike["message"] == ("the pods received 6.9 MiB/s over 5m, 20.0x their baseline of 351.6 KiB/s (median of "
                                "the 6h before); a spike is over 3x and over 1.0 MiB/s")
    # 1.8 MB/s sent is 2.4x its baseline: under the 3x factor
    assert result["windows"]["5m"]["network_transmit_bytes_per_second"] == 1800000.0
    limit = by_slo["network_receive_limit"]
    assert (limit["value"], limit["threshold"], limit["by"]) == (7200000.0, 5000000.0, 2200000.0)
    assert limit["message"] == "the pods received 6.9 MiB/s over 5m, the limit is 4.8 MiB/s"
    # a baseline of 0: the minimum is the line, and there is no ratio
    io = by_slo["io_read_spike"]
    assert io["threshold"] == 1048576.0 and io["ratio"] is None and io["baseline"] == 0.0
    assert "far over their baseline of 0.0 B/s" in io["message"]


def test_a_spike_under_the_minimum_is_no_breach():
    cfg = config(include=["io"], windows=["5m"])
    busy = dict(IO, write_bytes="300000")
    answers = healthy_answers(cfg, io=vector(*[({"figure": f, "pod": p}, v) for f, v in busy.items() for p in PODS]))
    result = figures(cfg, answers)
    # 900 kB/s is 9x the 98 kB/s baseline, but under the 1 MiB/s a spike must reach
    assert result["windows"]["5m"]["io_write_bytes_per_second"] == 900000.0
    assert result["breaches"] == [] and result["healthy"] is True
    lower = figures(config(include=["io"], windows=["5m"], thresholds={"io_spike_min_bytes_per_second": 500000}),
                    answers)
    assert [b["slo"] for b in lower["breaches"]] == ["io_write_spike"]


def test_sustained_network_errors_and_drops_name_their_pods():
    cfg = config(include=["network"], windows=["5m"], thresholds={"network_drops_sustained": 0.8})
    shares = vector(({"figure": "errors", "pod": PODS[0]}, "1"), ({"figure": "errors", "pod": PODS[1]}, "0.5"),
                    ({"figure": "errors", "pod": PODS[2]}, "0.6"), ({"figure": "drops", "pod": PODS[0]}, "0.7"),
                    ({"figure": "drops", "pod": PODS[1]}, "0"), ({"figure": "drops", "pod": PODS[2]}, "0.9"))
    result = figures(cfg, healthy_answers(cfg, network_sustained=shares))
    by_slo = dict((b["slo"], b) for b in result["breaches"])
    assert sorted(by_slo) == ["network_drops", "network_errors"]
    errors = by_slo["network_errors"]
    assert errors["pods"] == [PODS[0], PODS[2]]  # 0.5 is not more than half the window
    assert (errors["value"], errors["threshold"], errors["by"]) == (1.0, 0.5, 0.5)
    assert errors["message"] == ("2 pod(s) had network errors (received or sent) during 100% of the window, more "
                                 "than 50% is sustained")
    assert by_slo["network_drops"]["pods"] == [PODS[2]] and by_slo["network_drops"]["threshold"] == 0.8
    pods = dict((p["pod"], p) for p in result["windows"]["5m"]["network_pods"])
    assert (pods[PODS[1]]["errors_share"], pods[PODS[1]]["drops_share"]) == (0.5, 0.0)


def test_missing_network_and_io_series_are_said():
    cfg = config(include=["network", "io"], windows=["5m"])
    partial = _network(dict((f, v) for f, v in NETWORK.items() if not f.endswith("_drops")))
    result = figures(cfg, healthy_answers(cfg, network=partial, io=vector(),
                                          network_baseline=vector(({"figure": "receive_bytes"}, "360000"))))
    missing = dict((u["figure"], u) for u in result["unavailable"])
    assert sorted(missing) == ["io", "network_receive_drops_per_second", "network_transmit_bytes_per_second_baseline",
                               "network_transmit_drops_per_second"]
    assert missing["network_receive_drops_per_second"]["kind"] == "empty"
    assert "no container_network_receive_packets_dropped_total series" in \
        missing["network_receive_drops_per_second"]["reason"]
    assert missing["network_transmit_bytes_per_second_baseline"]["reason"] == (
        "no history in the 6h before the window to take a baseline from")
    assert missing["io"]["query"].startswith("label_replace(sum by (pod) (rate(container_fs_reads_bytes_total")
    five = result["windows"]["5m"]
    assert five["network_receive_drops_per_second"] is None and five["network_receive_bytes_per_second"] == 360000.0
    assert five["network_pods"][0]["receive_drops_per_second"] is None
    assert five["io_read_bytes_per_second"] is None and five["io_pods"] == []
    assert result["healthy"] is None
    no_history = figures(cfg, healthy_answers(cfg, io_baseline=vector()))
    [entry] = no_history["unavailable"]
    assert (entry["figure"], entry["kind"]) == ("io_baseline", "empty") and "no history in the 6h" in entry["reason"]


# -- series -----------------------------------------------------------------------------------------------------------
def test_series_range_and_step_defaults_and_bounds():
    assert config()["series"] is None
    assert config(series=True)["series"] == {"range": 3600, "range_text": "1h", "step": 30, "lookback": "5m"}
    assert config(series=True, windows=["5m"])["series"]["step"] == 15
    six = config(series=True, series_range="6h")["series"]
    assert (six["range"], six["step"], six["lookback"]) == (21600, 300, "5m")
    assert config(series=True, series_range="1d")["series"]["step"] == 900
    assert config(series=True, series_range="1d")["series"]["lookback"] == "15m"  # the step, so points tile the day
    assert config(series=True, series_range="3d", windows=["1h"])["series"]["lookback"] == "1h"
    assert config(series=True, series_step="12s")["series"]["step"] == 12  # 300 steps: allowed
    with pytest.raises(FleetError, match="series_step 10s over series_range 1h gives 361 points, more than 301: give "
                                         "a step of at least 12s"):
        config(series=True, series_step="10s")
    for bad in ("500ms", "1s500ms"):
        with pytest.raises(FleetError, match="series_step must be whole seconds, at least 1s"):
            config(series=True, series_step=bad)
    with pytest.raises(FleetError, match="not a PromQL duration"):
        config(series=True, series_range="an hour")


def test_series_span_is_aligned_inside_the_range():
    cfg = config(series=True)
    at = 1795579215.7
    span = slo.series_span(cfg, at)
    assert span == {"start": 1795575630, "end": 1795579200, "step": 30, "lookback": "5m"}
    assert at - 3600 <= span["start"] and span["end"] <= at
    assert (span["end"] - span["start"]) // span["step"] + 1 == 120


def test_series_plan_has_every_figure_with_a_threshold_and_its_line():
    cfg = config(series=True, thresholds={"io_bytes_per_second": 500000, "network_drops_sustained": None})
    result = figures(cfg, healthy_answers(cfg))
    plan = slo.series_plan(cfg, result)
    lines = dict((s.name, (s.threshold, s.comparison, s.unit)) for s in plan)
    assert lines == {
        "error_ratio_router": (0.05, ">", "ratio"), "error_ratio": (0.05, ">", "ratio"),
        "latency_p99_seconds": (1.0, ">", "seconds"), "fraction_under_1s": (0.99, "<", "ratio"),
        "fraction_under_100ms": (0.9, "<", "ratio"), "cpu_ratio_max": (0.8, ">", "ratio"),
        "memory_ratio_max": (0.8, ">", "ratio"), "restarts": (0.0, ">", "count"),
        "kafka_create_p90_seconds": (900.0, ">", "seconds"), "kafka_create_p99_seconds": (1800.0, ">", "seconds"),
        "kafka_create_success_ratio": (0.99, "<", "ratio"), "kafka_delete_success_ratio": (0.99, "<", "ratio"),
        # 3x the shortest window's baseline, or the 1 MiB/s minimum, or the limit: the lowest line that breaches
        "network_receive_bytes_per_second": (1080000.0, ">", "bytes_per_second"),
        "network_transmit_bytes_per_second": (2250000.0, ">", "bytes_per_second"),
        "network_receive_errors_per_second": (0.0, ">", "per_second"),
        "network_transmit_errors_per_second": (0.0, ">", "per_second"),
        "network_receive_drops_per_second": (None, ">", "per_second"),
        "network_transmit_drops_per_second": (None, ">", "per_second"),
        "io_read_bytes_per_second": (500000.0, ">", "bytes_per_second"),
        "io_write_bytes_per_second": (500000.0, ">", "bytes_per_second")}
    queries = dict((s.name, s.promql) for s in plan)
    pods = 'namespace="%s",container="service",pod=~"kas-fleet-manager-[a-z0-9]+-[a-z0-9]+"' % NS
    assert queries["cpu_ratio_max"] == (
        'max(sum by (pod) (rate(container_cpu_usage_seconds_total{%s}[5m])) / on (pod) max by (pod) '
        '(kube_pod_container_resource_limits{%s,resource="cpu"}))' % (pods, pods))
    assert queries["network_receive_bytes_per_second"] == (
        "sum(max by (pod, interface) (rate(container_network_receive_bytes_total{%s}[5m])))" % SANDBOX)
    assert queries["fraction_under_100ms"].startswith(
        'sum(rate(api_inbound_request_duration_bucket{job="kas-fleet-manager-metrics",namespace="%s",'
        'path!~".*federate$",code!~"5..",le=~"0\\\\.1"}[5m])) / sum(rate(api_inbound_request_duration_count{' % NS)
    assert queries["kafka_delete_success_ratio"].endswith('operation="delete"}[5m]))')
    assert all(s.title for s in plan) and not [s for s in plan if "[1h]" in s.promql]
    only = slo.series_plan(config(series=True, include=["requests", "burn_rates"], thresholds={"availability": None}),
                           {"windows": {}})
    assert [(s.name, s.threshold) for s in only] == [("error_ratio_router", None), ("error_ratio", None)]


def matrix(*series):
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": values} for labels, values in series]}}


def test_series_points_breached_spans_and_incident_window():
    plan = [slo.Series("fraction_under_1s", "t", "ratio", "q1", 0.99, "<"),
            slo.Series("network_receive_errors_per_second", "t", "per_second", "q2", 0.0),
            slo.Series("cpu_ratio_max", "t", "ratio", "q3", 0.8),
            slo.Series("restarts", "t", "count", "q4", 0.0),
            slo.Series("error_ratio", "t", "ratio", "q5", 0.05),
            slo.Series("memory_ratio_max", "t", "ratio", "q6", None)]
    outcomes = {
        "q1": slo.parse_response(matrix(({}, [[100, "0.998"], [130, "0.9"], [160, "NaN"], [190, "0.5"],
                                              [220, "0.95"]])), "matrix"),
        "q2": slo.parse_response(matrix(({}, [[100, "0"], [130, "0"], [160, "2.5"], [190, "+Inf"]])), "matrix"),
        "q3": slo.parse_response(matrix(({"pod": "a"}, [[100, "1"]]), ({"pod": "b"}, [[100, "1"]])), "matrix"),
        "q4": slo.parse_response(matrix(), "matrix"),
        "q5": slo.parse_response({"status": "error", "errorType": "timeout", "error": "query timed out"}, "matrix"),
        "q6": slo.parse_response(matrix(({}, [[100.5, "0.3"]])), "matrix"),
    }
    charts, incident = slo.series_of(plan, outcomes)
    under = charts["fraction_under_1s"]
    assert under["points"] == [[100, 0.998], [130, 0.9], [160, None], [190, 0.5], [220, 0.95]]
    assert under["breached"] == [[130, 130], [190, 220]]  # an undefined point ends a span
    assert (under["title"], under["unit"], under["threshold"], under["comparison"], under["query"]) == (
        "t", "ratio", 0.99, "<", "q1")
    assert under["reason"] is None
    assert charts["network_receive_errors_per_second"]["breached"] == [[160, 160]]
    assert charts["cpu_ratio_max"]["points"] == [] and charts["cpu_ratio_max"]["reason"] == (
        "2 series where one was expected")
    assert charts["restarts"]["reason"] == "no series matched"
    assert charts["error_ratio"]["reason"] == "timeout: query timed out"
    assert charts["memory_ratio_max"]["points"] == [[100.5, 0.3]] and charts["memory_ratio_max"]["breached"] == []
    assert incident == {"start": 130, "end": 220, "figures": ["fraction_under_1s",
                                                              "network_receive_errors_per_second"]}
    assert slo.series_of(plan[5:], outcomes) == ({"memory_ratio_max": charts["memory_ratio_max"]}, None)
    assert slo.parse_response(matrix(({}, [[1, "1"]]))).status == "error"  # an instant query must not get a matrix
    assert slo.parse_response(vector(({}, "1")), "matrix").reason == "vector result where a matrix was expected"
