"""The official kubernetes Python client (typed and dynamic) against the lab Kubernetes API."""
import json
import time

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.exceptions import ApiException

from fleet_lab import logformat
from fleet_lab.kube.testing import Harness

SCENARIO = {
    "name": "kube_client",
    "namespace": "kas-client-test",
    "pods": [
        {"state": "running", "leads": ["KafkaManager", "AcceptedKafkaManager"], "errors": {"kafka": 3}},
        {"state": "crashloop", "restarts": 2},
        {"state": "not_ready"},
        {"state": "pending"},
    ],
    "access": {"denied": ["secrets", "pods/log", "deployments/scale"]},
}
HEALTHY = {"name": "kube_client_healthy", "namespace": "kas-client-test",
           "pods": [{"leads": ["KafkaManager", "AcceptedKafkaManager"]}, {}, {}],
           "remediation": {"restart_clears": False}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    harness = Harness(tmp_path_factory.mktemp("kube-client"), SCENARIO)
    yield harness
    harness.stop()


@pytest.fixture
def admin(lab):
    return lab.api_client("lab-admin")


@pytest.fixture
def runbook(lab):
    return lab.api_client("lab")


def _error(exc):
    return exc.value.status, json.loads(exc.value.body)


def test_auth_401_and_public_version(lab):
    for token in (None, "wrong-token"):
        status, _, body = lab.request("/api/v1/namespaces/%s/pods" % lab.ns, token=token)
        assert status == 401
        assert (body["kind"], body["reason"], body["code"], body["message"]) == ("Status", "Unauthorized", 401,
                                                                                "Unauthorized")
    assert lab.request("/version", token=None)[0] == 200
    assert lab.request("/version", token="wrong")[0] == 401
    status, _, body = lab.request("/version")
    assert body["gitVersion"].startswith("v1.28.") and body["major"] == "1"


def test_discovery(lab):
    _, _, core = lab.request("/api/v1")
    names = {r["name"]: r for r in core["resources"]}
    assert core["groupVersion"] == "v1"
    assert names["pods"]["shortNames"] == ["po"] and names["events"]["shortNames"] == ["ev"]
    assert names["pods/log"]["kind"] == "Pod" and names["namespaces"]["namespaced"] is False
    _, _, apps = lab.request("/apis/apps/v1")
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    _, _, groups = lab.request("/apis")
    assert {"apps", "authorization.k8s.io", "autoscaling"} <= {g["name"] for g in groups["groups"]}


def test_list_pods_with_selectors(lab, admin):
    v1 = client.CoreV1Api(admin)
    rs_hash = lab.scenario["replicaset_hash"]
    pods = v1.list_namespaced_pod(lab.ns, label_selector="app=kas-fleet-manager,pod-template-hash in (%s)" % rs_hash)
    assert sorted(p.metadata.name for p in pods.items) == sorted(lab.pod_names())
    assert int(pods.metadata.resource_version) >= max(int(p.metadata.resource_version) for p in pods.items)
    assert v1.list_namespaced_pod(lab.ns, label_selector="app notin (kas-fleet-manager)").items == []
    assert v1.list_namespaced_pod(lab.ns, label_selector="!pod-template-hash").items == []
    running = v1.list_namespaced_pod(lab.ns, field_selector="status.phase=Running")
    assert sorted(p.metadata.name for p in running.items) == sorted(lab.pod_names()[:3])
    pending = v1.read_namespaced_pod(lab.pod_names()[3], lab.ns)
    assert pending.status.phase == "Pending" and pending.spec.node_name is None
    assert [(c.type, c.status, c.reason) for c in pending.status.conditions] == [("PodScheduled", "False",
                                                                                  "Unschedulable")]
    crash = v1.read_namespaced_pod(lab.pod_names()[1], lab.ns)
    service = crash.status.container_statuses[0]
    assert (service.name, service.ready, service.restart_count, service.state.waiting.reason) == (
        "service", False, 2, "CrashLoopBackOff")
    assert (service.last_state.terminated.exit_code, service.last_state.terminated.reason) == (1, "Error")
    assert crash.metadata.owner_references[0].kind == "ReplicaSet"
    not_ready = v1.read_namespaced_pod(lab.pod_names()[2], lab.ns)
    assert not_ready.status.phase == "Running" and not not_ready.status.container_statuses[0].ready
    assert not_ready.status.container_statuses[0].state.running is not None
    # pagination
    page = v1.list_namespaced_pod(lab.ns, limit=3)
    assert len(page.items) == 3 and page.metadata._continue
    rest = v1.list_namespaced_pod(lab.ns, limit=3, _continue=page.metadata._continue)
    assert len(rest.items) == 1 and not rest.metadata._continue
    # a namespace that does not exist: lists are empty, the namespace is 404
    assert v1.list_namespaced_pod("nope").items == []
    with pytest.raises(ApiException) as exc:
        v1.read_namespace("nope")
    assert _error(exc)[0] == 404 and _error(exc)[1]["message"] == 'namespaces "nope" not found'


def test_pod_logs_streaming_and_errors(lab, admin):
    v1 = client.CoreV1Api(admin)
    pod = lab.pod_names()[0]
    resp = v1.read_namespaced_pod_log(pod, lab.ns, container="service", _preload_content=False)
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    full = b"".join(resp.stream(16384)).decode()
    assert "Running as the leader and starting worker *kafka_mgrs.KafkaManager [%s]" % logformat.worker_uuid(
        pod, "KafkaManager") in full
    assert len([l for l in full.splitlines() if l.startswith("E")]) == 3
    again = v1.read_namespaced_pod_log(pod, lab.ns, container="service", _preload_content=False).data.decode()
    assert again == full
    tail = v1.read_namespaced_pod_log(pod, lab.ns, container="service", tail_lines=4, _preload_content=False)
    assert tail.data.decode().splitlines() == full.splitlines()[-4:]
    limited = v1.read_namespaced_pod_log(pod, lab.ns, container="service", limit_bytes=777, _preload_content=False)
    assert limited.data == full.encode()[:777]
    envoy = v1.read_namespaced_pod_log(pod, lab.ns, container="envoy-sidecar", tail_lines=2)
    assert all('"GET /api/kafkas_mgmt' in l for l in envoy.splitlines())
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log(pod, lab.ns)
    assert _error(exc) [0] == 400
    assert _error(exc)[1]["message"] == ("a container name must be specified for pod %s, choose one of: "
                                         "[service envoy-sidecar]" % pod)
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log(pod, lab.ns, container="service", previous=True)
    assert _error(exc)[1]["message"] == 'previous terminated container "service" in pod "%s" not found' % pod
    prev = v1.read_namespaced_pod_log(lab.pod_names()[1], lab.ns, container="service", previous=True)
    assert prev.splitlines()[-1].startswith("F")
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log(lab.pod_names()[3], lab.ns, container="service")
    assert "is waiting to start: ContainerCreating" in _error(exc)[1]["message"]


def test_forbidden_for_runbook(lab, runbook, admin):
    v1 = client.CoreV1Api(runbook)
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_secret(lab.ns)
    code, body = _error(exc)
    assert code == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('secrets is forbidden: User "system:serviceaccount:kas-sre:runbook" cannot list '
                               'resource "secrets" in API group "" in the namespace "%s"' % lab.ns)
    pod = lab.pod_names()[0]
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log(pod, lab.ns, container="service")
    assert _error(exc)[1]["message"] == (
        'pods "%s" is forbidden: User "system:serviceaccount:kas-sre:runbook" cannot get resource "pods/log" in API '
        'group "" in the namespace "%s"' % (pod, lab.ns))
    with pytest.raises(ApiException) as exc:
        client.AppsV1Api(runbook).patch_namespaced_deployment_scale("kas-fleet-manager", lab.ns,
                                                                    {"spec": {"replicas": 4}})
    assert _error(exc)[0] == 403 and 'cannot patch resource "deployments/scale" in API group "apps"' in \
        _error(exc)[1]["message"]
    assert len(v1.list_namespaced_pod(lab.ns).items) == 4  # pods themselves are allowed
    auth = client.AuthorizationV1Api(runbook)
    review = {"spec": {"resourceAttributes": {"namespace": lab.ns, "verb": "list", "resource": "secrets"}}}
    assert auth.create_self_subject_access_review(review).status.allowed is False
    review["spec"]["resourceAttributes"].update(verb="get", resource="pods", subresource="log")
    assert auth.create_self_subject_access_review(review).status.allowed is False
    review["spec"]["resourceAttributes"].update(verb="list", resource="events", subresource=None)
    assert auth.create_self_subject_access_review(review).status.allowed is True
    admin_review = client.AuthorizationV1Api(admin).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"namespace": lab.ns, "verb": "list", "resource": "secrets"}}})
    assert admin_review.status.allowed is True and "cluster-admin" in admin_review.status.reason
    secret = client.CoreV1Api(admin).read_namespaced_secret("kas-fleet-manager-rds", lab.ns)
    assert sorted(secret.data) == ["db.ca_cert", "db.host", "db.name", "db.password", "db.port", "db.user"]
    import base64
    assert base64.b64decode(secret.data["db.port"]).decode() == "55432"
    assert base64.b64decode(secret.data["db.ca_cert"]).decode().startswith("-----BEGIN CERTIFICATE-----")


