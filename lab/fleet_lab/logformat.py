"""The fleet manager's log format (upstream glog) and the log lines the lab writes.

Upstream logs plain-text glog: ``Lmmdd hh:mm:ss.uuuuuu PID file:line] msg`` with the PID padded to 7
characters (PID 1 in a container). Leader election lines use Go's ``%T`` of the worker, so the type name
carries its package prefix: ``*cluster_mgrs.ClusterManager`` in current builds, ``*workers.ClusterManager``
in the builds the runbook was written for.
"""
import datetime
import re
import uuid

# Worker short name -> (current Go type with package, legacy Go type or None, leader_leases.lease_type)
WORKERS = {
    "ClusterManager": ("*cluster_mgrs.ClusterManager", "*workers.ClusterManager", "cluster"),
    "DynamicScaleUpManager": ("*cluster_mgrs.DynamicScaleUpManager", None, "dynamic_scale_up"),
    "DynamicScaleDownManager": ("*cluster_mgrs.DynamicScaleDownManager", None, "dynamic_scale_down"),
    "CleanupClustersManager": ("*cluster_mgrs.CleanupClustersManager", None, "cleanup_clusters"),
    "DeprovisioningClustersManager": ("*cluster_mgrs.DeprovisioningClustersManager", None, "deprovisioning_clusters"),
    "KafkaManager": ("*kafka_mgrs.KafkaManager", "*workers.KafkaManager", "general_kafka_worker"),
    "AcceptedKafkaManager": ("*kafka_mgrs.AcceptedKafkaManager", None, "accepted_kafka"),
    "PreparingKafkaManager": ("*kafka_mgrs.PreparingKafkaManager", None, "preparing_kafka"),
    "ProvisioningKafkaManager": ("*kafka_mgrs.ProvisioningKafkaManager", None, "provisioning_kafka"),
    "ReadyKafkaManager": ("*kafka_mgrs.ReadyKafkaManager", None, "ready_kafka"),
    "DeletingKafkaManager": ("*kafka_mgrs.DeletingKafkaManager", None, "deleting_kafka"),
    "KafkaRoutesCNAMEManager": ("*kafka_mgrs.KafkaRoutesCNAMEManager", None, "kafka_dns"),
    "KafkasRoutesTLSCertificateManager": ("*kafka_mgrs.KafkasRoutesTLSCertificateManager", None,
                                          "kafka_routes_tls_certificate"),
    "PromotionKafkaManager": ("*promotion.PromotionKafkaManager", None, "promoting_kafka"),
}


def worker_type(name, prefix="current"):
    """The ``%T`` string a pod logs for worker ``name`` (legacy builds used the ``workers`` package)."""
    current, legacy, _lease = WORKERS[name]
    if prefix == "legacy" and legacy:
        return legacy
    return current


def header(ts, severity="I", source="leader_election_mgr.go:104", pid=1):
    """glog header: ``Lmmdd hh:mm:ss.uuuuuu PID file:line]``."""
    return "%s%02d%02d %02d:%02d:%02d.%06d %7d %s]" % (
        severity, ts.month, ts.day, ts.hour, ts.minute, ts.second, ts.microsecond, pid, source)


def line(ts, msg, severity="I", source="logger.go:194"):
    return "%s %s" % (header(ts, severity, source), msg)


def leader_started(ts, wtype, worker_id=None):
    return line(ts, "Running as the leader and starting worker %s [%s]" % (wtype, worker_id or uuid.uuid4()),
                source="leader_election_mgr.go:104")


def leader_stopped(ts, wtype, worker_id=None):
    return line(ts, "No longer the leader and stopping worker %s [%s]" % (wtype, worker_id or uuid.uuid4()),
                source="leader_election_mgr.go:108")


# Reconcile/HTTP error lines of each category the runbook tells apart. ``{id}`` is an entity id.
# These are what real upstream builds print for such failures; the collection's classifier
# (plugins/module_utils/classify.py) must put each into its category, and lab tests check it does.
ERROR_TEMPLATES = {
    "manager_api": [
        ("handler_errors.go:48", "Unable to handle request GET /api/kafkas_mgmt/v1/kafkas: "
         "KAFKAS-MGMT-9: Unspecified error: runtime error: invalid memory address or nil pointer dereference"),
        ("api_server.go:142", "http: panic serving 10.128.2.1:53422: runtime error: index out of range [3] with length 3"),
        ("kafka.go:212", "KAFKAS-MGMT-9: failed to register kafka request {id}: Unspecified error"),
    ],
    "ocm": [
        ("clusters_mgr.go:312", "failed to reconcile accepted cluster {id}: failed to create cluster: "
         "OCM error: status 503: CLUSTERS-MGMT-503: Service Unavailable"),
        ("clusters_mgr.go:355", "failed to get cluster status for {id} from ocm: "
         "Get \"https://api.openshift.com/api/clusters_mgmt/v1/clusters/{id}/status\": context deadline exceeded"),
        ("ocm/client.go:221", "ocm client: failed to create addon installation on cluster {id}: status 500"),
    ],
    "kafka": [
        ("provisioning_kafkas_mgr.go:98", "failed to reconcile provisioning kafka {id}: kas-fleetshard-operator "
         "reported status 'error': strimzi-cluster-operator: Kafka resource not ready: pod {id}-kafka-0 CrashLoopBackOff"),
        ("ready_kafkas_mgr.go:77", "failed to reconcile ready kafka {id}: strimzi-operator: "
         "failed to reconcile ManagedKafka: KafkaCluster {id} timed out waiting for Kafka brokers"),
        ("deleting_kafkas_mgr.go:91", "failed to delete kafka {id}: strimzi: ManagedKafka {id} finalizer not removed"),
    ],
    "database": [
        ("leader_election_mgr.go:77", "failed to acquire leader lease: dial tcp 10.0.45.3:5432: connect: connection refused"),
        ("kafka.go:398", "failed to list kafka requests: pq: SSL connection has been closed unexpectedly"),
        ("clusters.go:144", "failed to update cluster {id} status: sql: database is closed"),
    ],
    "other": [
        ("observatorium.go:88", "failed to fetch kafka metrics for {id}: unexpected end of JSON input"),
        ("keycloak.go:130", "failed to get token: 401 Unauthorized: invalid_client"),
    ],
}

