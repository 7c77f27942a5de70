"""The lab database: a real PostgreSQL on 127.0.0.1 with password auth, upstream's schema, scenario seeding that the
runbook's own SQL (run with psql as the read-only runbook role) sees, lease derivation and remediation."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psycopg2
import pytest
import yaml

from fleet_lab import logformat, postgres, scenario as scenario_mod
from fleet_lab.state import alive

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP_ROOT = os.path.join(ROOT, ".work", "tmp")
LAB_DIR = os.path.join(ROOT, "lab")
PSQL = "/usr/bin/psql"
# Verbatim from the SOP (sections OSD Cluster provisioning latency and Kafka Cluster provisioning latency).
SOP_CLUSTERS_SQL = ("select status,  to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters "
                    "group by status, to_char(now() - updated_at,'HH24:MI');")
SOP_KAFKAS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI'), count(1) from kafka_requests group by status, "
                  "to_char(now() - updated_at,'HH24:MI');")


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _tmpdir(prefix):
    os.makedirs(TMP_ROOT, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=TMP_ROOT)


def _scenario(tmp, name, body):
    path = os.path.join(tmp, name + ".yml")
    with open(path, "w") as handle:
        yaml.safe_dump(body, handle)
    return scenario_mod.load(path)


def _postgres_pids(data_dir):
    """PIDs of processes whose command line names ``data_dir`` (the postmaster) or are its children."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmd = handle.read()
        except OSError:
            continue
        if data_dir.encode() in cmd and alive(int(entry)):
            pids.append(int(entry))
    return pids


def _psql(info, role, sql, psql=PSQL, password=None):
    env = dict(os.environ, PGPASSWORD=password if password is not None else info[role]["password"],
               PGCONNECT_TIMEOUT="10")
    env.pop("PGPASSFILE", None)
    return subprocess.run([psql, "-X", "-A", "-t", "-F", "|", "-h", info["host"], "-p", str(info["port"]),
                           "-U", info[role]["user"], "-d", info["dbname"], "-c", sql],
                          env=env, capture_output=True, text=True, timeout=30)


def _groups(output):
    rows = {}
    for line in output.strip().splitlines():
        status, idle, count = line.split("|")
        rows.setdefault(status, {})[idle] = rows.get(status, {}).get(idle, 0) + int(count)
    return rows


def _idle(minutes):
    return ["%02d:%02d" % divmod(m, 60) for m in (minutes, minutes + 1)]


@pytest.fixture(scope="module")
def lab_pg():
    state = _tmpdir("pgtest-")
    pg = postgres.Postgres(state)
    info = None
    try:
        start = time.monotonic()
        info = pg.start()
        print("\npostgres start: %.2f s" % (time.monotonic() - start))
        yield pg, info, state
    finally:
        assert postgres.stop(state)
        if info:
            assert not alive(info["pid"])
        assert _postgres_pids(pg.paths["data"]) == [], "postgres processes left after stop"
        shutil.rmtree(state, ignore_errors=True)


def test_start_returns_connection_details(lab_pg):
    pg, info, _state = lab_pg
    assert info["host"] == "127.0.0.1" and info["dbname"] == "kas-fleet-manager"
    assert info["app"]["user"] == "ocm" and info["runbook"]["user"] == "kas_runbook"
    assert len({info["admin"]["password"], info["app"]["password"], info["runbook"]["password"]}) == 3
    assert alive(info["pid"])
    assert pg.start() == info  # idempotent while running
    with pg.connect("admin") as conn, conn.cursor() as cur:
        cur.execute("SHOW listen_addresses")
        assert cur.fetchone()[0] == "127.0.0.1"
        cur.execute("SELECT rolname, rolsuper FROM pg_roles WHERE rolname IN ('ocm', 'kas_runbook', 'postgres')")
        assert dict(cur.fetchall()) == {"ocm": False, "kas_runbook": False, "postgres": True}
    conn.close()