def test_errors_404_409_422(lab, admin):
    v1 = client.CoreV1Api(admin)
    apps = client.AppsV1Api(admin)
    with pytest.raises(ApiException) as exc:
        apps.read_namespaced_deployment("nope", lab.ns)
    assert _error(exc)[0] == 404 and _error(exc)[1]["message"] == 'deployments.apps "nope" not found'
    body = {"metadata": {"name": "kas-fleet-manager"}, "stringData": {"a": "b"}}
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_secret(lab.ns, body)
    assert _error(exc)[0] == 409 and _error(exc)[1]["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment_scale("kas-fleet-manager", lab.ns, {"spec": {"replicas": -1}})
    assert _error(exc)[0] == 422 and "must be greater than or equal to 0" in _error(exc)[1]["message"]
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment("kas-fleet-manager", lab.ns, {"spec": {"replicas": -2}})
    assert _error(exc)[0] == 422
    stale = {"metadata": {"resourceVersion": "1", "annotations": {"x": "y"}}}
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment("kas-fleet-manager", lab.ns, stale)
    assert _error(exc)[0] == 409 and _error(exc)[1]["reason"] == "Conflict"
    created = v1.create_namespaced_secret(lab.ns, {"metadata": {"name": "lab-made"}, "stringData": {"k": "v"}})
    assert created.data == {"k": "dg=="}
    v1.delete_namespaced_secret("lab-made", lab.ns)
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_secret("lab-made", lab.ns)
    assert _error(exc)[0] == 404


def test_patch_types_and_generation(lab, admin):
    lab.load(HEALTHY)
    apps = client.AppsV1Api(admin)
    ns = lab.ns
    before = apps.read_namespaced_deployment("kas-fleet-manager", ns)
    gen, rv = before.metadata.generation, int(before.metadata.resource_version)
    # merge patch of metadata: annotations persist, generation does not move
    d = apps.api_client.call_api  # noqa: F841 (the typed client picks the patch content type below)
    d = apps.patch_namespaced_deployment("kas-fleet-manager", ns,
                                         {"metadata": {"annotations": {"kas-fleet.io/restart-count": "1"}}},
                                         _content_type="application/merge-patch+json")
    assert d.metadata.annotations["kas-fleet.io/restart-count"] == "1" and d.metadata.generation == gen
    assert int(d.metadata.resource_version) > rv
    # json patch
    d = apps.patch_namespaced_deployment("kas-fleet-manager", ns, [
        {"op": "add", "path": "/metadata/annotations/kas-fleet.io~1cooldown-until", "value": "2026-11-25T13:00:00Z"},
        {"op": "test", "path": "/spec/replicas", "value": 3}], _content_type="application/json-patch+json")
    assert d.metadata.annotations["kas-fleet.io/cooldown-until"] == "2026-11-25T13:00:00Z"
    assert d.metadata.annotations["kas-fleet.io/restart-count"] == "1"
    # strategic merge of the template (containers by name): a rollout
    d = apps.patch_namespaced_deployment("kas-fleet-manager", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "service", "env": [{"name": "LAB", "value": "1"}]}]}}}},
        _content_type="application/strategic-merge-patch+json")
    containers = d.spec.template.spec.containers
    assert [c.name for c in containers] == ["service", "envoy-sidecar"]
    assert [(e.name, e.value) for e in containers[0].env] == [("OCM_ENV", "stage"), ("LAB", "1")]
    assert containers[0].image == lab.scenario["deployment"]["image"]
    assert d.metadata.generation == gen + 1
    restarts = lab.wait_completion("restart")
    assert restarts and restarts[0]["cleared"] is False
    # restart_clears false: the new pods reproduce the scenario's (pod 0 leads the same workers, no ClusterManager)
    leader = restarts[0]["leaders"]
    assert set(leader) == {"KafkaManager", "AcceptedKafkaManager"}
    new_pod = leader["KafkaManager"]
    log = client.CoreV1Api(admin).read_namespaced_pod_log(new_pod, ns, container="service")
    assert "starting worker *kafka_mgrs.KafkaManager" in log and "ClusterManager [" not in log.replace(
        "reconciliation loop for *cluster_mgrs.ClusterManager", "")
    d = apps.read_namespaced_deployment("kas-fleet-manager", ns)
    assert d.metadata.annotations["kas-fleet.io/restart-count"] == "1"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert d.status.observed_generation == d.metadata.generation and d.status.updated_replicas == 3
    assert [(c.type, c.reason) for c in d.status.conditions] == [("Available", "MinimumReplicasAvailable"),
                                                                 ("Progressing", "NewReplicaSetAvailable")]
    rs = client.AppsV1Api(admin).list_namespaced_replica_set(ns).items
    assert len(rs) == 2 and all(r.metadata.owner_references[0].uid == d.metadata.uid for r in rs)
    new_rs = next(r for r in rs if r.spec.replicas == 3)
    assert new_rs.metadata.labels["pod-template-hash"] in new_pod


