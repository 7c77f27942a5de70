# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.leader_scan: the log scan on literal upstream log lines (glog headers, the leader election lines of
pkg/workers/leader_election_mgr.go with old and current Go package prefixes), the gathering over pods and the lease
triangulation. The service over a fake Kubernetes API and database is tested with the module, in
tests/unit/plugins/modules/test_leader_check.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import leader_scan as ls
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import compile_error_patterns
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fleet_logs import (
    AK_ID, API_ERROR, CM_ID, CM_ID2, DB_ERROR, KM_ID, KM_ID2, NOISE, OCM_ERROR, STARTUP, STRIMZI_ERROR, XID, glog, lease,
    started, stopped)


def scan(lines, workers=("ClusterManager", "KafkaManager"), patterns=None, samples=None, **kwargs):
    return ls.scan_log(iter(lines), list(workers), compile_error_patterns(patterns), samples, **kwargs)


# -- scan_log --------------------------------------------------------------------------------------------------------
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


# -- samples ---------------------------------------------------------------------------------------------------------
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


# -- options ---------------------------------------------------------------------------------------------------------
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


# -- gathering and leases --------------------------------------------------------------------------------------------
def fleet(logs, previous=None, workers=("ClusterManager", "KafkaManager"), restarts=None):
    scan_ = ls.FleetScan(list(workers), compile_error_patterns(), 5)
    for name in sorted(logs):
        entry = scan_.add_pod({"name": name, "phase": "Running", "ready": True,
                               "restarts": (restarts or {}).get(name, 0)})
        scan_.scan(entry, iter(logs[name]), "service")
        if previous and name in previous:
            scan_.scan(entry, iter(previous[name]), "service", previous=True)
    return scan_


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
