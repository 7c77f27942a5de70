"""The lab cluster: scenario loading, and a controller thread that does what the deployment, replicaset,
scheduler, kubelet and garbage-collector controllers would, on a compressed clock.

* A template change (``kubectl rollout restart`` patches ``spec.template.metadata.annotations``) makes a
  new ReplicaSet; its pods go Pending -> ContainerCreating -> Running -> Ready in ~2 s, old pods are
  terminated as new ones get ready, and the Deployment status follows (``kubectl rollout status`` works).
* ``spec.replicas`` changes (``deployments/scale`` or a patch) add or remove pods of the current ReplicaSet.
* A deleted pod of a ReplicaSet is replaced.
* What new pods look like follows ``scenario.remediation``: with ``restart_clears`` the pods of a rollout are
  healthy and the first one leads every worker; without it they reproduce the scenario's pods (same state,
  leadership and log content). Scale-up pods are healthy; they take the leadership nobody holds only when
  ``scale_clears`` (e.g. starting from 0 replicas).
* When a rollout or scale is complete, ``on_rollout_complete(kind, info)`` is called (kind ``restart`` or
  ``scale``) from the controller thread, outside the store lock.
"""
import collections
import copy
import datetime
import json
import logging
import queue
import threading
import time

from fleet_lab import logformat
from fleet_lab import scenario as scenario_mod
from fleet_lab.kube import logs, objects
from fleet_lab.kube.objects import SECOND, ts
from fleet_lab.kube.store import Store

LOG = logging.getLogger("fleet_lab.kube")

EXTRA_NAMESPACES = ("default", "kube-system", "kube-public", "kas-sre")
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"


def fingerprint(template):
    return json.dumps(template, sort_keys=True, separators=(",", ":"))


class DepState(object):
    def __init__(self, uid):
        self.uid = uid
        self.hashes = {}  # template fingerprint -> pod-template-hash
        self.observed = None  # (fingerprint, replicas) last acted on
        self.revision = 1
        self.progress = "NewReplicaSetAvailable"
        self.progress_update = 0
        self.progress_transition = 0
        self.available = None
        self.available_transition = 0
        self.last_counts = None
        self.ops = []  # pending completions: dicts with kind, trigger, started
        self.source_profiles = []  # the scenario's pods, reproduced by a rollout that does not clear
        self.seq = 0
        self.created = 0


class RSState(object):
    def __init__(self, origin, managed):
        self.origin = origin  # scenario | rollout | scale
        self.managed = managed  # the controller keeps its pod count at spec.replicas
        self.created = 0
        self.rollout_size = 0
        self.replace = collections.deque()  # profiles of deleted pods, reused by their replacements