def test_password_authentication_is_required(lab_pg):
    _pg, info, _state = lab_pg
    for role in ("runbook", "app", "admin"):
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host=info["host"], port=info["port"], dbname=info["dbname"], user=info[role]["user"],
                             password="not-the-password", connect_timeout=10)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=info["host"], port=info["port"], dbname=info["dbname"], user="kas_runbook",
                         password="", connect_timeout=10)
    # psql with a wrong password fails too; with the right one it works
    assert _psql(info, "runbook", "select 1", password="wrong").returncode != 0
    ok = _psql(info, "runbook", "select current_user")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "kas_runbook"


def test_runbook_role_is_read_only(lab_pg):
    pg, info, _state = lab_pg
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW default_transaction_read_only")
            assert cur.fetchone()[0] == "on"
            cur.execute("SELECT count(*) FROM clusters")
        conn.rollback()
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute("INSERT INTO clusters (id, status) VALUES ('x', 'ready')")
        conn.rollback()
        # even when it turns read-only off for its session, it holds no write privilege
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = off")
            for sql in ("INSERT INTO clusters (id, status) VALUES ('x', 'ready')",
                        "UPDATE kafka_requests SET status = 'ready'", "DELETE FROM leader_leases",
                        "CREATE TABLE t (id int)", "TRUNCATE clusters"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(sql)
    finally:
        conn.close()
    denied = _psql(info, "runbook", "insert into kafka_requests (id) values ('x')")
    assert denied.returncode != 0 and "read-only transaction" in denied.stderr


def test_app_owner_owns_the_tables(lab_pg):
    pg, _info, _state = lab_pg
    conn = pg.connect("app")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            owners = dict(cur.fetchall())
            assert {"clusters", "kafka_requests", "leader_leases", "migrations"} <= set(owners)
            assert set(owners.values()) == {"ocm"}
            cur.execute("INSERT INTO clusters (id, status, cluster_id) VALUES ('appwrite', 'ready', 'appwrite')")
            cur.execute("SELECT supported_instance_type, cluster_type, access_kafkas_via_private_network "
                        "FROM clusters WHERE id = 'appwrite'")
            assert cur.fetchone() == ("standard,eval", "managed", False)
        conn.rollback()
    finally:
        conn.close()


def test_schema_matches_upstream(lab_pg):
    pg, _info, _state = lab_pg
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name, column_name, data_type, column_default FROM information_schema.columns "
                        "WHERE table_schema = 'public'")
            cols = {(t, c): (d, default) for t, c, d, default in cur.fetchall()}
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            indexes = dict(cur.fetchall())
    finally:
        conn.close()
    for table in ("clusters", "kafka_requests", "leader_leases"):
        assert cols[(table, "id")][0] == "text"
        for ts in ("created_at", "updated_at", "deleted_at"):
            assert cols[(table, ts)][0] == "timestamp with time zone"
        assert "idx_%s_deleted_at" % table in indexes
    assert [c for t, c in cols if t == "clusters"] and set(postgres.CLUSTER_COLUMNS) == {
        c for t, c in cols if t == "clusters"}
    assert set(postgres.KAFKA_COLUMNS) == {c for t, c in cols if t == "kafka_requests"}
    assert cols[("kafka_requests", "organisation_id")][0] == "text"
    assert cols[("kafka_requests", "routes")][0] == "jsonb"
    assert cols[("clusters", "available_strimzi_versions")][0] == "jsonb"
    assert cols[("kafka_requests", "multi_az")] == ("boolean", "false")
    assert cols[("kafka_requests", "reauthentication_enabled")] == ("boolean", "true")
    assert cols[("kafka_requests", "expires_at")][0] == "timestamp with time zone"
    assert cols[("leader_leases", "expires")][0] == "timestamp with time zone"
    assert "UNIQUE" in indexes["uix_clusters_cluster_id"]
    for name in ("idx_clusters_cluster_id", "idx_clusters_status", "idx_clusters_supported_instance_type",
                 "idx_kafka_requests_cluster_id", "idx_kafka_requests_name", "idx_kafka_requests_status",
                 "idx_kafka_requests_owner", "idx_kafka_requests_organisation_id"):
        assert name in indexes
    assert ("clusters", "failed_reason") not in cols and ("clusters", "instance_type") not in cols


