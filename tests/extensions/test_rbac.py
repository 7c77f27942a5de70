"""The RBAC manifests the collection ships (roles/kas_fleet/files/rbac): in the built tarball; their rules are
exactly fleet_access_info's checks and what the modules' Kubernetes calls need, nothing more; and applied to a
lab, with a token of their ServiceAccount, fleet_access_info and the modules are allowed what each variant grants
(recommend: the reads; apply: the reads and the two patches)."""
import ast
import glob
import importlib
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

from fleet_lab.kube.testing import KUBECTL, token_kubeconfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = os.environ["KAS_COLLECTION_DIR"]
COLLECTIONS = os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION)))
RBAC_DIR = "roles/kas_fleet/files/rbac"
FILES = ("recommend/serviceaccount.yml", "recommend/role.yml", "recommend/rolebinding.yml", "apply/role.yml",
         "apply/rolebinding.yml")
PLACEHOLDER = "KAS_FLEET_NAMESPACE"
SA = "kas-fleet-runbook"
SECRET = "kas-fleet-manager-rds"

# What each Kube method of module_utils/k8s.py asks the API for: (apiGroup, resource[/subresource], verb).
# None: needs no Role - can_i is a SelfSubjectAccessReview (every authenticated user may create one, default
# ClusterRole system:basic-user); read_namespace is cluster-scoped, and its callers only use it to tell a wrong
# namespace from a missing object, taking a 403 as "cannot tell".
KUBE_CALLS = {
    "read_deployment": ("apps", "deployments", "get"),
    "list_pods": ("", "pods", "list"),
    "stream_log": ("", "pods/log", "get"),
    "list_events": ("", "events", "list"),
    "read_secret_data": ("", "secrets", "get"),
    "patch_deployment": ("apps", "deployments", "patch"),
    "scale_deployment": ("apps", "deployments/scale", "patch"),
    "can_i": None,
    "read_namespace": None,
}
WRITES = {"patch_deployment", "scale_deployment"}


def documents(name):
    """The objects of a manifest, or of every manifest of a folder (recommend, apply)."""
    path = os.path.join(ROOT, RBAC_DIR, name)
    docs = []
    for file_name in sorted(glob.glob(os.path.join(path, "*.yml"))) if os.path.isdir(path) else [path]:
        with open(file_name) as handle:
            docs.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    return docs


def grants(name):
    """Every (apiGroup, resource, verb, resourceName or "") the Roles of a folder grant."""
    out = set()
    for doc in documents(name):
        if doc["kind"] != "Role":
            continue
        for rule in doc["rules"]:
            assert set(rule) <= {"apiGroups", "resources", "verbs", "resourceNames"}, rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        for name_ in rule.get("resourceNames") or [""]:
                            out.add((group, resource, verb, name_))
    return out


def _import(what):
    sys.path.insert(0, COLLECTIONS)
    try:
        return importlib.import_module("ansible_collections.kas.fleet_manager.plugins." + what)
    finally:
        sys.path.remove(COLLECTIONS)


def access_info():
    """The module: its documented options (the secret's default)."""
    return _import("modules.fleet_access_info")


def access():
    """The service behind it: the permissions it checks by default."""
    return _import("module_utils.access")


def checks_of(perms):
    return {(p.get("group") or "", p["resource"] + ("/" + p["subresource"] if p.get("subresource") else ""),
             p["verb"], p.get("name") or "") for p in perms}


def secret_default():
    spec = yaml.safe_load(access_info().DOCUMENTATION)["options"]["secret"]
    return spec["default"]


