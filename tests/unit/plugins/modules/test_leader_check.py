# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""leader_check: the log scan on literal upstream log lines (glog headers, the leader election lines of
pkg/workers/leader_election_mgr.go with old and current Go package prefixes), the gathering over pods and the
lease triangulation, and the module end to end over a fake Kubernetes API (Kube replaced) and a fake database."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common import warnings
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils import leader_scan as ls
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import compile_error_patterns
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import selector_of
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.modules import leader_check as m

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args=None):
        payload = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield

CM_ID = "3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88"
KM_ID = "0a7c2e44-1b9d-4f6e-a3c5-58d9e2f1b7a0"
AK_ID = "9d2e7b10-55c3-4a8f-8e1d-7b6a0c4f2e91"
CM_ID2 = "5b0f3c1e-2f43-4d0a-8c59-0f1e2d3c4b5a"
KM_ID2 = "7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098"
XID = "cq4n7v2bv1k5s0r8a9mg"
NS = "kas-fleet-manager-stage"
PODS = ["kas-fleet-manager-7c9d5b8f6d-x2lqp", "kas-fleet-manager-7c9d5b8f6d-9wq4z", "kas-fleet-manager-7c9d5b8f6d-tk5vn"]


def glog(message, severity="I", source="logger.go:194", clock="15:12:01.123456"):
    """A line in upstream's format: ``Lmmdd hh:mm:ss.uuuuuu PID file:line] msg``, PID 1 padded to 7."""
    return "%s0628 %s %7d %s] %s" % (severity, clock, 1, source, message)


def started(wtype, wid):
    return glog("Running as the leader and starting worker %s [%s]" % (wtype, wid), source="leader_election_mgr.go:104")


def stopped(wtype, wid, how="No longer the leader"):
    return glog("%s and stopping worker %s [%s]" % (how, wtype, wid),
                source="leader_election_mgr.go:108" if how.startswith("No") else "leader_election_mgr.go:94")


STARTUP = [
    glog("Initializing stage environment", source="environment.go:89"),
    glog("Sentry error reporting enabled to sentry.autom8.in on project 8", source="sentry.go:61"),
    glog("Starting LeaderElectionManager", source="leader_election_mgr.go:42"),
]
NOISE = [
    glog("src_ip='10.128.2.1:53422' opid='2RkVq' {\"request_method\":\"GET\",\"request_url\":"
         "\"/api/kafkas_mgmt/v1/kafkas\",\"request_remote_ip\":\"10.128.2.1:53422\"}"),
    glog("not currently leader, skipping reconcile *kafka_mgrs.AcceptedKafkaManager [%s]" % AK_ID,
         source="leader_election_mgr.go:60"),
]
OCM_ERROR = ("failed to reconcile accepted cluster %s: failed to create cluster: OCM error: status 503: "
             "CLUSTERS-MGMT-503: Service Unavailable")
STRIMZI_ERROR = ("failed to reconcile ready kafka %s: strimzi-operator: failed to reconcile ManagedKafka: "
                 "KafkaCluster %s timed out waiting for Kafka brokers")
API_ERROR = "http: panic serving 10.128.2.1:53422: runtime error: index out of range [3] with length 3"
DB_ERROR = "failed to acquire leader lease: dial tcp 10.0.45.3:5432: connect: connection refused"


def scan(lines, workers=("ClusterManager", "KafkaManager"), patterns=None, samples=None, **kwargs):
    return ls.scan_log(iter(lines), list(workers), compile_error_patterns(patterns), samples, **kwargs)


# -- scan_log ----------------------------------------------------------------------------------------------------
def test_current_and_legacy_prefixes_are_leaders_and_ids_are_kept():
    result = scan(STARTUP + [started("*cluster_mgrs.ClusterManager", CM_ID), started("*workers.KafkaManager", KM_ID)]
                  + NOISE)
    assert result["leaders"] == {"ClusterManager": CM_ID, "KafkaManager": KM_ID}
    assert result["lost"] == {}
    assert result["ids"][CM_ID] == {"worker": "ClusterManager", "state": "leading"}
    assert result["errors"]["total"] == 0
    assert result["lines"] == len(STARTUP) + 2 + len(NOISE)


