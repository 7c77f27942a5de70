"""Builders for the Kubernetes objects the lab serves: the fleet manager's Deployment (as in upstream's
``templates/service-template.yml``), its ReplicaSets and Pods, Events, Secrets, Namespaces and Nodes.

Pods carry a ``PodInfo`` next to them (not in the object): the scenario's pod keys and the lifecycle times
the controller advances. ``render_pod_status`` turns it into ``status`` at a given time.
"""
import base64
import copy
import hashlib
import uuid

from fleet_lab.kube import logs

APP = "kas-fleet-manager"
ENVOY_IMAGE = "envoyproxy/envoy:v1.25.1"
CONTAINERS = ("service", "envoy-sidecar")
SECOND = logs.US


def ts(us):
    """Kubernetes metadata timestamp (RFC 3339, seconds)."""
    return logs.from_us(us).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid_for(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fleet-lab/" + "/".join(str(p) for p in parts)))


def sha(*parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def b64(value):
    return base64.b64encode(str(value).encode()).decode()


def image_id(image):
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    if "/" not in repo.split("/")[0] or "." not in repo.split("/")[0]:
        repo = "docker.io/" + repo
    return "%s@sha256:%s" % (repo, sha("image", image))


def node_name(index):
    zone = index % 3
    return "ip-10-0-%d-%d.ec2.internal" % (128 + 32 * zone + (index * 7) % 31, 10 + (index * 37) % 240)


def pod_ip(name):
    h = int(sha("ip", name)[:8], 16)
    return "10.128.%d.%d" % (h % 4 * 2, 2 + (h >> 8) % 250)


def namespace(name, created_us):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "uid": uid_for("ns", name), "creationTimestamp": ts(created_us),
                         "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def node(name, created_us, ready=True, now_us=None):
    cond_time = ts(now_us or created_us)
    zone = "abc"[sum(map(ord, name)) % 3]
    ready_cond = ({"type": "Ready", "status": "True", "reason": "KubeletReady",
                   "message": "kubelet is posting ready status", "lastHeartbeatTime": cond_time,
                   "lastTransitionTime": ts(created_us)} if ready else
                  {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                   "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": cond_time,
                   "lastTransitionTime": cond_time})
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": uid_for("node", name), "creationTimestamp": ts(created_us),
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "node-role.kubernetes.io/worker": "",
                                    "topology.kubernetes.io/zone": "us-east-1" + zone}},
            "spec": {"providerID": "aws:///us-east-1%s/i-0%s" % (zone, sha("node", name)[:16])},
            "status": {"conditions": [ready_cond],
                       "nodeInfo": {"kubeletVersion": "v1.28.9+416ecaf", "containerRuntimeVersion":
                                    "cri-o://1.28.6-4.rhaos4.15.git0b5f9a4.el9", "osImage":
                                    "Red Hat Enterprise Linux CoreOS 415.92.202405070140-0 (Plow)",
                                    "architecture": "amd64", "operatingSystem": "linux"},
                       "addresses": [{"type": "InternalIP", "address": _node_ip(name)},
                                     {"type": "Hostname", "address": name}]}}


