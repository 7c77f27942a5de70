"""The lab Prometheus: a real server backfilled per scenario; the runbook's and the SLO alerts' PromQL returns what
the scenario seeded, now and an hour "in the future" (the history outlasts a long test run)."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from fleet_lab import prometheus, scenario as scenario_mod
from fleet_lab.state import alive

from probes import port_open

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP_ROOT = os.path.join(ROOT, ".work", "tmp")
NS = "kas-fleet-manager-stage"

pytestmark = pytest.mark.skipif(not prometheus.Prometheus(TMP_ROOT).available,
                                reason="prometheus/promtool not installed")

INCIDENT = {
    "metrics": {"error_ratio": 0.1, "latency_under_100ms": 0.8, "latency_under_1s": 0.95, "cpu_usage_cores": 0.6,
                "memory_bytes": 734003200, "kafka_create_seconds_p90": 1000, "kafka_create_success_ratio": 0.7,
                "kafka_delete_success_ratio": 0.9, "cluster_create_seconds_p90": 4000, "request_rate": 30.0,
                "network_receive_bytes_per_second": 2000000, "network_transmit_errors_per_second": 0.5,
                "network_receive_drops_per_second": 2.0, "fs_read_bytes_per_second": 9000000,
                "fs_writes_per_second": 40, "incident_minutes": 30},
    "pods": [{"leads": ["ClusterManager", "KafkaManager", "AcceptedKafkaManager"], "lost": ["AcceptedKafkaManager"]},
             {"state": "crashloop", "restarts": 4}, {}],
    "database": {"clusters": [{"status": "cluster_accepted", "idle_minutes": 12, "count": 2}],
                 "kafka_requests": [{"status": "failed", "idle_minutes": 20, "count": 3},
                                    {"status": "accepted", "idle_minutes": 90, "count": 1, "deleted": True}]},
}
DOWN = {"pods": [{"state": "image_pull"}, {"state": "image_pull"}, {"state": "pending"}],
        "metrics": {"up": False, "error_ratio": 1.0, "incident_minutes": 25}}
NO_INCIDENT = {"metrics": {"error_ratio": 0.04, "kafka_create_seconds_p90": 3300}}


def _processes_using(path):
    """Live PIDs whose command line names ``path``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as handle:
                    if path.encode() in handle.read() and alive(int(entry)):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


class Lab(object):
    def __init__(self, state, tmp):
        self.state = state
        self.tmp = tmp
        self.prom = prometheus.Prometheus(state)
        self.info = None
        self.now = None
        self.scenario = None

    def load(self, name, body, switch=False):
        path = os.path.join(self.tmp, name + ".yml")
        with open(path, "w") as handle:
            yaml.safe_dump(body, handle)
        self.scenario = scenario_mod.load(path)
        self.now = datetime.datetime.now(datetime.timezone.utc)
        start = time.monotonic()
        if switch:
            self.info = self.prom.switch(self.scenario, self.now)
        else:
            self.prom.load_scenario(self.scenario, self.now)
            self.info = self.prom.start()
        return time.monotonic() - start

    def ensure(self, name, body):
        """Switch to scenario ``name`` unless it is loaded (xdist may run this module's tests in any order)."""
        if self.scenario is None or self.scenario["name"] != name or not self.prom.running():
            self.load(name, body, switch=self.info is not None)

    def query(self, expr, offset=0.0):
        """Instant query at the scenario's now + offset seconds -> [(labels, float)]."""
        params = {"query": expr, "time": "%.3f" % (self.now.timestamp() + offset)}
        with urllib.request.urlopen(self.info["url"] + "/api/v1/query?" + urllib.parse.urlencode(params),
                                    timeout=20) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return [(r["metric"], float(r["value"][1])) for r in body["data"]["result"]]

    def scalar(self, expr, offset=0.0):
        result = self.query(expr, offset)
        assert len(result) == 1, (expr, result)
        return result[0][1]