def test_legacy_cluster_manager_as_the_old_sop_greps_it():
    result = scan([started("*workers.ClusterManager", CM_ID)])
    assert result["leaders"] == {"ClusterManager": CM_ID}


def test_accepted_kafka_manager_is_not_a_kafka_manager_leader():
    result = scan([started("*kafka_mgrs.AcceptedKafkaManager", AK_ID),
                   started("*kafka_mgrs.PreparingKafkaManager", KM_ID2)])
    assert result["leaders"] == {}
    # Asked for, it is found, under its own name only.
    result = scan([started("*kafka_mgrs.AcceptedKafkaManager", AK_ID)],
                  workers=["AcceptedKafkaManager", "KafkaManager"])
    assert result["leaders"] == {"AcceptedKafkaManager": AK_ID}


def test_stop_lines_end_the_leadership():
    result = scan([started("*cluster_mgrs.ClusterManager", CM_ID), started("*kafka_mgrs.KafkaManager", KM_ID)]
                  + NOISE + [stopped("*cluster_mgrs.ClusterManager", CM_ID),
                             stopped("*kafka_mgrs.KafkaManager", KM_ID, how="Terminating")])
    assert result["leaders"] == {}
    assert result["lost"] == {"ClusterManager": CM_ID, "KafkaManager": KM_ID}
    assert result["ids"][CM_ID]["state"] == "stopped"


def test_a_stop_of_another_worker_does_not_end_the_leadership():
    result = scan([started("*kafka_mgrs.KafkaManager", KM_ID),
                   stopped("*kafka_mgrs.AcceptedKafkaManager", AK_ID)])
    assert result["leaders"] == {"KafkaManager": KM_ID}


def test_leadership_taken_again_after_a_stop_counts():
    result = scan([started("*cluster_mgrs.ClusterManager", CM_ID), stopped("*cluster_mgrs.ClusterManager", CM_ID),
                   started("*cluster_mgrs.ClusterManager", CM_ID)])
    assert result["leaders"] == {"ClusterManager": CM_ID}
    assert result["lost"] == {}


def test_reconciler_lines_name_ids_without_leadership():
    result = scan([glog("Initial reconciliation loop for *cluster_mgrs.ClusterManager [%s]" % CM_ID2,
                        source="reconciler.go:54")])
    assert result["leaders"] == {}
    assert result["ids"][CM_ID2] == {"worker": "ClusterManager", "state": "mentioned"}


def test_errors_are_counted_by_category_and_bytes_are_utf8():
    lines = [glog(OCM_ERROR % XID, "E", "clusters_mgr.go:312"), glog(API_ERROR, "E", "api_server.go:142"),
             glog(DB_ERROR, "E", "leader_election_mgr.go:77"),
             glog("java.lang.IllegalStateException from the sidecar"),  # default pattern, I line
             glog("café Error here")]
    result = scan(lines)
    assert result["errors"]["total"] == 5
    assert result["errors"]["by_category"] == {"kafka": 0, "ocm": 1, "database": 1, "manager_api": 1, "other": 2}
    assert result["bytes"] == sum(len(line.encode("utf-8")) + 1 for line in lines)
    only_glog = scan(lines, patterns=[])
    assert only_glog["errors"]["total"] == 3
    custom = scan(lines, patterns=["café"])
    assert custom["errors"]["total"] == 4


def test_scan_reads_a_generator_once():
    consumed = []

    def lines():
        for line in [started("*cluster_mgrs.ClusterManager", CM_ID)] + NOISE:
            consumed.append(line)
            yield line

    result = ls.scan_log(lines(), ["ClusterManager"], None)
    assert result["lines"] == len(consumed) == 3