# --- deployment, replica sets ----------------------------------------------------------------------------
def pod_template(image, environment):
    rds = "/secrets/rds/"
    return {
        "metadata": {"creationTimestamp": None, "labels": {"app": APP}},
        "spec": {
            "serviceAccountName": APP, "serviceAccount": APP,
            "volumes": [{"name": "tls-cert", "secret": {"secretName": APP + "-tls", "defaultMode": 420}},
                        {"name": "service", "secret": {"secretName": APP, "defaultMode": 420}},
                        {"name": "rds", "secret": {"secretName": APP + "-rds", "defaultMode": 420}},
                        {"name": "envoy-config", "configMap": {"name": APP + "-envoy-config", "defaultMode": 420}}],
            "containers": [
                {"name": "service", "image": image, "imagePullPolicy": "IfNotPresent",
                 "command": ["/usr/local/bin/kas-fleet-manager", "serve",
                             "--db-host-file=%sdb.host" % rds, "--db-port-file=%sdb.port" % rds,
                             "--db-user-file=%sdb.user" % rds, "--db-password-file=%sdb.password" % rds,
                             "--db-name-file=%sdb.name" % rds, "--db-ssl-certificate-file=%sdb.ca_cert" % rds,
                             "--db-sslmode=disable", "--db-max-open-connections=50",
                             "--sentry-key-file=/secrets/service/sentry.key", "--enable-sentry=true",
                             "--api-server-bindaddress=:8000", "--metrics-server-bindaddress=:8080",
                             "--health-check-server-bindaddress=:8083", "--enable-https=true",
                             "--leader-lease-expiration-time=1m", "--alsologtostderr", "-v=10"],
                 "env": [{"name": "OCM_ENV", "value": environment}],
                 "resources": {"requests": {"cpu": "200m", "memory": "512Mi"},
                               "limits": {"cpu": "1", "memory": "1Gi"}},
                 "volumeMounts": [{"name": "tls-cert", "mountPath": "/secrets/tls", "readOnly": True},
                                  {"name": "service", "mountPath": "/secrets/service", "readOnly": True},
                                  {"name": "rds", "mountPath": "/secrets/rds", "readOnly": True}],
                 "livenessProbe": {"httpGet": {"path": "/api/kafkas_mgmt", "port": 8000, "scheme": "HTTPS"},
                                   "initialDelaySeconds": 15, "periodSeconds": 5, "timeoutSeconds": 1,
                                   "successThreshold": 1, "failureThreshold": 3},
                 "readinessProbe": {"httpGet": {"path": "/healthcheck", "port": 8083, "scheme": "HTTPS",
                                                "httpHeaders": [{"name": "User-Agent", "value": "Probe"}]},
                                    "initialDelaySeconds": 20, "periodSeconds": 10, "timeoutSeconds": 1,
                                    "successThreshold": 1, "failureThreshold": 3},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
                {"name": "envoy-sidecar", "image": ENVOY_IMAGE, "imagePullPolicy": "IfNotPresent",
                 "command": ["envoy", "--config-path", "/configs/envoy/main.yaml"],
                 "ports": [{"name": "api-envoy", "containerPort": 9001, "protocol": "TCP"},
                           {"name": "metrics-envoy", "containerPort": 9000, "protocol": "TCP"}],
                 "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                               "limits": {"cpu": "1", "memory": "512Mi"}},
                 "volumeMounts": [{"name": "envoy-config", "mountPath": "/configs/envoy"}],
                 "livenessProbe": {"httpGet": {"path": "/ready", "port": 9000, "scheme": "HTTP"},
                                   "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1,
                                   "successThreshold": 1, "failureThreshold": 3},
                 "readinessProbe": {"httpGet": {"path": "/ready", "port": 9000, "scheme": "HTTP"},
                                    "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1,
                                    "successThreshold": 1, "failureThreshold": 3},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
            ],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": APP}},
                                                    "topologyKey": "topology.kubernetes.io/zone"}}]}},
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler", "securityContext": {},
        },
    }


def deployment(ns, name, replicas, image, environment, created_us):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "uid": uid_for("deploy", ns, name, created_us),
                     "generation": 1, "creationTimestamp": ts(created_us), "labels": {"app": APP},
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": APP}},
                 "template": pod_template(image, environment),
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {},
    }