def test_runbook_sql_returns_the_scenario_rows(lab_pg):
    pg, info, _state = lab_pg
    tmp = _tmpdir("pgscn-")
    try:
        s = _scenario(tmp, "stuck_mix", {
            "database": {
                "clusters": [
                    {"status": "cluster_accepted", "idle_minutes": 12, "count": 2, "region": "eu-west-1",
                     "cloud_provider": "aws"},
                    {"status": "cluster_provisioning", "idle_minutes": 65},
                    {"status": "failed", "idle_minutes": 30, "deleted": True},
                ],
                "kafka_requests": [
                    {"status": "accepted", "idle_minutes": 4, "count": 2},
                    {"status": "provisioning", "idle_minutes": 75, "count": 3, "region": "us-east-1"},
                    {"status": "failed", "idle_minutes": 20, "failed_reason": "strimzi: Kafka resource not ready"},
                ],
            },
        })
        counts = pg.seed(s, _utcnow(), pods=s["pods"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert counts == {"clusters": 3 + 4, "kafka_requests": 12 + 6, "leader_leases": len(postgres.LEASE_TYPES)}
    for psql in (PSQL, str(postgres._PG_BIN / "psql")):  # the system psql 15 and the wheel's own
        out = _psql(info, "runbook", SOP_CLUSTERS_SQL, psql=psql)
        assert out.returncode == 0, out.stderr
        groups = _groups(out.stdout)
        assert sum(groups["ready"].values()) == 3
        assert all(idle in ("00:00", "00:01", "00:02", "00:03", "00:04", "00:05") for idle in groups["ready"])
        assert len(groups["cluster_accepted"]) == 1
        [(idle, count)] = groups["cluster_accepted"].items()
        assert idle in _idle(12) and count == 2
        [(idle, count)] = groups["cluster_provisioning"].items()
        assert idle in _idle(65) and count == 1
        # the runbook's SQL has no deleted_at filter: soft-deleted rows show up in it
        [(idle, count)] = groups["failed"].items()
        assert idle in _idle(30) and count == 1
    out = _psql(info, "runbook", SOP_KAFKAS_SQL)
    assert out.returncode == 0, out.stderr
    groups = _groups(out.stdout)
    assert sum(groups["ready"].values()) == 12
    [(idle, count)] = groups["accepted"].items()
    assert idle in _idle(4) and count == 2
    [(idle, count)] = groups["provisioning"].items()
    assert idle in _idle(75) and count == 3
    [(idle, count)] = groups["failed"].items()
    assert idle in _idle(20) and count == 1
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM clusters WHERE status = 'failed' AND deleted_at IS NULL")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT failed_reason, region FROM kafka_requests WHERE status = 'failed'")
            assert cur.fetchone()[0] == "strimzi: Kafka resource not ready"
            cur.execute("SELECT DISTINCT region FROM kafka_requests WHERE status = 'provisioning'")
            assert cur.fetchall() == [("us-east-1",)]
            cur.execute("SELECT DISTINCT region, cloud_provider FROM clusters WHERE status = 'cluster_accepted'")
            assert cur.fetchall() == [("eu-west-1", "aws")]
            # ids are xids: 20 characters of [0-9a-v]; kafkas sit on ready clusters
            cur.execute("SELECT count(*) FROM kafka_requests WHERE id !~ '^[0-9a-v]{20}$'")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT count(*) FROM kafka_requests k WHERE status = 'ready' AND NOT EXISTS "
                        "(SELECT 1 FROM clusters c WHERE c.cluster_id = k.cluster_id AND c.status = 'ready')")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT DISTINCT instance_type FROM kafka_requests ORDER BY 1")
            assert [r[0] for r in cur.fetchall()] == ["developer", "standard"]
    finally:
        conn.close()