# -- samples -----------------------------------------------------------------------------------------------------
def test_samples_are_deduplicated_by_signature_and_bounded_per_category():
    samples = ls.Samples(2)
    lines = [glog(OCM_ERROR % ("cq4n7v2bv1k5s0r8a%03d" % i), "E", "clusters_mgr.go:312") for i in range(7)]
    lines += [glog("ocm client: failed to create addon installation on cluster %s: status 500" % XID, "E"),
              glog("failed to get cluster status for %s from ocm: timeout" % XID, "E"),
              glog(STRIMZI_ERROR % (XID, XID), "E")]
    scan(lines, samples=samples, pod="p1")
    scan([glog(OCM_ERROR % XID, "E", "clusters_mgr.go:312")], samples=samples, pod="p2", previous=True)
    got = samples.as_list()
    assert [s["category"] for s in got] == ["kafka", "ocm", "ocm"]
    first = got[1]
    assert first["count"] == 8 and first["pods"] == ["p1", "p2"]
    assert first["pod"] == "p1" and first["previous"] is False and first["first_line_no"] == 1
    assert first["container"] == "service"
    assert got[2]["count"] == 1 and "addon installation" in got[2]["message"]
    assert len(ls.Samples(0).as_list()) == 0


def test_samples_with_zero_max_keep_none_but_count_all():
    samples = ls.Samples(0)
    result = scan([glog(API_ERROR, "E")] * 3, samples=samples)
    assert samples.as_list() == [] and result["errors"]["total"] == 3


def test_long_messages_are_cut():
    samples = ls.Samples(5)
    scan([glog("Error " + "x" * 2000, "E")], samples=samples)
    assert len(samples.as_list()[0]["message"]) == ls.MAX_MESSAGE_CHARS


# -- options -----------------------------------------------------------------------------------------------------
def test_workers_are_validated_and_normalized():
    assert ls.normalize_workers(["*cluster_mgrs.ClusterManager", "ClusterManager", "KafkaManager"]) == \
        ["ClusterManager", "KafkaManager"]
    with pytest.raises(FleetError) as exc:
        ls.normalize_workers(["ClusterManager", "ConnectorManager"])
    assert "unknown worker(s) ConnectorManager" in exc.value.msg and "AcceptedKafkaManager" in exc.value.msg


def test_bad_regex_is_named():
    with pytest.raises(FleetError) as exc:
        ls.compile_errors(["Error", "(unclosed"])
    assert "'(unclosed' is not a valid regular expression" in exc.value.msg
    assert ls.compile_errors([]) is None


@pytest.mark.parametrize("pattern, hint", [
    (r"\bError\b", "Error"), (r"[Ee]xception", "xception"), (r"\bpanic\b", "panic"), (r"time\.out", "time.out"),
    (r"[^]]abc", "abc"), (r"foo\\bar", "foo\\bar"), ("connection refused", "connection refused"),
    (r"Err(or)?", None), (r"a|bcd", None), (r"\x41BC", None), (r"fail\w", None), (r"(?i)error", None), ("ab", None),
    (r"[\]]abcd", None), (r"^E", None), (r"pq: .*closed", None),
])
def test_literal_hint_is_a_substring_every_match_has(pattern, hint):
    assert ls.literal_hint(pattern) == hint


def test_hinted_matcher_answers_as_the_regex():
    lines = [glog(OCM_ERROR % XID, "E"), glog("an Error here"), glog("ERRORS everywhere"), glog("NullPointerException"),
             glog("kernel panic"), glog("panicked"), glog("nothing to see"), glog("time.out and timeXout"),
             glog("pq: connection closed"), ""] + NOISE + STARTUP
    for patterns in (None, ["time\\.out"], ["pq: .*closed", "\\bError\\b"], [r"[Ee]xception", "timeXout"]):
        matcher = ls.compile_errors(patterns)
        plain = compile_error_patterns(patterns)
        assert [bool(matcher.search(line)) for line in lines] == [bool(plain.search(line)) for line in lines]
    assert ls.compile_errors(None).hints == ("Error", "ERROR", "xception", "panic")
    assert ls.compile_errors(["pq: .*closed", "Error"]).hints is None