def replicaset(dep, rs_hash, replicas, revision, created_us):
    meta = dep["metadata"]
    template = copy.deepcopy(dep["spec"]["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = rs_hash
    selector = copy.deepcopy(dep["spec"]["selector"])
    selector.setdefault("matchLabels", {})["pod-template-hash"] = rs_hash
    labels = dict(template["metadata"]["labels"])
    name = "%s-%s" % (meta["name"], rs_hash)
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": meta["namespace"], "uid": uid_for("rs", meta["uid"], rs_hash),
                     "generation": 1, "creationTimestamp": ts(created_us), "labels": labels,
                     "annotations": {"deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
                                     "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + 1),
                                     "deployment.kubernetes.io/revision": str(revision)},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"],
                                          "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"replicas": replicas, "selector": selector, "template": template},
        "status": {"replicas": 0, "observedGeneration": 1},
    }


# --- pods ------------------------------------------------------------------------------------------------
class PodInfo(object):
    """What the lab knows about a pod beyond its object: the scenario keys and lifecycle times (us)."""

    def __init__(self, name, namespace, profile, created, node, static, image, environment, volume_kb):
        self.name = name
        self.namespace = namespace
        self.profile = profile  # state, restarts, leads, lost, worker_prefix, errors, log_lines, previous_log_lines
        self.state = profile.get("state", "running")
        self.created = created
        self.node = node
        self.static = static  # scenario pods: status is final at load
        self.image = image
        self.environment = environment
        self.volume_kb = volume_kb
        self.t_sched = created + 150000
        self.t_start = created + 600000
        self.t_ready = created + 1300000
        self.t_crash = created + 1800000
        self.restarts = profile.get("restarts", 0) if static else 0
        self.deleting = None  # lab time the pod was deleted (Terminating)
        self.grace_us = 0
        self.windows = {}  # (container, previous) -> (start_us, end_us)
        self._logs = {}
        self.leads = list(profile.get("leads") or [])

    # lifecycle stage at time t
    def stage(self, t):
        if self.static:
            return {"running": "running", "not_ready": "not_ready", "crashloop": "crashloop",
                    "image_pull": "image_pull", "pending": "unschedulable"}[self.state]
        if self.state == "pending":
            return "unschedulable"
        if t < self.t_sched:
            return "new"
        if self.state == "image_pull":
            return "errimagepull" if t < self.t_sched + 900000 else "image_pull"
        if t < self.t_start:
            return "creating"
        if self.state == "crashloop":
            return "started" if t < self.t_crash else "crashloop"
        if self.state == "not_ready":
            return "not_ready"
        return "started" if t < self.t_ready else "running"

    def final(self, t):
        """No further status change will come from time passing."""
        return self.static or self.stage(t) in ("running", "not_ready", "crashloop", "image_pull", "unschedulable")

    def restart_count(self, t):
        if self.static:
            return self.restarts
        return 1 if self.stage(t) == "crashloop" else 0

    def scheduled(self, t):
        return self.stage(t) not in ("new", "unschedulable")

    # logs
    def log(self, container, previous):
        key = (container, previous)
        if key not in self._logs:
            window = self.windows.get(key)
            if window is None:
                return None
            start, end = window
            if container == "envoy-sidecar":
                self._logs[key] = logs.envoy_log(self.name, start, end, max(2048, self.volume_kb * 256))
            else:
                profile = dict(self.profile, leads=self.leads)
                short = self.state == "crashloop" or not self.static
                volume = min(self.volume_kb, 4) * 1024 if short else self.volume_kb * 1024
                self._logs[key] = logs.service_log(self.name, profile, start, end, volume, previous=previous,
                                                   environment=self.environment)
        return self._logs[key]


def plan_static_windows(info, now_us, history_us):
    """Container log windows of a scenario pod (its history covers the hours before ``now``)."""
    created = info.created
    state = info.state
    if state in ("pending",):
        return
    info.windows[("envoy-sidecar", False)] = (created + 12 * SECOND, now_us)
    if state == "image_pull":
        return
    restarts = info.restarts
    if state == "crashloop":
        last_end = now_us - 40 * SECOND
        info.windows[("service", False)] = (last_end - 30 * SECOND, last_end)
        if restarts > 1:
            prev_end = last_end - 5 * 60 * SECOND
            info.windows[("service", True)] = (prev_end - 30 * SECOND, prev_end)
        elif restarts == 1:
            info.windows[("service", True)] = (created + 20 * SECOND, last_end - 60 * SECOND)
        info.last_run = info.windows[("service", False)]
        return
    start = created + 20 * SECOND
    if restarts:
        start = min(created + restarts * 180 * SECOND + 20 * SECOND, now_us - 45 * 60 * SECOND)
        start = max(start, created + 40 * SECOND)
        info.windows[("service", True)] = (max(created + 20 * SECOND, start - 200 * SECOND), start - 10 * SECOND)
        info.last_run = info.windows[("service", True)]
    info.windows[("service", False)] = (start, now_us)


def plan_new_windows(info):
    """Log windows of a pod the controller creates: a short log from container start."""
    info.windows[("envoy-sidecar", False)] = (info.t_start, info.t_start + 2 * SECOND)
    if info.state in ("image_pull", "pending"):
        return
    if info.state == "crashloop":
        info.windows[("service", False)] = (info.t_start, info.t_crash)
        info.windows[("service", True)] = (info.t_start - 1, info.t_crash - 1)
        info.last_run = (info.t_start, info.t_crash)
        return
    info.windows[("service", False)] = (info.t_start, info.t_start + 2 * SECOND)


def pod_object(info, rs, template, uid_seed):
    labels = dict(template.get("metadata", {}).get("labels") or {})
    meta = {"name": info.name, "namespace": info.namespace, "uid": uid_for("pod", info.name, uid_seed),
            "creationTimestamp": ts(info.created), "labels": labels,
            "annotations": {"openshift.io/scc": "restricted-v2",
                            "k8s.ovn.org/pod-networks": '{"default":{"ip_addresses":["%s/23"]}}' % pod_ip(info.name)}}
    if rs is not None:
        meta["generateName"] = rs["metadata"]["name"] + "-"
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                    "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    spec = copy.deepcopy(template.get("spec") or {})
    spec.setdefault("tolerations", [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {}}


def _cond(ctype, status, at, reason=None, message=None):
    c = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": ts(at)}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _container_id(info, container, n):
    return "cri-o://" + sha("cid", info.name, container, n)


def render_pod_status(info, pod, t):
    """Set ``pod['status']`` (and ``spec.nodeName``) for lab time ``t``; return True if anything changed."""
    stage = info.stage(t)
    containers = [c["name"] for c in pod["spec"].get("containers", [])]
    images = {c["name"]: c.get("image", "") for c in pod["spec"].get("containers", [])}
    created = info.created
    status = {"qosClass": "Burstable"}
    if stage == "new":
        status["phase"] = "Pending"
    elif stage == "unschedulable":
        status["phase"] = "Pending"
        msg = info.profile.get("unschedulable_message") or (
            "0/6 nodes are available: 3 node(s) had untolerated taint {node-role.kubernetes.io/master: }, "
            "3 Insufficient cpu. preemption: 0/6 nodes are available: 3 No preemption victims found for "
            "incoming pod, 3 Preemption is not helpful for scheduling.")
        status["conditions"] = [_cond("PodScheduled", "False", created + 100000, "Unschedulable", msg)]
    else:
        sched_at = created + 150000 if not info.static else created + 100000
        start_at = info.t_start if not info.static else created + 3 * SECOND
        ready_at = info.t_ready if not info.static else created + 25 * SECOND
        status["hostIP"] = _node_ip(info.node)
        status["hostIPs"] = [{"ip": status["hostIP"]}]
        status["startTime"] = ts(sched_at)
        ip = pod_ip(info.name)
        cstats = []
        not_ready = []
        phase = "Running"
        for name in containers:
            image = images[name]
            cs = {"name": name, "image": image, "imageID": image_id(image), "ready": False, "restartCount": 0,
                  "started": False, "lastState": {}, "state": {}}
            service = name == containers[0]
            if stage == "creating":
                cs["imageID"] = ""
                cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
                phase = "Pending"
            elif service and stage in ("image_pull", "errimagepull"):
                cs["imageID"] = ""
                if stage == "image_pull":
                    cs["state"] = {"waiting": {"reason": "ImagePullBackOff",
                                               "message": 'Back-off pulling image "%s"' % image}}
                else:
                    cs["state"] = {"waiting": {"reason": "ErrImagePull", "message": (
                        'rpc error: code = Unknown desc = reading manifest %s in %s: manifest unknown'
                        % (image.rsplit(":", 1)[-1], image.rsplit(":", 1)[0]))}}
                phase = "Pending"
            elif service and stage == "crashloop":
                restarts = info.restart_count(t)
                run = getattr(info, "last_run", (t - 70 * SECOND, t - 40 * SECOND))
                cs["restartCount"] = restarts
                cs["containerID"] = _container_id(info, name, restarts)
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                    "back-off %s restarting failed container=%s pod=%s_%s(%s)" % (
                        "5m0s" if restarts >= 5 else "%ds" % (10 * 2 ** max(0, restarts - 1)), name, info.name,
                        info.namespace, pod["metadata"]["uid"]))}}
                cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(run[0]),
                                                  "finishedAt": ts(run[1]),
                                                  "containerID": _container_id(info, name, restarts)}}
            else:
                ready = (stage in ("running", "image_pull", "errimagepull") or
                         (stage == "not_ready" and not service) or (stage == "crashloop" and not service))
                started_at = start_at
                cs["started"] = True
                cs["ready"] = ready
                cs["containerID"] = _container_id(info, name, 0)
                if service and info.restart_count(t):
                    restarts = info.restart_count(t)
                    run = getattr(info, "last_run", (created, created))
                    cs["restartCount"] = restarts
                    cs["containerID"] = _container_id(info, name, restarts)
                    cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(run[0]),
                                                      "finishedAt": ts(run[1]),
                                                      "containerID": _container_id(info, name, restarts - 1)}}
                    started_at = info.windows.get(("service", False), (start_at,))[0]
                cs["state"] = {"running": {"startedAt": ts(started_at)}}
            if not cs["ready"]:
                not_ready.append(name)
            if not cs["lastState"]:
                cs["lastState"] = {}
            cstats.append(cs)
        status["phase"] = phase
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
        status["containerStatuses"] = cstats
        ready_all = not not_ready
        msg = "containers with unready status: [%s]" % " ".join(not_ready) if not_ready else None
        ready_time = ready_at if ready_all else max(ready_at, t - 30 * SECOND) if info.static else t
        status["conditions"] = [
            _cond("PodReadyToStartContainers", "True" if stage != "creating" else "False", start_at),
            _cond("Initialized", "True", sched_at),
            _cond("Ready", "True" if ready_all else "False", ready_time, None if ready_all else "ContainersNotReady",
                  msg),
            _cond("ContainersReady", "True" if ready_all else "False", ready_time,
                  None if ready_all else "ContainersNotReady", msg),
            _cond("PodScheduled", "True", sched_at),
        ]
    changed = pod.get("status") != status
    if changed:
        pod["status"] = status
    if info.scheduled(t) and pod["spec"].get("nodeName") != info.node:
        pod["spec"]["nodeName"] = info.node
        changed = True
    return changed