def test_scale_subresource_and_dynamic_client(lab, admin):
    lab.load(HEALTHY)
    apps = client.AppsV1Api(admin)
    ns = lab.ns
    scale = apps.read_namespaced_deployment_scale("kas-fleet-manager", ns)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 3, "app=kas-fleet-manager")
    apps.patch_namespaced_deployment_scale("kas-fleet-manager", ns, {"spec": {"replicas": 5}})
    scales = lab.wait_completion("scale")
    assert scales and scales[0]["replicas"] == 5
    pods = client.CoreV1Api(admin).list_namespaced_pod(ns).items
    assert len(pods) == 5 and all(p.status.phase == "Running" for p in pods)
    new = [p.metadata.name for p in pods if p.metadata.name not in lab.pod_names()]
    log = client.CoreV1Api(admin).read_namespaced_pod_log(new[0], ns, container="service")
    assert "Running as the leader" not in log  # scale-up pods take no leadership while leaders exist
    body = apps.read_namespaced_deployment_scale("kas-fleet-manager", ns)
    body.spec.replicas = 2
    apps.replace_namespaced_deployment_scale("kas-fleet-manager", ns, body)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(client.CoreV1Api(admin).list_namespaced_pod(ns).items) != 2:
        time.sleep(0.1)
    assert len(client.CoreV1Api(admin).list_namespaced_pod(ns).items) == 2
    dyn = dynamic.DynamicClient(admin)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    listed = deployments.get(namespace=ns)
    assert [i.metadata.name for i in listed.items] == ["kas-fleet-manager"]
    one = deployments.get(name="kas-fleet-manager", namespace=ns)
    assert one.spec.replicas == 2 and one.metadata.generation == 3
    dpods = dyn.resources.get(api_version="v1", kind="Pod")
    assert len(dpods.get(namespace=ns, label_selector="app=kas-fleet-manager").items) == 2
    events = dyn.resources.get(api_version="v1", kind="Event").get(namespace=ns, field_selector="reason=Killing")
    assert events.items


