# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""How a client is configured from a kubeconfig file: the same Configuration as the kubernetes library's own
load_kube_config gives for the same file (relative files, embedded data, contexts), and a FleetError naming the file
for one it cannot use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import kubernetes
import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import build_client, load_kubeconfig

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: files
    cluster: {server: "https://files.example:6443", certificate-authority: certs/ca.pem}
  - name: data
    cluster: {server: "https://data.example:6443", certificate-authority-data: %(ca_data)s}
users:
  - name: cert-user
    user: {client-certificate: certs/client.pem, client-key: certs/client.key}
  - name: token-user
    user: {token: token-b}
contexts:
  - name: a
    context: {cluster: files, user: cert-user, namespace: ns-a}
  - name: b
    context: {cluster: data, user: token-user}
current-context: a
""" % {"ca_data": base64.b64encode(PEM.encode()).decode()}
FIELDS = ("host", "ssl_ca_cert", "cert_file", "key_file", "api_key", "verify_ssl")


@pytest.fixture
def kubeconfig(tmp_path):
    (tmp_path / "certs").mkdir()
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / "certs" / name).write_text(PEM)
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return path


def configured(load):
    config = kubernetes.client.Configuration()
    load(config)
    return dict((field, getattr(config, field)) for field in FIELDS)


@pytest.mark.parametrize("context", [None, "a", "b"])
def test_the_same_configuration_as_the_librarys_own_loader(kubeconfig, tmp_path, monkeypatch, context):
    # Relative files resolve against the kubeconfig's directory, not the working directory.
    monkeypatch.chdir(tmp_path / "certs")
    ours = configured(lambda config: load_kubeconfig(str(kubeconfig), context, config))
    library = configured(lambda config: kubernetes.config.load_kube_config(
        config_file=str(kubeconfig), context=context, client_configuration=config, persist_config=False))
    assert ours == library
    if context == "b":
        assert ours["host"] == "https://data.example:6443" and ours["api_key"] == {"BearerToken": "Bearer token-b"}
        assert open(ours["ssl_ca_cert"]).read() == PEM  # the embedded CA, written to a file as the library does
    else:
        assert ours["host"] == "https://files.example:6443"
        assert ours["ssl_ca_cert"] == str(tmp_path / "certs" / "ca.pem")
        certs = tmp_path / "certs"
        assert (ours["cert_file"], ours["key_file"]) == (str(certs / "client.pem"), str(certs / "client.key"))


def test_an_unknown_context_an_empty_file_and_bad_yaml_name_the_file(tmp_path, kubeconfig):
    with pytest.raises(FleetError, match="cannot use kubeconfig %s: .*nope" % kubeconfig):
        build_client({"kubeconfig": str(kubeconfig), "context": "nope"})
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(FleetError, match="cannot use kubeconfig %s: Invalid kube-config. .*empty" % empty):
        build_client({"kubeconfig": str(empty)})
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    with pytest.raises(FleetError, match="cannot read kubeconfig %s: " % broken):
        build_client({"kubeconfig": str(broken)})
