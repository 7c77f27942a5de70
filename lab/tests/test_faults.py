"""Fault injection (fleet_lab.faults) in a whole lab: every kind seen by real clients (urllib and http.client,
kubectl, the official kubernetes client, psql and psycopg2), count and time-window bounds, path matching, clear,
the scenario key and the CLI."""
import base64
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest
import urllib3
import yaml
from kubernetes import client as kube_client, config as kube_config
from kubernetes.client.exceptions import ApiException

from fleet_lab import faults as faults_mod
from fleet_lab import scenario as scenario_mod
from fleet_lab.lab import LabError
from fleet_lab.proxy import HttpProxy

pytest_plugins = ["fleet_lab.pytest_plugin"]

# libpq on a connection the proxy ends: which one depends on whether its first bytes were out already
RESET = "Connection reset by peer|server closed the connection unexpectedly"

TRIGGER = {"routing_key": None, "event_action": "trigger", "dedup_key": "kas-fleet/stage/availability",
           "payload": {"summary": "kas-fleet-manager availability", "source": "lab", "severity": "critical"}}


@pytest.fixture(scope="module")
def lab(fleet_lab):
    return fleet_lab


@pytest.fixture(autouse=True)
def clean(request):
    """Each test that uses the lab starts without faults or sink messages and leaves no fault behind."""
    if "lab" not in request.fixturenames:
        yield
        return
    lab = request.getfixturevalue("lab")
    lab.clear_faults()
    lab.sink_clear()
    yield
    lab.clear_faults()  # also releases requests a test left held


# -- clients ---------------------------------------------------------------------------------------------------
def post(url, body, timeout=10):
    """POST JSON with urllib: (status, headers, body text); an HTTP error status is an answer, not an exception."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def page(lab):
    return dict(TRIGGER, routing_key=lab.info["pagerduty_routing_key"])


def sink(lab, path=""):
    return lab.info["daemon"]["sink_url"] + path


def kubectl(lab, *args):
    env = dict(os.environ, KUBECONFIG=lab.kubeconfig)
    return subprocess.run(["kubectl", "-n", lab.namespace] + list(args), capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def kube_api(lab):
    return kube_client.CoreV1Api(kube_config.new_client_from_config(lab.kubeconfig, context="lab"))


def kube_connection(lab, timeout=10):
    host, port = lab.info["daemon"]["kube"]["url"].split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=os.path.join(lab.state_dir, "kube-tls", "ca.crt"))
    return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=timeout)


def db_connect(lab, address=None, **kwargs):
    db = lab.info["db"]
    host, port = address or lab.db_address()
    return psycopg2.connect(host=host, port=port, dbname=db["dbname"], user=db["runbook"]["user"],
                            password=db["runbook"]["password"], **kwargs)


def psql(lab, sql):
    db = lab.info["db"]
    host, port = lab.db_address()
    env = dict(os.environ, PGPASSWORD=db["runbook"]["password"], PGCONNECT_TIMEOUT="10")
    env.pop("PGPASSFILE", None)
    return subprocess.run(["psql", "-X", "-A", "-t", "-h", host, "-p", str(port), "-U", db["runbook"]["user"],
                           "-d", db["dbname"], "-c", sql], capture_output=True, text=True, env=env, timeout=60)


def wait_ended(lab, fault_id, limit=30):
    """Until the lab lists the fault as ended (its own window ran out); ``limit`` only guards a broken lab."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        fault = next(f for f in lab.faults() if f["id"] == fault_id)
        if not fault["active"]:
            return fault
        time.sleep(0.1)
    raise AssertionError("fault %s still active after %s s" % (fault_id, limit))