def test_label_selector_of_a_deployment():
    dep = {"spec": {"selector": {"matchLabels": {"app": "kas-fleet-manager", "tier": "api"},
                                 "matchExpressions": [{"key": "env", "operator": "In", "values": ["stage", "prod"]},
                                                      {"key": "canary", "operator": "DoesNotExist"}]}}}
    assert selector_of(dep) == "app=kas-fleet-manager,tier=api,env in (stage,prod),!canary"


# -- gathering and leases ----------------------------------------------------------------------------------------
def fleet(logs, previous=None, workers=("ClusterManager", "KafkaManager"), restarts=None):
    scan_ = ls.FleetScan(list(workers), compile_error_patterns(), 5)
    for name in sorted(logs):
        entry = scan_.add_pod({"name": name, "phase": "Running", "ready": True,
                               "restarts": (restarts or {}).get(name, 0)})
        scan_.scan(entry, iter(logs[name]), "service")
        if previous and name in previous:
            scan_.scan(entry, iter(previous[name]), "service", previous=True)
    return scan_


def lease(lease_type, leader, live=True):
    return {"lease_type": lease_type, "leader": leader, "live": live,
            "expires": datetime.datetime(2026, 11, 25, 4, 0, 45, tzinfo=datetime.timezone.utc)}


def test_two_cluster_leaders_are_duplicated_and_the_previous_log_counts_only_errors():
    scan_ = fleet({"a": [started("*cluster_mgrs.ClusterManager", CM_ID), started("*kafka_mgrs.KafkaManager", KM_ID)],
                   "b": [started("*cluster_mgrs.ClusterManager", CM_ID2)],
                   "c": NOISE},
                  previous={"c": [started("*cluster_mgrs.ClusterManager", "aaaaaaaa-0000-4000-8000-000000000000"),
                                  glog(API_ERROR, "E"), glog("panic: runtime error: nil pointer dereference", "F")]},
                  restarts={"c": 3})
    result = scan_.result()
    assert result["duplicated"] == ["ClusterManager"] and result["missing"] == [] and not result["healthy"]
    assert result["workers"]["ClusterManager"]["leaders"] == ["a", "b"]
    assert result["workers"]["ClusterManager"]["worker_ids"] == [CM_ID, CM_ID2]
    assert result["workers"]["KafkaManager"] == {"leaders": ["a"], "count": 1, "worker_ids": [KM_ID],
                                                 "lease_type": "general_kafka_worker", "lease": None, "agree": None}
    assert result["errors"]["by_pod"]["c"] == {"total": 2, "previous": 2, "by_category": {
        "kafka": 0, "ocm": 0, "database": 0, "manager_api": 2, "other": 0}}
    assert result["errors"]["by_pod"]["a"]["total"] == 0
    assert [p["leads"] for p in result["pods"]] == [["ClusterManager", "KafkaManager"], ["ClusterManager"], []]
    assert result["scanned"]["pods"] == 3 and len(result["scanned"]["logs"]) == 4
    assert result["scanned"]["logs"][-1] == {"pod": "c", "container": "service", "previous": True,
                                             "bytes": result["scanned"]["logs"][-1]["bytes"], "lines": 3}
    assert result["sources"] == {"log": {"ClusterManager": ["a", "b"], "KafkaManager": ["a"]}, "leases": None,
                                 "database": None}
    assert result["disagreements"] == []


def test_leases_agree_with_the_logs():
    scan_ = fleet({"a": [started("*cluster_mgrs.ClusterManager", CM_ID), started("*kafka_mgrs.KafkaManager", KM_ID)],
                   "b": NOISE})
    result = scan_.result([lease("cluster", CM_ID), lease("general_kafka_worker", KM_ID)], "options")
    assert result["disagreements"] == []
    cm = result["workers"]["ClusterManager"]
    assert cm["agree"] is True
    assert cm["lease"] == {"lease_type": "cluster", "exists": True, "leader": CM_ID,
                           "expires": "2026-11-25T04:00:45+00:00", "live": True, "pod": "a", "log_state": "leading"}
    assert result["sources"]["leases"]["KafkaManager"] == {"leader": KM_ID, "live": True, "pod": "a"}
    assert result["sources"]["database"] == "options"


