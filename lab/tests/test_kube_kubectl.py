"""kubectl against the lab Kubernetes API: what an SRE following the runbook types."""
import datetime
import re

import pytest

from fleet_lab import logformat
from fleet_lab.kube.testing import NOW, Harness

SCENARIO = {
    "name": "kube_kubectl",
    "namespace": "kas-kubectl-test",
    "pods": [
        {"state": "running", "leads": ["ClusterManager", "KafkaManager", "AcceptedKafkaManager"],
         "lost": ["KafkaManager"], "errors": {"manager_api": 3, "ocm": 2},
         "log_lines": ["I1125 11:59:59.500000       1 custom.go:7] the very last line"]},
        {"state": "crashloop", "restarts": 4, "errors": {"database": 2},
         "previous_log_lines": ["E1125 11:50:00.000000       1 main.go:10] previous boom"]},
        {"state": "image_pull"},
        {"state": "running"},
    ],
    "events": [
        {"type": "Warning", "reason": "NodeNotReady", "object": {"kind": "Node", "name": "ip-10-0-9-9.ec2.internal"},
         "message": "Node ip-10-0-9-9.ec2.internal status is now: NodeNotReady", "age_minutes": 12},
        {"type": "Warning", "reason": "Failed", "object": {"kind": "Pod", "pod": 2}, "count": 4,
         "message": 'Failed to pull image "quay.io/app-sre/kas-fleet-manager:9b598c7": manifest unknown'},
    ],
    "access": {"denied": ["secrets"]},
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    harness = Harness(tmp_path_factory.mktemp("kube-kubectl"), SCENARIO)
    yield harness
    harness.stop()


def _table(output):
    lines = output.strip().splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    return [dict(zip(header, re.split(r"\s{2,}", line.strip()))) for line in lines[1:]]


def test_get_pods_shows_each_state(lab):
    out = lab.kubectl("get", "pods", check=True).stdout
    rows = {r["NAME"]: r for r in _table(out)}
    running, crash, pull, other = lab.pod_names()
    assert set(rows) == {running, crash, pull, other}
    assert (rows[running]["READY"], rows[running]["STATUS"], rows[running]["RESTARTS"]) == ("2/2", "Running", "0")
    assert (rows[crash]["READY"], rows[crash]["STATUS"]) == ("1/2", "CrashLoopBackOff")
    assert re.match(r"^4 \(\d+s ago\)$", rows[crash]["RESTARTS"])
    assert (rows[pull]["READY"], rows[pull]["STATUS"]) == ("1/2", "ImagePullBackOff")
    assert rows[running]["AGE"] in ("6h", "5h59m")
    wide = {r["NAME"]: r for r in _table(lab.kubectl("get", "pods", "-o", "wide", check=True).stdout)}
    assert wide[running]["NODE"].endswith(".ec2.internal") and wide[running]["IP"].startswith("10.128.")


def test_get_and_describe_deployment(lab):
    rows = _table(lab.kubectl("get", "deployment", "kas-fleet-manager", check=True).stdout)
    assert rows == [{"NAME": "kas-fleet-manager", "READY": "2/3", "UP-TO-DATE": "4", "AVAILABLE": "2", "AGE": "30d"}]
    out = lab.kubectl("describe", "deployment", "kas-fleet-manager", check=True).stdout
    assert "Replicas:               3 desired | 4 updated | 4 total | 2 available | 1 unavailable" in out
    assert re.search(r"Available\s+False\s+MinimumReplicasUnavailable", out)
    assert re.search(r"Progressing\s+False\s+ProgressDeadlineExceeded", out)  # an image_pull pod: stuck rollout
    assert "NewReplicaSet:   kas-fleet-manager-%s" % lab.scenario["replicaset_hash"] in out
    assert "envoyproxy/envoy:v1.25.1" in out and "memory:  1Gi" in out


def test_describe_crashlooping_pod(lab):
    crash = lab.pod_names()[1]
    out = lab.kubectl("describe", "pod", crash, check=True).stdout
    assert re.search(r"State:\s+Waiting\n\s+Reason:\s+CrashLoopBackOff", out)
    assert re.search(r"Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+1", out)
    assert re.search(r"Restart Count:\s+4", out)
    assert "Controlled By:  ReplicaSet/kas-fleet-manager-%s" % lab.scenario["replicaset_hash"] in out
    assert re.search(r"Warning\s+BackOff\s+.*Back-off restarting failed container service in pod %s" % crash, out)


def test_logs_tail_previous_since(lab):
    running, crash, pull, _ = lab.pod_names()
    out = lab.kubectl("logs", running, "-c", "service", "--tail=5", check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 5 and lines[-1] == "I1125 11:59:59.500000       1 custom.go:7] the very last line"
    full = lab.kubectl("logs", running, "-c", "service", check=True).stdout
    assert full.splitlines()[-5:] == lines
    wid = logformat.worker_uuid(running, "ClusterManager")
    assert "Running as the leader and starting worker *cluster_mgrs.ClusterManager [%s]" % wid in full
    assert "No longer the leader and stopping worker *kafka_mgrs.KafkaManager" in full
    assert len([l for l in full.splitlines() if l.startswith("E")]) == 5
    prev = lab.kubectl("logs", crash, "-c", "service", "--previous", check=True).stdout.splitlines()
    assert prev[-2] == "E1125 11:50:00.000000       1 main.go:10] previous boom" and prev[-1].startswith("F")
    res = lab.kubectl("logs", running, "-c", "service", "--previous")
    assert res.returncode == 1
    assert 'previous terminated container "service" in pod "%s" not found' % running in res.stderr
    res = lab.kubectl("logs", pull, "-c", "service")
    assert 'is waiting to start: trying and failing to pull image' in res.stderr
    # --since is relative to the lab clock (the scenario's now + time since load)
    recent = lab.kubectl("logs", running, "-c", "service", "--since=10m", "--timestamps", check=True).stdout
    stamps = [datetime.datetime.strptime(l.split(" ", 1)[0][:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc) for l in recent.splitlines()]
    assert stamps and min(stamps) >= NOW - datetime.timedelta(minutes=10, seconds=1)
    assert len(recent.splitlines()) < len(full.splitlines()) / 5


def test_events_field_selector_and_cluster_events(lab):
    pull = lab.pod_names()[2]
    rows = _table(lab.kubectl("get", "events", "--field-selector", "involvedObject.name=%s" % pull, check=True).stdout)
    assert rows and all(r["OBJECT"] == "pod/%s" % pull for r in rows)
    reasons = {r["REASON"] for r in rows}
    assert {"Scheduled", "Failed", "BackOff", "Pulling"} <= reasons
    warnings = lab.kubectl("get", "events", "--field-selector", "type=Warning", check=True).stdout
    assert "node/ip-10-0-9-9.ec2.internal" in warnings and "NodeNotReady" in warnings
    assert "Normal" not in warnings.split("\n", 1)[1]


def test_auth_can_i_and_forbidden(lab):
    yes = lab.kubectl("auth", "can-i", "list", "secrets", context="lab-admin")
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    no = lab.kubectl("auth", "can-i", "list", "secrets")
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    assert lab.kubectl("auth", "can-i", "get", "pods", "--subresource=log").stdout.strip() == "yes"
    res = lab.kubectl("get", "secrets")
    assert res.returncode == 1
    assert ('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:kas-sre:runbook" '
            'cannot list resource "secrets" in API group "" in the namespace "kas-kubectl-test"') in res.stderr
    out = lab.kubectl("get", "secret", "kas-fleet-manager-rds", "-o", "jsonpath={.data.db\\.password}",
                      context="lab-admin", check=True).stdout
    import base64
    assert base64.b64decode(out).decode() == "lab-pass"


def test_rollout_restart_status_then_scale(lab):
    lab.load(SCENARIO)
    old = set(lab.pod_names())
    out = lab.kubectl("rollout", "restart", "deployment/kas-fleet-manager", check=True).stdout
    assert "deployment.apps/kas-fleet-manager restarted" in out
    status = lab.kubectl("rollout", "status", "deployment/kas-fleet-manager", "-n", lab.ns, "--timeout=30s")
    assert status.returncode == 0, status.stderr
    assert 'deployment "kas-fleet-manager" successfully rolled out' in status.stdout
    restarts = lab.wait_completion("restart")
    assert len(restarts) == 1 and restarts[0]["cleared"] is True
    rows = _table(lab.kubectl("get", "pods", check=True).stdout)
    new = [r for r in rows if r["NAME"] not in old]
    assert len(new) == 3 and all((r["READY"], r["STATUS"]) == ("2/2", "Running") for r in new)
    assert sorted(r["NAME"] for r in new) == sorted(restarts[0]["pods"])
    leader = restarts[0]["leaders"]["ClusterManager"]
    log = lab.kubectl("logs", leader, "-c", "service", check=True).stdout
    assert "Running as the leader and starting worker *cluster_mgrs.ClusterManager [%s]" % \
        logformat.worker_uuid(leader, "ClusterManager") in log
    assert not [l for l in log.splitlines() if l.startswith("E")]
    restarted_at = lab.kubectl("get", "deploy", "kas-fleet-manager", "-o",
                               "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
                               check=True).stdout
    assert restarted_at == restarts[0]["restartedAt"] and restarted_at.startswith("20")
    events = lab.kubectl("get", "events", "--field-selector", "reason=ScalingReplicaSet", check=True).stdout
    assert "Scaled up replica set kas-fleet-manager-" in events and "to 0 from" in events

    out = lab.kubectl("scale", "deployment/kas-fleet-manager", "--replicas=5", context="lab-admin", check=True).stdout
    assert "deployment.apps/kas-fleet-manager scaled" in out
    status = lab.kubectl("rollout", "status", "deployment/kas-fleet-manager", "--timeout=30s")
    assert status.returncode == 0, status.stderr
    scales = lab.wait_completion("scale")
    assert scales and scales[-1]["replicas"] == 5 and len(scales[-1]["pods"]) == 5
    rows = _table(lab.kubectl("get", "deploy", check=True).stdout)
    assert rows[0]["READY"] == "5/5"
