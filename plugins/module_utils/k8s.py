# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Kubernetes access for the modules: a client built from the shared auth options, and the few reads and
writes the runbook needs, each turning API and transport failures into a FleetError a user can act on.

Objects come back as the API's own dicts, the shape ``kubectl get -o json`` shows: the client library is used for
its configuration (kubeconfig, auth, TLS) and connection pool, not for its typed API classes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import traceback

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

K8S_IMPORT_ERROR = None
try:
    import kubernetes
    import urllib3
    import yaml
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader
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


def load_kubeconfig(path, context, config):
    """Sets ``config`` from the kubeconfig file at ``path`` (its ``context``, else its current one) as
    kubernetes.config.load_kube_config does for one file, with the same loader (auth plugins, exec, token refresh),
    relative certificate and key paths resolved against the file's directory; the file is parsed with libyaml's
    loader when PyYAML has it. The library's pure-Python parse cost each task that builds a client 3 ms for the lab's
    kubeconfig and 70 ms for one of fifty clusters (58 KB), against 0.7 and 6 ms (README, Speed)."""
    with open(path) as handle:
        data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ConfigException("Invalid kube-config. %s file is empty" % path)
    loader = KubeConfigLoader(config_dict=data, active_context=context,
                              config_base_path=os.path.dirname(os.path.abspath(path)))
    loader.load_and_set(config)


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
            load_kubeconfig(path, params.get("context"), config)
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
    """The runbook's Kubernetes reads and writes, with FleetError for every failure.

    Calls go straight to the REST API through the client's own connection pool (TLS, client certificates and
    proxy from the kubeconfig) and auth settings (bearer token, refreshed by the kubeconfig's exec/OIDC hook):
    the typed API classes would cost most of a module's run time just to import (kubernetes 35+ builds
    pydantic models for every operation), and the runbook needs eight paths."""

    def __init__(self, params):
        self.api_client = build_client(params)
        self.configuration = self.api_client.configuration
        self.host = self.configuration.host.rstrip("/")
        self.timeout = params.get("api_timeout") or 30
        self.pool = self.api_client.rest_client.pool_manager

    # -- error translation -------------------------------------------------------------------------
    def http_error(self, status, reason, body, what):
        """FleetError for an API answer outside 2xx; ``reason`` is replaced by the Status message if any."""
        try:
            reason = json.loads(body).get("message") or reason
        except (TypeError, ValueError, AttributeError):
            pass
        if status == 401:
            return FleetError("cannot %s: the Kubernetes API at %s rejected the credentials (401 Unauthorized); "
                              "check api_key or the kubeconfig user's token" % (what, self.host), status=401)
        if status == 403:
            return FleetError("cannot %s: forbidden (403): %s" % (what, reason), status=403)
        if status == 404:
            return FleetError("cannot %s: not found (404): %s" % (what, reason), status=404)
        return FleetError("cannot %s: the Kubernetes API answered %s: %s" % (what, status, reason), status=status)

    def error(self, exc, what):
        """FleetError for a transport exception raised while doing ``what`` (a phrase such as 'list pods in ns')."""
        if isinstance(exc, FleetError):
            return exc
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

    # -- the one HTTP call ---------------------------------------------------------------------------
    def request(self, method, path, what, query=None, body=None, content_type="application/json", stream=False):
        """``method`` ``path`` (already quoted) with ``query`` pairs (None values dropped) and a JSON ``body``.
        Returns the decoded JSON, or with ``stream`` the open urllib3 response (the caller releases it)."""
        url = self.host + path
        pairs = [(key, value) for key, value in (query or []) if value is not None and value != ""]
        if pairs:
            url += "?" + urlencode(pairs)
        headers = {"Accept": "application/json", "User-Agent": "kas.fleet_manager"}
        if stream:
            headers["Accept"] = "*/*"
        for auth in self.configuration.auth_settings().values():
            if auth.get("in") == "header" and auth.get("value"):
                headers[auth["key"]] = auth["value"]
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body)
        try:
            response = self.pool.request(method, url, body=data, headers=headers, preload_content=False,
                                         timeout=urllib3.Timeout(total=self.timeout), retries=False)
            if not 200 <= response.status < 300:
                try:
                    text = response.data.decode("utf-8", "replace")
                finally:
                    response.release_conn()
                raise self.http_error(response.status, response.reason, text, what)
            if stream:
                return response
            try:
                return json.loads(response.data)
            finally:
                response.release_conn()
        except Exception as exc:
            raise self.error(exc, what)

    # -- reads -------------------------------------------------------------------------------------
    def read_namespace(self, namespace):
        """The namespace object, or FleetError with status 404 when it does not exist."""
        return self.request("GET", "/api/v1/namespaces/%s" % _q(namespace), "read namespace %s" % namespace)

    def read_deployment(self, namespace, name):
        """The deployment, or None when it does not exist."""
        try:
            return self.request("GET", "/apis/apps/v1/namespaces/%s/deployments/%s" % (_q(namespace), _q(name)),
                                "read deployment %s/%s" % (namespace, name))
        except FleetError as exc:
            if exc.details.get("status") == 404:
                return None
            raise

    def list_pods(self, namespace, label_selector=None):
        return self.request("GET", "/api/v1/namespaces/%s/pods" % _q(namespace),
                            "list pods in namespace %s" % namespace,
                            query=[("labelSelector", label_selector)])["items"]

    def list_events(self, namespace, field_selector=None):
        return self.request("GET", "/api/v1/namespaces/%s/events" % _q(namespace),
                            "list events in namespace %s" % namespace,
                            query=[("fieldSelector", field_selector)])["items"]

    def read_secret_data(self, namespace, name):
        """The secret's data, base64-decoded to str. Callers must never return or log the values."""
        import base64
        secret = self.request("GET", "/api/v1/namespaces/%s/secrets/%s" % (_q(namespace), _q(name)),
                              "read secret %s/%s" % (namespace, name))
        data = {}
        for key, value in (secret.get("data") or {}).items():
            data[key] = base64.b64decode(value).decode("utf-8", "replace")
        for key, value in (secret.get("stringData") or {}).items():
            data[key] = value
        return data

    def stream_log(self, namespace, pod, container, previous=False, since_seconds=None, tail_lines=None,
                   limit_bytes=None, chunk_size=65536):
        """Yield the pod log as lines (str, without newline), streamed: never the whole log in memory."""
        what = "read the %slog of container %s in pod %s/%s" % ("previous " if previous else "", container,
                                                                namespace, pod)
        query = [("container", container), ("previous", "true" if previous else None),
                 ("sinceSeconds", since_seconds or None), ("tailLines", tail_lines), ("limitBytes", limit_bytes or None)]
        response = self.request("GET", "/api/v1/namespaces/%s/pods/%s/log" % (_q(namespace), _q(pod)), what,
                                query=query, stream=True)
        return _iter_lines(response, chunk_size, lambda exc: self.error(exc, what))

    def can_i(self, namespace, verb, resource, group="", subresource="", name=""):
        """SelfSubjectAccessReview: (allowed, reason). With ``name``, about that one object (a Role rule with
        resourceNames allows a request for a named object only)."""
        attributes = {"namespace": namespace, "verb": verb, "resource": resource, "group": group,
                      "subresource": subresource}
        if name:
            attributes["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        review = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                              "review access to %s %s" % (verb, resource), body=body)
        status = review.get("status") or {}
        return bool(status.get("allowed")), status.get("reason") or ""

    # -- writes ------------------------------------------------------------------------------------------
    def _patch(self, path, what, patch):
        """A strategic merge patch (what ``kubectl patch`` and ``kubectl rollout restart`` send)."""
        return self.request("PATCH", path, what, body=patch, content_type=STRATEGIC_MERGE_PATCH)

    def patch_deployment(self, namespace, name, patch):
        """Strategic merge ``patch`` of the deployment. A ``metadata.resourceVersion`` in the patch makes it
        conditional: a concurrent change fails it with FleetError status 409."""
        return self._patch("/apis/apps/v1/namespaces/%s/deployments/%s" % (_q(namespace), _q(name)),
                           "patch deployment %s/%s" % (namespace, name), patch)

    def scale_deployment(self, namespace, name, replicas, resource_version=None):
        """Set spec.replicas through the deployments/scale subresource (what ``kubectl scale`` does); with
        ``resource_version`` only if the deployment has not changed since it was read (else status 409)."""
        body = {"spec": {"replicas": replicas}}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        return self._patch("/apis/apps/v1/namespaces/%s/deployments/%s/scale" % (_q(namespace), _q(name)),
                           "patch deployments/scale %s/%s" % (namespace, name), body)


def _q(segment):
    """One path segment, quoted (names are DNS labels, but a user's typo must not change the path)."""
    return quote(str(segment), safe="")


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