def test_lease_held_by_an_id_no_pod_logs():
    scan_ = fleet({"a": [started("*cluster_mgrs.ClusterManager", CM_ID)]})
    result = scan_.result([lease("cluster", CM_ID2), lease("general_kafka_worker", KM_ID, live=False)])
    kinds = dict((d["worker"], d) for d in result["disagreements"])
    assert kinds["ClusterManager"]["kind"] == "lease_holder_not_log_leader"
    assert "no scanned pod log shows" in kinds["ClusterManager"]["message"]
    assert kinds["ClusterManager"]["log_leaders"] == ["a"] and kinds["ClusterManager"]["lease_pod"] is None
    assert "KafkaManager" not in kinds  # no log leader, expired lease: they agree
    assert result["workers"]["KafkaManager"]["agree"] is True
    assert result["workers"]["ClusterManager"]["agree"] is False


def test_lease_live_but_no_log_leader_and_the_stopped_pod_is_named():
    scan_ = fleet({"a": [started("*cluster_mgrs.ClusterManager", CM_ID), stopped("*cluster_mgrs.ClusterManager", CM_ID)],
                   "b": NOISE})
    result = scan_.result([lease("cluster", CM_ID)])
    (found,) = [d for d in result["disagreements"] if d["worker"] == "ClusterManager"]
    assert found["kind"] == "lease_live_no_log_leader"
    assert "pod a, whose log says it stopped being leader" in found["message"]
    assert result["workers"]["ClusterManager"]["lease"]["log_state"] == "stopped"
    # KafkaManager: no row at all and no log leader: agree, lease marked as not existing.
    assert result["workers"]["KafkaManager"]["lease"]["exists"] is False
    assert result["workers"]["KafkaManager"]["agree"] is True


def test_lease_of_a_restarted_container():
    scan_ = fleet({"c": NOISE}, previous={"c": [started("*cluster_mgrs.ClusterManager", CM_ID)]}, restarts={"c": 1})
    result = scan_.result([lease("cluster", CM_ID)])
    cm = result["workers"]["ClusterManager"]
    assert cm["count"] == 0 and cm["lease"]["pod"] == "c" and cm["lease"]["log_state"] == "previous_container"
    assert "previous (restarted) container of pod c" in result["disagreements"][0]["message"]


def test_log_leader_but_lease_expired_or_missing_or_extra():
    scan_ = fleet({"a": [started("*cluster_mgrs.ClusterManager", CM_ID), started("*kafka_mgrs.KafkaManager", KM_ID)],
                   "b": [started("*kafka_mgrs.KafkaManager", KM_ID2)]})
    result = scan_.result([lease("cluster", CM_ID, live=False), lease("general_kafka_worker", KM_ID),
                           lease("general_kafka_worker", CM_ID2, live=False)])
    kinds = dict((d["worker"], d["kind"]) for d in result["disagreements"])
    assert kinds == {"ClusterManager": "log_leader_lease_expired", "KafkaManager": "extra_log_leaders"}
    assert "also say they run the KafkaManager leader" in [d for d in result["disagreements"]
                                                           if d["worker"] == "KafkaManager"][0]["message"]
    result = scan_.result([])
    assert set(d["kind"] for d in result["disagreements"]) == {"log_leader_no_lease"}


# -- the module over a fake API ----------------------------------------------------------------------------------
def pod_object(name, restarts=0, ready=True, containers=("service", "envoy-sidecar"), phase="Running"):
    return {"metadata": {"name": name, "labels": {"app": "kas-fleet-manager"}},
            "spec": {"containers": [{"name": c} for c in containers]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [{"name": c, "restartCount": restarts if c == "service" else 0}
                                             for c in containers]}}


DEPLOYMENT = {"metadata": {"name": "kas-fleet-manager"},
              "spec": {"selector": {"matchLabels": {"app": "kas-fleet-manager"}}}}