def wait_attempts(lab, n, limit=30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        attempts = lab.sink_attempts()
        if len(attempts) >= n:
            return attempts
        time.sleep(0.05)
    raise AssertionError("the sink saw fewer than %d requests" % n)


# -- the registry on its own ------------------------------------------------------------------------------------
def test_registry_count_first_match_and_paths():
    faults = faults_mod.Faults()
    one = faults.add(component="sink", kind="status", code=500, path="/slack/", count=1)
    faults.add(component="sink", kind="status", code=503)
    assert faults.take("sink", "request", "/v2/enqueue", "POST").code == 503
    assert faults.take("sink", "request", "/slack/mk-sre", "POST").code == 500  # first added that matches wins
    assert faults.take("sink", "request", "/slack/mk-sre", "POST").code == 503  # #1 used up
    assert faults.take("sink", "connect") is None and faults.take("kube", "request", "/", "GET") is None
    listed = {f["id"]: f for f in faults.list()}
    assert (listed[one["id"]]["active"], listed[one["id"]]["hits"], listed[one["id"]]["remaining"]) == (False, 1, 0)
    assert faults.clear("kube") == 0 and faults.clear("sink") == 2 and faults.list() == []


def test_registry_method_and_db_connect_kinds():
    faults = faults_mod.Faults()
    faults.add(component="kube", kind="status", code=500, method="patch", path="/apis/apps/v1/")
    assert faults.take("kube", "request", "/apis/apps/v1/namespaces/x/deployments/y", "GET") is None
    assert faults.take("kube", "request", "/apis/apps/v1/namespaces/x/deployments/y", "PATCH").code == 500
    faults.add(component="db", kind="stall", seconds=1, count=1)
    taken = faults.take("db", "connect")
    assert (taken.kind, taken.seconds) == ("stall", 1)
    assert faults.take("db", "connect") is None


@pytest.mark.parametrize("fault, message", [
    ({"component": "db", "kind": "status"}, "kind 'status' is not one of refuse, stall, hang (for db)"),
    ({"component": "mail", "kind": "status"}, "component 'mail' is not one of"),
    ({"component": "sink", "kind": "status", "colour": "red"}, "unknown key(s) colour"),
    ({"component": "sink", "kind": "refuse", "path": "/v2/enqueue"}, "before any request is read"),
    ({"component": "sink", "kind": "stall", "code": 503}, "code and retry_after are for kind status"),
    ({"component": "sink", "kind": "status", "seconds": 5}, "(a time window is: window)"),
    ({"component": "kube", "kind": "status", "bytes": 5}, "bytes is for kind cut_log"),
    ({"component": "sink", "kind": "status", "count": 0}, "count: must be at least 1"),
    ({"component": "sink", "kind": "status", "code": 700}, "code: an HTTP status 100-599"),
    ({"component": "sink", "kind": "status", "path": "slack"}, "a path prefix starting with /"),
    ({"component": "sink", "kind": "status", "window": "soon"}, "window: expected a number"),
])
def test_invalid_faults_are_refused_with_the_reason(fault, message):
    with pytest.raises(faults_mod.FaultError) as err:
        faults_mod.normalize(fault)
    assert message in str(err.value)


# -- sink ---------------------------------------------------------------------------------------------------------
def test_sink_503_twice_then_202_one_message_three_attempts(lab):
    added = lab.fault("sink", "status", code=503, path="/v2/enqueue", count=2)
    answers = [post(sink(lab, "/v2/enqueue"), page(lab)) for _ in range(3)]
    assert [a[0] for a in answers] == [503, 503, 202]
    assert json.loads(answers[0][2])["status"] == "Service Unavailable"
    received = lab.sink_received()
    assert len(received) == 1 and received[0]["body"]["dedup_key"] == TRIGGER["dedup_key"]
    attempts = lab.sink_attempts()
    assert [(a["method"], a["path"], a["status"]) for a in attempts] == [("POST", "/v2/enqueue", 503)] * 2 + [
        ("POST", "/v2/enqueue", 202)]
    assert [a["fault"] for a in attempts] == [{"id": added["id"], "kind": "status"}] * 2 + [None]
    assert all(a["body"]["dedup_key"] == TRIGGER["dedup_key"] for a in attempts)
    (listed,) = lab.faults()
    assert (listed["active"], listed["hits"], listed["remaining"]) == (False, 2, 0)


def test_sink_429_retry_after_on_one_route_leaves_the_others(lab):
    lab.fault("sink", "status", code=429, retry_after=7, path="/slack/mk-sre")
    for _ in range(2):
        status, headers, body = post(sink(lab, "/slack/mk-sre"), {"text": "page"})
        assert (status, headers["Retry-After"], body) == (429, "7", "too_many_requests")
    assert post(sink(lab, "/slack/other-channel"), {"text": "fallback"})[0] == 200
    assert post(sink(lab, "/v2/enqueue"), page(lab))[0] == 202
    assert [(m["kind"], m["path"]) for m in lab.sink_received()] == [("slack", "/slack/other-channel"),
                                                                     ("pagerduty", "/v2/enqueue")]
    assert [a["status"] for a in lab.sink_attempts()] == [429, 429, 200, 202]


def test_sink_every_route_down_but_its_read_back_answers(lab):
    lab.fault("sink", "status", code=500)
    assert post(sink(lab, "/v2/enqueue"), page(lab))[0] == 500
    assert post(sink(lab, "/slack/mk-sre"), {"text": "page"})[0] == 500
    assert post(sink(lab, "/webhook/ops"), {"a": 1})[0] == 500
    assert lab.sink_received() == [] and len(lab.sink_attempts()) == 3
    assert lab.clear_faults() == 1
    assert post(sink(lab, "/slack/mk-sre"), {"text": "page"})[0] == 200


def test_sink_hang_ends_on_the_clients_timeout_and_accepts_nothing(lab):
    lab.fault("sink", "hang", seconds=120, count=1)
    conn = http.client.HTTPConnection(sink(lab).split("//")[1], timeout=1)
    with pytest.raises(socket.timeout):
        conn.request("POST", "/v2/enqueue", json.dumps(page(lab)), {"Content-Type": "application/json"})
        conn.getresponse()
    conn.close()
    assert post(sink(lab, "/v2/enqueue"), page(lab))[0] == 202  # count 1: the next try gets through
    attempts = lab.sink_attempts()
    assert [(a["fault"] or {}).get("kind") for a in attempts] == ["hang", None]
    assert attempts[0]["status"] is None and len(lab.sink_received()) == 1


def test_sink_hang_that_runs_out_closes_without_an_answer(lab):
    lab.fault("sink", "hang", seconds=0.1, count=1)
    conn = http.client.HTTPConnection(sink(lab).split("//")[1], timeout=30)
    conn.request("POST", "/slack/mk-sre", json.dumps({"text": "x"}), {"Content-Type": "application/json"})
    with pytest.raises(http.client.RemoteDisconnected):
        conn.getresponse()
    conn.close()
    assert lab.sink_received() == []


def test_sink_stall_then_delivers(lab):
    lab.fault("sink", "stall", seconds=0.5, count=1)
    assert post(sink(lab, "/slack/mk-sre"), {"text": "slow"}, timeout=30)[0] == 200
    assert len(lab.sink_received()) == 1
    assert [(a["status"], a["fault"]["kind"]) for a in lab.sink_attempts()] == [(200, "stall")]


def test_clear_releases_a_held_request(lab):
    lab.fault("sink", "stall", seconds=600)
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        answer=post(sink(lab, "/v2/enqueue"), page(lab), timeout=120)))
    thread.start()
    wait_attempts(lab, 1)  # the request is held now
    assert lab.clear_faults("sink") == 1
    thread.join(60)
    assert result["answer"][0] == 202 and len(lab.sink_received()) == 1