def module_kube_calls():
    """{Kube method: [files calling it]} over the modules and module_utils (k8s.py defines them)."""
    calls = {}
    paths = glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")) + \
        glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py"))
    for path in paths:
        if path.endswith(os.path.join("module_utils", "k8s.py")):
            continue
        tree = ast.parse(open(path).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
                if owner_name == "kube":
                    calls.setdefault(node.func.attr, []).append(os.path.relpath(path, ROOT))
    return calls


# -- what ships and what it grants -----------------------------------------------------------------------------------
def test_manifests_ship_in_the_built_collection(tmp_path):
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(tmp_path), COLLECTION],
                   check=True, capture_output=True)
    (tarball,) = glob.glob(str(tmp_path / "kas-fleet_manager-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        assert sorted(n[len(RBAC_DIR) + 1:] for n in tar.getnames() if n.startswith(RBAC_DIR + "/")
                      and n.endswith(".yml")) == sorted(FILES)
        for name in FILES:
            shipped = tar.extractfile("%s/%s" % (RBAC_DIR, name)).read().decode()
            assert shipped == open(os.path.join(ROOT, RBAC_DIR, name)).read(), name


def test_objects_names_and_namespace_placeholder():
    (sa,) = documents("recommend/serviceaccount.yml")
    assert (sa["apiVersion"], sa["kind"], sa["metadata"]["name"]) == ("v1", "ServiceAccount", SA)
    for name, role in (("recommend", "kas-fleet-runbook-recommend"), ("apply", "kas-fleet-runbook-apply")):
        kinds = {doc["kind"]: doc for doc in documents(name)}
        assert sorted(kinds) == (["Role", "RoleBinding", "ServiceAccount"] if name == "recommend" else
                                 ["Role", "RoleBinding"]), name
        assert kinds["Role"]["metadata"]["name"] == kinds["RoleBinding"]["metadata"]["name"] == role
        assert kinds["RoleBinding"]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                   "name": role}
        assert kinds["RoleBinding"]["subjects"] == [{"kind": "ServiceAccount", "name": SA, "namespace": PLACEHOLDER}]
    for name in FILES:
        (doc,) = documents(name)  # one object per file (ansible-test's yamllint wants one document)
        # Every object in the one namespace the user sets; no ClusterRole, no cluster-wide binding.
        assert doc["kind"] in ("ServiceAccount", "Role", "RoleBinding"), (name, doc["kind"])
        assert doc["metadata"]["namespace"] == PLACEHOLDER, (name, doc["metadata"]["name"])


def test_rules_are_exactly_fleet_access_info_checks():
    checks = checks_of(access().default_permissions(secret_default()))
    reads, writes = grants("recommend"), grants("apply")
    assert not reads & writes
    assert reads | writes == checks
    assert reads == {c for c in checks if c[2] in ("get", "list")}
    assert writes == {("apps", "deployments", "patch", ""), ("apps", "deployments/scale", "patch", "")}
    # The one secret by name, the runbook's "Relevant secrets".
    assert [c for c in reads if c[1] == "secrets"] == [("", "secrets", "get", SECRET)]
    assert not [c for c in reads | writes if "*" in c or c[2] in ("watch", "create", "update", "delete")]


def test_rules_are_what_the_modules_kube_calls_need():
    calls = module_kube_calls()
    unknown = sorted(set(calls) - set(KUBE_CALLS))
    assert not unknown, "new Kube calls %s: add them to KUBE_CALLS, the manifests and fleet_access_info" % unknown
    needed = {KUBE_CALLS[m] for m in calls if KUBE_CALLS[m]}
    granted = {(g, r, v) for g, r, v, _names in grants("recommend") | grants("apply")}
    assert needed == granted, calls
    assert {KUBE_CALLS[m] for m in calls if m in WRITES} == {(g, r, v) for g, r, v, _names in grants("apply")}
    assert set(calls) == set(KUBE_CALLS), "Kube calls no module makes: %s" % sorted(set(KUBE_CALLS) - set(calls))
    # The secret the modules read is the one the Role names: the db_secret default of leader_check and
    # request_status_info (module_utils/db.py) and fleet_access_info's secret default.
    assert 'DEFAULT_DB_SECRET = "%s"' % SECRET in open(os.path.join(ROOT, "plugins", "module_utils", "db.py")).read()
    assert secret_default() == SECRET


# -- against a lab -------------------------------------------------------------------------------------------------
def kubectl(lab, *args, kubeconfig=None, context="lab-admin", input=None):
    cmd = [KUBECTL, "--kubeconfig", kubeconfig or lab.kubeconfig]
    if context and not kubeconfig:
        cmd += ["--context", context]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60, input=input, check=False)


def apply(lab, folder, action="apply"):
    """What the README says: sed the namespace into the folder's manifests, pipe them to kubectl."""
    paths = sorted(glob.glob(os.path.join(ROOT, RBAC_DIR, folder, "*.yml")))
    text = "".join(open(path).read() for path in paths)
    flags = ["--validate=false"] if action == "apply" else []  # the lab serves no OpenAPI document
    done = kubectl(lab, action, *flags, "-f", "-", input=text.replace(PLACEHOLDER, lab.namespace))
    assert done.returncode == 0, done.stderr


