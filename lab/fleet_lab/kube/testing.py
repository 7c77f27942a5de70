"""Helpers for tests of the lab Kubernetes API: a started ``KubeLab`` on a scenario, kubectl runs, raw
HTTPS requests. Used by ``lab/tests/test_kube_*.py``."""
import datetime
import json
import os
import shutil
import ssl
import subprocess
import threading
import urllib.error
import urllib.request

import yaml

from fleet_lab import scenario as scenario_mod
from fleet_lab.kube import KubeLab

DB = {"host": "127.0.0.1", "port": 55432, "name": "kas-fleet-manager", "user": "ocm", "password": "lab-pass"}
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def token_kubeconfig(lab_kubeconfig, token, path, namespace=None, user="token"):
    """Write ``path`` (mode 0600): the cluster of ``lab_kubeconfig`` with one user, ``token`` (for example a
    ServiceAccount's, from ``kubectl create token``), as its current context. Returns ``path``."""
    with open(lab_kubeconfig) as handle:
        config = yaml.safe_load(handle)
    context = {"cluster": config["clusters"][0]["name"], "user": user}
    if namespace:
        context["namespace"] = namespace
    config.update(users=[{"name": user, "user": {"token": token}}], contexts=[{"name": user, "context": context}])
    config["current-context"] = user
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(config, handle, default_flow_style=False)
    return path


class Harness(object):
    """A KubeLab on a scenario, with the rollout callbacks it received."""

    def __init__(self, directory, scenario, volume=None, now=NOW):
        self.directory = str(directory)
        self.completions = []
        self.done = threading.Condition()
        self.now = now
        self.kube = KubeLab(self.directory, on_rollout_complete=self._completed)
        self.kube.start()
        self.load(scenario, volume)

    def load(self, scenario, volume=None):
        if isinstance(scenario, dict):
            path = os.path.join(self.directory, "%s.yml" % scenario.get("name", "scenario"))
            with open(path, "w") as handle:
                yaml.safe_dump(scenario, handle)
            scenario = path
        self.scenario = scenario_mod.load(scenario, volume=volume)
        self.kube.load_scenario(self.scenario, DB, self.now)
        self.kubeconfig = self.kube.write_kubeconfig(os.path.join(self.directory, "kubeconfig"))
        with self.done:
            self.completions = []
        return self.scenario

    def _completed(self, kind, info):
        with self.done:
            self.completions.append((kind, info))
            self.done.notify_all()

    def wait_completion(self, kind, timeout=15):
        with self.done:
            self.done.wait_for(lambda: any(k == kind for k, _ in self.completions), timeout)
            return [info for k, info in self.completions if k == kind]

    @property
    def ns(self):
        return self.scenario["namespace"]

    def pod_names(self):
        return [p["name"] for p in self.scenario["pods"]]

    def kubectl(self, *args, context=None, check=False, timeout=60, input=None, kubeconfig=None):
        kubeconfig = kubeconfig or self.kubeconfig
        cmd = [KUBECTL, "--kubeconfig", kubeconfig]
        if context:
            cmd += ["--context", context]
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, check=check,
                              env=env, input=input)

    def request(self, path, method="GET", token="admin", body=None, headers=None, raw=False):
        """HTTPS request to the lab API; returns (status, headers, body as JSON or text)."""
        ctx = ssl.create_default_context(cafile=self.kube.ca_file)
        hdrs = dict(headers or {})
        if token in ("admin", "runbook"):
            hdrs["Authorization"] = "Bearer %s" % self.kube.tokens[token]
        elif token:
            hdrs["Authorization"] = "Bearer %s" % token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.kube.url + path, data=data, method=method, headers=hdrs)
        try:
            resp = urllib.request.urlopen(req, context=ctx, timeout=30)
            status, rheaders, payload = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            status, rheaders, payload = exc.code, dict(exc.headers), exc.read()
        if raw:
            return status, rheaders, payload
        text = payload.decode()
        try:
            return status, rheaders, json.loads(text)
        except ValueError:
            return status, rheaders, text

    def api_client(self, context="lab-admin", kubeconfig=None):
        from kubernetes import config
        return config.new_client_from_config(kubeconfig or self.kubeconfig, context=context)

    def stop(self):
        self.kube.stop()


def rss_kb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