def test_time_window_expires(lab):
    added = lab.fault("sink", "status", code=503, window=3)
    assert 0 < added["window_left"] <= 3
    assert post(sink(lab, "/v2/enqueue"), page(lab))[0] == 503
    ended = wait_ended(lab, added["id"])
    assert ended["hits"] == 1 and ended["window_left"] == 0
    assert post(sink(lab, "/v2/enqueue"), page(lab))[0] == 202


def test_sink_refuse_resets_connections_then_counts_them(lab):
    added = lab.fault("sink", "refuse", count=2)
    for _ in range(2):
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            post(sink(lab, "/v2/enqueue"), page(lab))
    assert post(sink(lab, "/v2/enqueue"), page(lab))[0] == 202
    (listed,) = lab.faults()
    assert listed["id"] == added["id"] and listed["hits"] == 2
    assert len(lab.sink_attempts()) == 1  # a refused connection never got to send its request


# -- Kubernetes API -----------------------------------------------------------------------------------------------
def test_kube_503_on_pods_with_kubectl_leaves_deployments(lab):
    lab.fault("kube", "status", code=503, path="/api/v1/namespaces/%s/pods" % lab.namespace)
    pods = kubectl(lab, "get", "pods")
    assert pods.returncode == 1
    assert "(ServiceUnavailable): the server is currently unable to handle the request" in pods.stderr
    deployments = kubectl(lab, "get", "deployment", "kas-fleet-manager", "-o", "name")
    assert (deployments.returncode, deployments.stdout.strip()) == (0, "deployment.apps/kas-fleet-manager")
    lab.clear_faults()
    assert kubectl(lab, "get", "pods").returncode == 0