@pytest.fixture(scope="module")
def lab():
    os.makedirs(TMP_ROOT, exist_ok=True)
    state = tempfile.mkdtemp(prefix="promtest-", dir=TMP_ROOT)
    tmp = tempfile.mkdtemp(prefix="promscn-", dir=TMP_ROOT)
    lab = Lab(state, tmp)
    try:
        elapsed = lab.load("incident", INCIDENT)
        print("\nprometheus backfill + start (6 h history + 3 h ahead): %.2f s" % elapsed)
        lab.first_elapsed = elapsed
        yield lab
    finally:
        info = lab.info
        assert prometheus.stop(state)
        if info:
            assert not alive(info["pid"])
            assert not port_open(info["url"])
        assert _processes_using(lab.prom.paths["data"]) == [], "prometheus processes left after stop"
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _close(value, expected, rel=0.01):
    return abs(value - expected) <= rel * abs(expected)


def test_started_on_loopback(lab):
    assert lab.info["url"].startswith("http://127.0.0.1:")
    assert alive(lab.info["pid"])
    with open("/proc/%d/cmdline" % lab.info["pid"], "rb") as handle:
        cmd = handle.read().split(b"\0")
    assert b"--storage.tsdb.retention.time=30d" in cmd
    assert ("--storage.tsdb.path=%s" % lab.prom.paths["data"]).encode() in cmd
    print("backfill + start took %.1f s" % lab.first_elapsed)


def test_error_ratio_over_5m_and_6h(lab):
    lab.ensure("incident", INCIDENT)
    ratio = 'sum(rate(api_inbound_request_count{code=~"5.."}[%s])) / sum(rate(api_inbound_request_count[%s]))'
    assert _close(lab.scalar(ratio % ("5m", "5m")), 0.1)
    # 6 h: 30 min of incident (two serving pods, 10 %) after 5.5 h of healthy defaults (0.2 %)
    six = lab.scalar(ratio % ("6h", "6h"))
    assert 0.002 < six < 0.03, six
    assert _close(lab.scalar(ratio % ("30m", "30m"), offset=-3600), 0.002)  # before the incident


def test_slo_availability_burnrate_on_haproxy(lab):
    lab.ensure("incident", INCIDENT)
    burn = ('sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",exported_namespace="%s",'
            'code="5xx"}[5m])) / sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",'
            'exported_namespace="%s"}[5m]))' % (NS, NS))
    assert _close(lab.scalar(burn), 0.1)
    assert 1 * (1 - 0.95) < lab.scalar(burn) < 6 * (1 - 0.95)  # over 6hto3d's burn threshold, under 30mto6h's
    total = 'sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager"}[5m]))'
    assert _close(lab.scalar(total), 30.0)
    assert _close(lab.scalar("sum(rate(api_inbound_request_count[5m]))"), 30.0)


def test_slo_latency_targets(lab):
    lab.ensure("incident", INCIDENT)
    expr = ('1 - sum(rate(api_inbound_request_duration_bucket{path!~".*federate$",job="kas-fleet-manager-metrics",'
            'namespace="%s",le="%s",code!~"5.."}[5m])) / sum(rate(api_inbound_request_duration_count{'
            'path!~".*federate$",job="kas-fleet-manager-metrics",namespace="%s",code!~"5.."}[5m]))')
    assert _close(lab.scalar(expr % (NS, "0.1", NS)), 0.2)
    assert _close(lab.scalar(expr % (NS, "1", NS)), 0.05)
    p99 = lab.scalar('histogram_quantile(0.99, sum by (le) (rate(api_inbound_request_duration_bucket'
                     '{code!~"5.."}[5m])))')
    assert 1 < p99 <= 5


