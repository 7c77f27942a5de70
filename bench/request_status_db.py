"""Benchmark: request_status_info's database work against the runbook's two psql queries, on the lab's PostgreSQL
seeded with 1M kafka requests and 200k clusters (the filler rows the lab generates with generate_series, plus the
scenario's stuck and failed ones).

    source scripts/env.sh && python bench/request_status_db.py [--kafkas 1000000] [--clusters 200000] [--runs 5]

One run of request_status_info's database work is what the module does for each of the two tables: connect as the
read-only runbook login (module_utils db.connect), a REPEATABLE READ READ ONLY transaction, collect() from
module_utils request_status (imported from the collection copy on ANSIBLE_COLLECTIONS_PATH), rollback, close. The
baseline is the runbook's two queries on one psycopg2 connection (connect included), the stricter of the two
shown: the same two queries in one psql (``psql -c clusters -c kafka_requests``, as the SOP has the SRE run them)
also pay for psql's start. Runs are interleaved; medians are printed with the goal of the issue (at most 1.5x), then
EXPLAIN (ANALYZE, BUFFERS) of every statement of both, and upstream's indexes on the two tables (from its migrations)
beside the ones the lab has.
"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib  # noqa: E402
from benchlib import goal_line, median, spread  # noqa: E402

GOAL = 1.5
CLUSTERS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters "
                "group by status, to_char(now() - updated_at,'HH24:MI');")
KAFKAS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI'), count(1) from kafka_requests "
              "group by status, to_char(now() - updated_at,'HH24:MI');")

# Upstream kas-fleet-manager @ 9b598c7f, internal/kafka/internal/migrations (gorm names indexes idx_<table>_<column>;
# db.Model in pkg/db/migrations.go gives the id primary key and `gorm:"index"` on deleted_at). No migration drops one.
UPSTREAM_INDEXES = {
    "clusters": [
        ("clusters_pkey", "id", "202009101015_add_clusters.go (db.Model)"),
        ("idx_clusters_deleted_at", "deleted_at", "202009101015_add_clusters.go (db.Model)"),
        ("idx_clusters_cluster_id", "cluster_id", "202009101015_add_clusters.go"),
        ("uix_clusters_cluster_id", "cluster_id, unique", "20210419164730_add_indexes.go"),
        ("idx_clusters_status", "status", "20210420164730_add_cluster_status_index.go"),
        ("idx_clusters_supported_instance_type", "supported_instance_type",
         "20211018091500_add_cluster_supported_instance_type.go"),
    ],
    "kafka_requests": [
        ("kafka_requests_pkey", "id", "202009040909_add_kafkas.go (db.Model)"),
        ("idx_kafka_requests_deleted_at", "deleted_at", "202009040909_add_kafkas.go (db.Model)"),
        ("idx_kafka_requests_name", "name", "202009040909_add_kafkas.go"),
        ("idx_kafka_requests_status", "status", "20210419164730_add_indexes.go"),
        ("idx_kafka_requests_owner", "owner", "20210419164730_add_indexes.go"),
        ("idx_kafka_requests_cluster_id", "cluster_id", "20210419164730_add_indexes.go"),
        ("idx_kafka_requests_organisation_id", "organisation_id", "20210419164730_add_indexes.go"),
    ],
}


def collection_modules():
    """module_utils db and request_status from the collection copy ansible-playbook uses."""
    for path in (os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "").split(os.pathsep):
        if path and os.path.isdir(os.path.join(path, "ansible_collections", "kas", "fleet_manager")):
            sys.path.insert(0, path)
            break
    else:
        raise SystemExit("kas.fleet_manager not found on ANSIBLE_COLLECTIONS_PATH: source scripts/env.sh and run "
                         "scripts/sync_collection.sh")
    from ansible_collections.kas.fleet_manager.plugins.module_utils import db, request_status
    return db, request_status


def recording_connection():
    """A psycopg2 connection class whose cursors keep every statement they ran (as sent, parameters in)."""
    import psycopg2.extensions
    import psycopg2.extras

    class RecordingCursor(psycopg2.extras.RealDictCursor):
        def execute(self, query, vars=None):
            try:
                return super(RecordingCursor, self).execute(query, vars)
            finally:
                self.connection.statements.append(self.query.decode())

    class RecordingConnection(psycopg2.extensions.connection):
        def __init__(self, *args, **kwargs):
            super(RecordingConnection, self).__init__(*args, **kwargs)
            self.statements = []

        def cursor(self, *args, **kwargs):
            kwargs["cursor_factory"] = RecordingCursor
            return super(RecordingConnection, self).cursor(*args, **kwargs)

    return RecordingConnection


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kafkas", type=int, default=1000000, help="filler kafka requests (default 1000000)")
    parser.add_argument("--clusters", type=int, default=200000, help="filler clusters (default 200000)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs of each (default 5)")
    parser.add_argument("--scenario", default="kafka_provisioning_stuck_strimzi",
                        help="scenario whose stuck and failed rows go on top of the filler")
    parser.add_argument("--no-explain", action="store_true", help="leave the EXPLAIN (ANALYZE, BUFFERS) plans out")
    args = parser.parse_args()

    started = time.monotonic()
    db, rs = collection_modules()
    import datetime
    import tempfile

    import psycopg2
    from fleet_lab import postgres, scenario as scenario_mod

    work = tempfile.mkdtemp(prefix="bench-db-", dir=os.environ.get("TMPDIR"))
    pg = postgres.Postgres(work)
    try:
        info = pg.start()
        loaded = scenario_mod.load(args.scenario, volume={"clusters": args.clusters, "kafka_requests": args.kafkas})
        seed_start = time.monotonic()
        counts = pg.seed(loaded, datetime.datetime.now(datetime.timezone.utc), pods=loaded["pods"])
        seeded = time.monotonic() - seed_start
        login = info["runbook"]
        params = {"login_host": info["host"], "port": info["port"], "db": info["dbname"], "login_user": login["user"],
                  "login_password": login["password"], "ssl_mode": "prefer", "connect_timeout": 10,
                  "statement_timeout": 15, "db_secret": None}
        settings, _source = db.resolve(params)

        def module_work(connection_factory=None):
            """What request_status_info does with the database, for both tables; the connections' statements."""
            statements = []
            for table in ("clusters", "kafka_requests"):
                if connection_factory is None:
                    conn = db.connect(settings, params)
                else:
                    conn = psycopg2.connect(host=settings["host"], port=settings["port"], dbname=settings["dbname"],
                                            user=settings["user"], password=settings["password"],
                                            connection_factory=connection_factory)
                try:
                    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
                    thresholds, _unknown = rs.effective_thresholds(table, {})
                    rs.collect(conn, table, thresholds, settings=settings, statement_timeout=15)
                finally:
                    conn.rollback()
                    statements.extend(getattr(conn, "statements", []))
                    conn.close()
            return statements

        psql_env = dict(os.environ, PGHOST=info["host"], PGPORT=str(info["port"]), PGDATABASE=info["dbname"],
                        PGUSER=login["user"], PGPASSWORD=login["password"])
        psql_env.pop("PGPASSFILE", None)
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", CLUSTERS_SQL, "-c", KAFKAS_SQL]

        def runbook_in_process():
            conn = psycopg2.connect(host=info["host"], port=info["port"], dbname=info["dbname"], user=login["user"],
                                    password=login["password"])
            try:
                with conn.cursor() as cur:
                    for sql in (CLUSTERS_SQL, KAFKAS_SQL):
                        cur.execute(sql)
                        cur.fetchall()
            finally:
                conn.rollback()
                conn.close()

        def timed(function):
            start = time.monotonic()
            function()
            return time.monotonic() - start

        statements = module_work(recording_connection())  # warm-up (the OS page cache), and the statements
        benchlib.measure(psql, env=psql_env)
        samples = {"psql": [], "module": [], "inproc": []}
        for _ in range(args.runs):  # interleaved
            samples["psql"].append(benchlib.measure(psql, env=psql_env).wall)
            samples["module"].append(timed(module_work))
            samples["inproc"].append(timed(runbook_in_process))
        med = dict((k, median(v)) for k, v in samples.items())

        print("request_status_info's database work: %d clusters, %d kafka requests (seeded in %.1f s), "
              "%d interleaved runs, medians (min-max) in seconds"
              % (counts["clusters"], counts["kafka_requests"], seeded, args.runs))
        print("  runbook's two queries, psql                 %6.3f (%s)" % (med["psql"], spread(samples["psql"])))
        print("  runbook's two queries, one psycopg2 conn.   %6.3f (%s)" % (med["inproc"], spread(samples["inproc"])))
        print("  request_status_info x2 (connect, collect)   %6.3f (%s)  %d statements"
              % (med["module"], spread(samples["module"]), len(statements)))
        print("  ratio against the runbook's queries in psql (psql's start and login included)  %.2fx"
              % (med["module"] / med["psql"]))
        print(goal_line("request_status_info/runbook's two queries", med["module"] / med["inproc"], GOAL))

        conn = pg.connect("runbook")
        try:
            conn.set_session(readonly=True)
            with conn.cursor() as cur:
                if not args.no_explain:
                    plans = [("runbook's query, clusters", CLUSTERS_SQL), ("runbook's query, kafka_requests",
                                                                           KAFKAS_SQL)]
                    plans += [("request_status_info statement %d" % (n + 1), s) for n, s in enumerate(statements)]
                    for title, sql in plans:
                        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        print("\n-- %s:\n%s" % (title, " ".join(sql.split())[:300] + (" ..." if len(sql) > 300 else
                                                                                       "")))
                        print("\n".join("   " + row[0] for row in cur.fetchall()))
                cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                            "AND tablename IN ('clusters', 'kafka_requests') ORDER BY tablename, indexname")
                lab_indexes = {}
                for table, name, definition in cur.fetchall():
                    lab_indexes.setdefault(table, {})[name] = definition
        finally:
            conn.close()
        print("\nIndexes: upstream's migrations create (bf2fc6cc711aee1a0c2a/kas-fleet-manager @ 9b598c7f, "
              "internal/kafka/internal/migrations), and the lab:")
        for table, wanted in sorted(UPSTREAM_INDEXES.items()):
            print("  %s" % table)
            for name, columns, origin in wanted:
                print("    %-38s %-26s %-56s lab: %s" % (name, columns, origin,
                                                          "yes" if name in lab_indexes.get(table, {}) else "MISSING"))
            for name in sorted(set(lab_indexes.get(table, {})) - set(n for n, _c, _o in wanted)):
                print("    %-38s lab only: %s" % (name, lab_indexes[table][name]))
        print("  (took %.0f s)" % (time.monotonic() - started))
    finally:
        postgres.stop(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