def test_kube_500_once_with_the_kubernetes_client(lab):
    v1 = kube_api(lab)
    lab.fault("kube", "status", code=500, count=1)
    with pytest.raises(ApiException) as err:
        v1.list_namespaced_pod(lab.namespace)
    body = json.loads(err.value.body)
    assert (err.value.status, body["kind"], body["reason"]) == (500, "Status", "InternalError")
    assert v1.list_namespaced_pod(lab.namespace).items


def test_kube_429_carries_retry_after(lab):
    lab.fault("kube", "status", code=429, retry_after=2, path="/api/v1/namespaces/%s/events" % lab.namespace)
    conn = kube_connection(lab)
    conn.request("GET", "/api/v1/namespaces/%s/events" % lab.namespace,
                 headers={"Authorization": "Bearer %s" % lab.info["daemon"]["kube"]["tokens"]["runbook"]})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert (resp.status, resp.getheader("Retry-After"), body["reason"], body["details"]) == (
        429, "2", "TooManyRequests", {"retryAfterSeconds": 2})


def _kube_version(lab):
    conn = kube_connection(lab)
    try:
        conn.request("GET", "/version")
        return conn.getresponse().status
    finally:
        conn.close()


def test_kube_down_ends_kept_alive_connections_too(lab):
    v1 = kube_api(lab)
    v1.list_namespaced_pod(lab.namespace)  # a kept-alive connection, as a client's pool holds
    lab.fault("kube", "refuse")
    for _ in range(2):
        with pytest.raises((ConnectionError, ssl.SSLError)):
            _kube_version(lab)
    with pytest.raises(urllib3.exceptions.MaxRetryError):  # its pooled connection ends too; its retries fail
        v1.list_namespaced_pod(lab.namespace, _request_timeout=10)
    (listed,) = lab.faults()
    assert listed["hits"] >= 3
    lab.clear_faults()
    assert _kube_version(lab) == 200 and v1.list_namespaced_pod(lab.namespace).items


def test_kube_down_for_a_window_then_up(lab):
    added = lab.fault("kube", "refuse", window=3)
    with pytest.raises((ConnectionError, ssl.SSLError)):
        _kube_version(lab)
    wait_ended(lab, added["id"])
    assert _kube_version(lab) == 200


