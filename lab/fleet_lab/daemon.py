"""The lab's service process: the Kubernetes API, the Sentry stand-in, the paging/chat sink, the proxies in
front of PostgreSQL and Prometheus, the fault registry and a small admin endpoint, in one Python process
started by ``fleet-lab up`` and stopped by ``fleet-lab down``.

PostgreSQL and Prometheus are separate processes (real servers); the CLI starts them before this one and
passes their details in ``lab.json``. Clients are given the proxies (``fleet_lab.proxy``) instead, so faults
reach them: the ``kas-fleet-manager-rds`` secret this process serves names the database proxy, and
``daemon.json`` reports both proxies for the inventory and ``env.sh``.

Environments: one daemon serves every fleet environment of the lab (``fleet-lab up --environments N``): a
namespace each in the Kubernetes API (whose ``kas-fleet-manager-rds`` names the environment's database behind
the one database proxy), a Sentry project each, one sink; a rollout in a namespace remediates its database; a
scenario fault naming the scenario's namespace or Sentry project acts on each environment's (``environment_faults``).

Admin endpoint (loopback, never faulted): ``POST /_lab/scenario`` lets ``fleet-lab scenario`` switch the
in-process components to another scenario without a restart (the scenario's ``faults`` replace every fault);
``GET /_lab/faults`` lists the faults, ``POST /_lab/faults`` adds one (201 with it; 400 with the reason),
``DELETE /_lab/faults[?component=C]`` clears them (``fleet_lab.faults``).
"""
import argparse
import datetime
import json
import logging
import os
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fleet_lab import scenario as scenario_mod
from fleet_lab import state
from fleet_lab.faults import FaultError, Faults

LOG = logging.getLogger("fleet_lab.daemon")


class Daemon(object):
    def __init__(self, state_dir):
        from fleet_lab.kube import KubeLab
        from fleet_lab.proxy import HttpProxy, TcpProxy
        from fleet_lab.sentry import SentryServer
        from fleet_lab.sink import SinkServer

        self.state_dir = state_dir
        self.info = state.read(state_dir)
        self.scenario = None  # the first environment's
        self.environments = []  # the scenario as each environment runs it (scenario.load_environments)
        self.records = []  # lab.environment_records: namespace, database, Sentry project of each
        self.now = None
        self.lock = threading.Lock()
        self.faults = Faults()
        self.kube = KubeLab(state_dir, on_rollout_complete=self.on_rollout_complete, faults=self.faults)
        self.sentry = SentryServer(token=self.info["sentry"]["token"], org=self.info["sentry"]["org"],
                                   project=self.info["sentry"]["project"], faults=self.faults)
        self.sink = SinkServer(faults=self.faults)
        db = self.info["db"]
        self.db_proxy = TcpProxy("db", (db["host"], db["port"]), self.faults)
        prom = self.info.get("prometheus") or {}
        self.prometheus_proxy = HttpProxy("prometheus", prom["url"], self.faults, resolve=self._prometheus_url) \
            if prom.get("url") else None
        self.admin = ThreadingHTTPServer(("127.0.0.1", 0), _admin_handler(self))
        self.admin.daemon_threads = True

    def start(self):
        self.kube.start()
        self.sentry.start()
        self.sink.start()
        self.db_proxy.start()
        if self.prometheus_proxy:
            self.prometheus_proxy.start()
        threading.Thread(target=self.admin.serve_forever, name="admin", daemon=True).start()
        self.load(self.info["scenario"]["path"], self.info["scenario"].get("volume"), self.info["now"])

    def load(self, path, volume, now_iso):
        """Load the scenario into every in-process component, once per fleet environment of the lab (lab.json's
        ``environments``: a namespace, a database and a Sentry project each)."""
        from fleet_lab.lab import environment_records
        count = len(self.info.get("environments") or [None])
        with self.lock:
            self.environments = scenario_mod.load_environments(path, volume=volume, environments=count)
            self.scenario = self.environments[0]
            self.records = environment_records(self.environments)
            self.now = datetime.datetime.fromisoformat(now_iso)
            db = self.info["db"]
            host, port = self.db_proxy.address
            self.kube.load_environments([(s, {"host": host, "port": port, "name": record["dbname"],
                                              "user": db["app"]["user"], "password": db["app"]["password"]})
                                         for s, record in zip(self.environments, self.records)], self.now)
            if count == 1:
                self.sentry.load_scenario(self.scenario, self.now)
            else:
                self.sentry.load_projects({record["sentry_project"]: s for s, record
                                           in zip(self.environments, self.records)}, self.now)
            self.faults.replace(environment_faults(self.scenario["faults"], self.environments, self.records,
                                                   self.info["sentry"]["org"]))
            self.kube.write_kubeconfig(os.path.join(self.state_dir, "kubeconfig"))

    def environment_of(self, namespace):
        """(scenario, lab.json record) of the environment whose namespace is ``namespace`` (the first's if none)."""
        for s, record in zip(self.environments, self.records):
            if s["namespace"] == namespace:
                return s, record
        return self.environments[0], self.records[0]

    def _prometheus_url(self):
        """Where Prometheus listens now (``fleet-lab scenario`` restarts it, on another port if its own was taken)."""
        from fleet_lab import prometheus
        return (state.read_json(prometheus._paths(self.state_dir)["info"]) or {}).get("url")

    def on_rollout_complete(self, kind, info):
        """A restart or scale finished on the lab API: let the database see what a restarted worker does."""
        from fleet_lab import postgres
        LOG.info("rollout complete: %s %s", kind, info)
        if not info.get("pods"):  # scaled to zero: no worker runs, nothing in the database changes
            return
        scenario, record = self.environment_of(info.get("namespace"))
        try:
            postgres.Postgres(self.state_dir).apply_remediation(kind, scenario, _utcnow(),
                                                                leaders=info.get("worker_ids"),
                                                                dbname=record["dbname"])
        except Exception:  # keep serving: a failed DB update shows up as the symptom not clearing
            LOG.exception("database update after %s failed", kind)

    def describe(self):
        return {
            "pid": os.getpid(),
            "kube": {"url": self.kube.url, "tokens": self.kube.tokens},
            "sentry_url": self.sentry.url,
            "sink_url": self.sink.url,
            "db_proxy": dict(zip(("host", "port"), self.db_proxy.address)),
            "prometheus_url": self.prometheus_proxy.url if self.prometheus_proxy else None,
            "admin_url": "http://127.0.0.1:%d" % self.admin.server_address[1],
        }

    def stop(self):
        self.faults.clear()  # releases held requests
        for component in (self.kube, self.sentry, self.sink, self.db_proxy, self.prometheus_proxy):
            if component is None:
                continue
            try:
                component.stop()
            except Exception:
                LOG.exception("stopping %s", component)
        self.admin.shutdown()


