"""The object store behind the lab API: resources, objects, resourceVersions and the watch history.

One lock guards everything (the controller and request threads take it; watchers wait on its condition).
``resourceVersion`` is one global counter, as etcd's revision is: every write takes the next value, lists
carry the current one. The watch history keeps the last changes so a watch can resume from a version.
"""
import collections
import copy
import threading

VERBS_ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class Resource(object):
    def __init__(self, name, kind, group="", version="v1", namespaced=True, short=(), verbs=None,
                 singular=None, categories=(), subresources=()):
        self.name = name
        self.kind = kind
        self.group = group
        self.version = version
        self.namespaced = namespaced
        self.short = list(short)
        self.verbs = list(verbs or VERBS_ALL)
        self.singular = singular or kind.lower()
        self.categories = list(categories)
        self.subresources = subresources  # (name, kind, group, version, verbs)

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def qualified(self):
        """``pods`` / ``deployments.apps``: how error messages name the resource."""
        return "%s.%s" % (self.name, self.group) if self.group else self.name

    def discovery(self):
        out = [{"name": self.name, "singularName": self.singular, "namespaced": self.namespaced,
                "kind": self.kind, "verbs": self.verbs}]
        if self.short:
            out[0]["shortNames"] = self.short
        if self.categories:
            out[0]["categories"] = self.categories
        for sub, kind, group, version, verbs in self.subresources:
            entry = {"name": "%s/%s" % (self.name, sub), "singularName": "", "namespaced": self.namespaced,
                     "kind": kind, "verbs": verbs}
            if group is not None:
                entry["group"] = group
                entry["version"] = version
            out.append(entry)
        return out


RESOURCES = [
    Resource("namespaces", "Namespace", namespaced=False, short=["ns"],
             verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
             subresources=[("status", "Namespace", None, None, ["get", "patch", "update"])]),
    Resource("pods", "Pod", short=["po"], categories=["all"],
             subresources=[("log", "Pod", None, None, ["get"]),
                           ("status", "Pod", None, None, ["get", "patch", "update"])]),
    Resource("events", "Event", short=["ev"]),
    Resource("secrets", "Secret"),
    Resource("configmaps", "ConfigMap", short=["cm"]),
    Resource("nodes", "Node", namespaced=False, short=["no"],
             subresources=[("status", "Node", None, None, ["get", "patch", "update"])]),
    Resource("deployments", "Deployment", group="apps", short=["deploy"], categories=["all"],
             subresources=[("scale", "Scale", "autoscaling", "v1", ["get", "patch", "update"]),
                           ("status", "Deployment", None, None, ["get", "patch", "update"])]),
    Resource("replicasets", "ReplicaSet", group="apps", short=["rs"], categories=["all"],
             subresources=[("status", "ReplicaSet", None, None, ["get", "patch", "update"])]),
    Resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", group="autoscaling", short=["hpa"],
             categories=["all"]),
    Resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", group="authorization.k8s.io",
             namespaced=False, verbs=["create"]),
    # RBAC for ServiceAccount tokens (kube/rbac.py): kubectl apply of a ServiceAccount, Role and RoleBinding,
    # kubectl create token (the TokenRequest subresource).
    Resource("serviceaccounts", "ServiceAccount", short=["sa"],
             subresources=[("token", "TokenRequest", "authentication.k8s.io", "v1", ["create"])]),
    Resource("roles", "Role", group="rbac.authorization.k8s.io"),
    Resource("rolebindings", "RoleBinding", group="rbac.authorization.k8s.io"),
]
BY_NAME = {r.name: r for r in RESOURCES}
# group -> (version, [resources])
GROUPS = collections.OrderedDict()
for _r in RESOURCES:
    GROUPS.setdefault(_r.group, (_r.version, []))[1].append(_r)


def lookup(group, version, name):
    res = BY_NAME.get(name)
    if res is None or res.group != group or res.version != version:
        return None
    return res


class Store(object):
    HISTORY = 4000

    def __init__(self):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1000
        self.objects = {r.name: {} for r in RESOURCES}
        self.history = collections.deque(maxlen=self.HISTORY)
        self.floor = self.rv  # watches from versions below this cannot be served (410 Gone)
        self.epoch = 0  # bumped on reset: open watches end so clients relist
        self.stopped = False

    # -- writes (caller holds the lock) ------------------------------------------------------------
    def _next(self):
        self.rv += 1
        return self.rv

    def reset(self):
        with self.lock:
            for name in self.objects:
                self.objects[name] = {}
            self.history.clear()
            self.floor = self._next()
            self.epoch += 1
            self.cond.notify_all()

    def put(self, resource, obj, event=None):
        """Store ``obj`` (takes ownership), give it the next resourceVersion, record a watch event."""
        with self.lock:
            meta = obj["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            table = self.objects[resource]
            if event is None:
                event = "MODIFIED" if key in table else "ADDED"
            meta["resourceVersion"] = str(self._next())
            table[key] = obj
            self._record(event, resource, obj)
            return obj

    def remove(self, resource, namespace, name):
        with self.lock:
            obj = self.objects[resource].pop((namespace or "", name), None)
            if obj is not None:
                obj["metadata"]["resourceVersion"] = str(self._next())
                self._record("DELETED", resource, obj)
            return obj

    def _record(self, event, resource, obj):
        if len(self.history) == self.history.maxlen:
            self.floor = self.history[0][0]
        self.history.append((self.rv, event, resource, copy.deepcopy(obj)))
        self.cond.notify_all()

    # -- reads ------------------------------------------------------------------------------------------
    def get(self, resource, namespace, name):
        return self.objects[resource].get((namespace or "", name))

    def items(self, resource, namespace=None):
        """Objects of ``resource`` (in ``namespace`` if given), sorted as etcd keys are."""
        table = self.objects[resource]
        keys = sorted(k for k in table if namespace is None or k[0] == namespace)
        return [table[k] for k in keys]

    def events_since(self, rv):
        """History entries after ``rv``; None when ``rv`` is older than the history holds."""
        if rv < self.floor:
            return None
        return [h for h in self.history if h[0] > rv]
