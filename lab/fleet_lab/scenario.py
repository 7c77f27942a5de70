"""Scenario files: one YAML document seeds every lab component for one incident.

The format is documented in lab/SCENARIOS.md. ``load(name_or_path, volume=None)`` returns a plain dict with
every default filled in and every key checked, so components never guess. Pod names and the ids of the
scenario's own database rows (``database.<table>[i]["ids"]``) are derived here, once, so the Kubernetes API (pod
logs naming the rows), the database and the Prometheus series agree on them without talking.

Environments: a lab may serve N fleet environments from one scenario (``fleet-lab up --environments N``).
``load(name, environment=i, environments=N)`` (or ``load_environments(name, environments=N)`` for all of them)
derives environment ``i`` of ``N``: for N > 1 its namespace and environment name carry the suffix ``envNN``
(``kas-fleet-manager-stage-env01``, ``stage-env01``) and its pod names and row ids differ from the other
environments'; ``lab_environment`` says which one it is. N = 1 is the scenario as written.
"""
import copy
import hashlib
import os
import random

import yaml

from fleet_lab import faults as faults_mod

SCENARIO_DIR = os.path.join(os.path.dirname(__file__), "scenarios")

SECTIONS = (
    "none",
    "fleet_manager_down",
    "availability",
    "latency",
    "osd_provisioning_latency",
    "osd_provisioning_correctness",
    "kafka_provisioning_latency",
    "kafka_provisioning_correctness",
    "kafka_deletion_correctness",
)
DECISIONS = (
    "healthy",
    "restart_pods",
    "start_pods",
    "scale_up",
    "escalate_ocm",
    "escalate_data_plane",
    "escalate_control_plane",
)
POD_STATES = ("running", "crashloop", "image_pull", "pending", "not_ready")
ERROR_CATEGORIES = ("manager_api", "ocm", "kafka", "database", "other")
ACCESS_RESOURCES = ("pods", "pods/log", "deployments", "deployments/scale", "replicasets", "events", "secrets")
ALL_WORKERS_DEFAULT = ("ClusterManager", "KafkaManager", "AcceptedKafkaManager", "PreparingKafkaManager",
                       "ProvisioningKafkaManager", "ReadyKafkaManager", "DeletingKafkaManager",
                       "CleanupClustersManager", "DeprovisioningClustersManager",
                       "DynamicScaleUpManager", "DynamicScaleDownManager", "KafkaRoutesCNAMEManager",
                       "KafkasRoutesTLSCertificateManager", "PromotionKafkaManager")

DEFAULTS = {
    "name": None,
    "description": "",
    "section": "none",
    # plan: the steps the section's playbook plans, in order (default: [decision], or [] when healthy);
    # triage: what sop_triage names and plans ({sections: [...], plan: [...]}), when the scenario says.
    "expected": {"decision": "healthy", "rule": "", "plan": None, "triage": None},
    "environment": "stage",
    "namespace": "kas-fleet-manager-stage",
    "volume": {"clusters": 3, "kafka_requests": 12, "log_kb_per_pod": 64},
    "deployment": {
        "present": True,
        "name": "kas-fleet-manager",
        "replicas": 3,
        "image": "quay.io/app-sre/kas-fleet-manager:9b598c7",
    },
    "pods": None,
    "events": [],
    "database": {"clusters": [], "kafka_requests": [], "leader_leases": None},
    "metrics": {
        "available": True,
        "history_hours": 6,
        "request_rate": 20.0,
        "error_ratio": 0.002,
        "latency_under_100ms": 0.95,
        "latency_under_1s": 0.998,
        "cpu_usage_cores": 0.15,
        "memory_bytes": 350 * 1024 * 1024,
        # cAdvisor's network counters per pod (its sandbox) and filesystem IO per service container, per second
        "network_receive_bytes_per_second": 120000.0,
        "network_transmit_bytes_per_second": 250000.0,
        "network_receive_errors_per_second": 0.0,
        "network_transmit_errors_per_second": 0.0,
        "network_receive_drops_per_second": 0.0,
        "network_transmit_drops_per_second": 0.0,
        "fs_read_bytes_per_second": 4096.0,
        "fs_write_bytes_per_second": 32768.0,
        "fs_reads_per_second": 1.0,
        "fs_writes_per_second": 4.0,
        "kafka_create_seconds_p90": 420,
        "kafka_create_success_ratio": 1.0,
        "kafka_delete_success_ratio": 1.0,
        "cluster_create_seconds_p90": 2700,
        "cluster_create_success_ratio": 1.0,
        "up": True,
        "incident_minutes": None,
    },
    "sentry": {"issues": []},
    "access": {"denied": []},
    # What the lab does when the runbook acts: does a rollout restart (or a scale-up) clear the symptom?
    "remediation": {"restart_clears": True, "scale_clears": True},
    # Faults in force from the moment the scenario loads (fleet_lab.faults: component, kind, bounds ...).
    "faults": [],
}

