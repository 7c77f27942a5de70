"""RBAC in the lab Kubernetes API: the collection's shipped manifests (roles/kas_fleet/files/rbac) applied with
kubectl, a token issued for their ServiceAccount with ``kubectl create token``, and that token's requests and
access reviews decided by the bound Roles - kubectl auth can-i, the Python client's SelfSubjectAccessReview and
the real requests all agree. The admin and runbook tokens keep their behaviour."""
import glob
import json
import os

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from fleet_lab.kube import rbac
from fleet_lab.kube.testing import Harness, token_kubeconfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFESTS = os.path.join(ROOT, "roles", "kas_fleet", "files", "rbac")
NS = "kas-rbac-test"
SA = "kas-fleet-runbook"
USER = "system:serviceaccount:%s:%s" % (NS, SA)
SECRET = "kas-fleet-manager-rds"
SCENARIO = {"name": "kube_rbac", "namespace": NS, "access": {"denied": ["secrets"]}}

# (verb, resource, subresource, name, allowed with recommend/, allowed with recommend/ and apply/)
CASES = [
    ("get", "deployments", "", "", True, True),
    ("list", "pods", "", "", True, True),
    ("get", "pods", "log", "", True, True),
    ("list", "events", "", "", True, True),
    ("get", "secrets", "", SECRET, True, True),
    ("get", "secrets", "", "other-secret", False, False),
    ("get", "secrets", "", "", False, False),
    ("list", "secrets", "", "", False, False),
    ("patch", "deployments", "", "", False, True),
    ("patch", "deployments", "scale", "", False, True),
    ("update", "deployments", "scale", "", False, False),
    ("get", "deployments", "scale", "", False, False),
    ("update", "deployments", "", "", False, False),
    ("delete", "pods", "", "", False, False),
    ("watch", "pods", "", "", False, False),
    ("list", "replicasets", "", "", False, False),
    ("create", "serviceaccounts", "token", SA, False, False),
]
GROUPS = {"deployments": "apps", "replicasets": "apps"}


def manifest(*names):
    """The shipped manifests (a folder: its *.yml, as the shell expands them), the namespace placeholder replaced
    as the README says (sed)."""
    text = ""
    for name in names:
        path = os.path.join(MANIFESTS, name)
        for file_name in sorted(glob.glob(os.path.join(path, "*.yml"))) if os.path.isdir(path) else [path]:
            with open(file_name) as handle:
                text += handle.read()
    return text.replace("KAS_FLEET_NAMESPACE", NS)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    harness = Harness(tmp_path_factory.mktemp("kube-rbac"), SCENARIO)
    out = harness.kubectl("-n", NS, "create", "secret", "generic", "other-secret", "--from-literal=k=v",
                          context="lab-admin")
    assert out.returncode == 0, out.stderr
    yield harness
    harness.stop()


def apply(lab, *names, action="apply"):
    """kubectl apply (or delete) -f - of the manifests; the lab serves no OpenAPI document to validate with."""
    flags = ["--validate=false"] if action == "apply" else []
    out = lab.kubectl(action, *flags, "-f", "-", context="lab-admin", input=manifest(*names))
    assert out.returncode == 0, out.stderr
    return out.stdout


def issue_token(lab, *args):
    """kubectl create token: the token, never shown in an assertion (only the return code and stderr are)."""
    out = lab.kubectl("-n", NS, "create", "token", SA, *args, context="lab-admin")
    returncode, token = out.returncode, out.stdout.strip()
    assert returncode == 0, out.stderr
    return token


@pytest.fixture(scope="module")
def sa_kubeconfig(lab, tmp_path_factory):
    """The ServiceAccount with the read-only Role bound (recommend/), and a kubeconfig holding a token issued
    for it."""
    out = apply(lab, "recommend")
    assert out.splitlines() == ["role.rbac.authorization.k8s.io/kas-fleet-runbook-recommend created",
                                "rolebinding.rbac.authorization.k8s.io/kas-fleet-runbook-recommend created",
                                "serviceaccount/%s created" % SA]
    path = str(tmp_path_factory.mktemp("sa") / "kubeconfig")
    return token_kubeconfig(lab.kubeconfig, issue_token(lab), path, namespace=NS)


def can_i(lab, kubeconfig, verb, resource, sub, name):
    target = "%s/%s" % (resource, name) if name else resource
    args = ["auth", "can-i", verb, target] + (["--subresource=%s" % sub] if sub else [])
    out = lab.kubectl(*args, kubeconfig=kubeconfig)
    answer = out.stdout.strip()
    assert (out.returncode, answer) in ((0, "yes"), (1, "no")), (args, out.returncode, out.stderr)
    return answer == "yes"