def test_kube_stall_ends_on_kubectls_timeout(lab):
    lab.fault("kube", "stall", seconds=600, path="/api/v1/namespaces/%s/pods" % lab.namespace)
    stalled = kubectl(lab, "get", "pods", "--request-timeout=1s")
    # its own timeout: "context deadline exceeded" or "(Client.Timeout exceeded while awaiting headers)"
    assert stalled.returncode == 1 and re.search(r"(?i)(deadline|timeout) exceeded", stalled.stderr), stalled.stderr
    assert kubectl(lab, "get", "deployments").returncode == 0


def test_kube_hang_closes_without_an_answer(lab):
    lab.fault("kube", "hang", seconds=0.1, path="/version", count=1)
    conn = kube_connection(lab)
    conn.request("GET", "/version")
    with pytest.raises(http.client.RemoteDisconnected):
        conn.getresponse()
    conn.close()


def _first_pod(lab):
    return kube_api(lab).list_namespaced_pod(lab.namespace).items[0].metadata.name


def test_cut_log_closes_the_stream_midway(lab):
    pod = _first_pod(lab)
    lab.fault("kube", "cut_log", bytes=1000, count=2)
    resp = kube_api(lab).read_namespaced_pod_log(pod, lab.namespace, container="service", _preload_content=False)
    got = b""
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for chunk in resp.stream(256):
            got += chunk
    assert len(got) == 1000
    logs = kubectl(lab, "logs", pod, "-c", "service")
    assert logs.returncode == 1 and len(logs.stdout) == 1000 and "unexpected EOF" in logs.stderr
    whole = kubectl(lab, "logs", pod, "-c", "service")  # the fault is used up
    assert whole.returncode == 0 and len(whole.stdout) > 1000


def test_cut_log_stalls_until_the_clients_read_timeout(lab):
    pod = _first_pod(lab)
    lab.fault("kube", "cut_log", bytes=500, seconds=600, path="/api/v1/namespaces/%s/pods/%s/log" % (lab.namespace,
                                                                                                      pod))
    resp = kube_api(lab).read_namespaced_pod_log(pod, lab.namespace, container="service", follow=True,
                                                 _preload_content=False, _request_timeout=(10, 1))
    got = b""
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        for chunk in resp.stream(128):
            got += chunk
    assert len(got) == 500
    other = kube_api(lab).list_namespaced_pod(lab.namespace).items[1].metadata.name
    assert kubectl(lab, "logs", other, "-c", "service", "--tail=5").returncode == 0  # another pod's log is whole


# -- database (through the proxy) ---------------------------------------------------------------------------------
def test_clients_are_given_the_proxies(lab):
    secret = kubectl(lab, "get", "secret", "kas-fleet-manager-rds", "-o", "json")
    data = json.loads(secret.stdout)["data"]
    host, port = (base64.b64decode(data["db.host"]).decode(), int(base64.b64decode(data["db.port"]).decode()))
    assert (host, port) == lab.db_address() and port != lab.info["db"]["port"]
    host_vars = lab.host_vars()
    assert host_vars["kas_fleet_prometheus_url"] == lab.prometheus_url() != lab.info["prometheus"]["url"]
    assert lab.integration_vars()["lab_db_port"] == port
    with open(os.path.join(lab.state_dir, "env.sh")) as handle:
        assert "PGPORT=%d " % port in handle.read()
    assert psql(lab, "select count(1) from clusters").stdout.strip().isdigit()


def test_db_refuse_counts_connections_and_leaves_the_server_alone(lab):
    lab.fault("db", "refuse", count=2)
    refused = psql(lab, "select 1")
    assert refused.returncode == 2 and re.search(RESET, refused.stderr), refused.stderr
    with pytest.raises(psycopg2.OperationalError):
        db_connect(lab, connect_timeout=10)
    conn = db_connect(lab, address=(lab.info["db"]["host"], lab.info["db"]["port"]))  # the server itself
    conn.close()
    assert psql(lab, "select 1").stdout.strip() == "1"  # count 2 used up


def test_db_refuse_window(lab):
    added = lab.fault("db", "refuse", window=3)
    with pytest.raises(psycopg2.OperationalError):
        db_connect(lab, connect_timeout=10)
    wait_ended(lab, added["id"])
    db_connect(lab).close()


