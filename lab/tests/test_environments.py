"""A lab of N fleet environments from one set of processes (``fleet-lab up --environments N``): each environment
has its namespace with its deployment, pods, logs and secret, its database (the secret names it, through the
database proxy), its Prometheus series, its Sentry project and chat route, and a host in the inventory; kubectl and
psql see them all with the lab's runbook credentials; a scenario switch switches them all; faults by path and
remediations act on one environment. A lab of one environment is the lab it always was."""
import base64
import collections
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg2
import pytest
import yaml

from fleet_lab import faults as faults_mod, postgres, prometheus, scenario as scenario_mod, tsdb
from fleet_lab.daemon import environment_faults
from fleet_lab.lab import environment_records

pytest_plugins = ["fleet_lab.pytest_plugin"]

N = 3
SCENARIO = "kafka_provisioning_stuck_strimzi"  # rows, errors and a Sentry issue of its own
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PSQL = "/usr/bin/psql"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


@pytest.fixture(scope="module")
def lab(lab_factory):
    return lab_factory(SCENARIO, environments=N)


def envs(name=SCENARIO):
    return scenario_mod.load_environments(name, environments=N)


def kubectl(lab, *args, check=True):
    env = dict(os.environ, KUBECONFIG=lab.kubeconfig)
    return subprocess.run([KUBECTL] + list(args), capture_output=True, text=True, env=env, timeout=60,
                          check=check).stdout


def psql(lab, dbname, sql):
    """psql as the read-only runbook login through the database proxy (what env.sh/pgpass give)."""
    host, port = lab.db_address()
    env = dict(os.environ, PGPASSFILE=os.path.join(lab.state_dir, "pgpass"))
    env.pop("PGPASSWORD", None)
    out = subprocess.run([PSQL, "-X", "-A", "-t", "-F", "|", "-h", host, "-p", str(port), "-U", "kas_runbook",
                          "-d", dbname, "-c", sql], capture_output=True, text=True, env=env, timeout=30, check=True)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def prom(lab, query):
    url = lab.prometheus_url() + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.load(resp)["data"]["result"]


def wait_for(check, limit=60):
    """Poll ``check`` until it returns something true (not a timing assertion: the limit only ends a hang)."""
    deadline = time.monotonic() + limit
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


# -- names ------------------------------------------------------------------------------------------------------------
def test_one_environment_is_the_lab_it_always_was():
    (only,) = scenario_mod.load_environments("healthy")
    assert only == scenario_mod.load("healthy")
    assert only["namespace"] == "kas-fleet-manager-stage" and only["environment"] == "stage"
    assert environment_records([only]) == [{
        "environment": "stage", "namespace": "kas-fleet-manager-stage", "dbname": "kas-fleet-manager",
        "sentry_project": "kas-fleet-manager", "suffix": "", "host": "lab-stage", "slack_path": "/slack/mk-sre"}]
    assert postgres.dbnames(1) == ["kas-fleet-manager"]


def test_environment_names():
    loaded = envs()
    assert [e["namespace"] for e in loaded] == ["kas-fleet-manager-stage-env%02d" % i for i in (1, 2, 3)]
    assert [e["environment"] for e in loaded] == ["stage-env%02d" % i for i in (1, 2, 3)]
    assert [e["lab_environment"]["index"] for e in loaded] == [1, 2, 3]
    pods = [p["name"] for e in loaded for p in e["pods"]]
    assert len(set(pods)) == len(pods) == 3 * N
    assert postgres.dbnames(N) == ["kas-fleet-manager-env%02d" % i for i in (1, 2, 3)]
    assert scenario_mod.environment_suffix(7, 120) == "env007"