class Cluster(object):
    def __init__(self, on_rollout_complete=None):
        self.store = Store()
        self.on_rollout_complete = on_rollout_complete
        self.pods = {}  # (ns, name) -> PodInfo
        self.deps = {}  # deployment uid -> DepState
        self.rss = {}  # replicaset uid -> RSState
        self.scenario = None  # the first environment's
        self.scenarios = {}  # namespace -> the scenario of the environment it holds
        self.ca_pem = ""
        self.now_us = logs.to_us(datetime.datetime.now(datetime.timezone.utc))
        self.loaded = time.monotonic()
        self.progress_deadline = 10.0  # lab seconds before a stuck rollout reports ProgressDeadlineExceeded
        self.terminate_seconds = 0.6  # how long a deleted pod stays Terminating
        self.kick = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._callbacks = queue.Queue()
        self._callback_thread = None
        self._event_seq = 0
        self.errors = []

    # -- clock --------------------------------------------------------------------------------------
    def clock(self):
        """Lab time (us): the scenario's ``now`` plus the wall time elapsed since it was loaded."""
        return self.now_us + int((time.monotonic() - self.loaded) * SECOND)

    # -- scenario -----------------------------------------------------------------------------------
    def load(self, scenario, db, now):
        """Reset every object to ``scenario`` (its namespace, deployment, pods, events, secrets)."""
        self.load_environments([(scenario, db)], now)

    def load_environments(self, environments, now):
        """Reset every object to the ``(scenario, db)`` of each fleet environment: one namespace each (its
        deployment, pods, events and secrets; ``db`` fills its ``kas-fleet-manager-rds``), the nodes shared."""
        store = self.store
        with store.lock:
            store.reset()
            self.pods.clear()
            self.deps.clear()
            self.rss.clear()
            self.scenario = environments[0][0] if environments else None
            self.scenarios = {s["namespace"]: s for s, _db in environments}
            self.now_us = logs.to_us(now)
            self.loaded = time.monotonic()
            self._event_seq = 0
            now_us = self.now_us
            cluster_born = now_us - 90 * 24 * 3600 * SECOND
            for name in EXTRA_NAMESPACES + tuple(self.scenarios):
                if not store.get("namespaces", "", name):
                    born = cluster_born if name not in self.scenarios else now_us - 60 * 24 * 3600 * SECOND
                    store.put("namespaces", objects.namespace(name, born))
            node_names = [objects.node_name(i) for i in range(3)]
            not_ready_nodes = set()
            for scenario, _db in environments:
                for ev in scenario.get("events", []):
                    if ev["object"]["kind"] == "Node":
                        if ev["object"]["name"] not in node_names:
                            node_names.append(ev["object"]["name"])
                        if ev["reason"] in ("NodeNotReady",) or ev.get("type") == "Warning":
                            not_ready_nodes.add(ev["object"]["name"])
            for name in node_names:
                store.put("nodes", objects.node(name, cluster_born, name not in not_ready_nodes, now_us))
            for scenario, db in environments:
                self._load_environment(scenario, db or {}, node_names, now_us)
        self.kick.set()

    def _load_environment(self, scenario, db, node_names, now_us):
        store = self.store
        ns = scenario["namespace"]
        history = max(1.0, float(scenario.get("metrics", {}).get("history_hours") or 6)) * 3600 * SECOND
        self._load_secrets(ns, db, now_us - 30 * 24 * 3600 * SECOND)
        dep_conf = scenario["deployment"]
        dep = rs = None
        pod_created = now_us - int(history)
        if dep_conf["present"]:
            dep_created = now_us - 30 * 24 * 3600 * SECOND
            dep = objects.deployment(ns, dep_conf["name"], dep_conf["replicas"], dep_conf["image"],
                                     scenario.get("environment", "stage"), dep_created)
            state = DepState(dep["metadata"]["uid"])
            state.created = dep_created
            state.source_profiles = [dict(p) for p in scenario["pods"]]
            fp = fingerprint(dep["spec"]["template"])
            state.hashes[fp] = scenario["replicaset_hash"]
            state.observed = (fp, dep_conf["replicas"])
            self.deps[state.uid] = state
            rs = objects.replicaset(dep, scenario["replicaset_hash"], dep_conf["replicas"], 1,
                                    pod_created - 5 * SECOND)
            self.rss[rs["metadata"]["uid"]] = RSState("scenario", managed=False)
            self.rss[rs["metadata"]["uid"]].created = len(scenario["pods"])
        template = dep["spec"]["template"] if dep else objects.pod_template(dep_conf["image"],
                                                                           scenario.get("environment", "stage"))
        volume_kb = int(scenario.get("volume", {}).get("log_kb_per_pod") or 64)
        unsched = {}
        for ev in scenario.get("events", []):
            if ev["object"]["kind"] == "Pod" and ev["reason"] == "FailedScheduling":
                unsched[ev["object"]["name"]] = ev["message"]
        pod_objs = []
        for i, p in enumerate(scenario["pods"]):
            profile = dict(p)
            if p["name"] in unsched:
                profile["unschedulable_message"] = unsched[p["name"]]
            tmpl = copy.deepcopy(template)
            if rs is not None:
                tmpl = copy.deepcopy(rs["spec"]["template"])
            info = objects.PodInfo(p["name"], ns, profile, pod_created + i * 7 * SECOND, node_names[i % 3],
                                   static=True, image=dep_conf["image"],
                                   environment=scenario.get("environment", "stage"), volume_kb=volume_kb)
            objects.plan_static_windows(info, now_us, history)
            pod = objects.pod_object(info, rs, tmpl, scenario["name"])
            objects.render_pod_status(info, pod, now_us)
            self.pods[(ns, info.name)] = info
            pod_objs.append((info, pod))
        if dep is not None:
            self._set_initial_status(dep, rs, [p for _, p in pod_objs], scenario)
            store.put("deployments", dep)
            store.put("replicasets", rs)
        for info, pod in pod_objs:
            store.put("pods", pod)
        self._load_events(scenario, dep, rs, pod_objs, now_us)

    def _load_secrets(self, ns, db, created):
        store = self.store
        store.put("secrets", objects.secret(ns, objects.APP + "-rds", {
            "db.host": db.get("host", ""), "db.port": db.get("port", ""), "db.name": db.get("name", ""),
            "db.user": db.get("user", ""), "db.password": db.get("password", ""),
            "db.ca_cert": self.ca_pem or "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}, created))
        store.put("secrets", objects.secret(ns, objects.APP, {
            "sentry.key": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "ocm-service.clientId": "kas-fleet-manager-lab", "ocm-service.clientSecret": "lab-not-a-secret",
            "ocm-service.token": "lab-offline-token",
            "aws.accountid": "000000000000", "aws.accesskey": "AKIALABLABLABLABLAB0",
            "aws.secretaccesskey": "lab/not/a/real/secret/access/key/00000000",
            "aws.route53accesskey": "AKIALABLABLABLABLAB1", "aws.route53secretaccesskey": "lab/route53/not/a/secret",
            "keycloak-service.clientId": "kas-fleet-manager", "keycloak-service.clientSecret": "lab-not-a-secret",
            "osd-idp-keycloak-service.clientId": "kas-fleet-manager-idp",
            "osd-idp-keycloak-service.clientSecret": "lab-not-a-secret",
            "observability-config-access.token": "lab-not-a-token",
        }, created))
        store.put("secrets", objects.secret(ns, objects.APP + "-tls", {
            "tls.crt": self.ca_pem or "", "tls.key": "-----BEGIN PRIVATE KEY-----\nlab\n-----END PRIVATE KEY-----\n"},
            created, stype="kubernetes.io/tls"))

    def _set_initial_status(self, dep, rs, pods, scenario):
        state = self.deps[dep["metadata"]["uid"]]
        stuck = any(p.get("state") == "image_pull" for p in scenario["pods"]) or any(
            e["reason"] == "ProgressDeadlineExceeded" and e["object"]["kind"] == "Deployment"
            for e in scenario.get("events", []))
        state.progress = "ProgressDeadlineExceeded" if stuck else "NewReplicaSetAvailable"
        state.progress_update = state.progress_transition = self.now_us - (20 if stuck else 300) * 60 * SECOND
        self._rs_status(rs, pods)
        self._dep_status(dep, state, [rs], {rs["metadata"]["uid"]: pods}, rs, self.now_us, initial=True)

    def _load_events(self, scenario, dep, rs, pod_objs, now_us):
        ns = scenario["namespace"]
        pods_by_name = {info.name: pod for info, pod in pod_objs}
        if dep is not None:
            rs_name = rs["metadata"]["name"]
            born = logs.to_us(datetime.datetime.strptime(rs["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
                              .replace(tzinfo=datetime.timezone.utc))
            self.emit(ns, dep, "Normal", "ScalingReplicaSet", "Scaled up replica set %s to %d"
                      % (rs_name, dep["spec"]["replicas"]), at=born)
            for info, pod in pod_objs:
                self.emit(ns, rs, "Normal", "SuccessfulCreate", "Created pod: %s" % info.name, at=info.created)
        for info, pod in pod_objs:
            self._static_pod_events(ns, info, pod, now_us)
        for ev in scenario.get("events", []):
            o = ev["object"]
            if o["kind"] == "Pod":
                target = pods_by_name.get(o["name"]) or {"kind": "Pod",
                                                         "metadata": {"name": o["name"], "namespace": ns}}
            elif o["kind"] == "Deployment" and dep is not None and o["name"] == dep["metadata"]["name"]:
                target = dep
            elif o["kind"] == "ReplicaSet" and rs is not None and o["name"] == rs["metadata"]["name"]:
                target = rs
            elif o["kind"] == "Node":
                target = self.store.get("nodes", "", o["name"]) or {"kind": "Node", "metadata": {"name": o["name"]}}
            else:
                target = {"kind": o["kind"], "metadata": {"name": o["name"], "namespace": ns,
                                                          "uid": objects.uid_for(o["kind"], o["name"])}}
            last = now_us - int(float(ev.get("age_minutes") or 0) * 60 * SECOND)
            count = max(1, int(ev.get("count") or 1))
            first = last - (count - 1) * 30 * SECOND if count > 1 else last
            self.emit(ns, target, ev.get("type") or "Normal", ev["reason"], ev["message"], at=first, last=last,
                      count=count)

    def _static_pod_events(self, ns, info, pod, now_us):
        state = info.state
        t0 = info.created
        if state == "pending":
            if not info.profile.get("unschedulable_message"):
                pass
            return
        host = info.node
        self.emit(ns, pod, "Normal", "Scheduled", "Successfully assigned %s/%s to %s" % (ns, info.name, host),
                  at=t0 + 100000)
        self.emit(ns, pod, "Normal", "AddedInterface", "Add eth0 [%s/23] from ovn-kubernetes"
                  % objects.pod_ip(info.name), at=t0 + 1 * SECOND, component="multus")
        image = info.image
        if state == "image_pull":
            n = 6 + info.created % 7
            self._container_started(ns, pod, "envoy-sidecar", objects.ENVOY_IMAGE, t0 + 2 * SECOND)
            self.emit(ns, pod, "Normal", "Pulling", 'Pulling image "%s"' % image, at=t0 + 2 * SECOND,
                      last=now_us - 70 * SECOND, count=n, fpath="service")
            self.emit(ns, pod, "Warning", "Failed", 'Failed to pull image "%s": rpc error: code = Unknown desc = '
                      'reading manifest %s in %s: manifest unknown' % (image, image.rsplit(":", 1)[-1],
                                                                       image.rsplit(":", 1)[0]),
                      at=t0 + 3 * SECOND, last=now_us - 69 * SECOND, count=n, fpath="service")
            self.emit(ns, pod, "Warning", "Failed", "Error: ErrImagePull", at=t0 + 3 * SECOND,
                      last=now_us - 69 * SECOND, count=n, fpath="service")
            self.emit(ns, pod, "Normal", "BackOff", 'Back-off pulling image "%s"' % image, at=t0 + 4 * SECOND,
                      last=now_us - 15 * SECOND, count=n * 9, fpath="service")
            self.emit(ns, pod, "Warning", "Failed", "Error: ImagePullBackOff", at=t0 + 4 * SECOND,
                      last=now_us - 15 * SECOND, count=n * 9, fpath="service")
            return
        restarts = info.restarts
        self._container_started(ns, pod, "service", image, t0 + 2 * SECOND, count=restarts + 1,
                                last=(info.windows.get(("service", False)) or (t0,))[0])
        self._container_started(ns, pod, "envoy-sidecar", objects.ENVOY_IMAGE, t0 + 2 * SECOND)
        if state == "crashloop":
            self.emit(ns, pod, "Warning", "BackOff", "Back-off restarting failed container service in pod %s_%s(%s)"
                      % (info.name, ns, pod["metadata"]["uid"]), at=t0 + 60 * SECOND, last=now_us - 20 * SECOND,
                      count=max(1, restarts * 4), fpath="service")
        elif state == "not_ready":
            self.emit(ns, pod, "Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                      at=now_us - 25 * 60 * SECOND, last=now_us - 8 * SECOND, count=150, fpath="service")

    def _container_started(self, ns, pod, container, image, at, count=1, last=None):
        last = last or at
        self.emit(ns, pod, "Normal", "Pulled", 'Container image "%s" already present on machine' % image,
                  at=at, last=last, count=count, fpath=container)
        self.emit(ns, pod, "Normal", "Created", "Created container %s" % container, at=at + 50000,
                  last=last + 50000, count=count, fpath=container)
        self.emit(ns, pod, "Normal", "Started", "Started container %s" % container, at=at + 120000,
                  last=last + 120000, count=count, fpath=container)

    def emit(self, ns, target, etype, reason, message, at=None, last=None, count=1, fpath=None, component=None):
        """Record an Event about ``target`` (an object dict) at lab time ``at``."""
        at = self.clock() if at is None else at
        meta = target.get("metadata", {})
        kind = target.get("kind", "Pod")
        involved = {"kind": kind, "name": meta.get("name", ""), "namespace": meta.get("namespace", ns),
                    "uid": meta.get("uid", ""), "apiVersion": target.get("apiVersion", "v1")}
        host = None
        if kind == "Pod":
            host = (target.get("spec") or {}).get("nodeName")
        self._event_seq += 1
        ev = objects.event(ns, involved, etype, reason, message, at, last or at, count=count, host=host,
                           component=component, field_path="spec.containers{%s}" % fpath if fpath else None,
                           seq=self._event_seq)
        self.store.put("events", ev)
        return ev

    # -- hooks called by the API (under the store lock) ---------------------------------------------
    def pod_deleted(self, ns, name, grace_seconds=None, by_controller=False):
        """Mark a pod Terminating (or remove it now with grace 0). Returns the object as the API shows it.

        A pod deleted through the API (not by the controller scaling down) is replaced by its ReplicaSet."""
        store = self.store
        pod = store.get("pods", ns, name)
        if pod is None:
            return None
        now = self.clock()
        info = self.pods.get((ns, name))
        meta = pod["metadata"]
        rs_uid = _controller_uid(pod)
        if rs_uid in self.rss and not meta.get("deletionTimestamp") and not by_controller:
            rstate = self.rss[rs_uid]
            rstate.managed = True
            if info is not None:
                rstate.replace.append(info.profile)
        if grace_seconds == 0:
            store.remove("pods", ns, name)
            self.pods.pop((ns, name), None)
            self.kick.set()
            return pod
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = ts(now + 30 * SECOND)
            meta["deletionGracePeriodSeconds"] = 30 if grace_seconds is None else int(grace_seconds)
            if info is not None:
                info.deleting = now
            else:
                self.pods[(ns, name)] = _bare_info(ns, name, now, deleting=True)
            for c in pod["spec"].get("containers", []):
                self.emit(ns, pod, "Normal", "Killing", "Stopping container %s" % c["name"], fpath=c["name"])
            store.put("pods", pod)
        self.kick.set()
        return pod

    def pod_created(self, pod):
        """A pod created through the API (not by the controller): give it a healthy lifecycle."""
        meta = pod["metadata"]
        ns = meta["namespace"]
        info = _bare_info(ns, meta["name"], self.clock())
        self.pods[(ns, meta["name"])] = info
        objects.render_pod_status(info, pod, self.clock())
        self.kick.set()

    def deployment_created(self, dep):
        state = DepState(dep["metadata"]["uid"])
        state.created = self.clock()
        state.observed = None
        state.progress = "ReplicaSetUpdated"
        state.progress_update = state.progress_transition = self.clock()
        self.deps[state.uid] = state
        self.kick.set()

    def replicaset_changed(self, rs):
        uid = rs["metadata"]["uid"]
        if uid not in self.rss:
            self.rss[uid] = RSState("manual", managed=True)
        else:
            self.rss[uid].managed = True
        self.kick.set()

    # -- controller loop -----------------------------------------------------------------------------
    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kube-controller", daemon=True)
        self._thread.start()
        self._callback_thread = threading.Thread(target=self._run_callbacks, name="kube-callbacks", daemon=True)
        self._callback_thread.start()

    def stop(self):
        self._stop.set()
        self.kick.set()
        self._callbacks.put(None)
        if self._thread:
            self._thread.join(5)
        if self._callback_thread:
            self._callback_thread.join(5)
        with self.store.lock:
            self.store.stopped = True
            self.store.cond.notify_all()

    def _run(self):
        while not self._stop.is_set():
            self.kick.wait(0.1)
            self.kick.clear()
            if self._stop.is_set():
                break
            try:
                done = self.tick()
            except Exception as exc:  # keep the controller alive; tests read self.errors
                LOG.exception("controller tick failed")
                self.errors.append(repr(exc))
                done = []
            for item in done:
                self._callbacks.put(item)

    def _run_callbacks(self):
        """``on_rollout_complete`` runs here, in order, so a slow callback never holds up the controller."""
        while True:
            item = self._callbacks.get()
            if item is None:
                return
            kind, info = item
            LOG.info("%s complete: %s", kind, {k: info[k] for k in ("deployment", "replicas", "triggers")})
            if self.on_rollout_complete:
                try:
                    self.on_rollout_complete(kind, info)
                except Exception:
                    LOG.exception("on_rollout_complete(%s) failed", kind)

    def tick(self):
        """One reconcile pass; returns the completions to report."""
        completions = []
        store = self.store
        with store.lock:
            now = self.clock()
            self._gc(now)
            for dep in list(store.items("deployments")):
                completions.extend(self._sync_deployment(dep, now))
            for rs in list(store.items("replicasets")):
                if not _controller_uid(rs) or _controller_uid(rs) not in self.deps:
                    self._sync_rs_pods(rs, None, now)
                    self._rs_status(rs, self._rs_pods(rs), put=True)
            self._advance_pods(now)
        return completions

    def _gc(self, now):
        store = self.store
        dep_uids = {d["metadata"]["uid"] for d in store.items("deployments")}
        for rs in list(store.items("replicasets")):
            owner = _owner_uid(rs, "Deployment")
            if owner and owner not in dep_uids:
                store.remove("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])
                self.rss.pop(rs["metadata"]["uid"], None)
        rs_uids = {r["metadata"]["uid"] for r in store.items("replicasets")}
        for pod in list(store.items("pods")):
            owner = _owner_uid(pod, "ReplicaSet")
            meta = pod["metadata"]
            if owner and owner not in rs_uids and not meta.get("deletionTimestamp"):
                self.pod_deleted(meta["namespace"], meta["name"], by_controller=True)
        for uid in [u for u in self.deps if u not in dep_uids]:
            self.deps.pop(uid)
        for (ns, name), info in list(self.pods.items()):
            if info.deleting is not None and now >= info.deleting + int(self.terminate_seconds * SECOND):
                store.remove("pods", ns, name)
                self.pods.pop((ns, name), None)

    def _rs_pods(self, rs, include_terminating=False):
        uid = rs["metadata"]["uid"]
        out = []
        for pod in self.store.items("pods", rs["metadata"]["namespace"]):
            if _controller_uid(pod) == uid and (include_terminating or not pod["metadata"].get("deletionTimestamp")):
                out.append(pod)
        return out

    def _hash_for(self, state, dep):
        fp = fingerprint(dep["spec"]["template"])
        if fp not in state.hashes:
            seed = objects.sha(dep["metadata"]["uid"], fp)
            state.hashes[fp] = scenario_mod._kube_suffix(seed[:16], 10)
        return fp, state.hashes[fp]

    def _sync_deployment(self, dep, now):
        store = self.store
        state = self.deps.get(dep["metadata"]["uid"])
        if state is None:
            state = DepState(dep["metadata"]["uid"])
            self.deps[state.uid] = state
        ns = dep["metadata"]["namespace"]
        desired = int(dep["spec"].get("replicas", 1) or 0)
        fp, rs_hash = self._hash_for(state, dep)
        owned = [rs for rs in store.items("replicasets", ns) if _controller_uid(rs) == state.uid]
        new_rs = next((rs for rs in owned if rs["metadata"].get("labels", {}).get("pod-template-hash") == rs_hash),
                      None)
        template_changed = state.observed is None or state.observed[0] != fp
        replicas_changed = state.observed is not None and state.observed[1] != desired
        is_rollout = template_changed and state.observed is not None
        if template_changed or replicas_changed:
            trigger = "rollout" if template_changed and state.observed is not None else \
                "create" if state.observed is None else "scale"
            kind = "restart" if trigger == "rollout" else "scale"
            state.ops.append({"kind": kind, "trigger": trigger, "started": now,
                              "generation": dep["metadata"].get("generation", 1),
                              "restartedAt": (dep["spec"]["template"].get("metadata", {}).get("annotations") or {})
                              .get(RESTART_ANNOTATION)})
            state.observed = (fp, desired)
            if state.progress != "ReplicaSetUpdated":
                state.progress = "ReplicaSetUpdated"
                state.progress_transition = now
            state.progress_update = now
            state.last_counts = None
        if new_rs is None:
            if owned:
                state.revision += 1
            rs = objects.replicaset(dep, rs_hash, 0, state.revision, now)
            rs["metadata"]["creationTimestamp"] = ts(now)
            store.put("replicasets", rs)
            rstate = RSState("rollout" if owned else "scale", managed=True)
            rstate.rollout_size = desired
            self.rss[rs["metadata"]["uid"]] = rstate
            new_rs = rs
            dep["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(state.revision)
            store.put("deployments", dep)
        elif is_rollout:
            # back to an earlier template (rollout undo): that ReplicaSet becomes the new one again
            state.revision = max([state.revision] + [int((rs["metadata"].get("annotations") or {}).get(
                "deployment.kubernetes.io/revision", "0")) for rs in owned]) + 1
            new_rs["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(state.revision)
            store.put("replicasets", new_rs)
            rstate = self.rss.setdefault(new_rs["metadata"]["uid"], RSState("rollout", True))
            rstate.origin, rstate.managed, rstate.rollout_size, rstate.created = "rollout", True, desired, 0
            dep["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(state.revision)
            store.put("deployments", dep)
        else:
            rev = new_rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision")
            if rev and dep["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision") != rev:
                dep["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = rev
                store.put("deployments", dep)
        # scale the new replica set to the desired count; old ones down as new pods get ready
        self._scale_rs(dep, new_rs, desired, now)
        new_ready = sum(1 for p in self._rs_pods(new_rs) if objects.pod_ready(p))
        old = sorted([rs for rs in owned if rs is not new_rs], key=lambda r: r["metadata"]["creationTimestamp"],
                     reverse=True)
        allowed = max(0, desired - new_ready)
        for rs in old:
            target = min(int(rs["spec"].get("replicas") or 0), allowed)
            allowed -= target
            self._scale_rs(dep, rs, target, now)
        pods_by_rs = {}
        for rs in [new_rs] + old:
            self._sync_rs_pods(rs, state, now)
            pods = self._rs_pods(rs)
            pods_by_rs[rs["metadata"]["uid"]] = pods
            self._rs_status(rs, pods, put=True)
        self._dep_status(dep, state, [new_rs] + old, pods_by_rs, new_rs, now)
        return self._completions(dep, state, new_rs, old, now)

    def _scale_rs(self, dep, rs, target, now):
        current = int(rs["spec"].get("replicas") or 0)
        if current == target:
            return
        rs["spec"]["replicas"] = target
        rs["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
        ann = rs["metadata"].setdefault("annotations", {})
        ann["deployment.kubernetes.io/desired-replicas"] = str(dep["spec"].get("replicas", 0))
        rstate = self.rss.setdefault(rs["metadata"]["uid"], RSState("manual", True))
        rstate.managed = True
        self.store.put("replicasets", rs)
        if target > current:
            msg = "Scaled up replica set %s to %d" % (rs["metadata"]["name"], target)
        else:
            msg = "Scaled down replica set %s to %d from %d" % (rs["metadata"]["name"], target, current)
        self.emit(dep["metadata"]["namespace"], dep, "Normal", "ScalingReplicaSet", msg, at=now)

    def _sync_rs_pods(self, rs, state, now):
        rstate = self.rss.get(rs["metadata"]["uid"])
        if rstate is None:
            rstate = self.rss[rs["metadata"]["uid"]] = RSState("manual", True)
        if not rstate.managed:
            return
        ns = rs["metadata"]["namespace"]
        pods = self._rs_pods(rs)
        want = int(rs["spec"].get("replicas") or 0)
        if len(pods) < want:
            for k in range(want - len(pods)):
                self._create_pod(rs, rstate, state, now, k)
        elif len(pods) > want:
            # as the ReplicaSet controller ranks them: unscheduled, pending, not ready, then newest first
            def rank(p):
                st = p.get("status") or {}
                return (bool(p["spec"].get("nodeName")), st.get("phase") == "Running", objects.pod_ready(p),
                        [-x for x in _ts_key(p["metadata"]["creationTimestamp"])], p["metadata"]["name"])
            for pod in sorted(pods, key=rank)[:len(pods) - want]:
                self.pod_deleted(ns, pod["metadata"]["name"], by_controller=True)
                self.emit(ns, rs, "Normal", "SuccessfulDelete", "Deleted pod: %s" % pod["metadata"]["name"], at=now)

    def _live_leaders(self, ns, dep_uid):
        led = set()
        for (pns, name), info in self.pods.items():
            if pns != ns or info.deleting is not None or info.state not in ("running", "not_ready"):
                continue
            pod = self.store.get("pods", ns, name)
            if pod is None:
                continue
            rs = self.store.get("replicasets", ns, (pod["metadata"].get("ownerReferences") or [{}])[0].get("name", ""))
            if rs is None or _controller_uid(rs) != dep_uid:
                continue
            led.update(w for w in info.leads if w not in (info.profile.get("lost") or []))
        return led

    def scenario_of(self, ns):
        """The scenario of the environment whose namespace is ``ns`` (the first environment's for another)."""
        return self.scenarios.get(ns) or self.scenario or {}

    def _all_workers(self, ns=None):
        names = list(scenario_mod.ALL_WORKERS_DEFAULT)
        for p in self.scenario_of(ns).get("pods", []):
            for w in p.get("leads") or []:
                if w not in names:
                    names.append(w)
        return names

    def _create_pod(self, rs, rstate, state, now, k):
        ns = rs["metadata"]["namespace"]
        scen = self.scenario_of(ns)
        remediation = scen.get("remediation") or {}
        rs_hash = rs["metadata"]["labels"].get("pod-template-hash", "")
        dep_uid = _controller_uid(rs)
        healthy = {"state": "running", "restarts": 0, "leads": [], "lost": [], "worker_prefix": "current",
                   "errors": {}, "log_lines": [], "previous_log_lines": []}
        index = rstate.created
        rstate.created += 1
        if rstate.replace:
            trigger = "replace"
            replaced = rstate.replace.popleft()
            if remediation.get("restart_clears", True):
                profile = dict(healthy, worker_prefix=replaced.get("worker_prefix", "current"))
                led = self._live_leaders(ns, dep_uid)
                profile["leads"] = [w for w in self._all_workers(ns) if w not in led]
            else:
                profile = dict(replaced)
                profile["restarts"] = 0
            if state is not None:
                state.ops.append({"kind": "restart", "trigger": "pod_delete", "started": now,
                                  "generation": None, "restartedAt": None})
        elif rstate.origin == "rollout" and index < rstate.rollout_size:
            trigger = "rollout"
            sources = state.source_profiles if state is not None else []
            if remediation.get("restart_clears", True):
                profile = dict(healthy)
                if index == 0:
                    profile["leads"] = self._all_workers(ns)
                    # the build's type names: those the scenario's leader logged
                    profile["worker_prefix"] = next((p.get("worker_prefix", "current") for p in sources
                                                     if p.get("leads")), "current")
            elif index < len(sources):
                profile = {k2: copy.deepcopy(v) for k2, v in sources[index].items() if k2 != "name"}
                profile["restarts"] = 0
            else:
                profile = dict(healthy)
        else:
            trigger = "scale"
            profile = dict(healthy)
            if remediation.get("scale_clears", True):
                led = self._live_leaders(ns, dep_uid)
                profile["leads"] = [w for w in self._all_workers(ns) if w not in led] if not led else []
        seq = (state.seq if state is not None else index)
        while True:
            seq += 1
            name = "%s-%s" % (rs["metadata"]["name"], scenario_mod._kube_suffix("%s/%d" % (rs_hash, seq), 5))
            if not self.store.get("pods", ns, name) and (ns, name) not in self.pods:
                break
        if state is not None:
            state.seq = seq
        template = rs["spec"]["template"]
        image = next((c.get("image", "") for c in template.get("spec", {}).get("containers", [])), "")
        node = objects.node_name((index + int(objects.sha(name)[:4], 16)) % 3)
        info = objects.PodInfo(name, ns, profile, now, node, static=False, image=image,
                               environment=scen.get("environment", "stage"),
                               volume_kb=int((scen.get("volume") or {}).get("log_kb_per_pod") or 64))
        offset = int(k * 0.3 * SECOND)
        info.t_sched += offset
        info.t_start += offset
        info.t_ready += offset
        info.t_crash += offset
        info.trigger = trigger
        objects.plan_new_windows(info)
        pod = objects.pod_object(info, rs, template, "%s/%d" % (dep_uid, seq))
        objects.render_pod_status(info, pod, now)
        info.emitted = set()
        self.pods[(ns, name)] = info
        self.store.put("pods", pod)
        self.emit(ns, rs, "Normal", "SuccessfulCreate", "Created pod: %s" % name, at=now)

    def _advance_pods(self, now):
        store = self.store
        for (ns, name), info in list(self.pods.items()):
            if info.static:
                continue
            pod = store.get("pods", ns, name)
            if pod is None:
                continue
            if info.deleting is None and not getattr(info, "settled", False):
                if objects.render_pod_status(info, pod, now):
                    store.put("pods", pod)
                self._pod_events(ns, info, pod, now)
                if info.final(now) and info.stage(now) not in ("image_pull",):
                    info.settled = info.stage(now) != "errimagepull"

    def _pod_events(self, ns, info, pod, now):
        emitted = getattr(info, "emitted", None)
        if emitted is None:
            emitted = info.emitted = set()
        stage = info.stage(now)
        if stage == "new" or stage == "unschedulable":
            if stage == "unschedulable" and "unsched" not in emitted:
                emitted.add("unsched")
                self.emit(ns, pod, "Warning", "FailedScheduling", pod["status"]["conditions"][0]["message"], at=now)
            return
        if "sched" not in emitted:
            emitted.add("sched")
            self.emit(ns, pod, "Normal", "Scheduled", "Successfully assigned %s/%s to %s" % (ns, info.name, info.node),
                      at=info.t_sched)
        if stage in ("errimagepull", "image_pull"):
            if "pull" not in emitted:
                emitted.add("pull")
                self._container_started(ns, pod, "envoy-sidecar", objects.ENVOY_IMAGE, now)
                self.emit(ns, pod, "Normal", "Pulling", 'Pulling image "%s"' % info.image, at=now, fpath="service")
                self.emit(ns, pod, "Warning", "Failed", 'Failed to pull image "%s": rpc error: code = Unknown desc = '
                          'reading manifest %s in %s: manifest unknown' % (
                              info.image, info.image.rsplit(":", 1)[-1], info.image.rsplit(":", 1)[0]),
                          at=now, fpath="service")
                self.emit(ns, pod, "Warning", "Failed", "Error: ErrImagePull", at=now, fpath="service")
            if stage == "image_pull" and "backoff" not in emitted:
                emitted.add("backoff")
                self.emit(ns, pod, "Normal", "BackOff", 'Back-off pulling image "%s"' % info.image, at=now,
                          fpath="service")
                self.emit(ns, pod, "Warning", "Failed", "Error: ImagePullBackOff", at=now, fpath="service")
            return
        if stage == "creating":
            return
        if "started" not in emitted:
            emitted.add("started")
            for c in pod["spec"].get("containers", []):
                self._container_started(ns, pod, c["name"], c.get("image", ""), info.t_start)
        if stage == "crashloop" and "crash" not in emitted:
            emitted.add("crash")
            self.emit(ns, pod, "Warning", "BackOff", "Back-off restarting failed container service in pod %s_%s(%s)"
                      % (info.name, ns, pod["metadata"]["uid"]), at=now, fpath="service")
        if stage == "not_ready" and "unhealthy" not in emitted:
            emitted.add("unhealthy")
            self.emit(ns, pod, "Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                      at=now, fpath="service")

    # -- status ----------------------------------------------------------------------------------------
    def _rs_status(self, rs, pods, put=False):
        ready = sum(1 for p in pods if objects.pod_ready(p))
        status = {"replicas": len(pods)}
        labels = rs["spec"].get("template", {}).get("metadata", {}).get("labels") or {}
        full = sum(1 for p in pods if all(p["metadata"].get("labels", {}).get(k) == v for k, v in labels.items()))
        if full:
            status["fullyLabeledReplicas"] = full
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        status["observedGeneration"] = rs["metadata"].get("generation", 1)
        if rs.get("status") != status:
            rs["status"] = status
            if put:
                self.store.put("replicasets", rs)

    def _dep_status(self, dep, state, all_rs, pods_by_rs, new_rs, now, initial=False):
        desired = int(dep["spec"].get("replicas", 1) or 0)
        total_spec = sum(int(rs["spec"].get("replicas") or 0) for rs in all_rs)
        replicas = sum(len(pods_by_rs.get(rs["metadata"]["uid"], [])) for rs in all_rs)
        new_pods = pods_by_rs.get(new_rs["metadata"]["uid"], []) if new_rs is not None else []
        updated = len(new_pods)
        ready = sum(1 for rs in all_rs for p in pods_by_rs.get(rs["metadata"]["uid"], []) if objects.pod_ready(p))
        available = ready
        unavailable = max(0, total_spec - available)
        max_unavailable = int(desired * 0.25)
        avail_ok = available >= desired - max_unavailable
        if state.available is None or state.available != avail_ok:
            state.available = avail_ok
            state.available_transition = now if not initial else now - 300 * 60 * SECOND
        terminating = any(p["metadata"].get("deletionTimestamp") for rs in all_rs
                          for p in self._rs_pods(rs, include_terminating=True))
        complete = (updated == desired and replicas == desired and available == desired and not terminating)
        counts = (updated, ready, available, replicas)
        if not initial:
            if complete:
                if state.progress != "NewReplicaSetAvailable":
                    state.progress = "NewReplicaSetAvailable"
                    state.progress_transition = now
                    state.progress_update = now
            elif state.progress == "ReplicaSetUpdated":
                if state.last_counts is not None and counts != state.last_counts and (
                        updated > state.last_counts[0] or ready > state.last_counts[1] or
                        available > state.last_counts[2] or replicas < state.last_counts[3]):
                    state.progress_update = now
                elif now - state.progress_update > int(self.progress_deadline * SECOND):
                    state.progress = "ProgressDeadlineExceeded"
                    state.progress_transition = now
                    state.progress_update = now
                    self.emit(dep["metadata"]["namespace"], dep, "Warning", "ProgressDeadlineExceeded",
                              'Deployment "%s" has timed out progressing: ReplicaSet "%s" has timed out progressing.'
                              % (dep["metadata"]["name"], new_rs["metadata"]["name"]), at=now)
            state.last_counts = counts
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else dep["metadata"]["name"]
        progress_msg = {
            "NewReplicaSetAvailable": 'ReplicaSet "%s" has successfully progressed.' % rs_name,
            "ReplicaSetUpdated": 'ReplicaSet "%s" is progressing.' % rs_name,
            "ProgressDeadlineExceeded": 'ReplicaSet "%s" has timed out progressing.' % rs_name,
        }[state.progress]
        conditions = [
            {"type": "Available", "status": "True" if avail_ok else "False",
             "lastUpdateTime": ts(state.available_transition), "lastTransitionTime": ts(state.available_transition),
             "reason": "MinimumReplicasAvailable" if avail_ok else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if avail_ok else
             "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "False" if state.progress == "ProgressDeadlineExceeded" else "True",
             "lastUpdateTime": ts(state.progress_update), "lastTransitionTime": ts(state.progress_transition),
             "reason": state.progress, "message": progress_msg},
        ]
        status = {"observedGeneration": dep["metadata"].get("generation", 1)}
        for key, value in (("replicas", replicas), ("updatedReplicas", updated), ("readyReplicas", ready),
                           ("availableReplicas", available), ("unavailableReplicas", unavailable)):
            if value:
                status[key] = value
        status["conditions"] = conditions
        if dep.get("status") != status:
            dep["status"] = status
            if not initial:
                self.store.put("deployments", dep)
        state.complete = complete

    def _op_done(self, op, dep, state, new_rs, old):
        """A rollout is done when the Deployment is complete (what ``kubectl rollout status`` waits for). A
        scale (or the replacement of a deleted pod) is done when the pods it added are ready and the ones it
        removed are gone, even if pods it did not touch stay broken (crash-looping ones, say)."""
        if op["trigger"] == "rollout":
            return getattr(state, "complete", False)
        desired = int(dep["spec"].get("replicas") or 0)
        live = self._rs_pods(new_rs)
        if len(live) != desired or any(self._rs_pods(rs) for rs in old):
            return False
        if any(p["metadata"].get("deletionTimestamp") for rs in [new_rs] + old
               for p in self._rs_pods(rs, include_terminating=True)):
            return False
        ns = dep["metadata"]["namespace"]
        for pod in live:
            info = self.pods.get((ns, pod["metadata"]["name"]))
            if info is not None and info.created >= op["started"] and not objects.pod_ready(pod):
                return False
        return True

    def _completions(self, dep, state, new_rs, old, now):
        if not state.ops:
            return []
        done = [op for op in state.ops if self._op_done(op, dep, state, new_rs, old)]
        if not done:
            return []
        state.ops = [op for op in state.ops if all(op is not d for d in done)]
        ns = dep["metadata"]["namespace"]
        pods = sorted(self._rs_pods(new_rs), key=lambda p: p["metadata"]["name"])
        leaders = {}
        for pod in pods:
            info = self.pods.get((ns, pod["metadata"]["name"]))
            if info is None:
                continue
            for w in info.leads:
                if w not in (info.profile.get("lost") or []):
                    leaders.setdefault(w, pod["metadata"]["name"])
        worker_ids = {}
        for w, pod_name in leaders.items():
            if w in logformat.WORKERS:
                worker_ids[logformat.WORKERS[w][2]] = logformat.worker_uuid(pod_name, w)
        remediation = self.scenario_of(ns).get("remediation") or {}
        out = []
        kinds = []
        for op in done:
            if op["kind"] not in kinds:
                kinds.append(op["kind"])
        for kind in kinds:
            ops = [o for o in done if o["kind"] == kind]
            info = {
                "namespace": ns, "deployment": dep["metadata"]["name"],
                "replicas": int(dep["spec"].get("replicas") or 0), "generation": dep["metadata"].get("generation"),
                "replicaset": new_rs["metadata"]["name"], "pods": [p["metadata"]["name"] for p in pods],
                "triggers": sorted({o["trigger"] for o in ops}),
                "restartedAt": next((o["restartedAt"] for o in reversed(ops) if o.get("restartedAt")), None),
                "cleared": bool(remediation.get("restart_clears" if kind == "restart" else "scale_clears", True)),
                "leaders": leaders, "worker_ids": worker_ids,
                "seconds": round((now - min(o["started"] for o in ops)) / SECOND, 3),
            }
            out.append((kind, info))
        return out


def _bare_info(ns, name, now, deleting=False):
    info = objects.PodInfo(name, ns, {"state": "running"}, now, objects.node_name(0), static=False, image="",
                           environment="stage", volume_kb=1)
    info.windows = {}
    if deleting:
        info.deleting = now
    return info


def _controller_uid(obj):
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def _owner_uid(obj, kind):
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return ref.get("uid")
    return None


def _ts_key(value):
    try:
        dt = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        return [dt.toordinal(), dt.hour * 3600 + dt.minute * 60 + dt.second]
    except (TypeError, ValueError):
        return [0, 0]