def test_kafka_create_p90_and_operation_ratios(lab):
    lab.ensure("incident", INCIDENT)
    p90 = lab.scalar('histogram_quantile(0.9, sum by (le) (rate(kas_fleet_manager_worker_kafka_duration_bucket'
                     '{jobType="kafka_create"}[10m])))')
    assert 900 < p90 <= 1200 and _close(p90, 1000, 0.02), p90
    healthy = lab.scalar('histogram_quantile(0.9, sum by (le) (rate(kas_fleet_manager_worker_kafka_duration_bucket'
                         '{jobType="kafka_create"}[1h])))', offset=-3 * 3600)
    assert _close(healthy, scenario_mod.DEFAULTS["metrics"]["kafka_create_seconds_p90"], 0.02), healthy
    cluster_p90 = lab.scalar('histogram_quantile(0.9, sum by (le) (rate('
                             'kas_fleet_manager_worker_cluster_duration_bucket{jobType="cluster_create"}[20m])))')
    assert 3600 < cluster_p90 <= 4800 and _close(cluster_p90, 4000, 0.02)
    ratio = ('sum(rate(kas_fleet_manager_kafka_operations_success_count{operation="%s"}[10m])) / '
             'sum(rate(kas_fleet_manager_kafka_operations_total_count{operation="%s"}[10m]))')
    assert _close(lab.scalar(ratio % ("create", "create")), 0.7)
    assert _close(lab.scalar(ratio % ("delete", "delete")), 0.9)
    clusters = ('sum(rate(kas_fleet_manager_cluster_operations_success_count{operation="create"}[1h])) / '
                'sum(rate(kas_fleet_manager_cluster_operations_total_count{operation="create"}[1h]))')
    assert _close(lab.scalar(clusters, offset=-2 * 3600), 1.0)


def test_container_cpu_memory_restarts(lab):
    lab.ensure("incident", INCIDENT)
    pods = [p["name"] for p in lab.scenario["pods"]]
    cpu = dict((r[0]["pod"], r[1]) for r in lab.query(
        'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="%s",container="service"}[5m])) / '
        'sum by (pod) (kube_pod_container_resource_limits{namespace="%s",container="service",resource="cpu"})'
        % (NS, NS)))
    assert set(cpu) == set(pods) and all(_close(v, 0.6) for v in cpu.values()), cpu
    memory = dict((r[0]["pod"], r[1]) for r in lab.query(
        'container_memory_working_set_bytes{container="service"} / on (pod) '
        'kube_pod_container_resource_limits{resource="memory",unit="byte"}'))
    assert all(_close(v, 734003200 / 1024.0 ** 3) for v in memory.values()), memory
    restarts = dict((r[0]["pod"], r[1]) for r in lab.query(
        'increase(kube_pod_container_status_restarts_total{container="service"}[30m])'))
    assert 3 <= restarts[pods[1]] <= 5 and restarts[pods[0]] == 0 and restarts[pods[2]] == 0, restarts
    earlier = lab.query('sum(rate(container_cpu_usage_seconds_total{container="service"}[5m]))', offset=-2 * 3600)
    assert _close(earlier[0][1], 3 * scenario_mod.DEFAULTS["metrics"]["cpu_usage_cores"])


def test_cadvisor_network_per_pod_sandbox(lab):
    """Network counters as the kubelet reports them: once per pod, for its sandbox (container="POD"), per interface;
    the scenario's rates during the incident, the healthy defaults before."""
    lab.ensure("incident", INCIDENT)
    pods = [p["name"] for p in lab.scenario["pods"]]
    series = lab.query('container_network_receive_bytes_total{namespace="%s"}' % NS)
    assert sorted(r[0]["pod"] for r in series) == sorted(pods)
    assert {(r[0]["container"], r[0]["interface"], r[0]["job"]) for r in series} == {("POD", "eth0", "kubelet")}
    assert lab.query('container_network_receive_bytes_total{container="service"}') == []
    defaults = scenario_mod.DEFAULTS["metrics"]

    def by_pod(metric, offset=0.0):
        return dict((r[0]["pod"], r[1]) for r in lab.query(
            'sum by (pod) (rate(%s{namespace="%s",container=~"POD|"}[5m]))' % (metric, NS), offset))

    received = by_pod("container_network_receive_bytes_total")
    assert set(received) == set(pods) and all(_close(v, 2000000) for v in received.values()), received
    sent = by_pod("container_network_transmit_bytes_total")
    assert all(_close(v, defaults["network_transmit_bytes_per_second"]) for v in sent.values()), sent
    assert all(_close(v, 0.5) for v in by_pod("container_network_transmit_errors_total").values())
    assert all(_close(v, 2.0) for v in by_pod("container_network_receive_packets_dropped_total").values())
    assert set(by_pod("container_network_receive_errors_total").values()) == {0.0}
    assert set(by_pod("container_network_transmit_packets_dropped_total").values()) == {0.0}
    earlier = by_pod("container_network_receive_bytes_total", offset=-2 * 3600)
    assert all(_close(v, defaults["network_receive_bytes_per_second"]) for v in earlier.values()), earlier
    assert set(by_pod("container_network_receive_packets_dropped_total", offset=-2 * 3600).values()) == {0.0}