def environment_faults(faults, environments, records, org):
    """A scenario's ``faults`` for a lab of several environments: a fault whose path names the scenario's
    namespace (``/api/v1/namespaces/NS/...``) or Sentry project (``/api/0/projects/ORG/kas-fleet-manager/...``)
    becomes one fault per environment, naming the environment's (each with its own count); the others act on
    every environment as they are (the sink's ``/slack/mk-sre`` is a prefix of each environment's route)."""
    if len(environments) < 2:
        return faults
    from fleet_lab.lab import SENTRY_PROJECT
    first = environments[0]["lab_environment"]
    markers = (("/namespaces/%s" % first["base_namespace"], ["/namespaces/%s" % r["namespace"] for r in records]),
               ("/projects/%s/%s" % (org, SENTRY_PROJECT), ["/projects/%s/%s" % (org, r["sentry_project"])
                                                            for r in records]))
    out = []
    for fault in faults:
        path = fault.get("path") or ""
        for marker, replacements in markers:
            at = path.find(marker)
            end = at + len(marker)
            if at >= 0 and (end == len(path) or path[end] == "/"):
                out.extend(dict(fault, path=path[:at] + replacement + path[end:]) for replacement in replacements)
                break
        else:
            out.append(fault)
    return out


def _admin_handler(daemon):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            LOG.debug(fmt, *args)

        def _reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/_lab/health":
                return self._reply(200, {"scenario": daemon.scenario["name"] if daemon.scenario else None})
            if self.path == "/_lab/faults":
                return self._reply(200, daemon.faults.list())
            return self._reply(404, {"error": "not found"})

        def do_DELETE(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/_lab/faults":
                return self._reply(404, {"error": "not found"})
            component = urllib.parse.parse_qs(url.query).get("component", [None])[-1]
            return self._reply(200, {"cleared": daemon.faults.clear(component)})

        def do_POST(self):
            if self.path not in ("/_lab/scenario", "/_lab/faults"):
                return self._reply(404, {"error": "not found"})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError as exc:
                return self._reply(400, {"error": "expected a JSON body: %s" % exc})
            if self.path == "/_lab/faults":
                try:
                    return self._reply(201, daemon.faults.add(body))
                except FaultError as exc:
                    return self._reply(400, {"error": str(exc)})
            try:
                daemon.load(body["path"], body.get("volume"), body["now"])
            except scenario_mod.ScenarioError as exc:
                return self._reply(400, {"error": str(exc)})
            return self._reply(200, {"scenario": daemon.scenario["name"]})

    return Handler


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fleet_lab.daemon")
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(filename=os.path.join(args.state_dir, "daemon.log"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    daemon = Daemon(args.state_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        daemon.start()
    except Exception as exc:
        LOG.exception("start failed")
        state.write_json(os.path.join(args.state_dir, "daemon.json"), {"error": "%s: %s" % (type(exc).__name__, exc)})
        daemon.stop()
        return 1
    state.write_json(os.path.join(args.state_dir, "daemon.json"), daemon.describe())
    # Upstream's leader election renews each lease every 15 s; without it every leader would look gone a minute in.
    from fleet_lab import postgres
    while not stop.wait(15):
        try:
            postgres.Postgres(args.state_dir).renew_leases()
        except Exception:
            LOG.exception("lease renewal failed")
    daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