def test_db_stall_ends_on_the_clients_connect_timeout(lab):
    lab.fault("db", "stall", seconds=600, count=1)
    with pytest.raises(psycopg2.OperationalError) as err:
        db_connect(lab, connect_timeout=2)
    assert "timeout expired" in str(err.value)
    conn = db_connect(lab, connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute("select count(1) from kafka_requests")
        assert cur.fetchone()[0] > 0
    conn.close()


def test_db_stall_that_runs_out_connects(lab):
    lab.fault("db", "stall", seconds=0.3, count=1)
    conn = db_connect(lab, connect_timeout=30)
    with conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    conn.close()


def test_db_hang_closes(lab):
    lab.fault("db", "hang", seconds=0.1, count=1)
    with pytest.raises(psycopg2.OperationalError) as err:
        db_connect(lab, connect_timeout=30)
    assert re.search(RESET, str(err.value)), err.value


# -- Prometheus and Sentry --------------------------------------------------------------------------------------
def test_prometheus_503_on_one_endpoint(lab):
    url = lab.prometheus_url()
    lab.fault("prometheus", "status", code=503, path="/api/v1/query_range")
    status, _headers, body = get(url + "/api/v1/query_range?query=up&start=0&end=60&step=30")
    assert status == 503 and json.loads(body)["errorType"] == "unavailable"
    status, _headers, body = get(url + "/api/v1/query?query=vector(1)")
    assert status == 200 and json.loads(body)["data"]["result"][0]["value"][1] == "1"


def test_prometheus_refuse_and_stall(lab):
    url = lab.prometheus_url()
    lab.fault("prometheus", "refuse", count=1)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        get(url + "/api/v1/query?query=up")
    assert get(url + "/-/ready")[0] == 200
    lab.fault("prometheus", "stall", seconds=600)
    with pytest.raises(socket.timeout):
        get(url + "/api/v1/query?query=up", timeout=1)
    lab.clear_faults("prometheus")
    assert get(lab.info["prometheus"]["url"] + "/-/ready")[0] == 200


def test_sentry_500_once_then_stall(lab):
    info = lab.info
    url = "%s/api/0/projects/%s/%s/issues/" % (info["daemon"]["sentry_url"], info["sentry"]["org"],
                                               info["sentry"]["project"])
    headers = {"Authorization": "Bearer %s" % info["sentry"]["token"]}
    lab.fault("sentry", "status", code=500, path="/api/0/projects/", count=1)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)
    assert err.value.code == 500 and "fleet-lab fault" in json.loads(err.value.read())["detail"]
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
        assert resp.status == 200
    lab.fault("sentry", "stall", seconds=600)
    with pytest.raises(socket.timeout):
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=1)


