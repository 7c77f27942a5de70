"""The Kubernetes modules with the oldest kubernetes client requirements.txt allows (a typed-API client from
before kubernetes 35 rewrote its models on pydantic) report the same facts, and fail the same way, as with the
client in the venv: both run against the same lab, in the same test."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.dirname(os.path.dirname(os.path.dirname(os.environ["KAS_COLLECTION_DIR"])))


def minimum_kubernetes():
    for line in open(os.path.join(ROOT, "requirements.txt")):
        found = re.match(r"\s*kubernetes\s*>=\s*([0-9.]+)", line)
        if found:
            return found.group(1)
    raise AssertionError("requirements.txt names no minimum kubernetes version")


@pytest.fixture(scope="module")
def old_client():
    """A directory holding the minimum kubernetes client and its dependencies, put first on PYTHONPATH."""
    version = minimum_kubernetes()
    target = os.path.join(os.environ["KAS_WORK"], "compat", "kubernetes-%s" % version)
    if not os.path.isdir(os.path.join(target, "kubernetes-%s.dist-info" % version)):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", target, "--upgrade", "kubernetes==%s" % version], check=True)
    return target


def run(module, args, tmp_path, extra_path=None):
    args_file = tmp_path / ("%s-%s.json" % (module, "old" if extra_path else "new"))
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    path = [p for p in (extra_path, COLLECTIONS) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    done = subprocess.run([sys.executable, "-c", "import kubernetes, runpy, sys; "
                           "sys.stderr.write(kubernetes.__version__); "
                           "runpy.run_module('ansible_collections.kas.fleet_manager.plugins.modules.%s', "
                           "run_name='__main__')" % module, str(args_file)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    result = json.loads(done.stdout)
    return result, done.stderr.strip().splitlines()[0] if done.stderr.strip() else ""


def facts(module, result):
    """What must agree between the two clients (no durations, byte counts of growing logs or timestamps)."""
    if result.get("failed"):
        return {"failed": True, "msg": result["msg"], "status": result.get("status")}
    if module == "fleet_pods_info":
        return {"healthy": result["healthy"], "problems": sorted(p["code"] for p in result["problems"]),
                "pods": sorted((p["name"], p["ready"]) for p in result["pods"]),
                "replicas": result["deployment"]["ready_replicas"]}
    if module == "leader_check":
        return {"healthy": result["healthy"], "missing": result["missing"], "duplicated": result["duplicated"],
                "leaders": {w: v["leaders"] for w, v in result["workers"].items()},
                "errors": result["errors"]["by_category"], "sources": result["sources"]}
    if module == "fleet_access_info":
        return {"checks": result["checks"], "secret": result["secret"]["readable"]}
    if module == "request_status_info":
        return {"source": result["source"],
                "counts": {status: entry["count"] for status, entry in result["statuses"].items()}}
    if module == "fleet_restart":
        return {"changed": result["changed"], "restarted": result["restarted"],
                "skipped_reason": result["skipped_reason"]}
    raise AssertionError(module)


def test_the_oldest_allowed_client_reports_the_same_facts(fleet_lab, old_client, tmp_path):
    fleet_lab.switch("osd_two_leaders")
    auth = {"kubeconfig": fleet_lab.kubeconfig, "namespace": fleet_lab.namespace}
    cases = [
        ("fleet_pods_info", dict(auth)),
        ("leader_check", dict(auth, db_secret="kas-fleet-manager-rds")),
        ("fleet_access_info", dict(auth)),
        ("request_status_info", dict(auth, table="clusters", ssl_mode="disable")),
        ("fleet_restart", dict(auth, reason="compat", _ansible_check_mode=True)),
        # a user error: the namespace does not exist
        ("fleet_pods_info", dict(auth, namespace="kas-fleet-manager-nowhere")),
    ]
    for module, args in cases:
        new, new_version = run(module, args, tmp_path)
        old, old_version = run(module, args, tmp_path, extra_path=old_client)
        assert old_version == minimum_kubernetes() != new_version, (old_version, new_version)
        assert facts(module, old) == facts(module, new), module
        if module == "leader_check":  # the runs saw the scenario, not two identical failures
            assert old["duplicated"] == ["ClusterManager"] and old["sources"]