def test_scale_completes_with_broken_pods_left(lab, admin):
    lab.load(SCENARIO)  # crash-looping, not-ready and pending pods stay as they are
    client.AppsV1Api(admin).patch_namespaced_deployment("kas-fleet-manager", lab.ns, {"spec": {"replicas": 5}})
    scales = lab.wait_completion("scale")
    assert scales and scales[0]["replicas"] == 5 and scales[0]["triggers"] == ["scale"]
    pods = {p.metadata.name: p for p in client.CoreV1Api(admin).list_namespaced_pod(lab.ns).items}
    assert len(pods) == 5 and set(lab.pod_names()) < set(pods)
    new = [p for n, p in pods.items() if n not in lab.pod_names()][0]
    assert new.status.phase == "Running" and all(c.ready for c in new.status.container_statuses)
    assert pods[lab.pod_names()[1]].status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    d = client.AppsV1Api(admin).read_namespaced_deployment("kas-fleet-manager", lab.ns)
    assert (d.status.replicas, d.status.ready_replicas, d.status.unavailable_replicas) == (5, 2, 3)


def test_watch_delete_and_reset(lab, admin):
    lab.load(HEALTHY)
    v1 = client.CoreV1Api(admin)
    ns = lab.ns
    listed = v1.list_namespaced_pod(ns)
    victim = lab.pod_names()[1]
    seen = []
    w = watch.Watch()
    gone = v1.delete_namespaced_pod(victim, ns)
    assert gone.metadata.deletion_timestamp is not None  # graceful: Terminating first
    # resuming from the list's resourceVersion replays what happened since, then streams
    for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=listed.metadata.resource_version,
                       timeout_seconds=10):
        seen.append((ev["type"], ev["object"].metadata.name))
        if any(t == "ADDED" and n != victim for t, n in seen) and ("DELETED", victim) in seen:
            w.stop()
    assert ("DELETED", victim) in seen
    restarts = lab.wait_completion("restart")
    assert restarts and restarts[0]["triggers"] == ["pod_delete"]
    names = [p.metadata.name for p in v1.list_namespaced_pod(ns).items]
    assert len(names) == 3 and victim not in names
    # too old a resourceVersion: 410 Gone as an ERROR event
    status, _, body = lab.request("/api/v1/namespaces/%s/pods?watch=true&resourceVersion=5&timeoutSeconds=1" % ns)
    event = json.loads(body.splitlines()[0]) if isinstance(body, str) else body
    assert event["type"] == "ERROR" and event["object"]["code"] == 410
    # reloading the scenario restores its objects, resourceVersions keep growing
    rv = int(v1.list_namespaced_pod(ns).metadata.resource_version)
    lab.load(SCENARIO)
    after = v1.list_namespaced_pod(ns)
    assert sorted(p.metadata.name for p in after.items) == sorted(lab.pod_names())
    assert int(after.metadata.resource_version) > rv