def test_prometheus_proxy_follows_a_restart_on_another_port():
    """``fleet-lab scenario`` restarts Prometheus; if its port was taken meanwhile it moves, and the proxy with it."""
    class Upstream(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            data = json.dumps({"status": "success", "port": self.server.server_address[1]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Upstream) for _ in range(2)]
    current = {"url": "http://127.0.0.1:%d" % servers[0].server_address[1]}
    proxy = HttpProxy("prometheus", current["url"], faults_mod.Faults(), resolve=lambda: current["url"]).start()
    try:
        threading.Thread(target=servers[0].serve_forever, daemon=True).start()
        assert json.loads(get(proxy.url + "/api/v1/query")[2])["port"] == servers[0].server_address[1]
        servers[0].shutdown()
        servers[0].server_close()
        assert get(proxy.url + "/api/v1/query")[0] == 502  # down, nowhere else to go
        threading.Thread(target=servers[1].serve_forever, daemon=True).start()
        current["url"] = "http://127.0.0.1:%d" % servers[1].server_address[1]
        assert json.loads(get(proxy.url + "/api/v1/query")[2])["port"] == servers[1].server_address[1]
    finally:
        proxy.stop()
        servers[1].shutdown()
        servers[1].server_close()


# -- scenario key and CLI -----------------------------------------------------------------------------------------
def test_scenario_faults_apply_when_it_loads_and_go_with_the_next(lab, tmp_path):
    path = tmp_path / "paging_down.yml"
    path.write_text(yaml.safe_dump({"description": "PagerDuty answers 503 once", "faults": [
        {"component": "sink", "kind": "status", "code": 503, "path": "/v2/enqueue", "count": 1},
        {"component": "db", "kind": "refuse", "window": 600}]}))
    lab.fault("kube", "status", code=500)  # a scenario load replaces every fault
    try:
        lab.switch(str(path))
        assert [(f["component"], f["kind"]) for f in lab.faults()] == [("sink", "status"), ("db", "refuse")]
        assert [post(sink(lab, "/v2/enqueue"), page(lab))[0] for _ in range(2)] == [503, 202]
        assert kubectl(lab, "get", "pods").returncode == 0
        with pytest.raises(psycopg2.OperationalError):
            db_connect(lab, connect_timeout=10)
    finally:
        lab.switch("healthy")
    assert lab.faults() == []
    db_connect(lab).close()


def test_scenario_faults_are_checked(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"faults": [{"component": "sink", "kind": "status", "when": "now"}]}))
    with pytest.raises(scenario_mod.ScenarioError) as err:
        scenario_mod.load(str(path))
    assert "faults[0]: unknown key(s) when" in str(err.value)
    path.write_text(yaml.safe_dump({"faults": {"component": "sink"}}))
    with pytest.raises(scenario_mod.ScenarioError, match="faults: expected a list"):
        scenario_mod.load(str(path))
    assert scenario_mod.load("healthy")["faults"] == []


def test_python_api_reports_a_refused_fault(lab):
    with pytest.raises(LabError) as err:
        lab.fault("db", "cut_log")
    assert "kind 'cut_log' is not one of refuse, stall, hang (for db)" in str(err.value)


def cli(lab, *args):
    return subprocess.run([sys.executable, "-m", "fleet_lab", "--state-dir", lab.state_dir] + list(args),
                          capture_output=True, text=True, timeout=60, check=False)


def test_cli_add_list_clear(lab):
    added = cli(lab, "fault", "add", "sink", "status", "--code", "429", "--retry-after", "3", "--path",
                "/slack/mk-sre", "--count", "1")
    assert added.returncode == 0, added.stderr
    assert "sink status 429 (Retry-After 3) on /slack/mk-sre, 1 of 1 requests left" in added.stdout
    assert cli(lab, "fault", "add", "kube", "cut_log", "--bytes", "10", "--window", "600").returncode == 0
    listed = cli(lab, "fault", "list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2 and "kube cut_log after 10 bytes" in \
        listed.stdout
    status, headers, _body = post(sink(lab, "/slack/mk-sre"), {"text": "x"})
    assert (status, headers["Retry-After"]) == (429, "3")
    as_json = json.loads(cli(lab, "fault", "list", "--json").stdout)
    assert [(f["component"], f["active"], f["hits"]) for f in as_json] == [("sink", False, 1), ("kube", True, 0)]
    refused = cli(lab, "fault", "add", "db", "status")
    assert refused.returncode == 2 and "kind 'status' is not one of refuse, stall, hang (for db)" in refused.stderr
    assert cli(lab, "fault", "clear", "kube").stdout.strip() == "fleet-lab: 1 fault(s) cleared"
    assert cli(lab, "fault", "clear").stdout.strip() == "fleet-lab: 1 fault(s) cleared"
    assert cli(lab, "fault", "list").stdout.strip() == "fleet-lab: no faults"


def test_cli_without_a_lab(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fleet_lab", "--state-dir", str(tmp_path), "fault", "list"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "no lab in" in result.stderr