# metrics keys that are per-second rates of cAdvisor counters: numbers, never negative (a counter only grows).
RATE_KEYS = tuple(key for key in DEFAULTS["metrics"] if key.startswith(("network_", "fs_")))

POD_DEFAULTS = {
    "state": "running",
    "restarts": 0,
    "leads": [],
    "lost": [],
    "worker_prefix": "current",
    "errors": {},
    "log_lines": [],
    "previous_log_lines": [],
}

# The worker that reconciles a row in each status (upstream's managers), whose leader logs about the row.
KAFKA_STATUS_WORKER = {
    "accepted": "AcceptedKafkaManager",
    "preparing": "PreparingKafkaManager",
    "resource_creating": "PreparingKafkaManager",  # the runbook's name for what is `preparing` today
    "provisioning": "ProvisioningKafkaManager",
    "failed": "ProvisioningKafkaManager",
    "deprovision": "DeletingKafkaManager",
    "deleting": "DeletingKafkaManager",
}
CLUSTER_STATUS_WORKER = {
    "cluster_accepted": "ClusterManager",
    "cluster_provisioning": "ClusterManager",
    "cluster_provisioned": "ClusterManager",
    "waiting_for_kas_fleetshard_operator": "ClusterManager",
    "failed": "ClusterManager",
    "deprovisioning": "DeprovisioningClustersManager",
    "cleanup": "CleanupClustersManager",
}
STATUS_WORKER = {"kafka_requests": KAFKA_STATUS_WORKER, "clusters": CLUSTER_STATUS_WORKER}

# object: {kind: Deployment} (the scenario's deployment), {kind: Pod, pod: <index>}, or {kind: K, name: N}.
EVENT_DEFAULTS = {"type": "Normal", "reason": "", "message": "", "object": None, "count": 1, "age_minutes": 5}
ROW_DEFAULTS = {"count": 1, "idle_minutes": 1, "deleted": False}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says which key and why."""


def _merge(base, override, path):
    if override is None:
        return copy.deepcopy(base)
    if not isinstance(base, dict) or not base:
        # An empty default mapping (pods[].errors) is open: any keys, checked by the caller.
        return copy.deepcopy(override)
    if not isinstance(override, dict):
        raise ScenarioError("%s: expected a mapping, got %r" % (path, override))
    unknown = set(override) - set(base)
    if unknown:
        raise ScenarioError("%s: unknown key(s) %s (known: %s)" % (path, ", ".join(sorted(unknown)),
                                                                    ", ".join(sorted(base))))
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(base[key], dict) and value is not None:
            out[key] = _merge(base[key], value, "%s.%s" % (path, key))
        else:
            out[key] = copy.deepcopy(value)
    return out


def available():
    """Names of the scenarios shipped with the lab, sorted."""
    return sorted(f[:-4] for f in os.listdir(SCENARIO_DIR) if f.endswith(".yml") and not f.startswith("_"))


def resolve_path(name_or_path):
    if os.path.sep in name_or_path or name_or_path.endswith((".yml", ".yaml")):
        path = name_or_path
    else:
        path = os.path.join(SCENARIO_DIR, name_or_path + ".yml")
    if not os.path.isfile(path):
        raise ScenarioError("no scenario %r (shipped: %s; or give a path to a YAML file)"
                            % (name_or_path, ", ".join(available())))
    return path


def environment_suffix(index, count):
    """``""`` for a lab of one environment, else ``env01`` ... (``env001`` from 100 environments on)."""
    if count <= 1:
        return ""
    return "env%0*d" % (max(2, len(str(count))), index)


def _read(name_or_path):
    path = resolve_path(name_or_path)
    with open(path) as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, dict):
        raise ScenarioError("%s: a scenario is a mapping" % path)
    return path, raw


def load(name_or_path, volume=None, environment=1, environments=1):
    """Load, default and validate a scenario. ``volume`` overrides ``volume`` keys (benchmarks). ``environment``
    (1-based) of ``environments``: which fleet environment of a multi-environment lab this copy is for."""
    path, raw = _read(name_or_path)
    return _build(path, raw, volume, environment, environments)


def load_environments(name_or_path, volume=None, environments=1):
    """Every environment's copy of a scenario (``load(..., environment=i, environments=N)`` for i = 1..N)."""
    path, raw = _read(name_or_path)
    return [_build(path, raw, volume, i, environments) for i in range(1, int(environments) + 1)]