def run(module, args, tmp_path):
    """The module from the collection copy, as ansible runs it (ANSIBLE_MODULE_ARGS file); its JSON result."""
    args_file = tmp_path / ("%s-%d.json" % (module, len(list(tmp_path.iterdir()))))
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run([sys.executable, "-m", "ansible_collections.kas.fleet_manager.plugins.modules.%s" % module,
                           str(args_file)], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=COLLECTIONS))
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def sa_kubeconfig(fleet_lab, tmp_path_factory):
    """recommend/ applied in the lab's namespace, and a kubeconfig with a token `kubectl create token` issued for
    the ServiceAccount (written 0600, never printed)."""
    apply(fleet_lab, "recommend")
    done = kubectl(fleet_lab, "-n", fleet_lab.namespace, "create", "token", SA, "--duration=1h")
    returncode, token = done.returncode, done.stdout.strip()
    assert returncode == 0, done.stderr
    done = kubectl(fleet_lab, "-n", fleet_lab.namespace, "create", "secret", "generic", "other-secret",
                   "--from-literal=k=v")
    assert done.returncode == 0, done.stderr
    path = str(tmp_path_factory.mktemp("rbac") / "kubeconfig")
    return token_kubeconfig(fleet_lab.kubeconfig, token, path, namespace=fleet_lab.namespace)


def by_permission(result):
    return {c["permission"]: c["allowed"] for c in result["checks"]}


def test_recommend_variant(fleet_lab, sa_kubeconfig, tmp_path):
    auth = {"kubeconfig": sa_kubeconfig, "namespace": fleet_lab.namespace}
    result = run("fleet_access_info", auth, tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert by_permission(result) == {"get deployments": True, "list pods": True, "get pods/log": True,
                                     "list events": True, "get secrets": True, "patch deployments": False,
                                     "patch deployments/scale": False}
    # fleet_access_info does not tell the modes apart: its defaults include the two writes of apply mode, so with
    # the read-only Role all_allowed is false and exactly those two are denied.
    assert [d["permission"] for d in result["denied"]] == ["patch deployments", "patch deployments/scale"]
    assert result["secret"] == {"name": SECRET, "readable": True, "reason": None}
    assert result["all_allowed"] is False
    reads = [p for p in access().default_permissions(SECRET) if p["verb"] != "patch"]
    result = run("fleet_access_info", dict(auth, permissions=reads), tmp_path)
    assert result["all_allowed"] is True and result["denied"] == [] and len(result["checks"]) == 5
    # Another secret: neither its access review nor reading it is allowed.
    result = run("fleet_access_info", dict(auth, secret="other-secret"), tmp_path)
    assert by_permission(result)["get secrets"] is False
    assert result["secret"]["readable"] is False and "forbidden (403)" in result["secret"]["reason"]

    # The evidence modules work with the read-only Role; the remediation is refused, in check mode too.
    pods = run("fleet_pods_info", auth, tmp_path)
    assert not pods.get("failed"), pods.get("msg")
    assert pods["healthy"] is True and len(pods["pods"]) == 3 and pods["events"] is not None
    restart = run("fleet_restart", dict(auth, reason="rbac test", _ansible_check_mode=True), tmp_path)
    assert restart.get("failed") and "may not patch deployments" in restart["msg"]
    scale = run("fleet_scale", dict(auth, replicas=4, wait=False), tmp_path)
    assert scale.get("failed") and "forbidden (403)" in scale["msg"] and "deployments/scale" in scale["msg"]


def test_apply_variant(fleet_lab, sa_kubeconfig, tmp_path):
    auth = {"kubeconfig": sa_kubeconfig, "namespace": fleet_lab.namespace}
    apply(fleet_lab, "apply")
    try:
        result = run("fleet_access_info", auth, tmp_path)
        assert result["all_allowed"] is True and result["denied"] == []
        assert set(by_permission(result).values()) == {True} and len(result["checks"]) == 7
        scale = run("fleet_scale", dict(auth, replicas=4, _ansible_check_mode=True), tmp_path)
        assert not scale.get("failed"), scale.get("msg")
        assert scale["changed"] is True and scale["replicas_after"] == 4
        restart = run("fleet_restart", dict(auth, reason="rbac test", symptom="rbac", wait=False), tmp_path)
        assert not restart.get("failed"), restart.get("msg")
        assert restart["restarted"] is True and restart["history"][-1]["reason"] == "rbac test"
    finally:
        apply(fleet_lab, "apply", action="delete")
    result = run("fleet_access_info", auth, tmp_path)
    assert [d["permission"] for d in result["denied"]] == ["patch deployments", "patch deployments/scale"]


def test_the_runbook_token_is_unchanged(fleet_lab, sa_kubeconfig, tmp_path):
    """The lab's own runbook token (its kubeconfig's current context) still has every permission."""
    result = run("fleet_access_info", {"kubeconfig": fleet_lab.kubeconfig, "namespace": fleet_lab.namespace}, tmp_path)
    assert result["all_allowed"] is True and len(result["checks"]) == 7
    assert re.search(r'RoleBinding "kas-sre-runbook/', result["checks"][0]["reason"])
