# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.request_status against a real PostgreSQL holding upstream's clusters and kafka_requests tables (the
``pg`` fixture, tests/unit/plugins/fleet_db.py), read by the runbook's SELECT-only login: the runbook's query, its
thresholds, the samples and the failed rows. Idle minutes are compared to within 0.3 minute."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils import request_status as rs
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.fleet_db import DBNAME, OCM, STRIMZI, params

psycopg2 = pytest.importorskip("psycopg2")


def collect(pg, table, overrides=None, **kwargs):
    settings, _source = db.resolve(params(pg, **kwargs.pop("conn_params", {})))
    conn = db.connect(settings, params(pg))
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        thresholds, _unknown = rs.effective_thresholds(table, overrides)
        return rs.collect(conn, table, thresholds, settings=settings, statement_timeout=15, **kwargs)
    finally:
        conn.rollback()
        conn.close()


def approx(value):
    return pytest.approx(value, abs=0.3)


# -- results -----------------------------------------------------------------------------------------------------------
def test_clusters_counts_thresholds_and_samples(pg):
    r = collect(pg, "clusters")
    assert r["table"] == "clusters"
    assert r["total"] == 17  # the soft-deleted cluster_accepted row is left out
    assert r["soft_deleted"] == 1
    assert r["include_deleted"] is False
    assert r["thresholds"] == {"cluster_accepted": 3, "cluster_provisioning": 45, "cluster_provisioned": 45,
                               "waiting_for_kas_fleetshard_operator": 45, "deprovisioning": 45, "cleanup": 45}
    assert list(r["statuses"]) == ["cluster_accepted", "cluster_provisioning", "cluster_provisioned",
                                   "waiting_for_kas_fleetshard_operator", "ready", "deprovisioning", "cleanup",
                                   "failed"]
    st = r["statuses"]
    assert st["cluster_accepted"] == {"count": 3, "oldest_idle_minutes": approx(25.5), "threshold_minutes": 3,
                                      "over_threshold": 2, "over_long_idle": 0}
    assert st["cluster_provisioning"] == {"count": 8, "oldest_idle_minutes": approx(55.5), "threshold_minutes": 45,
                                          "over_threshold": 7, "over_long_idle": 7}
    assert st["cluster_provisioned"] == {"count": 0, "oldest_idle_minutes": None, "threshold_minutes": 45,
                                         "over_threshold": 0, "over_long_idle": 0}
    assert st["ready"] == {"count": 3, "oldest_idle_minutes": approx(3 * 1440 + 7.5), "threshold_minutes": None,
                           "over_threshold": 0, "over_long_idle": 1}
    assert st["failed"]["count"] == 2 and st["failed"]["threshold_minutes"] is None
    assert st["cleanup"]["over_threshold"] == 1
    assert sum(s["count"] for s in st.values()) == r["total"]
    assert r["accepted_status"] == "cluster_accepted"
    assert r["in_progress_statuses"] == ["cluster_provisioning", "cluster_provisioned",
                                         "waiting_for_kas_fleetshard_operator"]
    assert r["deletion_statuses"] == ["deprovisioning", "cleanup"]
    assert r["checked_at"].endswith("Z")


def test_samples_are_bounded_oldest_first_with_upstream_columns(pg):
    r = collect(pg, "clusters")
    over = r["over_threshold"]
    assert set(over) == set(r["thresholds"])
    assert [s["id"] for s in over["cluster_accepted"]] == ["c-acc-2", "c-acc-1"]
    # 7 provisioning rows past 45 minutes, 5 samples (max_samples), the longest idle first
    assert [s["id"] for s in over["cluster_provisioning"]] == ["c-prov-8", "c-prov-2", "c-prov-1", "c-prov-7",
                                                               "c-prov-6"]
    assert over["cluster_provisioned"] == []
    sample = over["cluster_accepted"][0]
    assert sorted(sample) == sorted(["id", "status", "idle_minutes", "updated_at", "deleted_at", "cluster_id",
                                     "cloud_provider", "region", "provider_type", "cluster_type"])
    assert sample["idle_minutes"] == approx(25.5)
    assert (sample["status"], sample["cluster_id"], sample["region"], sample["cloud_provider"], sample["cluster_type"],
            sample["deleted_at"]) == ("cluster_accepted", "ocm-c-acc-2", "eu-west-1", "aws", "managed", None)
    assert sample["updated_at"].endswith("Z")
    assert [s["id"] for s in collect(pg, "clusters", max_samples=2)["over_threshold"]["cluster_provisioning"]] == [
        "c-prov-8", "c-prov-2"]
    counts_only = collect(pg, "clusters", max_samples=0)
    assert all(v == [] for v in counts_only["over_threshold"].values())
    assert counts_only["statuses"]["cluster_provisioning"]["over_threshold"] == 7