def test_cadvisor_filesystem_io_per_container(lab):
    lab.ensure("incident", INCIDENT)
    pods = [p["name"] for p in lab.scenario["pods"]]
    defaults = scenario_mod.DEFAULTS["metrics"]
    series = lab.query('container_fs_reads_bytes_total{namespace="%s"}' % NS)
    assert {(r[0]["container"], r[0]["device"]) for r in series} == {("service", "/dev/nvme0n1")}

    def total(metric, offset=0.0):
        return lab.scalar('sum(rate(%s{namespace="%s",container="service"}[5m]))' % (metric, NS), offset)

    assert _close(total("container_fs_reads_bytes_total"), 3 * 9000000)
    assert _close(total("container_fs_writes_bytes_total"), 3 * defaults["fs_write_bytes_per_second"])
    assert _close(total("container_fs_reads_total"), 3 * defaults["fs_reads_per_second"])
    assert _close(total("container_fs_writes_total"), 3 * 40)
    assert _close(total("container_fs_reads_bytes_total", offset=-2 * 3600), 3 * defaults["fs_read_bytes_per_second"])
    assert sorted(r[0]["pod"] for r in series) == sorted(pods)


def test_rate_keys_are_checked():
    os.makedirs(TMP_ROOT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="promscn-", dir=TMP_ROOT)
    try:
        for value in (-1, "fast", True):
            path = os.path.join(tmp, "bad.yml")
            with open(path, "w") as handle:
                yaml.safe_dump({"metrics": {"network_receive_drops_per_second": value}}, handle)
            with pytest.raises(scenario_mod.ScenarioError, match="metrics.network_receive_drops_per_second: expected a "
                                                                 "number of at least 0"):
                scenario_mod.load(path)
        with open(path, "w") as handle:
            yaml.safe_dump({"metrics": {"fs_read_bytes_per_second": 5}}, handle)
        assert scenario_mod.load(path)["metrics"]["fs_read_bytes_per_second"] == 5
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_up_leaders_and_status_counts(lab):
    lab.ensure("incident", INCIDENT)
    pods = [p["name"] for p in lab.scenario["pods"]]
    up = dict((r[0]["pod"], r[1]) for r in lab.query('up{job="kas-fleet-manager-metrics",namespace="%s"}' % NS))
    assert up == {pods[0]: 1, pods[1]: 0, pods[2]: 1}
    assert lab.query('absent(up{job="kas-fleet-manager-metrics",namespace="%s"} == 1)' % NS) == []
    leaders = lab.query("kas_fleet_manager_leader_worker == 1")
    assert sorted((r[0]["pod"], r[0]["worker_type"]) for r in leaders) == [
        (pods[0], "cluster"), (pods[0], "general_kafka_worker")]
    # AcceptedKafkaManager was lost when the incident began: led before, by nobody now
    assert lab.query('sum(kas_fleet_manager_leader_worker{worker_type="accepted_kafka"})') == [({}, 0.0)]
    assert lab.scalar('sum(kas_fleet_manager_leader_worker{worker_type="accepted_kafka"})', offset=-3600) == 1
    kafkas = dict((r[0]["status"], r[1]) for r in lab.query("kas_fleet_manager_kafka_requests_status_count"))
    assert kafkas["ready"] == 12 and kafkas["failed"] == 3 and kafkas["accepted"] == 0
    clusters = dict((r[0]["status"], r[1]) for r in lab.query("kas_fleet_manager_cluster_status_count"))
    assert clusters["ready"] == 3 and clusters["cluster_accepted"] == 2
    before = dict((r[0]["status"], r[1]) for r in lab.query("kas_fleet_manager_cluster_status_count", -30 * 60))
    assert before["cluster_accepted"] == 0  # they got there 12 minutes before now
    assert {r[0]["pod"] for r in lab.query("kas_fleet_manager_cluster_status_count")} == {pods[0]}