def _node_ip(name):
    parts = name.split("-")
    if name.startswith("ip-") and len(parts) >= 5:
        return "%s.%s.%s.%s" % (parts[1], parts[2], parts[3], parts[4].split(".")[0])
    return "10.0.0.1"


def pod_ready(pod):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


# --- events ----------------------------------------------------------------------------------------------
SOURCES = {
    "FailedScheduling": "default-scheduler", "Scheduled": "default-scheduler",
    "ScalingReplicaSet": "deployment-controller", "ProgressDeadlineExceeded": "deployment-controller",
    "SuccessfulCreate": "replicaset-controller", "SuccessfulDelete": "replicaset-controller",
    "FailedCreate": "replicaset-controller", "NodeNotReady": "node-controller",
    "RegisteredNode": "node-controller", "NodeHasDiskPressure": "kubelet",
}


def event(ns, involved, etype, reason, message, first_us, last_us, count=1, component=None, host=None,
          field_path=None, seq=0):
    name = "%s.%x" % (involved["name"], (first_us * 1000 + seq) & ((1 << 64) - 1))
    obj = {"kind": involved["kind"], "namespace": involved.get("namespace", ns), "name": involved["name"],
           "uid": involved.get("uid", ""), "apiVersion": involved.get("apiVersion", "v1")}
    if involved.get("resourceVersion"):
        obj["resourceVersion"] = involved["resourceVersion"]
    if field_path:
        obj["fieldPath"] = field_path
    if involved["kind"] == "Node":
        obj["namespace"] = ""
    component = component or SOURCES.get(reason) or ("kubelet" if involved["kind"] == "Pod" else
                                                     "deployment-controller" if involved["kind"] == "Deployment"
                                                     else "replicaset-controller" if involved["kind"] == "ReplicaSet"
                                                     else "kubelet")
    source = {"component": component}
    if host and component == "kubelet":
        source["host"] = host
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "uid": uid_for("event", ns, name),
                         "creationTimestamp": ts(first_us)},
            "involvedObject": obj, "reason": reason, "message": message, "source": source,
            "firstTimestamp": ts(first_us), "lastTimestamp": ts(last_us), "count": count, "type": etype,
            "eventTime": None, "reportingComponent": component, "reportingInstance": host or ""}


# --- secrets ---------------------------------------------------------------------------------------------
def secret(ns, name, data, created_us, stype="Opaque"):
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns, "uid": uid_for("secret", ns, name),
                         "creationTimestamp": ts(created_us)},
            "type": stype, "data": {k: b64(v) for k, v in data.items()}}