def _build(path, raw, volume, index, count):
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ScenarioError("environments: expected a number of at least 1, got %r" % (count,))
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= count:
        raise ScenarioError("environment: expected 1 to %d, got %r" % (count, index))
    scenario = _merge(DEFAULTS, raw, "scenario")
    if volume:
        scenario["volume"] = _merge(scenario["volume"], volume, "volume")
    scenario["name"] = scenario["name"] or os.path.splitext(os.path.basename(path))[0]
    scenario["path"] = os.path.abspath(path)
    _validate(scenario)
    suffix = environment_suffix(index, count)
    scenario["lab_environment"] = {"index": index, "count": count, "suffix": suffix,
                                   "base_environment": scenario["environment"],
                                   "base_namespace": scenario["namespace"]}
    if suffix:
        scenario["namespace"] = "%s-%s" % (scenario["namespace"], suffix)
        scenario["environment"] = "%s-%s" % (scenario["environment"], suffix)
    _derive(scenario, scenario["name"] + ("/" + suffix if suffix else ""))
    return scenario


def _validate(s):
    if s["section"] not in SECTIONS:
        raise ScenarioError("section %r is not one of %s" % (s["section"], ", ".join(SECTIONS)))
    expected = s["expected"]
    if expected["decision"] not in DECISIONS:
        raise ScenarioError("expected.decision %r is not one of %s" % (expected["decision"], ", ".join(DECISIONS)))
    if expected["plan"] is None:
        expected["plan"] = [] if expected["decision"] == "healthy" else [expected["decision"]]
    triage = expected["triage"]
    if triage is not None and (not isinstance(triage, dict) or set(triage) - {"sections", "plan"}):
        raise ScenarioError("expected.triage: expected a mapping with sections and plan, got %r" % (triage,))
    for where, steps in (("expected.plan", expected["plan"]), ("expected.triage.plan", (triage or {}).get("plan") or [])):
        if not isinstance(steps, list) or not set(steps) <= set(DECISIONS) - {"healthy"}:
            raise ScenarioError("%s: expected a list of %s, got %r" % (where, ", ".join(DECISIONS[1:]), steps))
    if not set((triage or {}).get("sections") or []) <= set(SECTIONS[1:]):
        raise ScenarioError("expected.triage.sections: expected sections of %s" % ", ".join(SECTIONS[1:]))
    for denied in s["access"]["denied"]:
        if denied not in ACCESS_RESOURCES:
            raise ScenarioError("access.denied %r is not one of %s" % (denied, ", ".join(ACCESS_RESOURCES)))
    if s["pods"] is not None and not isinstance(s["pods"], list):
        raise ScenarioError("pods: expected a list")
    for key in RATE_KEYS:
        value = s["metrics"][key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ScenarioError("metrics.%s: expected a number of at least 0 (per second), got %r" % (key, value))
    s["faults"] = [] if s["faults"] is None else s["faults"]
    if not isinstance(s["faults"], list):
        raise ScenarioError("faults: expected a list of faults")
    checked = []
    for i, fault in enumerate(s["faults"]):
        try:
            checked.append(faults_mod.normalize(fault))
        except faults_mod.FaultError as exc:
            raise ScenarioError("faults[%d]: %s" % (i, exc))
    s["faults"] = checked


def _derive(s, key):
    """Fill pods and rows with their defaults, give pods their names and rows their ids (both derived from
    ``key``: the scenario name, plus the environment suffix in a multi-environment lab), and tell each pod which
    rows its workers log about."""
    dep = s["deployment"]
    if s["pods"] is None:
        s["pods"] = [{} for _ in range(dep["replicas"] if dep["present"] else 0)]
        if s["pods"]:
            s["pods"][0]["leads"] = list(ALL_WORKERS_DEFAULT)
    pods = []
    for i, pod in enumerate(s["pods"]):
        pod = _merge(POD_DEFAULTS, pod, "pods[%d]" % i)
        if pod["state"] not in POD_STATES:
            raise ScenarioError("pods[%d].state %r is not one of %s" % (i, pod["state"], ", ".join(POD_STATES)))
        for cat in pod["errors"]:
            if cat not in ERROR_CATEGORIES:
                raise ScenarioError("pods[%d].errors: %r is not one of %s" % (i, cat, ", ".join(ERROR_CATEGORIES)))
        pods.append(pod)
    # ReplicaSet hash and pod suffixes are derived from the scenario name, so they are stable across runs.
    digest = hashlib.sha256(key.encode()).hexdigest()
    s["replicaset_hash"] = _kube_suffix(digest[:10], 10)
    for i, pod in enumerate(pods):
        pod["name"] = "%s-%s-%s" % (dep["name"], s["replicaset_hash"], _kube_suffix(digest[10 + 5 * i:], 5))
    s["pods"] = pods
    events = []
    for i, event in enumerate(s["events"]):
        event = _merge(EVENT_DEFAULTS, event, "events[%d]" % i)
        obj = event["object"] or {"kind": "Deployment"}
        if obj.get("kind") == "Pod" and "pod" in obj:
            if not 0 <= obj["pod"] < len(pods):
                raise ScenarioError("events[%d].object.pod: no pod %r (the scenario has %d)" % (i, obj["pod"], len(pods)))
            obj = {"kind": "Pod", "name": pods[obj["pod"]]["name"]}
        elif obj.get("kind") == "Deployment" and "name" not in obj:
            obj = {"kind": "Deployment", "name": dep["name"]}
        elif "name" not in obj:
            raise ScenarioError("events[%d].object: give name (or pod: <index> for a Pod)" % i)
        event["object"] = obj
        events.append(event)
    s["events"] = events
    rng = random.Random("fleet-lab/rows/%s" % key)
    for table in ("clusters", "kafka_requests"):
        rows = []
        for i, row in enumerate(s["database"][table]):
            if not isinstance(row, dict) or "status" not in row:
                raise ScenarioError("database.%s[%d]: status is required" % (table, i))
            if "ids" in row:
                raise ScenarioError("database.%s[%d].ids: derived by the lab, not given (give id: to fix one)"
                                    % (table, i))
            merged = dict(ROW_DEFAULTS)
            merged.update(row)
            count = merged["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ScenarioError("database.%s[%d].count: expected a number of at least 0, got %r"
                                    % (table, i, count))
            # ids drawn even for a row with a fixed id, so one row's id never shifts the next rows'
            ids = [row_id(rng) for _ in range(count)]
            merged["ids"] = [merged["id"]] * count if merged.get("id") else ids
            rows.append(merged)
        s["database"][table] = rows
    for pod in pods:
        pod["rows"] = []
    if pods:
        for table in ("clusters", "kafka_requests"):
            for row in s["database"][table]:
                worker = STATUS_WORKER[table].get(row["status"])
                if worker is None or row.get("deleted"):
                    continue  # nobody reconciles ready or soft-deleted rows
                pod = _leader_of(pods, worker)
                for row_id_ in row["ids"]:
                    pod["rows"].append({"table": table, "id": row_id_, "status": row["status"], "worker": worker,
                                        "failed_reason": row.get("failed_reason") or ""})


def _leader_of(pods, worker):
    """The pod whose log holds ``worker``'s lines: the first that leads it (and has not lost it), else the first
    that leads it at all, else the first pod."""
    for pod in pods:
        if worker in (pod["leads"] or []) and worker not in (pod["lost"] or []):
            return pod
    for pod in pods:
        if worker in (pod["leads"] or []):
            return pod
    return pods[0]


# xids of the scenario's rows carry this time (2024-06-01), not their created_at: ids are fixed when the scenario
# loads, before the lab's `now` is known.
ROW_ID_EPOCH = 1717200000
_B32HEX = "0123456789abcdefghijklmnopqrstuv"


def row_id(rng):
    """An xid (rs/xid: 4-byte time, 3-byte machine, 2-byte pid, 3-byte counter) as upstream's ids: 20 characters of
    base32hex, lower case."""
    n = ((ROW_ID_EPOCH + rng.randrange(86400 * 180)) << 64) | rng.getrandbits(64)
    n <<= 4  # 96 bits -> 100 bits: 20 characters of 5 bits (the encoder pads the last one)
    return "".join(_B32HEX[(n >> (5 * (19 - k))) & 31] for k in range(20))


_KUBE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _kube_suffix(seed, length):
    """Kubernetes-style random suffix (consonants and digits), derived from ``seed``."""
    n = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    out = []
    for _ in range(length):
        n, r = divmod(n, len(_KUBE_ALPHABET))
        out.append(_KUBE_ALPHABET[r])
    return "".join(out)