def test_failed_clusters_are_one_group_under_null(pg):
    assert collect(pg, "clusters")["failed_by_reason"] == [
        {"failed_reason": None, "count": 2, "oldest_idle_minutes": approx(21.5), "sample_ids": ["c-failed-2",
                                                                                                "c-failed-1"]}]


def test_runbook_query_result_as_psql_shows_it(pg):
    # Soft-deleted rows included, HH24:MI drops the 3 days of c-ready-3, ordered by status then idle_time.
    assert collect(pg, "clusters")["by_status_idle"] == [
        {"status": "cleanup", "idle_time": "01:00", "count": 1},
        {"status": "cluster_accepted", "idle_time": "00:02", "count": 1},
        {"status": "cluster_accepted", "idle_time": "00:12", "count": 1},
        {"status": "cluster_accepted", "idle_time": "00:25", "count": 1},
        {"status": "cluster_accepted", "idle_time": "00:40", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:10", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:46", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:47", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:48", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:49", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:50", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:52", "count": 1},
        {"status": "cluster_provisioning", "idle_time": "00:55", "count": 1},
        {"status": "failed", "idle_time": "00:20", "count": 1},
        {"status": "failed", "idle_time": "00:21", "count": 1},
        {"status": "ready", "idle_time": "00:01", "count": 2},
        {"status": "ready", "idle_time": "00:07", "count": 1},
    ]


def test_runbook_query_text_matches_the_sop():
    assert rs.RUNBOOK_QUERY % "clusters" == (
        "select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters group by status, "
        "to_char(now() - updated_at,'HH24:MI') order by status, idle_time")


def test_include_deleted_counts_soft_deleted_rows(pg):
    r = collect(pg, "clusters", include_deleted=True)
    assert r["total"] == 18
    assert r["statuses"]["cluster_accepted"]["count"] == 4
    assert r["statuses"]["cluster_accepted"]["over_threshold"] == 3
    deleted = r["over_threshold"]["cluster_accepted"][0]
    assert deleted["id"] == "c-acc-del" and deleted["deleted_at"] is not None


def test_kafkas_failed_grouped_by_reason_and_samples(pg):
    r = collect(pg, "kafka_requests")
    assert r["total"] == 12
    assert r["soft_deleted"] == 1
    assert r["failed_by_reason"] == [
        {"failed_reason": STRIMZI, "count": 3, "oldest_idle_minutes": approx(22.5),
         "sample_ids": ["k-fail-3", "k-fail-2", "k-fail-1"]},
        {"failed_reason": OCM, "count": 1, "oldest_idle_minutes": approx(30.5), "sample_ids": ["k-fail-4"]},
    ]
    assert collect(pg, "kafka_requests", max_samples=1)["failed_by_reason"][0]["sample_ids"] == ["k-fail-3"]
    assert collect(pg, "kafka_requests", include_deleted=True)["failed_by_reason"][0] == {
        "failed_reason": STRIMZI, "count": 4, "oldest_idle_minutes": approx(90.5),
        "sample_ids": ["k-fail-del", "k-fail-3", "k-fail-2", "k-fail-1"]}
    st = r["statuses"]
    assert list(st) == ["accepted", "preparing", "provisioning", "resource_creating", "resuming", "ready",
                        "deprovision", "deleting", "failed"]
    assert st["accepted"] == {"count": 2, "oldest_idle_minutes": approx(50.5), "threshold_minutes": 45,
                              "over_threshold": 1, "over_long_idle": 1}
    assert st["provisioning"]["count"] == 2 and st["provisioning"]["over_threshold"] == 1
    assert st["resource_creating"]["over_threshold"] == 1
    assert st["deleting"]["over_threshold"] == 1
    sample = r["over_threshold"]["provisioning"]
    assert len(sample) == 1
    assert sorted(sample[0]) == sorted(["id", "status", "idle_minutes", "updated_at", "deleted_at", "name",
                                        "cluster_id", "cloud_provider", "region", "owner", "organisation_id",
                                        "instance_type", "failed_reason"])
    assert (sample[0]["id"], sample[0]["name"], sample[0]["owner"], sample[0]["organisation_id"],
            sample[0]["instance_type"], sample[0]["cluster_id"]) == ("k-prov-1", "clicks", "alice", "1234567",
                                                                     "standard", "c-ready-1")
    assert r["in_progress_statuses"] == ["preparing", "provisioning", "resuming", "resource_creating"]
    assert r["deletion_statuses"] == ["deprovision", "deleting"]
    assert r["accepted_status"] == "accepted"


def test_user_thresholds_merge_over_the_runbook(pg):
    r = collect(pg, "clusters", {"cluster_accepted": 20, "ready": 5.5})
    assert r["thresholds"]["cluster_accepted"] == 20
    assert r["thresholds"]["cluster_provisioning"] == 45
    assert r["thresholds"]["ready"] == 5.5
    assert r["statuses"]["cluster_accepted"]["over_threshold"] == 1
    assert [s["id"] for s in r["over_threshold"]["cluster_accepted"]] == ["c-acc-2"]
    assert r["statuses"]["ready"]["over_threshold"] == 1
    assert [s["id"] for s in r["over_threshold"]["ready"]] == ["c-ready-3"]
    assert collect(pg, "clusters", long_idle_minutes=10)["statuses"]["cluster_accepted"]["over_long_idle"] == 2


@pytest.mark.parametrize("value", [0, -3, "abc", None, True, float("nan")])
def test_non_positive_thresholds_are_refused(value):
    with pytest.raises(FleetError, match="thresholds: cluster_accepted must be a (positive )?number"):
        rs.effective_thresholds("clusters", {"cluster_accepted": value})


def test_long_idle_minutes_is_the_default_threshold_of_the_long_idle_statuses():
    thresholds, _unknown = rs.effective_thresholds("clusters", {}, 65)
    assert thresholds["cluster_provisioning"] == 65 and thresholds["cleanup"] == 65
    assert thresholds["cluster_accepted"] == 3  # the restart rule's own figure
    thresholds, _unknown = rs.effective_thresholds("kafka_requests", {"deleting": 90}, 60.5)
    assert thresholds["accepted"] == 60.5 and thresholds["provisioning"] == 60.5 and thresholds["deleting"] == 90


def test_long_idle_minutes_moves_what_counts_as_stuck(pg):
    assert collect(pg, "clusters")["statuses"]["cluster_provisioning"]["over_threshold"] == 7
    thresholds, _unknown = rs.effective_thresholds("clusters", {}, 600)
    settings, _source = db.resolve(params(pg))
    conn = db.connect(settings, params(pg))
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        r = rs.collect(conn, "clusters", thresholds, settings=settings, statement_timeout=15, long_idle_minutes=600)
    finally:
        conn.rollback()
        conn.close()
    assert r["statuses"]["cluster_provisioning"]["threshold_minutes"] == 600
    assert r["statuses"]["cluster_provisioning"]["over_threshold"] == 0


def test_threshold_strings_and_unknown_statuses():
    thresholds, unknown = rs.effective_thresholds("kafka_requests", {"accepted": "10", "bogus": 1})
    assert thresholds["accepted"] == 10 and unknown == ["bogus"]


# -- failures ----------------------------------------------------------------------------------------------------------
def test_missing_table_is_a_clear_error(pg):
    with pytest.raises(FleetError) as err:
        collect(pg, "kafka_requests", conn_params={"db": "postgres"})
    assert err.value.msg.startswith("table kafka_requests does not exist in database postgres")
    assert err.value.details == {"reason": "unknown_table"}


def test_table_without_upstream_columns_is_refused(pg):
    with pytest.raises(FleetError, match="table clusters lacks the column.s. updated_at, deleted_at"):
        collect(pg, "clusters", conn_params={"db": "not-fleet"})


def test_statement_timeout_is_a_clear_error(pg):
    holder = psycopg2.connect(dbname=DBNAME, **pg["admin"])
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE clusters IN ACCESS EXCLUSIVE MODE")
        settings, _source = db.resolve(params(pg))
        conn = db.connect(settings, params(pg, statement_timeout=1))
        started = time.monotonic()
        with pytest.raises(FleetError) as err:
            rs.collect(conn, "clusters", rs.TABLES["clusters"]["thresholds"], settings=settings, statement_timeout=1)
        conn.close()
        assert time.monotonic() - started < 10
        assert err.value.msg == ("cannot count the clusters rows: the query ran past statement_timeout (1 s); raise "
                                 "statement_timeout, or look for locks or load on the database")
        assert err.value.details == {"reason": "statement_timeout"}
    finally:
        holder.rollback()
        holder.close()