def test_scenario_faults_naming_the_namespace_or_project_act_per_environment():
    loaded = envs()
    records = environment_records(loaded)
    given = [faults_mod.normalize(f) for f in (
        {"component": "kube", "kind": "status", "path": "/api/v1/namespaces/kas-fleet-manager-stage/pods", "count": 2},
        {"component": "sentry", "kind": "status", "code": 500, "path": "/api/0/projects/app-sre/kas-fleet-manager/"},
        {"component": "sink", "kind": "status", "path": "/slack/mk-sre"},
        {"component": "kube", "kind": "status", "path": "/api/v1/namespaces/kas-fleet-manager-stagey/pods"},
        {"component": "db", "kind": "refuse", "count": 1})]
    got = environment_faults(given, loaded, records, "app-sre")
    assert [f["path"] for f in got[:3]] == ["/api/v1/namespaces/%s/pods" % e["namespace"] for e in loaded]
    assert all(f["count"] == 2 for f in got[:3])
    assert [f["path"] for f in got[3:6]] == ["/api/0/projects/app-sre/kas-fleet-manager-env%02d/" % i
                                             for i in (1, 2, 3)]
    assert got[6:] == given[2:]
    assert environment_faults(given, loaded[:1], records[:1], "app-sre") == given


# -- the lab ----------------------------------------------------------------------------------------------------------
def test_inventory_has_a_host_per_environment(lab):
    with open(lab.inventory) as handle:
        inventory = yaml.safe_load(handle)["all"]["children"]
    hosts = inventory["fleet_environments"]["hosts"]
    assert sorted(hosts) == ["lab-stage-env%02d" % i for i in (1, 2, 3)]
    assert sorted(inventory["stage"]["hosts"]) == sorted(hosts)
    shared = ("kas_fleet_k8s_auth", "kas_fleet_prometheus_url", "kas_fleet_sentry_url", "kas_fleet_sentry_token")
    for i, (host, hv) in enumerate(sorted(hosts.items()), 1):
        assert hv["kas_fleet_environment"] == "stage-env%02d" % i
        assert hv["kas_fleet_namespace"] == "kas-fleet-manager-stage-env%02d" % i
        assert hv["kas_fleet_sentry_project"] == "kas-fleet-manager-env%02d" % i
        assert hv["kas_fleet_escalation_routes"]["data_plane"]["url"].endswith("/slack/mk-sre/env%02d" % i)
        assert all(hv[key] == hosts["lab-stage-env01"][key] for key in shared)
    assert [r["host"] for r in lab.environments] == sorted(hosts)


def test_each_namespace_has_its_pods_and_the_runbook_token_sees_them_all(lab):
    listed = json.loads(kubectl(lab, "get", "pods", "--all-namespaces", "-o", "json"))["items"]
    by_ns = collections.defaultdict(set)
    for pod in listed:
        by_ns[pod["metadata"]["namespace"]].add(pod["metadata"]["name"])
    for loaded in envs():
        assert by_ns[loaded["namespace"]] == set(p["name"] for p in loaded["pods"])
        deployment = json.loads(kubectl(lab, "-n", loaded["namespace"], "get", "deployment", "kas-fleet-manager",
                                        "-o", "json"))
        assert deployment["spec"]["replicas"] == 3


def test_each_secret_names_its_own_database_through_the_proxy(lab):
    proxy = lab.db_address()
    for loaded, record in zip(envs(), lab.environments):
        secret = json.loads(kubectl(lab, "-n", loaded["namespace"], "get", "secret", "kas-fleet-manager-rds",
                                    "-o", "json"))
        data = dict((k, base64.b64decode(v).decode()) for k, v in secret["data"].items())
        assert (data["db.host"], int(data["db.port"])) == proxy
        assert data["db.name"] == record["dbname"]
        # the secret's credentials reach that database, which holds this environment's rows
        conn = psycopg2.connect(host=data["db.host"], port=int(data["db.port"]), dbname=data["db.name"],
                                user=data["db.user"], password=data["db.password"], connect_timeout=10)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM kafka_requests WHERE status <> 'ready'")
                got = set(row[0] for row in cur.fetchall())
        finally:
            conn.close()
        assert got == set(i for row in loaded["database"]["kafka_requests"] for i in row["ids"])