def review(api, verb, resource, sub, name):
    attrs = {"namespace": NS, "verb": verb, "resource": resource, "group": GROUPS.get(resource, "")}
    if sub:
        attrs["subresource"] = sub
    if name:
        attrs["name"] = name
    return client.AuthorizationV1Api(api).create_self_subject_access_review({"spec": {"resourceAttributes": attrs}})


def check_cases(lab, kubeconfig, column):
    api = lab.api_client("token", kubeconfig=kubeconfig)
    for case in CASES:
        verb, resource, sub, name = case[:4]
        expected = case[column]
        assert can_i(lab, kubeconfig, verb, resource, sub, name) is expected, case
        status = review(api, verb, resource, sub, name).status
        assert status.allowed is expected, case
        if expected:
            assert status.reason.startswith('RBAC: allowed by RoleBinding "kas-fleet-runbook-') and \
                'to ServiceAccount "%s/%s"' % (SA, NS) in status.reason, case


def forbidden(exc):
    body = json.loads(exc.value.body)
    assert exc.value.status == 403 and (body["kind"], body["reason"], body["code"]) == ("Status", "Forbidden", 403)
    return body["message"]


# -- the read-only Role --------------------------------------------------------------------------------------
def test_read_only_role_kubectl_and_client_agree(lab, sa_kubeconfig):
    check_cases(lab, sa_kubeconfig, 4)
    # Every authenticated user may ask (system:basic-user), whatever the Roles say.
    assert can_i(lab, sa_kubeconfig, "create", "selfsubjectaccessreviews", "", "")
    # A Role grants nothing outside its namespace.
    out = lab.kubectl("auth", "can-i", "list", "pods", "-n", "default", kubeconfig=sa_kubeconfig)
    assert (out.returncode, out.stdout.strip()) == (1, "no")


def test_read_only_role_real_requests(lab, sa_kubeconfig):
    api = lab.api_client("token", kubeconfig=sa_kubeconfig)
    v1, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pods = v1.list_namespaced_pod(NS, label_selector="app=kas-fleet-manager").items
    assert len(pods) == 3
    log = v1.read_namespaced_pod_log(pods[0].metadata.name, NS, container="service", tail_lines=3)
    assert len(log.splitlines()) == 3
    keys = sorted(v1.read_namespaced_secret(SECRET, NS).data)
    assert keys == ["db.ca_cert", "db.host", "db.name", "db.password", "db.port", "db.user"]
    assert apps.read_namespaced_deployment("kas-fleet-manager", NS).spec.replicas == 3
    assert v1.list_namespaced_event(NS).items

    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_secret("other-secret", NS)
    assert forbidden(exc) == ('secrets "other-secret" is forbidden: User "%s" cannot get resource "secrets" in API '
                              'group "" in the namespace "%s"' % (USER, NS))
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_secret(NS)
    assert forbidden(exc) == ('secrets is forbidden: User "%s" cannot list resource "secrets" in API group "" in '
                              'the namespace "%s"' % (USER, NS))
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment("kas-fleet-manager", NS, {"metadata": {"annotations": {"a": "b"}}})
    assert forbidden(exc) == ('deployments.apps "kas-fleet-manager" is forbidden: User "%s" cannot patch resource '
                              '"deployments" in API group "apps" in the namespace "%s"' % (USER, NS))
    with pytest.raises(ApiException) as exc:
        apps.replace_namespaced_deployment_scale("kas-fleet-manager", NS, {"spec": {"replicas": 4}})
    assert 'cannot update resource "deployments/scale" in API group "apps"' in forbidden(exc)
    with pytest.raises(ApiException) as exc:
        v1.delete_namespaced_pod(pods[0].metadata.name, NS)
    assert 'cannot delete resource "pods"' in forbidden(exc)
    with pytest.raises(ApiException) as exc:
        v1.read_namespace(NS)
    assert forbidden(exc) == ('namespaces "%s" is forbidden: User "%s" cannot get resource "namespaces" in API '
                              'group "" at the cluster scope' % (NS, USER))
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_pod("default")
    assert 'in the namespace "default"' in forbidden(exc)

    out = lab.kubectl("get", "pods", "-o", "name", kubeconfig=sa_kubeconfig)
    assert out.returncode == 0 and len(out.stdout.split()) == 3, out.stderr
    out = lab.kubectl("get", "secret", SECRET, "-o", "name", kubeconfig=sa_kubeconfig)
    assert (out.returncode, out.stdout.strip()) == (0, "secret/%s" % SECRET), out.stderr
    out = lab.kubectl("get", "secrets", kubeconfig=sa_kubeconfig)
    assert out.returncode == 1 and 'Error from server (Forbidden): secrets is forbidden: User "%s"' % USER \
        in out.stderr
    out = lab.kubectl("scale", "deployment/kas-fleet-manager", "--replicas=4", kubeconfig=sa_kubeconfig)
    assert out.returncode == 1 and 'cannot patch resource "deployments/scale" in API group "apps"' in out.stderr
    out = lab.kubectl("rollout", "restart", "deployment/kas-fleet-manager", kubeconfig=sa_kubeconfig)
    assert out.returncode == 1 and 'cannot patch resource "deployments" in API group "apps"' in out.stderr