class FakeKube(object):
    """The Kube methods leader_check uses, answering as the API would (FleetError with status on failures)."""

    host = "https://api.example:6443"

    def __init__(self, pods, logs, previous=None, deployment=True, namespaces=(NS,), log_errors=None,
                 secret=None):
        self.pods, self.logs, self.previous = pods, logs, previous or {}
        self.deployment = DEPLOYMENT if deployment is True else deployment
        self.namespaces = namespaces
        self.log_errors = log_errors or {}
        self.secret = secret
        self.calls = []

    def read_namespace(self, namespace):
        self.calls.append(("read_namespace", namespace))
        if namespace not in self.namespaces:
            raise FleetError("cannot read namespace %s: not found (404)" % namespace, status=404)
        return {"metadata": {"name": namespace}}

    def read_deployment(self, namespace, name):
        self.calls.append(("read_deployment", namespace, name))
        if namespace not in self.namespaces or self.deployment is None or name != "kas-fleet-manager":
            return None
        return self.deployment

    def list_pods(self, namespace, label_selector=None):
        self.calls.append(("list_pods", namespace, label_selector))
        return list(self.pods) if namespace in self.namespaces else []

    def stream_log(self, namespace, pod, container, previous=False, since_seconds=None, tail_lines=None,
                   limit_bytes=None):
        self.calls.append(("stream_log", pod, container, previous, since_seconds, tail_lines, limit_bytes))
        error = self.log_errors.get((pod, previous))
        if error:
            raise error
        source = self.previous if previous else self.logs
        if pod not in source:
            raise FleetError("previous terminated container %s in pod %s not found" % (container, pod), status=400)
        return (line for line in source[pod])

    def read_secret_data(self, namespace, name):
        if self.secret is None:
            raise FleetError("cannot read secret %s/%s: forbidden (403): secrets is forbidden" % (namespace, name),
                             status=403)
        return dict(self.secret)


def run(args, kube, monkeypatch, capsys):
    monkeypatch.setattr(m, "Kube", lambda params: kube)
    # AnsibleModule keeps warnings in a module-level collection: start each run without the previous ones.
    getattr(warnings, "_global_warnings", []).clear()
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            m.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def warning_text(result):
    """Every warning's text (ansible-core 2.19 returns warnings as structures, older versions as strings)."""
    return json.dumps(result.get("warnings") or [])


def healthy_logs():
    return {PODS[0]: STARTUP + [started("*cluster_mgrs.ClusterManager", CM_ID),
                                started("*kafka_mgrs.KafkaManager", KM_ID)] + NOISE,
            PODS[1]: STARTUP + NOISE + [glog(OCM_ERROR % XID, "E", "clusters_mgr.go:312")],
            PODS[2]: STARTUP + NOISE}


def test_module_healthy_with_window_and_previous_log(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0]), pod_object(PODS[1], restarts=2), pod_object(PODS[2])], healthy_logs(),
                    previous={PODS[1]: [glog(DB_ERROR, "E"), started("*cluster_mgrs.ClusterManager", CM_ID2)]})
    args = {"namespace": NS, "since_seconds": 7200, "tail_lines": 5000, "limit_bytes": 10485760}
    result = run(args, kube, monkeypatch, capsys)[0]
    assert result["changed"] is False and result["healthy"] is True
    assert result["missing"] == [] and result["duplicated"] == []
    assert result["selector"] == "app=kas-fleet-manager"
    assert ("list_pods", NS, "app=kas-fleet-manager") in kube.calls
    assert ("stream_log", PODS[1], "service", True, 7200, 5000, 10485760) in kube.calls
    assert not any(c[0] == "stream_log" and c[3] for c in kube.calls if c[1] != PODS[1])
    assert result["workers"]["ClusterManager"]["leaders"] == [PODS[0]]
    assert result["errors"]["by_category"]["ocm"] == 1 and result["errors"]["by_category"]["database"] == 1
    assert result["errors"]["by_pod"][PODS[1]]["previous"] == 1
    assert result["pods"][0]["name"] == PODS[1]  # sorted by name
    assert result["unreadable"] == [] and result["disagreements"] == []
    assert "warnings" not in result