def test_each_database_has_the_scenarios_rows_and_psql_sees_them(lab):
    for loaded, record in zip(envs(), lab.environments):
        rows = psql(lab, record["dbname"], "SELECT status, count(1) FROM kafka_requests GROUP BY status")
        counts = dict((status, int(n)) for status, n in rows)
        expected = collections.Counter({"ready": loaded["volume"]["kafka_requests"]})
        for row in loaded["database"]["kafka_requests"]:
            expected[row["status"]] += row["count"]
        assert counts == dict(expected)
        ids = psql(lab, record["dbname"], "SELECT id FROM kafka_requests WHERE status = 'provisioning'")
        assert set(i for (i,) in ids) == set(loaded["database"]["kafka_requests"][0]["ids"])
        leases = psql(lab, record["dbname"], "SELECT count(1) FROM leader_leases WHERE expires > now()")
        assert int(leases[0][0]) > 0


def test_each_leaders_log_names_its_own_rows(lab):
    loaded_envs = envs()
    for loaded in loaded_envs:
        leader = loaded["pods"][0]
        log = kubectl(lab, "-n", loaded["namespace"], "logs", leader["name"], "-c", "service")
        for other in loaded_envs:
            for row_id in (i for row in other["database"]["kafka_requests"] for i in row["ids"]):
                assert (row_id in log) == (other is loaded), (loaded["namespace"], row_id)


def test_each_environment_has_its_prometheus_series(lab):
    loaded_envs = envs()
    per_ns = dict((r["metric"]["namespace"], int(r["value"][1]))
                  for r in prom(lab, 'count by (namespace) ({job="kas-fleet-manager-metrics"})'))
    assert sorted(per_ns) == sorted(e["namespace"] for e in loaded_envs)
    assert len(set(per_ns.values())) == 1  # the same series in each
    for loaded in loaded_envs:
        ns = loaded["namespace"]
        up = prom(lab, 'up{namespace="%s"}' % ns)
        assert sorted(r["metric"]["pod"] for r in up) == sorted(p["name"] for p in loaded["pods"])
        # selected as slo_metrics_info selects (namespace, and the router's exported_namespace)
        rate = prom(lab, 'sum(rate(api_inbound_request_count{job="kas-fleet-manager-metrics",namespace="%s"}[5m]))'
                    % ns)
        assert abs(float(rate[0]["value"][1]) - loaded["metrics"]["request_rate"]) < 0.5
        router = prom(lab, 'sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",'
                      'exported_namespace="%s"}[5m]))' % ns)
        assert abs(float(router[0]["value"][1]) - loaded["metrics"]["request_rate"]) < 0.5
        network = prom(lab, 'container_network_receive_bytes_total{namespace="%s"}' % ns)
        assert all(ns in r["metric"]["name"] and r["metric"]["pod"] in r["metric"]["name"] for r in network)


def test_each_environment_has_its_sentry_project(lab):
    info = lab.info
    seen = set()
    for record in lab.environments:
        req = urllib.request.Request("%s/api/0/projects/%s/%s/issues/" % (
            info["daemon"]["sentry_url"], info["sentry"]["org"], record["sentry_project"]),
            headers={"Authorization": "Bearer %s" % info["sentry"]["token"]})
        with urllib.request.urlopen(req, timeout=10) as resp:
            issues = json.load(resp)
        assert len(issues) == 1 and issues[0]["project"]["slug"] == record["sentry_project"]
        seen.add(issues[0]["id"])
    assert len(seen) == N
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(
            "%s/api/0/projects/%s/kas-fleet-manager/issues/" % (info["daemon"]["sentry_url"], info["sentry"]["org"]),
            headers={"Authorization": "Bearer %s" % info["sentry"]["token"]}), timeout=10)
    assert err.value.code == 404


def test_a_kube_fault_by_path_hits_one_environment(lab):
    second = lab.environments[1]["namespace"]
    lab.fault("kube", "status", code=503, path="/api/v1/namespaces/%s/pods" % second)
    try:
        assert kubectl(lab, "-n", lab.environments[0]["namespace"], "get", "pods", "-o", "name").strip()
        failed = subprocess.run([KUBECTL, "--kubeconfig", lab.kubeconfig, "-n", second, "get", "pods",
                                 "--request-timeout=20s"], capture_output=True, text=True, timeout=60)
        assert failed.returncode != 0
    finally:
        lab.clear_faults()