def test_history_lasts_into_the_future(lab):
    lab.ensure("incident", INCIDENT)
    ratio = 'sum(rate(api_inbound_request_count{code=~"5.."}[5m])) / sum(rate(api_inbound_request_count[5m]))'
    for hours in (1, 2, 2.9):
        assert _close(lab.scalar(ratio, offset=hours * 3600), 0.1), hours
    # and at the wall clock, without a time parameter
    with urllib.request.urlopen(lab.info["url"] + "/api/v1/query?" + urllib.parse.urlencode(
            {"query": "sum(up)"}), timeout=20) as resp:
        assert json.load(resp)["data"]["result"][0]["value"][1] == "2"


def test_switch_keeps_the_port_down_scenario(lab):
    lab.ensure("incident", INCIDENT)
    url, pid = lab.info["url"], lab.info["pid"]
    elapsed = lab.load("down", DOWN, switch=True)
    print("\nprometheus switch (stop, rebuild, start): %.2f s" % elapsed)
    assert lab.info["url"] == url and lab.info["pid"] != pid
    assert not alive(pid)
    absent = 'absent(up{job="kas-fleet-manager-metrics",namespace="%s"} == 1)' % NS
    assert lab.query(absent) == [({}, 1.0)]
    assert lab.query('up{job="kas-fleet-manager-metrics"}') == []  # image pull: no target at all
    assert lab.query("api_inbound_request_count") == []
    assert lab.query(absent, offset=-3600) == []  # it was up an hour ago
    burn = ('sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",code="5xx"}[5m])) / '
            'sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager"}[5m]))')
    assert _close(lab.scalar(burn), 1.0)
    # the sandboxes of the pods whose image does not pull run and send nothing; the pending pod has none
    pods = [p["name"] for p in lab.scenario["pods"]]
    sent = dict((r[0]["pod"], r[1]) for r in lab.query(
        "sum by (pod) (rate(container_network_transmit_bytes_total[5m]))"))
    assert sent == {pods[0]: 0.0, pods[1]: 0.0}
    assert lab.query("container_fs_reads_bytes_total") == []  # no container runs


def test_scenario_without_incident_window_and_metrics_unavailable(lab):
    lab.load("steady", NO_INCIDENT, switch=True)
    ratio = 'sum(rate(api_inbound_request_count{code=~"5.."}[%s])) / sum(rate(api_inbound_request_count[%s]))'
    assert _close(lab.scalar(ratio % ("5m", "5m")), 0.04)
    assert _close(lab.scalar(ratio % ("6h", "6h")), 0.04)
    p90 = lab.scalar('histogram_quantile(0.9, sum by (le) (rate(kas_fleet_manager_worker_kafka_duration_bucket'
                     '{jobType="kafka_create"}[30m])))')
    assert 3000 < p90 <= 3600 and _close(p90, 3300, 0.02)
    lab.load("no_metrics", {"metrics": {"available": False}}, switch=True)
    assert lab.query("count({__name__=~\".+\"})") == []


def test_stop_from_another_process(lab):
    """`down` runs in another process than `up`: stop() by state dir ends the server, then start() resumes it."""
    lab.ensure("incident", INCIDENT)
    pid, url = lab.info["pid"], lab.info["url"]
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lab"))
    out = subprocess.run([sys.executable, "-c", "import sys; from fleet_lab import prometheus; "
                          "sys.exit(0 if prometheus.stop(sys.argv[1]) else 1)", lab.state],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # our child: reap it
        except ChildProcessError:
            pass
        time.sleep(0.05)
    assert not alive(pid) and not port_open(url)
    lab.info = lab.prom.start()
    assert lab.info["url"] == url