# Lines about the scenario's own database rows (scenario.py gives each pod the rows its workers reconcile: the
# leader of the worker of the row's status). An error line of a category can name a row when one of the
# category's templates fits the row's status: {category: {template index: statuses}}; those lines name the row's
# id instead of a random one. Rows no error line names get an INFO reconcile line; failed rows also an INFO line
# with their failed_reason. INFO lines must never count as errors (plugins/module_utils/classify.py counts glog
# E/F lines and lines matching DEFAULT_ERROR_PATTERNS, which ERROR_WORDS repeats).
ROW_CATEGORY_TABLE = {"kafka": "kafka_requests", "ocm": "clusters"}
ROW_ERROR_TEMPLATES = {
    "kafka": {0: ("preparing", "resource_creating", "provisioning", "failed"), 2: ("deprovision", "deleting")},
    "ocm": {0: ("cluster_accepted", "failed"),
            1: ("cluster_provisioning", "cluster_provisioned", "waiting_for_kas_fleetshard_operator"),
            2: ("cluster_provisioned", "waiting_for_kas_fleetshard_operator")},
}
WORKER_SOURCE = {
    "AcceptedKafkaManager": "accepted_kafkas_mgr.go",
    "PreparingKafkaManager": "preparing_kafkas_mgr.go",
    "ProvisioningKafkaManager": "provisioning_kafkas_mgr.go",
    "DeletingKafkaManager": "deleting_kafkas_mgr.go",
    "ClusterManager": "clusters_mgr.go",
    "DeprovisioningClustersManager": "deprovisioning_clusters_mgr.go",
    "CleanupClustersManager": "cleanup_clusters_mgr.go",
}
ERROR_WORDS = re.compile(r"\bError\b|\bERROR\b|[Ee]xception|\bpanic\b")


def row_error(category, template_index, source, template, row):
    """(source, message) of error template ``template_index`` of ``category`` naming ``row`` (a ``rows`` entry of a
    scenario pod): the template with the row's id, the status it names adapted to the row's (kafka requests)."""
    msg = template.replace("{id}", row["id"])
    if category == "kafka" and template_index == 0 and row["status"] not in ("provisioning", "failed"):
        msg = msg.replace("reconcile provisioning kafka", "reconcile %s kafka" % row["status"], 1)
        source = source.replace("provisioning_kafkas_mgr.go", WORKER_SOURCE.get(row["worker"], "kafka_mgr.go"))
    return source, msg


def row_info(row):
    """(source, message) of the INFO line a worker logs about ``row``: its failure (failed rows, with the
    failed_reason unless that would read as an error line) or a reconcile of it."""
    kafka = row["table"] == "kafka_requests"
    source = "%s:%d" % (WORKER_SOURCE.get(row["worker"], "reconciler.go"), 131 if row["status"] == "failed" else 87)
    if row["status"] == "failed":
        msg = "%s %s failed" % ("kafka request" if kafka else "cluster", row["id"])
        reason = " ".join(str(row.get("failed_reason") or "").split())
        if reason and not ERROR_WORDS.search(reason):
            msg += ": " + reason
        elif reason:
            msg += " (failed_reason in the database)"
        return source, msg
    return source, "reconciling %s %s in status %s" % ("kafka request" if kafka else "cluster", row["id"],
                                                       row["status"])


# Ordinary noise (the bulk of a real log): request logs and reconcile loop lines.
NOISE_TEMPLATES = [
    ("logger.go:194", "src_ip='10.128.2.1:53422' opid='{opid}' {{\"request_method\":\"GET\",\"request_url\":"
     "\"/api/kafkas_mgmt/v1/kafkas\",\"request_remote_ip\":\"10.128.2.1:53422\"}}"),
    ("logger.go:194", "src_ip='10.128.2.7:40110' opid='{opid}' {{\"response_status_code\":200,"
     "\"response_duration\":\"12.3ms\"}}"),
    ("reconciler.go:61", "Timeout triggered reconciliation loop for *kafka_mgrs.ReadyKafkaManager [{wid}]"),
    ("reconciler.go:61", "Wakeup triggered reconciliation loop for *cluster_mgrs.ClusterManager [{wid}]"),
    ("leader_election_mgr.go:60", "not currently leader, skipping reconcile *kafka_mgrs.AcceptedKafkaManager [{wid}]"),
]


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def worker_uuid(pod_name, worker):
    """The worker id a pod logs in ``[...]`` for ``worker``, and that leader_leases.leader holds for it.

    Deterministic, so the Kubernetes API's logs and the database's leases agree without talking.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "kas-fleet-manager/%s/%s" % (pod_name, worker)))
