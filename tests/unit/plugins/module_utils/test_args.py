# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The shared option specs: every Kubernetes option falls back to its K8S_AUTH_* variable as in kubernetes.core, and
the database options take login_port/login_db and their aliases port/db; checked on the spec's validation, the client
built from it and the database settings. The modules run as modules: tests/unit/plugins/modules/test_option_names.py;
in the controller's process: tests/unit/plugins/action/test_option_names.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils.args import K8S_AUTH_ENV, db_spec, k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import build_client

TOKEN = "sha256~env-token-never-shown"

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
  - name: a
    cluster: {server: "https://a.example:6443"}
  - name: b
    cluster: {server: "https://b.example:6443"}
users:
  - name: ua
    user: {token: token-a}
  - name: ub
    user: {token: token-b}
contexts:
  - name: a
    context: {cluster: a, user: ua}
  - name: b
    context: {cluster: b, user: ub}
current-context: a
"""


@pytest.fixture(autouse=True)
def no_k8s_env(monkeypatch):
    """Start every test with none of the variables set, whatever the shell that runs the tests exports."""
    for names in K8S_AUTH_ENV.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return str(path)


def validate(spec, args):
    result = ArgumentSpecValidator(spec).validate(args)
    assert result.error_messages == []
    return result


# -- the Kubernetes options ----------------------------------------------------------------------------------------

def test_the_variables_are_kubernetes_cores():
    assert K8S_AUTH_ENV == {
        "kubeconfig": ["K8S_AUTH_KUBECONFIG"],
        "context": ["K8S_AUTH_CONTEXT"],
        "host": ["K8S_AUTH_HOST"],
        "api_key": ["K8S_AUTH_API_KEY"],
        "validate_certs": ["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"],
        "ca_cert": ["K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"],
    }
    spec = k8s_auth_spec()
    assert "fallback" not in spec["api_timeout"]
    assert all(spec[option]["fallback"][1] == names for option, names in K8S_AUTH_ENV.items())


@pytest.mark.parametrize("option, name, value, expected", [
    ("kubeconfig", "K8S_AUTH_KUBECONFIG", "/etc/kas-sre/kubeconfig", "/etc/kas-sre/kubeconfig"),
    ("context", "K8S_AUTH_CONTEXT", "stage", "stage"),
    ("host", "K8S_AUTH_HOST", "https://api.example:6443", "https://api.example:6443"),
    ("api_key", "K8S_AUTH_API_KEY", TOKEN, TOKEN),
    ("validate_certs", "K8S_AUTH_VERIFY_SSL", "false", False),
    ("validate_certs", "K8S_AUTH_VALIDATE_CERTS", "no", False),
    ("validate_certs", "K8S_AUTH_VERIFY_SSL", "true", True),
    ("ca_cert", "K8S_AUTH_SSL_CA_CERT", "/etc/kas-sre/ca.pem", "/etc/kas-sre/ca.pem"),
    ("ca_cert", "K8S_AUTH_CA_CERT", "/etc/kas-sre/ca.pem", "/etc/kas-sre/ca.pem"),
])
def test_each_variable_gives_its_option(monkeypatch, option, name, value, expected):
    monkeypatch.setenv(name, value)
    params = validate(k8s_auth_spec(), {}).validated_parameters
    assert params[option] == expected
    assert [key for key in K8S_AUTH_ENV if params[key] is not None] == [option]


def test_the_task_option_wins_over_the_variable(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://env.example:6443")
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "false")
    params = validate(k8s_auth_spec(), {"host": "https://task.example:6443", "verify_ssl": True}).validated_parameters
    assert params["host"] == "https://task.example:6443"
    assert params["validate_certs"] is True


def test_an_empty_variable_is_unset_and_the_options_own_name_is_read_first(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_VALIDATE_CERTS", "")
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "false")
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "")
    params = validate(k8s_auth_spec(), {}).validated_parameters
    assert params["validate_certs"] is False
    assert params["context"] is None
    monkeypatch.setenv("K8S_AUTH_VALIDATE_CERTS", "true")
    assert validate(k8s_auth_spec(), {}).validated_parameters["validate_certs"] is True


def test_a_variable_that_is_no_boolean_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "maybe")
    result = ArgumentSpecValidator(k8s_auth_spec()).validate({})
    assert any("validate_certs" in msg and "maybe" in msg for msg in result.error_messages), result.error_messages


def test_the_api_key_from_the_environment_is_never_logged(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_API_KEY", TOKEN)
    assert TOKEN in validate(k8s_auth_spec(), {})._no_log_values


def test_build_client_reads_kubeconfig_and_context_from_the_environment(monkeypatch, kubeconfig):
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", kubeconfig)
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "b")
    config = build_client(validate(k8s_auth_spec(), {}).validated_parameters).configuration
    assert config.host == "https://b.example:6443"
    assert list(config.api_key.values()) == ["Bearer token-b"]  # the context's user


def test_build_client_reads_host_api_key_tls_from_the_environment(monkeypatch, kubeconfig, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", kubeconfig)
    monkeypatch.setenv("K8S_AUTH_HOST", "https://env.example:6443")
    monkeypatch.setenv("K8S_AUTH_API_KEY", TOKEN)
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "false")
    monkeypatch.setenv("K8S_AUTH_SSL_CA_CERT", str(ca))
    config = build_client(validate(k8s_auth_spec(), {}).validated_parameters).configuration
    assert config.host == "https://env.example:6443"
    assert config.api_key == {"authorization": "Bearer %s" % TOKEN}
    assert config.refresh_api_key_hook is None  # the kubeconfig user's token does not come back
    assert config.verify_ssl is False
    assert config.ssl_ca_cert == str(ca)


# -- the database options ------------------------------------------------------------------------------------------

def test_login_port_and_login_db_are_the_names_port_and_db_their_aliases():
    spec = db_spec()
    assert spec["login_port"] == {"type": "int", "aliases": ["port"]}
    assert spec["login_db"] == {"type": "str", "aliases": ["db"]}
    assert "port" not in spec and "db" not in spec


@pytest.mark.parametrize("args", [{"login_port": 5433, "login_db": "fleet"}, {"port": 5433, "db": "fleet"},
                                  {"port": "5433", "login_db": "fleet"}])
def test_either_name_gives_the_connection_its_port_and_database(args):
    params = validate(db_spec(), dict(args, login_host="db.example", login_user="u")).validated_parameters
    assert (params["login_port"], params["login_db"]) == (5433, "fleet")
    settings, source = db.resolve(params)
    assert (settings["port"], settings["dbname"], source) == (5433, "fleet", "options")


def test_defaults_without_either_name():
    params = validate(db_spec(), {"login_host": "db.example", "login_user": "u"}).validated_parameters
    settings, _source = db.resolve(params)
    assert (settings["port"], settings["dbname"]) == (5432, db.DEFAULT_DB_NAME)


def test_a_callers_own_dict_with_the_old_keys_still_resolves():
    settings, _source = db.resolve({"login_host": "db.example", "login_user": "u", "port": 5433, "db": "fleet"})
    assert (settings["port"], settings["dbname"]) == (5433, "fleet")
