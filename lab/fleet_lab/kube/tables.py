"""Server-side printing: the ``meta.k8s.io/v1`` Table that ``kubectl get`` asks for, with the columns and
cell formats of the real API server's printers (pkg/printers/internalversion)."""
import datetime

from fleet_lab.kube import logs


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return "%dm" % minutes if sec == 0 else "%dm%ds" % (minutes, sec)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return "%dy" % (hours // 24 // 365) if dy == 0 else "%dy%dd" % (hours // 24 // 365, dy)
    return "%dy" % (hours // 24 // 365)


def _parse(value):
    if not value:
        return None
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def since(value, now_us):
    dt = _parse(value)
    if dt is None:
        return "<unknown>"
    return human_duration((now_us - logs.to_us(dt)) / 1e6)


def _col(name, ctype="string", fmt="", description="", priority=0):
    return {"name": name, "type": ctype, "format": fmt, "description": description, "priority": priority}


NAME = _col("Name", fmt="name", description="Name must be unique within a namespace.")
AGE = _col("Age", description="CreationTimestamp is a timestamp representing the server time when this object was "
                              "created.")

COLUMNS = {
    "pods": [NAME, _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
             _col("Status", description="The aggregate status of the containers in this pod."),
             _col("Restarts", description="The number of times the containers in this pod have been restarted and "
                                          "when the last container in this pod has restarted."), AGE,
             _col("IP", description="IP address allocated to the pod.", priority=1),
             _col("Node", description="Name of the Node this pod is scheduled on.", priority=1),
             _col("Nominated Node", description="Nominated node name.", priority=1),
             _col("Readiness Gates", description="Readiness gates.", priority=1)],
    "deployments": [NAME, _col("Ready", description="Number of the pod with ready state"),
                    _col("Up-to-date", "integer", description="Total number of non-terminated pods targeted by this "
                                                              "deployment that have the desired template spec."),
                    _col("Available", "integer", description="Total number of available pods (ready for at least "
                                                             "minReadySeconds) targeted by this deployment."), AGE,
                    _col("Containers", description="Names of each container in the template.", priority=1),
                    _col("Images", description="Images referenced by each container in the template.", priority=1),
                    _col("Selector", description="Label selector for pods.", priority=1)],
    "replicasets": [NAME, _col("Desired", "integer", description="Replicas is the number of desired replicas."),
                    _col("Current", "integer", description="Replicas is the most recently observed number of "
                                                           "replicas."),
                    _col("Ready", "integer", description="The number of ready replicas for this replica set."), AGE,
                    _col("Containers", description="Names of each container in the template.", priority=1),
                    _col("Images", description="Images referenced by each container in the template.", priority=1),
                    _col("Selector", description="Selector is a label query over pods.", priority=1)],
    "events": [_col("Last Seen", description="The time at which the most recent occurrence of this event was "
                                             "recorded."),
               _col("Type", description="Type of this event (Normal, Warning), new types could be added in the "
                                        "future."),
               _col("Reason", description="This should be a short, machine understandable string."),
               _col("Object", description="The object that this event is about."),
               _col("Subobject", description="Fieldpath of the involved object.", priority=1),
               _col("Source", description="The component reporting this event.", priority=1),
               _col("Message", description="A human-readable description of the status of this operation."),
               _col("First Seen", description="The time at which the event was first recorded.", priority=1),
               _col("Count", "integer", description="The number of times this event has occurred.", priority=1),
               _col("Name", fmt="name", description="Name must be unique within a namespace.", priority=1)],
    "secrets": [NAME, _col("Type", description="The type of the secret"),
                _col("Data", "integer", description="The number of data items in the secret"), AGE],
    "configmaps": [NAME, _col("Data", "integer", description="Number of data items in the ConfigMap"), AGE],
    "namespaces": [NAME, _col("Status", description="The status of the namespace"), AGE],
    "nodes": [NAME, _col("Status", description="The status of the node"),
              _col("Roles", description="The roles of the node"), AGE,
              _col("Version", description="Kubelet Version reported by the node."),
              _col("Internal-IP", description="List of internal IPs for the node.", priority=1),
              _col("OS-Image", description="OS image reported by the node.", priority=1),
              _col("Container-Runtime", description="Container runtime reported by the node.", priority=1)],
}


def pod_cells(pod, now_us):
    status = pod.get("status") or {}
    containers = pod.get("spec", {}).get("containers") or []
    reason = status.get("reason") or status.get("phase") or "Unknown"
    restarts = 0
    last_restart = None
    ready = 0
    has_running = False
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        term = (cs.get("lastState") or {}).get("terminated")
        if term and term.get("finishedAt"):
            fin = _parse(term["finishedAt"])
            if last_restart is None or fin > last_restart:
                last_restart = fin
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            reason = state["terminated"].get("reason") or "ExitCode:%d" % state["terminated"].get("exitCode", 0)
        elif cs.get("ready") and "running" in state:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    restart_cell = "%d" % restarts
    if restarts and last_restart is not None:
        restart_cell = "%d (%s ago)" % (restarts, human_duration((now_us - logs.to_us(last_restart)) / 1e6))
    return ["%s" % pod["metadata"]["name"], "%d/%d" % (ready, len(containers)), reason, restart_cell,
            since(pod["metadata"].get("creationTimestamp"), now_us), status.get("podIP") or "<none>",
            pod.get("spec", {}).get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", "<none>"]


def _containers(template):
    cs = (template.get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _selector(sel):
    parts = ["%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        parts.append("%s %s (%s)" % (expr.get("key"), expr.get("operator", "").lower(),
                                     ",".join(expr.get("values") or [])))
    return ",".join(parts) or "<none>"


def cells(resource, obj, now_us):
    meta = obj.get("metadata", {})
    age = since(meta.get("creationTimestamp"), now_us)
    if resource == "pods":
        return pod_cells(obj, now_us)
    if resource in ("deployments", "replicasets"):
        spec = obj.get("spec") or {}
        st = obj.get("status") or {}
        names, images = _containers(spec.get("template") or {})
        sel = _selector(spec.get("selector") or {})
        desired = spec.get("replicas", 1)
        if resource == "deployments":
            return [meta["name"], "%d/%d" % (st.get("readyReplicas", 0), desired), st.get("updatedReplicas", 0),
                    st.get("availableReplicas", 0), age, names, images, sel]
        return [meta["name"], desired, st.get("replicas", 0), st.get("readyReplicas", 0), age, names, images, sel]
    if resource == "events":
        inv = obj.get("involvedObject") or {}
        src = obj.get("source") or {}
        source = src.get("component", "")
        if src.get("host"):
            source += ", " + src["host"]
        last = obj.get("lastTimestamp") or obj.get("eventTime") or meta.get("creationTimestamp")
        first = obj.get("firstTimestamp") or meta.get("creationTimestamp")
        last_cell = since(last, now_us)
        count = obj.get("count") or 1
        return [last_cell, obj.get("type", ""), obj.get("reason", ""),
                "%s/%s" % (inv.get("kind", "").lower(), inv.get("name", "")), inv.get("fieldPath", ""), source,
                obj.get("message", ""), since(first, now_us), count, meta["name"]]
    if resource == "secrets":
        return [meta["name"], obj.get("type", "Opaque"), len(obj.get("data") or {}), age]
    if resource == "configmaps":
        return [meta["name"], len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age]
    if resource == "namespaces":
        return [meta["name"], (obj.get("status") or {}).get("phase", "Active"), age]
    if resource == "nodes":
        conds = {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or []}
        status = "Ready" if conds.get("Ready") == "True" else "NotReady"
        roles = ",".join(sorted(k.split("/", 1)[1] for k in meta.get("labels", {})
                                if k.startswith("node-role.kubernetes.io/"))) or "<none>"
        info = (obj.get("status") or {}).get("nodeInfo") or {}
        ip = next((a["address"] for a in (obj.get("status") or {}).get("addresses") or []
                   if a.get("type") == "InternalIP"), "<none>")
        return [meta["name"], status, roles, age, info.get("kubeletVersion", ""), ip, info.get("osImage", ""),
                info.get("containerRuntimeVersion", "")]
    return [meta["name"], age]


def partial(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(resource, items, now_us, resource_version, include="Metadata", columns=True, list_meta=None):
    cols = COLUMNS.get(resource, [NAME, AGE])
    rows = []
    for obj in items:
        row = {"cells": cells(resource, obj, now_us)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = partial(obj)
        rows.append(row)
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta or {},
                                                                           resourceVersion=str(resource_version)),
           "columnDefinitions": cols if columns else None, "rows": rows}
    return out
