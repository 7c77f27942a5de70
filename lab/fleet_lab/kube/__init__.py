"""An in-process Kubernetes API stand-in that kubectl and the official ``kubernetes`` Python client accept
as a cluster, serving the fleet manager's namespace as a scenario describes it.

    kube = KubeLab(state_dir, host="127.0.0.1", port=0, on_rollout_complete=None, faults=None)
    kube.start()                             # HTTPS server + controller thread; returns at once
    kube.load_scenario(scenario, db, now)    # reset every object to the scenario
    kube.load_environments([(scenario, db), ...], now)   # N fleet environments, a namespace each
    kube.url, kube.tokens                    # https://127.0.0.1:PORT, {"admin": ..., "runbook": ...}
    kube.write_kubeconfig(path)              # contexts "lab" (runbook token, current) and "lab-admin"
    kube.stop()
    kube.faults.add(component="kube", kind="status", code=503, path="/api/v1/namespaces/NS/pods", count=2)

Tokens: ``admin`` may do everything; ``runbook`` everything but the scenario's ``access.denied``; a token that
``kubectl create token SA`` issues for a ServiceAccount may do what the Roles bound to it allow (``rbac``):

    sed 's/KAS_FLEET_NAMESPACE/NS/g' roles/kas_fleet/files/rbac/recommend/*.yml |
        kubectl --context lab-admin apply --validate=false -f -
    kubectl --context lab-admin -n NS create token kas-fleet-runbook

Modules: ``server`` (HTTP, auth, discovery, CRUD, watch, logs, scale, SSAR), ``rbac`` (ServiceAccount tokens
and Role/RoleBinding decisions), ``store`` (objects and resourceVersions), ``controller`` (scenario loading;
rollouts, scaling, pod lifecycle), ``objects`` (object builders), ``logs`` (lazy deterministic pod logs),
``tables`` (kubectl's server-side printing), ``selectors``, ``patch``, ``tls`` and ``testing`` (helpers for
lab/tests/test_kube_*.py).

Where the lab knowingly differs from a real cluster:

* Time: the lab clock is the scenario's ``now`` plus the wall time since ``load_scenario``; object
  timestamps, ``sinceSeconds`` and ages use it. Generated pod events are as old as the pods (a real
  cluster drops events after an hour).
* Rollouts create all new pods at once (Ready ~1.3-2 s later) and terminate old pods as new ones get
  ready; a rollout that cannot progress reports ProgressDeadlineExceeded after ``cluster.progress_deadline``
  lab seconds (10), not the 600 s in the spec. Scale-down removes pods in the ReplicaSet controller's order
  (unscheduled, pending, not ready, then newest). A pod deleted through the API is replaced.
* LIST in a namespace that does not exist answers an empty list (as a real server does); GET of a
  namespaced object there answers 404 for the object, POST answers 404 ``namespaces "x" not found``.
* ``pods/log`` with ``follow=true`` returns what the log holds and ends.
* No ``/openapi``: ``kubectl create/apply`` need ``--validate=false``. No SelfSubjectRulesReview
  (``kubectl auth can-i --list``), no metrics API, no coordination leases.
* Scenario events about Nodes live in the scenario namespace (a real cluster keeps them in ``default``).
* RBAC covers ServiceAccount tokens only, with Roles and RoleBindings (no ClusterRoles); loading a scenario
  removes the ServiceAccounts, Roles and RoleBindings with every other object, and their tokens stop working
  (see ``rbac`` for the rest).
"""
import os
import threading

import yaml

from fleet_lab.faults import Faults
from fleet_lab.kube import rbac, tls
from fleet_lab.kube.controller import Cluster
from fleet_lab.kube.server import Auth, KubeHTTPServer

__all__ = ["KubeLab"]


class KubeLab(object):
    def __init__(self, state_dir, host="127.0.0.1", port=0, on_rollout_complete=None, faults=None):
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the lab API binds to 127.0.0.1 only, not %r" % host)
        self.state_dir = os.path.abspath(state_dir)
        self.host = "127.0.0.1"
        self.port = port
        self.cluster = Cluster(on_rollout_complete=on_rollout_complete)
        self.auth = Auth(rbac.RBAC(self.cluster))
        self.namespace = "default"
        self.server = None
        self._thread = None
        self.certs = None
        self.faults = faults if faults is not None else Faults()

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self):
        self.certs = tls.make_certs(os.path.join(self.state_dir, "kube-tls"), self.host)
        self.cluster.ca_pem = self.certs["ca_pem"].decode()
        self.server = KubeHTTPServer((self.host, self.port), self.cluster, self.auth,
                                     tls.server_context(self.certs), faults=self.faults)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="kube-api", daemon=True)
        self._thread.start()
        self.cluster.start()
        return self

    def stop(self):
        self.cluster.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server.close_connections()
            self.server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- scenario -------------------------------------------------------------------------------------------
    def load_scenario(self, scenario, db, now):
        """Reset every object to ``scenario`` (a ``fleet_lab.scenario.load`` dict). ``db`` fills the
        ``kas-fleet-manager-rds`` secret; ``now`` (aware UTC) is the lab time the scenario happens at."""
        self.load_environments([(scenario, db)], now)

    def load_environments(self, environments, now):
        """Reset every object to the ``(scenario, db)`` of each fleet environment (``scenario.load_environments``):
        a namespace each, with its deployment, pods, logs, events and the secret of its own database. They run
        one scenario, so the first one's ``access.denied`` holds for all; the kubeconfig names its namespace."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        if not environments:
            raise ValueError("no environment to load")
        first = environments[0][0]
        self.auth.denied = set(first.get("access", {}).get("denied") or [])
        self.namespace = first["namespace"]
        self.cluster.load_environments([(s, db or {}) for s, db in environments], now)

    # -- client configuration ---------------------------------------------------------------------------------
    @property
    def url(self):
        return "https://%s:%d" % (self.host, self.port)

    @property
    def tokens(self):
        return dict(self.auth.tokens)

    @property
    def ca_file(self):
        return self.certs["ca"] if self.certs else None

    def kubeconfig(self):
        ca = self.certs["ca_b64"]
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "lab", "cluster": {"server": self.url, "certificate-authority-data": ca}}],
            "users": [{"name": "runbook", "user": {"token": self.auth.tokens["runbook"]}},
                      {"name": "admin", "user": {"token": self.auth.tokens["admin"]}}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "runbook",
                                                     "namespace": self.namespace}},
                         {"name": "lab-admin", "context": {"cluster": "lab", "user": "admin",
                                                           "namespace": self.namespace}}],
            "current-context": "lab",
        }

    def write_kubeconfig(self, path):
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(self.kubeconfig(), handle, default_flow_style=False, sort_keys=False)
        os.replace(tmp, path)
        return path