# -- the apply Role on top --------------------------------------------------------------------------------------
def test_apply_role_allows_patch_and_scale(lab, sa_kubeconfig):
    out = apply(lab, "apply")
    assert "role.rbac.authorization.k8s.io/kas-fleet-runbook-apply created" in out
    try:
        check_cases(lab, sa_kubeconfig, 5)
        out = lab.kubectl("scale", "deployment/kas-fleet-manager", "--replicas=4", kubeconfig=sa_kubeconfig)
        assert (out.returncode, out.stdout.strip()) == (0, "deployment.apps/kas-fleet-manager scaled"), out.stderr
        out = lab.kubectl("rollout", "restart", "deployment/kas-fleet-manager", kubeconfig=sa_kubeconfig)
        assert out.returncode == 0 and "restarted" in out.stdout, out.stderr
        api = lab.api_client("token", kubeconfig=sa_kubeconfig)
        apps = client.AppsV1Api(api)
        dep = apps.patch_namespaced_deployment("kas-fleet-manager", NS,
                                               {"metadata": {"annotations": {"kas.fleet_manager/test": "x"}}})
        assert dep.metadata.annotations["kas.fleet_manager/test"] == "x" and dep.spec.replicas == 4
        assert apps.patch_namespaced_deployment_scale("kas-fleet-manager", NS,
                                                      {"spec": {"replicas": 3}}).spec.replicas == 3
    finally:
        out = apply(lab, "apply", action="delete")
        assert "rolebinding.rbac.authorization.k8s.io \"kas-fleet-runbook-apply\" deleted" in out
    # Taken away again: back to read-only.
    assert can_i(lab, sa_kubeconfig, "patch", "deployments", "", "") is False
    assert can_i(lab, sa_kubeconfig, "patch", "deployments", "scale", "") is False


# -- the existing tokens are unchanged ----------------------------------------------------------------------------
def test_admin_and_runbook_tokens_unchanged(lab, sa_kubeconfig):
    runbook = lab.api_client("lab")
    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(runbook).read_namespaced_secret(SECRET, NS)
    assert 'User "system:serviceaccount:kas-sre:runbook" cannot get resource "secrets"' in forbidden(exc)
    status = review(runbook, "patch", "deployments", "scale", "").status
    assert status.allowed is True and 'Role "kas-sre-runbook"' in status.reason
    status = review(runbook, "get", "secrets", "", SECRET).status
    assert status.allowed is False
    admin = review(lab.api_client("lab-admin"), "delete", "namespaces", "", NS).status
    assert admin.allowed is True and "cluster-admin" in admin.reason


# -- tokens -----------------------------------------------------------------------------------------------------------
def test_token_request(lab, sa_kubeconfig):
    v1 = client.CoreV1Api(lab.api_client("lab-admin"))
    issued = v1.create_namespaced_service_account_token(SA, NS, {"spec": {"expirationSeconds": 1200}})
    assert issued.status.token and issued.spec.expiration_seconds == 1200
    assert issued.status.expiration_timestamp.isoformat() > "2026-11-25T12:19"
    status, _, body = lab.request("/api/v1/namespaces/%s/pods" % NS, token=issued.status.token)
    assert status == 200 and body["kind"] == "PodList"
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account_token(SA, NS, {"spec": {"expirationSeconds": 60}})
    assert exc.value.status == 422 and "may not specify a duration less than 10 minutes" in exc.value.body
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account_token("nobody", NS, {"spec": {}})
    assert exc.value.status == 404 and json.loads(exc.value.body)["message"] == 'serviceaccounts "nobody" not found'
    out = lab.kubectl("-n", NS, "create", "token", SA, kubeconfig=sa_kubeconfig)
    assert out.returncode == 1 and 'cannot create resource "serviceaccounts/token"' in out.stderr
    status, _, _ = lab.request("/api/v1/namespaces/%s/pods" % NS, token="lab-sa.not-issued")
    assert status == 401


