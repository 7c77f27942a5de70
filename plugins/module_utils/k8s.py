# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Kubernetes access for the modules: a client built from the shared auth options, and the few reads and
writes the runbook needs, each turning API and transport failures into a FleetError a user can act on.

Reads ask for raw JSON (``_preload_content=False``): the objects come back as the API's own dicts, the
same shape ``kubectl get -o json`` shows, without the typed client's slow deserialisation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import traceback

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

K8S_IMPORT_ERROR = None
try:
    import kubernetes
    import urllib3
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException
    HAS_K8S = True
except ImportError:
    HAS_K8S = False
    K8S_IMPORT_ERROR = traceback.format_exc()

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def require_k8s(module):
    if not HAS_K8S:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)


def _default_kubeconfig():
    env = os.environ.get("KUBECONFIG")
    if env:
        return env.split(os.pathsep)[0]
    return os.path.expanduser("~/.kube/config")


def build_client(params):
    """ApiClient from the shared auth options (kubeconfig/context/host/api_key/validate_certs/ca_cert)."""
    config = kubernetes.client.Configuration()
    kubeconfig = params.get("kubeconfig")
    if kubeconfig or not params.get("host"):
        path = kubeconfig or _default_kubeconfig()
        if not os.path.isfile(path):
            raise FleetError("kubeconfig %s does not exist: set the kubeconfig option (or K8S_AUTH_KUBECONFIG), "
                             "or give host and api_key" % path)
        try:
            kubernetes.config.load_kube_config(config_file=path, context=params.get("context"),
                                               client_configuration=config, persist_config=False)
        except ConfigException as exc:
            raise FleetError("cannot use kubeconfig %s: %s" % (path, exc))
        except Exception as exc:  # malformed YAML, wrong types: kubernetes raises whatever it meets
            raise FleetError("cannot read kubeconfig %s: %s: %s" % (path, type(exc).__name__, exc))
    if params.get("host"):
        config.host = params["host"]
    if params.get("api_key"):
        config.api_key = {"authorization": "Bearer %s" % params["api_key"]}
        # load_kube_config installs a hook that reloads the kubeconfig user's token before each call, which
        # would silently replace the api_key the user gave.
        config.refresh_api_key_hook = None
    if params.get("validate_certs") is not None:
        config.verify_ssl = params["validate_certs"]
    if params.get("ca_cert"):
        if not os.path.isfile(params["ca_cert"]):
            raise FleetError("ca_cert %s does not exist" % params["ca_cert"])
        config.ssl_ca_cert = params["ca_cert"]
    # One try per call: an unreachable API should fail within api_timeout, not after urllib3's retries.
    config.retries = False
    return kubernetes.client.ApiClient(config)