def test_module_unreadable_pod_is_reported_not_failed(monkeypatch, capsys):
    waiting = FleetError('cannot read the log of container service in pod %s/%s: the Kubernetes API answered 400: '
                         'container "service" in pod "%s" is waiting to start: ContainerCreating'
                         % (NS, PODS[2], PODS[2]), status=400)
    kube = FakeKube([pod_object(p) for p in PODS], healthy_logs(), log_errors={(PODS[2], False): waiting})
    result = run({"namespace": NS, "_ansible_check_mode": True}, kube, monkeypatch, capsys)[0]
    assert result["healthy"] is True and result["changed"] is False
    assert result["unreadable"] == [{"pod": PODS[2], "container": "service", "previous": False,
                                     "reason": waiting.msg, "status": 400}]
    assert result["scanned"]["pods"] == 2


def test_module_forbidden_pod_logs_names_the_permission(monkeypatch, capsys):
    denied = FleetError("cannot read the log of container service in pod x: forbidden (403): pods \"x\" is forbidden",
                        status=403)
    kube = FakeKube([pod_object(PODS[0])], healthy_logs(), log_errors={(PODS[0], False): denied})
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert result["failed"] is True
    assert "the credentials need get pods/log in namespace %s" % NS in result["msg"]
    assert result["permission"] == "get pods/log" and result["status"] == 403


def test_module_missing_deployment_and_namespace(monkeypatch, capsys):
    kube = FakeKube([], {}, deployment=None)
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert result["msg"] == ("deployment kas-fleet-manager not found in namespace %s; give label_selector to pick "
                             "pods directly" % NS)
    result = run({"namespace": "nope"}, kube, monkeypatch, capsys)[0]
    assert result["failed"] and result["msg"].startswith("namespace nope not found")
    result = run({"namespace": "nope", "label_selector": "app=x"}, kube, monkeypatch, capsys)[0]
    assert result["failed"] and result["msg"].startswith("namespace nope not found")


def test_module_no_pods_is_no_leader(monkeypatch, capsys):
    kube = FakeKube([], {})
    result = run({"namespace": NS, "label_selector": "app=kas-fleet-manager"}, kube, monkeypatch, capsys)[0]
    assert result["missing"] == ["ClusterManager", "KafkaManager"] and not result["healthy"]
    assert "no pod matches app=kas-fleet-manager" in warning_text(result)
    assert not any(c[0] == "read_deployment" for c in kube.calls)


def test_module_window_warns_when_leaders_are_missing(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0])], {PODS[0]: NOISE})
    result = run({"namespace": NS, "tail_lines": 100}, kube, monkeypatch, capsys)[0]
    assert "tail_lines may have cut the 'Running as the leader' line" in warning_text(result)
    assert "no pod matches" not in warning_text(result)


def test_module_container_missing_everywhere_fails(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0], containers=("app",))], {})
    result = run({"namespace": NS}, kube, monkeypatch, capsys)[0]
    assert result["msg"] == "no pod has a container named service (container); the pods' containers are: app"


@pytest.mark.parametrize("args, message", [
    ({"error_patterns": ["Error", "[unclosed"]}, "error_patterns: '[unclosed' is not a valid regular expression"),
    ({"workers": ["ClusterManager", "Foo"]}, "workers: unknown worker(s) Foo; the leader-elected workers"),
    ({"max_samples": 101}, "max_samples must be between 0 and 100, got 101"),
    ({"since_seconds": 0}, "since_seconds must be at least 1, got 0"),
    ({"label_selector": "app=x", "deployment": "other"}, "parameters are mutually exclusive: deployment|label_selector"),
])
def test_module_refuses_bad_options(args, message, monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0])], healthy_logs())
    params = {"namespace": NS}
    params.update(args)
    result = run(params, kube, monkeypatch, capsys)[0]
    assert result["failed"] is True
    assert message in result["msg"]
    assert "exception" not in result
    assert not any(c[0] == "stream_log" for c in kube.calls)


class FakeConn(object):
    def __init__(self):
        self.closed = False
        self.rolled_back = False

    def rollback(self):
        self.rolled_back = True

    def close(self):
        self.closed = True