def test_seed_replaces_rows_and_rejects_unknown_columns(lab_pg):
    pg, _info, _state = lab_pg
    tmp = _tmpdir("pgscn-")
    try:
        healthy = _scenario(tmp, "plain", {})
        bad = _scenario(tmp, "bad", {"database": {"clusters": [{"status": "failed", "failed_reason": "x"}]}})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pg.seed(healthy, _utcnow())
    with pytest.raises(scenario_mod.ScenarioError, match="failed_reason"):
        pg.seed(bad, _utcnow())
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status, count(*) FROM clusters GROUP BY 1")
            assert cur.fetchall() == [("ready", 3)]  # the failed seed left the previous rows intact
    finally:
        conn.close()


def _leases(pg):
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT lease_type, leader, expires > now(), deleted_at IS NOT NULL, expires "
                        "FROM leader_leases")
            return {row[0]: row[1:] for row in cur.fetchall()}
    finally:
        conn.close()


def test_leases_derived_from_pods(lab_pg):
    pg, _info, _state = lab_pg
    s = scenario_mod.load("osd_no_leader")  # pod 0 leads 7 workers and lost ClusterManager
    pg.seed(s, _utcnow(), pods=s["pods"])
    leases = _leases(pg)
    assert set(leases) == set(postgres.LEASE_TYPES) and len(postgres.LEASE_TYPES) == 15
    pod0 = s["pods"][0]["name"]
    assert leases["general_kafka_worker"][:2] == (logformat.worker_uuid(pod0, "KafkaManager"), True)
    assert leases["accepted_kafka"][:2] == (logformat.worker_uuid(pod0, "AcceptedKafkaManager"), True)
    assert leases["cluster"][:2] == (logformat.worker_uuid(pod0, "ClusterManager"), False)  # lost: expired
    assert leases["failed_kafka"][1] is False and leases["failed_kafka"][3].year == 2021
    for lease in ("dynamic_scale_up", "cleanup_clusters", "kafka_dns"):  # nobody leads them here
        assert leases[lease][1] is False
    # a crash-looping leader cannot renew its lease
    tmp = _tmpdir("pgscn-")
    try:
        s = _scenario(tmp, "dead_leader", {"pods": [{"state": "crashloop", "leads": ["ClusterManager"]},
                                                    {"leads": ["KafkaManager"]}]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pg.seed(s, _utcnow(), pods=s["pods"])
    leases = _leases(pg)
    assert leases["cluster"][:2] == (logformat.worker_uuid(s["pods"][0]["name"], "ClusterManager"), False)
    assert leases["general_kafka_worker"][:2] == (logformat.worker_uuid(s["pods"][1]["name"], "KafkaManager"), True)


def test_explicit_leases_and_renewal(lab_pg):
    pg, _info, _state = lab_pg
    tmp = _tmpdir("pgscn-")
    try:
        s = _scenario(tmp, "explicit", {"database": {"leader_leases": [
            {"lease_type": "cluster", "leader": "11111111-2222-3333-4444-555555555555", "expires_in_seconds": 2},
            {"lease_type": "general_kafka_worker", "leader": "", "expires_in_seconds": -600},
            {"lease_type": "kafka", "leader": "old", "deleted": True},
        ]}})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pg.seed(s, _utcnow(), pods=s["pods"])
    leases = _leases(pg)
    assert set(leases) == {"cluster", "general_kafka_worker", "kafka"}
    assert leases["cluster"][:2] == ("11111111-2222-3333-4444-555555555555", True)
    assert leases["general_kafka_worker"][:2] == ("", False)
    assert leases["kafka"][2] is True
    time.sleep(2.2)
    assert _leases(pg)["cluster"][1] is False  # nobody renewed it
    assert pg.renew_leases() == 1
    leases = _leases(pg)
    assert leases["cluster"][1] is True and leases["general_kafka_worker"][1] is False


def test_restart_remediation(lab_pg):
    pg, _info, _state = lab_pg
    s = scenario_mod.load("osd_cluster_accepted_stuck")
    pg.seed(s, _utcnow(), pods=s["pods"])
    before = _leases(pg)
    summary = pg.apply_remediation("restart", s, _utcnow())
    assert summary["applied"] and summary["clusters"] == 2
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status, count(*), max(now() - updated_at) < interval '1 minute' FROM clusters "
                        "WHERE status <> 'ready' GROUP BY 1")
            assert cur.fetchall() == [("cluster_provisioning", 2, True)]
    finally:
        conn.close()
    after = _leases(pg)
    for lease in postgres.LEASE_TYPES:
        if lease == "failed_kafka":
            assert after[lease] == before[lease]
        else:
            assert after[lease][1] is True and after[lease][0] != before[lease][0]
    # a scenario where restarting does not help: nothing changes
    stuck = scenario_mod.load("osd_no_leader_persistent")
    pg.seed(stuck, _utcnow(), pods=stuck["pods"])
    before = _leases(pg)
    assert pg.apply_remediation("restart", stuck, _utcnow()) == {"applied": False, "kind": "restart"}
    assert _leases(pg) == before
    assert before["cluster"][1] is False


def test_seed_at_scale(lab_pg):
    pg, info, _state = lab_pg
    s = scenario_mod.load("kafka_provisioning_stuck_strimzi", volume={"clusters": 2000, "kafka_requests": 100000})
    start = time.monotonic()
    counts = pg.seed(s, _utcnow(), pods=s["pods"])
    elapsed = time.monotonic() - start
    print("\nseed 2000 clusters + 100000 kafka requests: %.2f s" % elapsed)
    assert counts["clusters"] == 2000 and counts["kafka_requests"] == 100000 + 6
    out = _psql(info, "runbook", SOP_KAFKAS_SQL)
    assert out.returncode == 0, out.stderr
    groups = _groups(out.stdout)
    assert sum(groups["ready"].values()) == 100000
    assert list(groups["provisioning"].values()) == [3]
    with pg.connect("runbook") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(DISTINCT region), count(DISTINCT cloud_provider), count(DISTINCT owner), "
                    "count(DISTINCT organisation_id), count(DISTINCT cluster_id) FROM kafka_requests")
        regions, clouds, owners, orgs, clusters = cur.fetchone()
        assert regions >= 5 and clouds == 2 and owners > 1000 and orgs > 100 and clusters == 2000
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'kafka_requests'")
        assert len(cur.fetchall()) == 7  # rebuilt after the bulk load
    conn.close()


