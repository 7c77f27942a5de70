# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Argument specs shared by the modules; their docs are the doc fragments of the same names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

from ansible.module_utils.basic import AnsibleFallbackNotFound

# Same option names as kubernetes.core, so an inventory written for it works here too, and the same environment
# variables: kubernetes.core (module_utils/k8s/client.py, _create_auth_spec) reads K8S_AUTH_<OPTION> and then
# K8S_AUTH_<kubernetes client name>, the latter being the one its docs name (VERIFY_SSL, SSL_CA_CERT). An option given
# to the task (or through module_defaults) wins over the environment. api_timeout is this collection's own: no variable.
K8S_AUTH_ENV = dict(
    kubeconfig=["K8S_AUTH_KUBECONFIG"],
    context=["K8S_AUTH_CONTEXT"],
    host=["K8S_AUTH_HOST"],
    api_key=["K8S_AUTH_API_KEY"],
    validate_certs=["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"],
    ca_cert=["K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"],
)


def k8s_env_fallback(*names):
    """The first of ``names`` set to a non-empty value, read as kubernetes.core reads them (an empty variable counts
    as unset, so K8S_AUTH_VALIDATE_CERTS= does not hide K8S_AUTH_VERIFY_SSL). Runs wherever the argument spec is
    validated: in the module, and in the controller for the in-process action plugins (plugin_utils.in_process)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


K8S_AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="path", fallback=(k8s_env_fallback, K8S_AUTH_ENV["kubeconfig"])),
    context=dict(type="str", fallback=(k8s_env_fallback, K8S_AUTH_ENV["context"])),
    host=dict(type="str", fallback=(k8s_env_fallback, K8S_AUTH_ENV["host"])),
    api_key=dict(type="str", no_log=True, fallback=(k8s_env_fallback, K8S_AUTH_ENV["api_key"])),
    validate_certs=dict(type="bool", aliases=["verify_ssl"], fallback=(k8s_env_fallback, K8S_AUTH_ENV["validate_certs"])),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=(k8s_env_fallback, K8S_AUTH_ENV["ca_cert"])),
    api_timeout=dict(type="int", default=30),
)

# community.postgresql's names (login_port and login_db first, port and db their aliases, as it has them now), except
# the CA file, because ca_cert is the Kubernetes CA here.
DB_ARG_SPEC = dict(
    login_host=dict(type="str", aliases=["db_host"]),
    login_port=dict(type="int", aliases=["port"]),
    login_db=dict(type="str", aliases=["db"]),
    login_user=dict(type="str", aliases=["db_user"]),
    login_password=dict(type="str", no_log=True, aliases=["db_password"]),
    ssl_mode=dict(type="str", default="prefer",
                  choices=["allow", "disable", "prefer", "require", "verify-ca", "verify-full"]),
    ssl_rootcert=dict(type="path"),
    connect_timeout=dict(type="int", default=10),
    statement_timeout=dict(type="int", default=15),
    db_secret=dict(type="str", no_log=False),
)


def k8s_auth_spec():
    return copy.deepcopy(K8S_AUTH_ARG_SPEC)


# The deployment a module looks at or acts on; docs in the deployment doc fragment.
DEPLOYMENT_ARG_SPEC = dict(
    namespace=dict(type="str", required=True),
    deployment=dict(type="str", default="kas-fleet-manager"),
)


# Waiting for the rollout after a change; docs in the deployment doc fragment's WAIT.
WAIT_ARG_SPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=180),
    wait_sleep=dict(type="int", default=2),
)


def deployment_spec(wait=False):
    """The Kubernetes options plus namespace and deployment (and the wait options with ``wait``)."""
    spec = k8s_auth_spec()
    spec.update(copy.deepcopy(DEPLOYMENT_ARG_SPEC))
    if wait:
        spec.update(copy.deepcopy(WAIT_ARG_SPEC))
    return spec


def db_spec(db_secret_default=None):
    spec = copy.deepcopy(DB_ARG_SPEC)
    if db_secret_default:
        spec["db_secret"]["default"] = db_secret_default
    return spec


# The HTTP APIs the runbook reads (Prometheus, Thanos, Grafana's datasource proxy, Sentry); docs in the http_api
# doc fragment. A token is sent as a bearer token; username/password as basic auth; never both.
HTTP_API_ARG_SPEC = dict(
    url=dict(type="str", required=True),
    token=dict(type="str", no_log=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_cert=dict(type="path"),
    timeout=dict(type="int", default=30),
)
HTTP_API_MUTUALLY_EXCLUSIVE = [["token", "username"]]


def http_api_spec():
    return copy.deepcopy(HTTP_API_ARG_SPEC)