def test_integration_config_and_status_list_the_environments(lab):
    assert [e["dbname"] for e in lab.integration_vars()["lab_environments"]] == postgres.dbnames(N)
    assert lab.integration_vars()["lab_db_name"] == "kas-fleet-manager-env01"
    assert [e["namespace"] for e in lab.status()["environments"]] == [e["namespace"] for e in envs()]
    with open(os.path.join(lab.state_dir, "env.sh")) as handle:
        text = handle.read()
    assert "KAS_LAB_NAMESPACES='%s'" % " ".join(e["namespace"] for e in envs()) in text


def test_switch_switches_every_environment_and_a_restart_remediates_its_own(lab):
    loaded = lab.switch("osd_cluster_accepted_stuck")
    assert loaded["lab_environment"]["count"] == N
    switched = envs("osd_cluster_accepted_stuck")
    for env, record in zip(switched, lab.environments):
        rows = psql(lab, record["dbname"], "SELECT id FROM clusters WHERE status = 'cluster_accepted'")
        assert set(i for (i,) in rows) == set(i for row in env["database"]["clusters"] for i in row["ids"])
    # a rollout restart in the second environment's namespace moves its accepted clusters on, and no one else's
    kubectl(lab, "-n", switched[1]["namespace"], "rollout", "restart", "deployment/kas-fleet-manager")
    moved = wait_for(lambda: psql(lab, lab.environments[1]["dbname"],
                                  "SELECT count(1) FROM clusters WHERE status = 'cluster_accepted'") == [["0"]])
    assert moved
    for record in (lab.environments[0], lab.environments[2]):
        assert psql(lab, record["dbname"], "SELECT count(1) FROM clusters WHERE status = 'cluster_accepted'") == \
            [["2"]]


# -- the TSDB index rewrite -------------------------------------------------------------------------------------------
@pytest.mark.skipif(not os.access(prometheus.PROMTOOL, os.X_OK), reason="promtool is not installed")
def test_index_rewrite_reproduces_promtool_and_multiplies_series():
    tmp = tempfile.mkdtemp(prefix="tsdb-", dir=os.path.join(ROOT, ".work", "tmp"))
    try:
        text = "".join('m{namespace="ns",pod="p%d"} %d %d\n' % (p, k, 1700000000 + 30 * k)
                       for p in range(3) for k in range(200)) + "# EOF\n"
        with open(os.path.join(tmp, "in.om"), "w") as handle:
            handle.write(text)
        data = os.path.join(tmp, "data")
        subprocess.run([prometheus.PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                        os.path.join(tmp, "in.om"), data], check=True, capture_output=True)
        (block,) = tsdb.blocks(data)
        index = os.path.join(block, "index")
        with open(index, "rb") as handle:
            original = handle.read()
        tsdb.write_index(index + ".copy", tsdb.read_index(index))
        with open(index + ".copy", "rb") as handle:
            assert handle.read() == original  # byte for byte what promtool wrote
        os.unlink(index + ".copy")
        relabels = [lambda labels, i=i: [(k, v.replace("ns", "ns%d" % i) if k == "namespace" else v)
                                         for k, v in labels] for i in range(4)]
        assert tsdb.multiply_block(block, relabels) == 12
        os.makedirs(os.path.join(data, "wal"), exist_ok=True)  # promtool tsdb dump opens the database
        dump = subprocess.run([prometheus.PROMTOOL, "tsdb", "dump", data], check=True, capture_output=True,
                              text=True).stdout.splitlines()
        samples = collections.Counter(line.split("}")[0] + "}" for line in dump if line.startswith("{"))
        assert len(samples) == 12 and set(samples.values()) == {200}
        with open(os.path.join(block, "meta.json")) as handle:
            assert json.load(handle)["stats"]["numSeries"] == 12
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