def test_watch_ends_when_client_closes(lab):
    import http.client
    import ssl
    server = lab.kube.server
    conn = http.client.HTTPSConnection("127.0.0.1", lab.kube.port,
                                       context=ssl.create_default_context(cafile=lab.kube.ca_file), timeout=10)
    conn.request("GET", "/apis/apps/v1/namespaces/%s/deployments?watch=true" % lab.ns,
                 headers={"Authorization": "Bearer %s" % lab.kube.tokens["admin"]})
    resp = conn.getresponse()
    first = json.loads(resp.readline())
    assert first["type"] == "ADDED" and first["object"]["kind"] == "Deployment"
    # This connection by its client port: other tests' keep-alive connections may close meanwhile, so a count
    # of the server's connections is not a measure of this one.
    client = conn.sock.getsockname()

    def peer(sock):
        try:
            return sock.getpeername()
        except OSError:  # closed while we look
            return None

    def watching():
        return [c for c in list(server.connections) if peer(c) == client]
    assert len(watching()) == 1
    conn.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and watching():
        time.sleep(0.1)
    assert watching() == []  # no watch thread left waiting for the default timeout


def test_table_output_for_kubectl(lab):
    lab.load(SCENARIO)
    status, _, body = lab.request("/api/v1/namespaces/%s/pods" % lab.ns,
                                  headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    assert status == 200 and body["kind"] == "Table"
    assert [c["name"] for c in body["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    statuses = {r["cells"][0]: r["cells"][2] for r in body["rows"]}
    names = lab.pod_names()
    assert [statuses[n] for n in names] == ["Running", "CrashLoopBackOff", "Running", "Pending"]
    assert body["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