def test_module_with_the_database_from_the_secret(monkeypatch, capsys):
    seen = {}
    conn = FakeConn()

    def connect(settings, params):
        seen["settings"] = settings
        return conn

    def query(conn_, statement, args=None, settings=None, what=""):
        seen["query"] = (statement, args)
        return [lease("cluster", CM_ID), lease("general_kafka_worker", KM_ID2)]

    monkeypatch.setattr(db, "connect", connect)
    monkeypatch.setattr(db, "query", query)
    secret = {"db.host": "db.example", "db.port": "5432", "db.name": "kas-fleet-manager", "db.user": "kas_runbook",
              "db.password": "Pw-never-print-7f3b"}
    kube = FakeKube([pod_object(p) for p in PODS], healthy_logs(), secret=secret)
    result, raw = run({"namespace": NS, "db_secret": "kas-fleet-manager-rds"}, kube, monkeypatch, capsys)
    assert seen["query"] == (ls.LEASE_QUERY, (["cluster", "general_kafka_worker"],))
    assert "lease_type = ANY(%s)" in ls.LEASE_QUERY
    assert seen["settings"]["host"] == "db.example"
    assert conn.rolled_back and conn.closed
    assert "Pw-never-print-7f3b" not in raw
    assert result["sources"]["database"] == "secret %s/kas-fleet-manager-rds" % NS
    assert result["workers"]["ClusterManager"]["agree"] is True
    assert result["workers"]["KafkaManager"]["agree"] is False
    assert [d["kind"] for d in result["disagreements"]] == ["lease_holder_not_log_leader"]
    assert result["healthy"] is True


def test_module_db_secret_forbidden_is_plain(monkeypatch, capsys):
    kube = FakeKube([pod_object(PODS[0])], healthy_logs(), secret=None)
    result = run({"namespace": NS, "db_secret": "kas-fleet-manager-rds"}, kube, monkeypatch, capsys)[0]
    assert result["failed"] and "need get on secrets in %s to read kas-fleet-manager-rds" % NS in result["msg"]
    assert result["permission"] == "get secrets"


def test_module_db_login_failure_is_plain(monkeypatch, capsys):
    def connect(settings, params):
        raise FleetError("cannot connect to database kas-fleet-manager at db.example:5432 as kas_runbook: password "
                         "authentication failed", reason="auth_failed")

    monkeypatch.setattr(db, "connect", connect)
    kube = FakeKube([pod_object(PODS[0])], healthy_logs())
    result, raw = run({"namespace": NS, "login_host": "db.example", "login_user": "kas_runbook",
                       "login_password": "Pw-never-print-7f3b"}, kube, monkeypatch, capsys)
    assert result["failed"] and result["reason"] == "auth_failed"
    assert "Pw-never-print-7f3b" not in raw
    assert not any(c[0] == "stream_log" for c in kube.calls)  # fails before reading any log


def test_mentions_collect_the_lines_naming_each_id():
    from ansible_collections.kas.fleet_manager.plugins.module_utils import leader_scan as ls
    lines = ["I1129 03:00:00.000000       1 kafka.go:10] reconciling kafka request c0ffee00000000000001 in provisioning",
             "E1129 03:00:01.000000       1 kafka.go:11] failed to reconcile provisioning kafka c0ffee00000000000001: x",
             "I1129 03:00:02.000000       1 kafka.go:12] nothing to see"]
    lines += ["I1129 03:00:03.000000       1 kafka.go:13] c0ffee00000000000001 again %d" % i for i in range(10)]
    scan = ls.FleetScan(["KafkaManager"], ls.compile_errors(None), 5,
                        mentions=["c0ffee00000000000001", "c0ffee0000000000000a"])
    entry = scan.add_pod({"name": "p1", "phase": "Running", "ready": True, "restarts": 0})
    scan.scan(entry, iter(lines), "service")
    found = scan.result()["mentions"]
    assert [m["line"] for m in found["c0ffee00000000000001"]] == [1, 2, 4, 5, 6]
    assert found["c0ffee00000000000001"][1]["text"].startswith("E1129") and found["c0ffee0000000000000a"] == []
    assert ls.compile_mentions([]) is None
