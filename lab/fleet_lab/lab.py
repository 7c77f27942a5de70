"""``Lab``: bring the whole lab up, switch its scenario, and take it down. The CLI and the pytest fixtures
both use this class, so they start and stop exactly the same things.

Order of ``up``: PostgreSQL (a real server, needed for the secret the API serves) and Prometheus (backfilled) side
by side, then the service daemon (Kubernetes API, Sentry, sink, the proxies in front of PostgreSQL and Prometheus),
then the database seed. One ``now`` is chosen per scenario load and shared by every component, so pod logs,
database idle times and metrics agree.

Environments: ``Lab.up(..., environments=N)`` (``fleet-lab up --environments N``) serves N fleet environments
from the same processes: one namespace, database, Sentry project and escalation route path each, all running
the scenario (``scenario.load_environments``); the inventory has a host per environment. N = 1 is the lab of one
environment it always was (namespace, host ``lab-<environment>``, files).

What clients are given (the inventory, ``integration-config``, ``env.sh`` and ``pgpass``, the database secret)
names the daemon's proxies, so faults reach them; ``lab.json``'s ``db`` and ``prometheus`` stay the real
servers (the lab seeds and renews leases directly). Faults for tests::

    lab.fault("sink", "status", code=503, path="/slack/mk-sre", count=2)   # -> the fault, with its id
    lab.fault("kube", "cut_log", bytes=4096, seconds=30)
    lab.fault("db", "refuse", window=10)
    lab.faults()                  # every fault (ended ones too: active false), with hits and what is left
    lab.clear_faults()            # or clear_faults("sink"); releases held requests
    lab.sink_attempts()           # every request the sink received, accepted or answered by a fault
"""
import datetime
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

from fleet_lab.state import alive
from fleet_lab import scenario as scenario_mod
from fleet_lab import state

GRAFANA_STAGE = "https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos?orgId=1"
SENTRY_ORG = "app-sre"
SENTRY_PROJECT = "kas-fleet-manager"


class LabError(RuntimeError):
    """The lab cannot do what was asked; the message says why."""


