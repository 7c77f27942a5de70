"""Benchmark-sized pod logs (50 MB per pod) stream without the server holding them in memory."""
import subprocess
import threading
import time

import pytest
from kubernetes import client

from fleet_lab.kube.testing import KUBECTL, Harness, rss_kb

SCENARIO = {"name": "kube_volume", "namespace": "kas-volume-test",
            "pods": [{"leads": ["ClusterManager"], "errors": {"ocm": 5}, "log_lines": ["THE END"]}, {}]}
VOLUME_KB = 50000


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    harness = Harness(tmp_path_factory.mktemp("kube-volume"), SCENARIO, volume={"log_kb_per_pod": VOLUME_KB})
    yield harness
    harness.stop()


class _Sampler(threading.Thread):
    def __init__(self):
        threading.Thread.__init__(self, daemon=True)
        self.peak = rss_kb()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kb())
            time.sleep(0.02)


def test_50mb_log_streams_in_bounded_memory(lab):
    pod = lab.pod_names()[0]
    base = rss_kb()
    sampler = _Sampler()
    sampler.start()
    proc = subprocess.Popen([KUBECTL, "--kubeconfig", lab.kubeconfig, "logs", pod, "-c", "service"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    total = 0
    last = b""
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
        last = (last + chunk)[-200:]
    proc.wait(60)
    sampler.stop.set()
    sampler.join()
    assert proc.returncode == 0, proc.stderr.read()
    assert VOLUME_KB * 1024 * 0.9 < total < VOLUME_KB * 1024 * 1.1
    assert last.endswith(b"THE END\n")
    grew_mb = (sampler.peak - base) / 1024.0
    print("RSS grew by %.1f MB while streaming %.1f MB" % (grew_mb, total / 1e6))
    assert grew_mb < 50, "server RSS grew by %.1f MB while streaming a %.1f MB log" % (grew_mb, total / 1e6)


def test_50mb_log_python_client_tail_and_limit(lab):
    v1 = client.CoreV1Api(lab.api_client("lab-admin"))
    pod = lab.pod_names()[0]
    tail = v1.read_namespaced_pod_log(pod, lab.ns, container="service", tail_lines=3)
    assert tail.splitlines()[-1] == "THE END" and len(tail.splitlines()) == 3
    resp = v1.read_namespaced_pod_log(pod, lab.ns, container="service", limit_bytes=5 * 1024 * 1024,
                                      _preload_content=False)
    assert sum(len(c) for c in resp.stream(1 << 16)) == 5 * 1024 * 1024
    errors = v1.read_namespaced_pod_log(pod, lab.ns, container="service", since_seconds=1800)
    assert len([l for l in errors.splitlines() if l.startswith("E")]) == 5