class Kube(object):
    """The runbook's Kubernetes reads and writes, with FleetError for every failure."""

    def __init__(self, params):
        self.api_client = build_client(params)
        self.host = self.api_client.configuration.host
        self.timeout = params.get("api_timeout") or 30
        self.core = kubernetes.client.CoreV1Api(self.api_client)
        self.apps = kubernetes.client.AppsV1Api(self.api_client)
        self.authz = kubernetes.client.AuthorizationV1Api(self.api_client)

    # -- error translation -------------------------------------------------------------------------
    def error(self, exc, what):
        """FleetError for an exception raised while doing ``what`` (a phrase such as 'list pods in ns')."""
        if isinstance(exc, ApiException):
            reason = exc.reason or ""
            try:
                reason = json.loads(exc.body).get("message") or reason
            except (TypeError, ValueError, AttributeError):
                pass
            if exc.status == 401:
                return FleetError("cannot %s: the Kubernetes API at %s rejected the credentials (401 Unauthorized); "
                                  "check api_key or the kubeconfig user's token" % (what, self.host), status=401)
            if exc.status == 403:
                return FleetError("cannot %s: forbidden (403): %s" % (what, reason), status=403)
            if exc.status == 404:
                return FleetError("cannot %s: not found (404): %s" % (what, reason), status=404)
            return FleetError("cannot %s: the Kubernetes API answered %s: %s" % (what, exc.status, reason),
                              status=exc.status)
        if isinstance(exc, urllib3.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return FleetError("cannot %s: TLS verification of %s failed; give ca_cert, or validate_certs=false "
                              "for a lab" % (what, self.host))
        # NewConnectionError subclasses ConnectTimeoutError in urllib3, so a refused connection is checked first.
        if isinstance(exc, urllib3.exceptions.NewConnectionError):
            return FleetError("cannot %s: cannot reach the Kubernetes API at %s: %s" % (what, self.host, exc))
        if isinstance(exc, (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError)):
            return FleetError("cannot %s: the Kubernetes API at %s did not answer within %s s (api_timeout)"
                              % (what, self.host, self.timeout))
        if isinstance(exc, urllib3.exceptions.HTTPError):
            cause = getattr(exc, "reason", None) or exc
            return FleetError("cannot %s: cannot reach the Kubernetes API at %s: %s" % (what, self.host, cause))
        return FleetError("cannot %s: %s: %s" % (what, type(exc).__name__, exc))

    def _json(self, call, what, *args, **kwargs):
        kwargs.setdefault("_request_timeout", self.timeout)
        try:
            response = call(*args, _preload_content=False, **kwargs)
            return json.loads(response.data)
        except Exception as exc:
            raise self.error(exc, what)

    # -- reads -------------------------------------------------------------------------------------
    def read_namespace(self, namespace):
        """The namespace object, or FleetError with status 404 when it does not exist."""
        return self._json(self.core.read_namespace, "read namespace %s" % namespace, namespace)

    def read_deployment(self, namespace, name):
        """The deployment, or None when it does not exist."""
        try:
            return self._json(self.apps.read_namespaced_deployment, "read deployment %s/%s" % (namespace, name),
                              name, namespace)
        except FleetError as exc:
            if exc.details.get("status") == 404:
                return None
            raise

    def list_pods(self, namespace, label_selector=None):
        return self._json(self.core.list_namespaced_pod, "list pods in namespace %s" % namespace, namespace,
                          label_selector=label_selector or "")["items"]

    def list_replicasets(self, namespace, label_selector=None):
        return self._json(self.apps.list_namespaced_replica_set, "list replicasets in namespace %s" % namespace,
                          namespace, label_selector=label_selector or "")["items"]

    def list_events(self, namespace, field_selector=None):
        return self._json(self.core.list_namespaced_event, "list events in namespace %s" % namespace, namespace,
                          field_selector=field_selector or "")["items"]

    def read_secret_data(self, namespace, name):
        """The secret's data, base64-decoded to str. Callers must never return or log the values."""
        import base64
        secret = self._json(self.core.read_namespaced_secret, "read secret %s/%s" % (namespace, name), name, namespace)
        data = {}
        for key, value in (secret.get("data") or {}).items():
            data[key] = base64.b64decode(value).decode("utf-8", "replace")
        for key, value in (secret.get("stringData") or {}).items():
            data[key] = value
        return data

    def stream_log(self, namespace, pod, container, previous=False, since_seconds=None, tail_lines=None,
                   limit_bytes=None, chunk_size=65536):
        """Yield the pod log as lines (str, without newline), streamed: never the whole log in memory."""
        kwargs = dict(container=container, previous=previous, _preload_content=False, _request_timeout=self.timeout)
        if since_seconds:
            kwargs["since_seconds"] = since_seconds
        if tail_lines is not None:
            kwargs["tail_lines"] = tail_lines
        if limit_bytes:
            kwargs["limit_bytes"] = limit_bytes
        what = "read the %slog of container %s in pod %s/%s" % ("previous " if previous else "", container,
                                                                namespace, pod)
        try:
            response = self.core.read_namespaced_pod_log(pod, namespace, **kwargs)
        except Exception as exc:
            raise self.error(exc, what)
        return _iter_lines(response, chunk_size, lambda exc: self.error(exc, what))

    def can_i(self, namespace, verb, resource, group="", subresource=""):
        """SelfSubjectAccessReview: (allowed, reason)."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": namespace, "verb": verb, "resource": resource,
                                            "group": group, "subresource": subresource}},
        }
        review = self._json(self.authz.create_self_subject_access_review,
                            "review access to %s %s" % (verb, resource), body)
        status = review.get("status") or {}
        return bool(status.get("allowed")), status.get("reason") or ""

    # -- writes ------------------------------------------------------------------------------------------
    def _patch(self, call, what, name, namespace, patch, dry_run):
        """A strategic merge patch, with the content type named explicitly. Older clients chose it from the body
        type (a dict: strategic merge); recent ones pick the operation's first JSON type (json-patch) and rely on
        a rewrite in their REST layer; ``_content_type`` makes it independent of either. A client that does not
        know ``_content_type`` gets the call without it (and picks strategic merge for a dict body)."""
        kwargs = {"_request_timeout": self.timeout, "_preload_content": False}
        if dry_run:
            kwargs["dry_run"] = "All"
        try:
            try:
                response = call(name, namespace, patch, _content_type=STRATEGIC_MERGE_PATCH, **kwargs)
            except TypeError as exc:  # kubernetes.client.exceptions.ApiTypeError: a client without _content_type
                if "_content_type" not in str(exc):
                    raise
                response = call(name, namespace, patch, **kwargs)
            return json.loads(response.data)
        except Exception as exc:
            raise self.error(exc, what)

    def patch_deployment(self, namespace, name, patch, dry_run=False):
        """Strategic merge ``patch`` of the deployment. A ``metadata.resourceVersion`` in the patch makes it
        conditional: a concurrent change fails it with FleetError status 409."""
        return self._patch(self.apps.patch_namespaced_deployment, "patch deployment %s/%s" % (namespace, name),
                           name, namespace, patch, dry_run)

    def scale_deployment(self, namespace, name, replicas, resource_version=None, dry_run=False):
        """Set spec.replicas through the deployments/scale subresource (what ``kubectl scale`` does); with
        ``resource_version`` only if the deployment has not changed since it was read (else status 409)."""
        body = {"spec": {"replicas": replicas}}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        return self._patch(self.apps.patch_namespaced_deployment_scale,
                           "patch deployments/scale %s/%s" % (namespace, name), name, namespace, body, dry_run)


def _iter_lines(response, chunk_size, on_error):
    pending = b""
    try:
        for chunk in response.stream(chunk_size):
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                yield raw.decode("utf-8", "replace")
        if pending:
            yield pending.decode("utf-8", "replace")
    except Exception as exc:
        raise on_error(exc)
    finally:
        response.release_conn()