def environment_records(environments):
    """What lab.json records for each fleet environment (``scenario.load_environments``' list): ``environment``,
    ``namespace``, ``dbname``, ``sentry_project``, ``suffix`` (``""`` for a lab of one, else ``env01`` ...),
    ``host`` (its inventory host) and ``slack_path`` (its data plane chat route on the sink)."""
    from fleet_lab import postgres
    out = []
    for loaded, dbname in zip(environments, postgres.dbnames(len(environments))):
        suffix = loaded["lab_environment"]["suffix"]
        out.append({"environment": loaded["environment"], "namespace": loaded["namespace"], "dbname": dbname,
                    "sentry_project": SENTRY_PROJECT + ("-" + suffix if suffix else ""), "suffix": suffix,
                    "host": "lab-%s" % loaded["environment"],
                    "slack_path": "/slack/mk-sre" + ("/" + suffix if suffix else "")})
    return out


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class Lab(object):
    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)

    # -- properties read from lab.json ------------------------------------------------------------
    @property
    def info(self):
        return state.read(self.state_dir)

    @property
    def kubeconfig(self):
        return os.path.join(self.state_dir, "kubeconfig")

    @property
    def inventory(self):
        return os.path.join(self.state_dir, "inventory.yml")

    @property
    def namespace(self):
        """The (first) environment's namespace."""
        return self.info["namespace"]

    @property
    def environments(self):
        """lab.json's record of each fleet environment (see ``environment_records``)."""
        return _records(self.info)

    # -- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def up(cls, state_dir, scenario="healthy", volume=None, timeout=30, environments=1):
        """Start every component with ``scenario`` for ``environments`` fleet environments (one set of processes:
        a namespace, a database and a Sentry project per environment)."""
        from fleet_lab import postgres, prometheus

        lab = cls(state_dir)
        os.makedirs(lab.state_dir, exist_ok=True)
        if state.exists(lab.state_dir) and lab.running():
            raise LabError("a lab is already running with state dir %s (fleet-lab down first)" % lab.state_dir)
        envs = scenario_mod.load_environments(scenario, volume=volume, environments=environments)
        loaded = envs[0]
        now = _utcnow()
        info = {
            "state_dir": lab.state_dir,
            "scenario": {"name": loaded["name"], "path": loaded["path"], "volume": volume},
            "namespace": loaded["namespace"],
            "environment": loaded["environment"],
            "environments": environment_records(envs),
            "now": now.isoformat(),
            "sentry": {"token": secrets.token_hex(16), "org": SENTRY_ORG, "project": SENTRY_PROJECT},
            "pagerduty_routing_key": secrets.token_hex(16),
            "started": {},
        }
        state.write(lab.state_dir, info)
        timings = info["timings"] = {}  # seconds each step of up took
        started = time.monotonic()
        try:
            # PostgreSQL (copying its files: disk work) starts while promtool builds the history (CPU work)
            pg = postgres.Postgres(lab.state_dir)
            pg_started = {}

            def start_pg():
                try:
                    pg_started["db"] = pg.start(environments=len(envs))
                except BaseException as exc:  # raised again below, in this thread
                    pg_started["error"] = exc
                pg_started["seconds"] = round(time.monotonic() - started, 2)

            pg_thread = threading.Thread(target=start_pg, name="postgres-start")
            pg_thread.start()
            try:
                prom = prometheus.Prometheus(lab.state_dir)
                if prom.available:
                    prom.load_scenario(envs if len(envs) > 1 else loaded, now)
                    info["prometheus"] = dict(prom.start(), available=True)
                    info["started"]["prometheus"] = info["prometheus"].get("pid")
                else:
                    info["prometheus"] = {"available": False, "reason": prom.reason, "url": None}
                timings["prometheus"] = round(time.monotonic() - started, 2)
            finally:
                pg_thread.join()
                if "db" in pg_started:
                    info["db"] = pg_started["db"]
                    info["started"]["postgres"] = info["db"].get("pid")
                timings["postgres"] = pg_started.get("seconds")
                state.write(lab.state_dir, info)
            if "error" in pg_started:
                raise pg_started["error"]
            clock = time.monotonic()

            info["daemon"] = lab._start_daemon(timeout)
            info["started"]["daemon"] = info["daemon"]["pid"]
            timings["daemon"], clock = round(time.monotonic() - clock, 2), time.monotonic()
            state.write(lab.state_dir, info)

            if len(envs) == 1:
                pg.seed(loaded, now, pods=loaded["pods"])
            else:
                pg.seed_environments(envs, now)
            lab._write_client_files(info, loaded)
            timings["seed"] = round(time.monotonic() - clock, 2)
            state.write(lab.state_dir, info)
        except BaseException:
            lab.down(quiet=True)
            raise
        return lab

    def _start_daemon(self, timeout):
        daemon_file = os.path.join(self.state_dir, "daemon.json")
        if os.path.exists(daemon_file):
            os.unlink(daemon_file)
        log = open(os.path.join(self.state_dir, "daemon.out"), "ab")
        env = dict(os.environ)
        lab_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = lab_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        proc = subprocess.Popen([sys.executable, "-m", "fleet_lab.daemon", "--state-dir", self.state_dir],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                start_new_session=True, close_fds=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(daemon_file):
                with open(daemon_file) as handle:
                    described = json.load(handle)
                if "error" in described:
                    raise LabError("the lab daemon failed to start: %s (see %s/daemon.log)"
                                   % (described["error"], self.state_dir))
                return described
            if proc.poll() is not None:
                raise LabError("the lab daemon exited with %s (see %s/daemon.out)" % (proc.returncode, self.state_dir))
            time.sleep(0.05)
        proc.kill()
        raise LabError("the lab daemon did not start within %s s" % timeout)

    def switch(self, scenario, volume=None):
        """Reseed every component with another scenario (every environment of the lab), keeping ports and
        credentials. Returns the (first) environment's loaded scenario."""
        from fleet_lab import postgres, prometheus

        info = self.info
        if not self.running():
            raise LabError("no lab is running with state dir %s" % self.state_dir)
        envs = scenario_mod.load_environments(scenario, volume=volume, environments=len(_records(info)))
        loaded = envs[0]
        now = _utcnow()
        info["scenario"] = {"name": loaded["name"], "path": loaded["path"], "volume": volume}
        info["namespace"] = loaded["namespace"]
        info["environment"] = loaded["environment"]
        if "environments" in info:
            info["environments"] = environment_records(envs)
        info["now"] = now.isoformat()
        state.write(self.state_dir, info)
        self._admin("/_lab/scenario", {"path": loaded["path"], "volume": volume, "now": info["now"]})
        if len(envs) == 1:
            postgres.Postgres(self.state_dir).seed(loaded, now, pods=loaded["pods"])
        else:
            postgres.Postgres(self.state_dir).seed_environments(envs, now)
        if info.get("prometheus", {}).get("available"):
            prom = prometheus.Prometheus(self.state_dir)
            described = prom.switch(envs if len(envs) > 1 else loaded, now)
            if described:
                info["prometheus"].update(described)
                info["started"]["prometheus"] = described.get("pid", info["started"].get("prometheus"))
        state.write(self.state_dir, info)
        self._write_client_files(info, loaded)
        return loaded

    def down(self, quiet=False):
        """Stop exactly what ``up`` started (by the PIDs it recorded) and check nothing is left."""
        from fleet_lab import postgres, prometheus

        if not state.exists(self.state_dir):
            if quiet:
                return []
            raise LabError("no lab state in %s" % self.state_dir)
        info = self.info
        started = info.get("started", {})
        pid = started.get("daemon")
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, 5)
        if started.get("prometheus"):
            prometheus.stop(self.state_dir)
        if started.get("postgres"):
            postgres.stop(self.state_dir)
        left = [name for name, pid in started.items() if alive(pid)]
        for name in left:
            os.kill(started[name], signal.SIGKILL)
            _wait_gone(started[name], 5)
        left = [name for name, pid in started.items() if alive(pid)]
        info["started"] = {}
        info["stopped_at"] = _utcnow().isoformat()
        state.write(self.state_dir, info)
        if left and not quiet:
            raise LabError("could not stop: %s" % ", ".join(left))
        return left

    def running(self):
        started = self.info.get("started", {})
        return bool(started) and all(alive(pid) for pid in started.values())

    def status(self):
        info = self.info
        components = {name: {"pid": pid, "alive": alive(pid)} for name, pid in info.get("started", {}).items()}
        out = {
            "state_dir": self.state_dir,
            "scenario": info["scenario"]["name"],
            "namespace": info["namespace"],
            "components": components,
            "kubernetes": info.get("daemon", {}).get("kube", {}).get("url"),
            "postgres": "%s:%s (server %s:%s)" % (self.db_address(info) + (info["db"]["host"], info["db"]["port"]))
            if info.get("db") else None,
            "prometheus": "%s (server %s)" % (self.prometheus_url(info), info["prometheus"]["url"])
            if info.get("prometheus", {}).get("url") else "unavailable: %s" % info.get("prometheus", {}).get("reason"),
            "sentry": info.get("daemon", {}).get("sentry_url"),
            "sink": info.get("daemon", {}).get("sink_url"),
        }
        records = _records(info)
        if len(records) > 1:
            out["environments"] = [dict((k, r[k]) for k in ("environment", "namespace", "dbname", "host"))
                                   for r in records]
        return out

    # -- what clients are given: the daemon's proxies --------------------------------------------------
    def db_address(self, info=None):
        """(host, port) clients connect to: the database proxy (the server itself for a lab without one)."""
        info = info or self.info
        proxy = info.get("daemon", {}).get("db_proxy")
        return (proxy["host"], proxy["port"]) if proxy else (info["db"]["host"], info["db"]["port"])

    def prometheus_url(self, info=None):
        """Prometheus' URL for clients (the proxy), or "" when the lab runs without Prometheus."""
        info = info or self.info
        if not info.get("prometheus", {}).get("url"):
            return ""
        return info.get("daemon", {}).get("prometheus_url") or info["prometheus"]["url"]

    # -- faults (fleet_lab.faults) -----------------------------------------------------------------------
    def fault(self, component, kind, **options):
        """Add a fault; returns it (with ``id``). Options: code, retry_after, seconds, bytes, path, method, count,
        window. A fault the lab refuses raises LabError with the reason."""
        return self._admin("/_lab/faults", dict(options, component=component, kind=kind))

    def faults(self):
        return self._admin("/_lab/faults")

    def clear_faults(self, component=None):
        """Forget every fault (or one component's) and release what they hold; returns how many."""
        query = "?" + urllib.parse.urlencode({"component": component}) if component else ""
        return self._admin("/_lab/faults" + query, method="DELETE")["cleared"]

    # -- helpers for tests ------------------------------------------------------------------------
    def _admin(self, path, body=None, method=None):
        url = self.info["daemon"]["admin_url"] + path
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                     method=method or ("POST" if data is not None else "GET"))
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            try:
                text = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise LabError("lab daemon: %s" % text)
        except urllib.error.URLError as exc:
            raise LabError("lab daemon at %s: %s (is the lab up?)" % (url.split("/_lab")[0], exc.reason))

    def sink_attempts(self):
        with urllib.request.urlopen(self.info["daemon"]["sink_url"] + "/_lab/attempts", timeout=10) as resp:
            return json.load(resp)

    def sink_received(self):
        with urllib.request.urlopen(self.info["daemon"]["sink_url"] + "/_lab/received", timeout=10) as resp:
            return json.load(resp)

    def sink_incidents(self):
        with urllib.request.urlopen(self.info["daemon"]["sink_url"] + "/_lab/incidents", timeout=10) as resp:
            return json.load(resp)

    def sink_clear(self):
        req = urllib.request.Request(self.info["daemon"]["sink_url"] + "/_lab/received", method="DELETE")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def host_vars(self, environment=None):
        """Every variable the runbook playbooks need for one fleet environment of the lab (``environment``: its
        name, its lab.json record, or None for the first)."""
        info = self.info
        record = _record(info, environment)
        daemon = info["daemon"]
        sink = daemon["sink_url"]
        routing_key = info["pagerduty_routing_key"]
        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "kas_fleet_environment": record["environment"],
            "kas_fleet_namespace": record["namespace"],
            "kas_fleet_deployment": "kas-fleet-manager",
            "kas_fleet_k8s_auth": {"kubeconfig": self.kubeconfig},
            "kas_fleet_db_secret": "kas-fleet-manager-rds",
            "kas_fleet_prometheus_url": self.prometheus_url(info),
            "kas_fleet_grafana_dashboard_url": GRAFANA_STAGE,
            "kas_fleet_sentry_url": daemon["sentry_url"],
            "kas_fleet_sentry_org": info["sentry"]["org"],
            "kas_fleet_sentry_project": record["sentry_project"],
            "kas_fleet_sentry_token": info["sentry"]["token"],
            "kas_fleet_escalation_routes": {
                "ocm_support": {"type": "pagerduty", "url": sink + "/v2/enqueue", "routing_key": routing_key},
                "data_plane": {"type": "slack", "url": sink + record["slack_path"]},
                "control_plane": {"type": "pagerduty", "url": sink + "/v2/enqueue", "routing_key": routing_key},
            },
        }

    def integration_vars(self):
        info = self.info
        db = info["db"]
        db_host, db_port = self.db_address(info)
        out = {
            "lab_state_dir": self.state_dir,
            "lab_kubeconfig": self.kubeconfig,
            "lab_kube_url": info["daemon"]["kube"]["url"],
            "lab_namespace": info["namespace"],
            "lab_db_host": db_host,
            "lab_db_port": db_port,
            "lab_db_name": _record(info)["dbname"],
            "lab_db_user": db["runbook"]["user"],
            "lab_db_password": db["runbook"]["password"],
            "lab_prometheus_url": self.prometheus_url(info),
            "lab_sentry_url": info["daemon"]["sentry_url"],
            "lab_sentry_token": info["sentry"]["token"],
            "lab_sink_url": info["daemon"]["sink_url"],
            "lab_inventory": self.inventory,
            "lab_cli": "env PYTHONPATH=%s %s -m fleet_lab --state-dir %s" % (
                os.path.dirname(os.path.dirname(os.path.abspath(__file__))), sys.executable, self.state_dir),
        }
        records = _records(info)
        if len(records) > 1:
            out["lab_environments"] = [dict((k, r[k]) for k in ("environment", "namespace", "dbname", "host"))
                                       for r in records]
        return out

    def _write_client_files(self, info, loaded):
        records = _records(info)
        # Group fleet_environments holds every environment; a group per environment name (stage) lets an alert
        # or an AWX survey pick one with `kas_fleet_hosts`. With N environments (stage-env01 ...) that group is
        # the scenario's environment (stage), holding all of them.
        group = loaded.get("lab_environment", {}).get("base_environment") or info["environment"]
        hosts = dict((r["host"], self.host_vars(r)) for r in records)
        inventory = {"all": {"children": {"fleet_environments": {"hosts": hosts},
                                          group: {"hosts": dict((r["host"], None) for r in records)}}}}
        with open(self.inventory + ".tmp", "w") as handle:
            handle.write("# Written by fleet-lab for scenario %s; one host per fleet environment.\n" % loaded["name"])
            yaml.safe_dump(inventory, handle, default_flow_style=False, sort_keys=False)
        os.chmod(self.inventory + ".tmp", 0o600)
        os.replace(self.inventory + ".tmp", self.inventory)
        db = info["db"]
        db_host, db_port = self.db_address(info)
        # the first environment's namespace and database; with N environments, every one's below (-n NS, -d DB)
        dbnames = [r["dbname"] for r in records] if len(records) > 1 else [db["dbname"]]
        env = [
            "# source this file to point kubectl, psql and the runbook at the lab (scenario %s)" % loaded["name"],
            "export KUBECONFIG=%s" % self.kubeconfig,
            "export K8S_AUTH_KUBECONFIG=%s" % self.kubeconfig,
            "export KAS_LAB_NAMESPACE=%s" % info["namespace"],
            "export KAS_LAB_INVENTORY=%s" % self.inventory,
            "export PGHOST=%s PGPORT=%s PGDATABASE=%s PGUSER=%s" % (db_host, db_port, dbnames[0],
                                                                  db["runbook"]["user"]),
            "export PGPASSFILE=%s" % os.path.join(self.state_dir, "pgpass"),
            "export KAS_LAB_PROMETHEUS_URL=%s" % self.prometheus_url(info),
        ]
        if len(records) > 1:
            env.append("export KAS_LAB_NAMESPACES='%s'" % " ".join(r["namespace"] for r in records))
            env.append("export KAS_LAB_DATABASES='%s'" % " ".join(dbnames))
        with open(os.path.join(self.state_dir, "pgpass"), "w") as handle:
            for dbname in dbnames:
                handle.write("%s:%s:%s:%s:%s\n" % (db_host, db_port, dbname, db["runbook"]["user"],
                                                   db["runbook"]["password"]))
        os.chmod(os.path.join(self.state_dir, "pgpass"), 0o600)
        with open(os.path.join(self.state_dir, "env.sh"), "w") as handle:
            handle.write("\n".join(env) + "\n")


def _records(info):
    """lab.json's environment records (a lab.json written before there were environments: its one)."""
    if info.get("environments"):
        return info["environments"]
    return [{"environment": info["environment"], "namespace": info["namespace"], "dbname": (info.get("db") or {})
             .get("dbname", "kas-fleet-manager"), "sentry_project": info["sentry"]["project"], "suffix": "",
             "host": "lab-%s" % info["environment"], "slack_path": "/slack/mk-sre"}]


def _record(info, environment=None):
    records = _records(info)
    if environment is None:
        return records[0]
    if isinstance(environment, dict):
        return environment
    for record in records:
        if environment in (record["environment"], record["host"], record["namespace"]):
            return record
    raise LabError("no environment %r in this lab (%s)" % (environment, ", ".join(r["environment"] for r in records)))


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)


def remove_state(state_dir):
    shutil.rmtree(state_dir, ignore_errors=True)