def test_server_outlives_its_creator_and_stops(lab_pg):
    """A second lab: started by a process that exits (like `fleet-lab up`), stopped by another (`down`)."""
    state = _tmpdir("pgtest-")
    try:
        code = ("import json, time, sys; from fleet_lab import postgres; t = time.monotonic(); "
                "info = postgres.Postgres(sys.argv[1]).start(); info['took'] = time.monotonic() - t; "
                "print(json.dumps(info))")
        env = dict(os.environ, PYTHONPATH=LAB_DIR)
        out = subprocess.run([sys.executable, "-c", code, state], env=env, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        info = json.loads(out.stdout)
        print("\npostgres start (template cached): %.2f s" % info.pop("took"))
        assert alive(info["pid"])
        conn = psycopg2.connect(host=info["host"], port=info["port"], dbname=info["dbname"],
                                user=info["runbook"]["user"], password=info["runbook"]["password"])
        conn.close()
        stopper = subprocess.run([sys.executable, "-c", "import sys; from fleet_lab import postgres; "
                                  "sys.exit(0 if postgres.stop(sys.argv[1]) else 1)", state],
                                 env=env, capture_output=True, text=True, timeout=60)
        assert stopper.returncode == 0, stopper.stderr
        assert not alive(info["pid"])
        assert _postgres_pids(os.path.join(state, "pg", "data")) == []
        assert postgres.stop(state)  # idempotent
    finally:
        postgres.stop(state)
        shutil.rmtree(state, ignore_errors=True)
