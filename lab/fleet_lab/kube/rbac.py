"""RBAC for ServiceAccount tokens in the lab API, as kube-apiserver's RBAC authorizer decides it.

ServiceAccounts, Roles and RoleBindings are ordinary objects of the lab API (``kubectl apply -f``, admin
context); ``kubectl create token SA`` (the ``serviceaccounts/token`` TokenRequest subresource) issues a bearer
token for a ServiceAccount; a request or a SelfSubjectAccessReview with that token is allowed when a Role bound
to the ServiceAccount in the request's namespace has a rule that matches it:

* ``apiGroups`` holds the request's group (``""`` for the core group) or ``*``;
* ``resources`` holds the resource, ``resource/subresource`` for a subresource (``pods/log``,
  ``deployments/scale``), ``*`` (every resource and subresource) or ``*/subresource``;
* ``verbs`` holds the verb (``get list watch create update patch delete deletecollection``) or ``*``;
* ``resourceNames``, when given, holds the request's object name; a request without a name (list, watch,
  create) never matches a rule with ``resourceNames``.

A RoleBinding applies to the ServiceAccount when one of its subjects is ``{kind: ServiceAccount, name,
namespace}`` of it, ``{kind: User, name: system:serviceaccount:NS:NAME}`` or a Group it belongs to
(``system:serviceaccounts``, ``system:serviceaccounts:NS``, ``system:authenticated``). Requests outside a
namespace (cluster-scoped resources, lists across namespaces) are denied: a Role grants nothing there.
What every authenticated user may do stays allowed, as the default ClusterRoles allow it: discovery,
``/version`` and creating SelfSubjectAccessReviews.

Differences from a real cluster: there are no ClusterRoles or ClusterRoleBindings (a RoleBinding whose roleRef
is a ClusterRole grants nothing), no privilege-escalation check when a Role is written (only the admin and the
runbook tokens can write one), tokens are opaque strings rather than JWTs, and a token lives until it expires
(``expirationSeconds``, lab clock), its ServiceAccount is deleted or replaced, or another scenario is loaded
(which resets every object, ServiceAccounts included).

The runbook's existing tokens are not affected: admin may do everything, the runbook token everything except
the scenario's ``access.denied`` (see server.Auth).
"""
import secrets
import threading

from fleet_lab.kube.objects import SECOND, ts

GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = ("Role", "ClusterRole")
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")
# What the default ClusterRole system:basic-user grants every authenticated user (group, resource, verb).
BASIC_USER = (("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
              ("authorization.k8s.io", "selfsubjectrulesreviews", "create"))
BASIC_USER_REASON = ('RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to '
                     'Group "system:authenticated"')
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600


class ServiceAccountUser(object):
    """The identity a ServiceAccount token authenticates as."""

    def __init__(self, namespace, name, uid):
        self.namespace = namespace
        self.name = name
        self.uid = uid

    @property
    def username(self):
        return "system:serviceaccount:%s:%s" % (self.namespace, self.name)

    @property
    def groups(self):
        return ("system:serviceaccounts", "system:serviceaccounts:%s" % self.namespace, "system:authenticated")

    def __repr__(self):  # never the token
        return "<ServiceAccountUser %s>" % self.username


def rule_matches(rule, verb, group, resource, subresource, name):
    """Whether one PolicyRule of a Role allows the request (kube-apiserver's rbac.RuleAllows)."""
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and (group or "") not in groups:
        return False
    resources = rule.get("resources") or []
    combined = "%s/%s" % (resource, subresource) if subresource else resource
    if not ("*" in resources or combined in resources or (subresource and "*/" + subresource in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or bool(name) and name in names


def subject_matches(subject, user):
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        return subject.get("name") == user.name and subject.get("namespace") == user.namespace
    if kind == "User":
        return subject.get("name") == user.username
    if kind == "Group":
        return subject.get("name") in user.groups
    return False


class RBAC(object):
    """Tokens of ServiceAccounts and the decisions for them, over the cluster's object store."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.lock = threading.Lock()
        self.tokens = {}  # token -> (namespace, name, uid, store epoch, expiry in lab us)

    # -- tokens -------------------------------------------------------------------------------------------
    def token_request(self, serviceaccount, request):
        """Issue a token for ``serviceaccount`` (the stored object); returns the TokenRequest to answer, or
        raises ValueError with the field error of an invalid request."""
        request = request if isinstance(request, dict) else {}
        spec = dict(request.get("spec") or {})
        seconds = spec.get("expirationSeconds")
        seconds = DEFAULT_EXPIRATION if seconds is None else seconds
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < MIN_EXPIRATION:
            raise ValueError("spec.expirationSeconds: Invalid value: %s: may not specify a duration less than 10 "
                             "minutes" % (seconds,))
        meta = serviceaccount["metadata"]
        now = self.cluster.clock()
        expiry = now + seconds * SECOND
        token = "lab-sa." + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens = {t: v for t, v in self.tokens.items() if v[4] > now}
            self.tokens[token] = (meta["namespace"], meta["name"], meta["uid"], self.cluster.store.epoch, expiry)
        spec["expirationSeconds"] = seconds
        spec.setdefault("audiences", ["https://kubernetes.default.svc"])
        spec.setdefault("boundObjectRef", None)
        return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"], "creationTimestamp": None},
                "spec": spec, "status": {"token": token, "expirationTimestamp": ts(expiry)}}

    def user(self, token):
        """The ServiceAccountUser of a token this lab issued and that is still valid, else None (401)."""
        with self.lock:
            entry = self.tokens.get(token)
        if entry is None:
            return None
        namespace, name, uid, epoch, expiry = entry
        store = self.cluster.store
        with store.lock:
            sa = store.get("serviceaccounts", namespace, name)
            valid = sa is not None and sa["metadata"]["uid"] == uid and store.epoch == epoch
        if not valid or self.cluster.clock() >= expiry:
            return None
        return ServiceAccountUser(namespace, name, uid)

    # -- decisions ----------------------------------------------------------------------------------------
    def authorize(self, user, verb, group, resource, subresource="", namespace=None, name=None):
        """(allowed, reason) for ``user``'s request; the reason names the RoleBinding that allows it, as a
        SelfSubjectAccessReview says, and is empty when nothing does."""
        if (group or "", resource, verb) in BASIC_USER and not subresource:
            return True, BASIC_USER_REASON
        if not namespace:
            return False, ""
        store = self.cluster.store
        with store.lock:
            for binding in store.items("rolebindings", namespace):
                if not any(subject_matches(s, user) for s in binding.get("subjects") or []):
                    continue
                ref = binding.get("roleRef") or {}
                role = store.get("roles", namespace, ref.get("name", "")) if ref.get("kind") == "Role" else None
                if role is None:
                    continue
                for rule in role.get("rules") or []:
                    if rule_matches(rule, verb, group, resource, subresource, name):
                        return True, 'RBAC: allowed by RoleBinding "%s/%s" of Role "%s" to ServiceAccount "%s/%s"' % (
                            binding["metadata"]["name"], namespace, ref["name"], user.name, user.namespace)
        return False, ""


# -- validation (HTTP 422 on a real server) ----------------------------------------------------------------
def validate(resource, obj, old):
    """None, or (message, details) of the first invalid field of a Role or RoleBinding being written."""
    if resource == "roles":
        return _validate_role(obj)
    if resource == "rolebindings":
        return _validate_binding(obj, old)
    return None


def _invalid(kind, obj, field, kind_of_error, detail, value=None):
    name = obj["metadata"].get("name", "")
    if kind_of_error == "FieldValueRequired":
        cause = "Required value: %s" % detail if detail else "Required value"
    elif kind_of_error == "FieldValueNotSupported":
        cause = "Unsupported value: %s: %s" % (_quote(value), detail)
    else:
        cause = "Invalid value: %s: %s" % (_quote(value), detail)
    message = '%s.%s "%s" is invalid: %s: %s' % (kind, GROUP, name, field, cause)
    return message, {"name": name, "group": GROUP, "kind": kind,
                     "causes": [{"reason": kind_of_error, "message": cause, "field": field}]}


def _quote(value):
    return '"%s"' % value if isinstance(value, str) else repr(value)


def _validate_role(obj):
    rules = obj.get("rules")
    if rules is not None and not isinstance(rules, list):
        return _invalid("Role", obj, "rules", "FieldValueInvalid", "must be a list", rules)
    for i, rule in enumerate(rules or []):
        field = "rules[%d]" % i
        if not isinstance(rule, dict):
            return _invalid("Role", obj, field, "FieldValueInvalid", "must be an object", rule)
        for key in ("verbs", "apiGroups", "resources", "resourceNames"):
            value = rule.get(key)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return _invalid("Role", obj, "%s.%s" % (field, key), "FieldValueInvalid", "must be a list of strings",
                                value)
        if not rule.get("verbs"):
            return _invalid("Role", obj, field + ".verbs", "FieldValueRequired",
                            "verbs must contain at least one value")
        if rule.get("nonResourceURLs"):
            return _invalid("Role", obj, field + ".nonResourceURLs", "FieldValueInvalid",
                            "namespaced rules cannot apply to non-resource URLs", rule["nonResourceURLs"])
        if not rule.get("apiGroups"):
            return _invalid("Role", obj, field + ".apiGroups", "FieldValueRequired",
                            "resource rules must supply at least one api group")
        if not rule.get("resources"):
            return _invalid("Role", obj, field + ".resources", "FieldValueRequired",
                            "resource rules must supply at least one resource")
    return None


def _validate_binding(obj, old):
    ref = obj.get("roleRef")
    if not isinstance(ref, dict) or not ref.get("name"):
        return _invalid("RoleBinding", obj, "roleRef.name", "FieldValueRequired", "")
    if ref.get("apiGroup") != GROUP:
        return _invalid("RoleBinding", obj, "roleRef.apiGroup", "FieldValueNotSupported",
                        'supported values: "%s"' % GROUP, ref.get("apiGroup", ""))
    if ref.get("kind") not in ROLE_KINDS:
        return _invalid("RoleBinding", obj, "roleRef.kind", "FieldValueNotSupported",
                        'supported values: "Role", "ClusterRole"', ref.get("kind", ""))
    if old is not None and (old.get("roleRef") or {}) != ref:
        return _invalid("RoleBinding", obj, "roleRef", "FieldValueInvalid", "cannot change roleRef",
                        "rbac.RoleRef{APIGroup:\"%s\", Kind:\"%s\", Name:\"%s\"}" % (
                            ref.get("apiGroup"), ref.get("kind"), ref.get("name")))
    subjects = obj.get("subjects") or []
    if not isinstance(subjects, list):
        return _invalid("RoleBinding", obj, "subjects", "FieldValueInvalid", "must be a list", subjects)
    for i, subject in enumerate(subjects):
        field = "subjects[%d]" % i
        if not isinstance(subject, dict) or subject.get("kind") not in SUBJECT_KINDS:
            return _invalid("RoleBinding", obj, field + ".kind", "FieldValueNotSupported",
                            'supported values: "ServiceAccount", "User", "Group"',
                            subject.get("kind", "") if isinstance(subject, dict) else subject)
        if not subject.get("name"):
            return _invalid("RoleBinding", obj, field + ".name", "FieldValueRequired", "")
        if subject["kind"] == "ServiceAccount" and not subject.get("namespace"):
            return _invalid("RoleBinding", obj, field + ".namespace", "FieldValueRequired", "")
    return None