def test_invalid_rbac_objects_are_refused(lab, sa_kubeconfig):
    v1rbac = client.RbacAuthorizationV1Api(lab.api_client("lab-admin"))
    with pytest.raises(ApiException) as exc:
        v1rbac.create_namespaced_role(NS, {"metadata": {"name": "no-verbs"},
                                           "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": []}]})
    assert exc.value.status == 422 and json.loads(exc.value.body)["message"] == (
        'Role.rbac.authorization.k8s.io "no-verbs" is invalid: rules[0].verbs: Required value: verbs must contain '
        'at least one value')
    binding = {"metadata": {"name": "no-ns"}, "subjects": [{"kind": "ServiceAccount", "name": SA}],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "x"}}
    with pytest.raises(ApiException) as exc:
        v1rbac.create_namespaced_role_binding(NS, binding)
    assert exc.value.status == 422 and "subjects[0].namespace: Required value" in exc.value.body
    with pytest.raises(ApiException) as exc:
        v1rbac.patch_namespaced_role_binding("kas-fleet-runbook-recommend", NS, {"roleRef": {"name": "other"}})
    assert exc.value.status == 422 and "cannot change roleRef" in exc.value.body
    # The ServiceAccount's own token may not touch RBAC objects.
    api = lab.api_client("token", kubeconfig=sa_kubeconfig)
    with pytest.raises(ApiException) as exc:
        client.RbacAuthorizationV1Api(api).list_namespaced_role(NS)
    assert 'cannot list resource "roles" in API group "rbac.authorization.k8s.io"' in forbidden(exc)


def test_rule_matching():
    user = rbac.ServiceAccountUser(NS, SA, "uid")
    rule = {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]}
    assert rbac.rule_matches(rule, "patch", "apps", "deployments", "scale", "kas-fleet-manager")
    assert not rbac.rule_matches(rule, "patch", "apps", "deployments", "", "kas-fleet-manager")
    assert not rbac.rule_matches(rule, "patch", "", "deployments", "scale", "")
    assert rbac.rule_matches({"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["*"]},
                             "update", "apps", "deployments", "scale", "")
    assert rbac.rule_matches({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, "get", "", "pods", "log", "p")
    named = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"], "resourceNames": [SECRET]}
    assert rbac.rule_matches(named, "get", "", "secrets", "", SECRET)
    assert not rbac.rule_matches(named, "list", "", "secrets", "", "")
    assert rbac.subject_matches({"kind": "Group", "name": "system:serviceaccounts:%s" % NS}, user)
    assert rbac.subject_matches({"kind": "User", "name": USER}, user)
    assert not rbac.subject_matches({"kind": "ServiceAccount", "name": SA, "namespace": "default"}, user)


def test_token_ends_with_its_serviceaccount(lab, sa_kubeconfig, tmp_path):
    token = issue_token(lab)
    path = token_kubeconfig(lab.kubeconfig, token, str(tmp_path / "kubeconfig"), namespace=NS)
    assert lab.kubectl("get", "pods", kubeconfig=path).returncode == 0
    out = lab.kubectl("-n", NS, "delete", "serviceaccount", SA, context="lab-admin")
    assert out.returncode == 0, out.stderr
    out = lab.kubectl("get", "pods", kubeconfig=path)
    assert out.returncode == 1 and "You must be logged in to the server (Unauthorized)" in out.stderr
    # Recreated: the old tokens stay dead (bound to the deleted ServiceAccount), a new one works.
    apply(lab, "recommend/serviceaccount.yml")
    assert lab.kubectl("get", "pods", kubeconfig=path).returncode == 1
    token_kubeconfig(lab.kubeconfig, issue_token(lab), path, namespace=NS)
    assert lab.kubectl("get", "pods", kubeconfig=path).returncode == 0
    # Another scenario resets every object, RBAC ones included.
    lab.load(SCENARIO)
    out = lab.kubectl("get", "pods", kubeconfig=path)
    assert out.returncode == 1 and "Unauthorized" in out.stderr
