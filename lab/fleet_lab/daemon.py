"""The lab's service process: the Kubernetes API, the Sentry stand-in, the paging/chat sink and a small admin
endpoint, in one Python process started by ``fleet-lab up`` and stopped by ``fleet-lab down``.

PostgreSQL and Prometheus are separate processes (real servers); the CLI starts them before this one and
passes their details in ``lab.json``. The admin endpoint (``POST /_lab/scenario``) lets ``fleet-lab scenario``
switch the in-process components to another scenario without a restart.
"""
import argparse
import datetime
import json
import logging
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fleet_lab import scenario as scenario_mod
from fleet_lab import state

LOG = logging.getLogger("fleet_lab.daemon")


class Daemon(object):
    def __init__(self, state_dir):
        from fleet_lab.kube import KubeLab
        from fleet_lab.sentry import SentryServer
        from fleet_lab.sink import SinkServer

        self.state_dir = state_dir
        self.info = state.read(state_dir)
        self.scenario = None
        self.now = None
        self.lock = threading.Lock()
        self.kube = KubeLab(state_dir, on_rollout_complete=self.on_rollout_complete)
        self.sentry = SentryServer(token=self.info["sentry"]["token"], org=self.info["sentry"]["org"],
                                   project=self.info["sentry"]["project"])
        self.sink = SinkServer()
        self.admin = ThreadingHTTPServer(("127.0.0.1", 0), _admin_handler(self))
        self.admin.daemon_threads = True

    def start(self):
        self.kube.start()
        self.sentry.start()
        self.sink.start()
        threading.Thread(target=self.admin.serve_forever, name="admin", daemon=True).start()
        self.load(self.info["scenario"]["path"], self.info["scenario"].get("volume"), self.info["now"])

    def load(self, path, volume, now_iso):
        with self.lock:
            self.scenario = scenario_mod.load(path, volume=volume)
            self.now = datetime.datetime.fromisoformat(now_iso)
            db = self.info["db"]
            self.kube.load_scenario(self.scenario, {"host": db["host"], "port": db["port"], "name": db["dbname"],
                                                    "user": db["app"]["user"], "password": db["app"]["password"]},
                                    self.now)
            self.sentry.load_scenario(self.scenario, self.now)
            self.kube.write_kubeconfig(os.path.join(self.state_dir, "kubeconfig"))

    def on_rollout_complete(self, kind, info):
        """A restart or scale finished on the lab API: let the database see what a restarted worker does."""
        from fleet_lab import postgres
        LOG.info("rollout complete: %s %s", kind, info)
        if not info.get("pods"):  # scaled to zero: no worker runs, nothing in the database changes
            return
        try:
            postgres.Postgres(self.state_dir).apply_remediation(kind, self.scenario, _utcnow(),
                                                                leaders=info.get("worker_ids"))
        except Exception:  # keep serving: a failed DB update shows up as the symptom not clearing
            LOG.exception("database update after %s failed", kind)

    def describe(self):
        return {
            "pid": os.getpid(),
            "kube": {"url": self.kube.url, "tokens": self.kube.tokens},
            "sentry_url": self.sentry.url,
            "sink_url": self.sink.url,
            "admin_url": "http://127.0.0.1:%d" % self.admin.server_address[1],
        }

    def stop(self):
        for component in (self.kube, self.sentry, self.sink):
            try:
                component.stop()
            except Exception:
                LOG.exception("stopping %s", component)
        self.admin.shutdown()


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
            return self._reply(404, {"error": "not found"})

        def do_POST(self):
            if self.path != "/_lab/scenario":
                return self._reply(404, {"error": "not found"})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
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
