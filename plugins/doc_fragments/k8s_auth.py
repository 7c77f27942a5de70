# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Kubernetes connection options, named as in kubernetes.core."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to the kubeconfig file of the cluster that runs the fleet manager.
      - Defaults to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config), unless O(host) is given.
    type: path
  context:
    description:
      - The kubeconfig context to use. Defaults to the kubeconfig's current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API, for example C(https://api.example.com:6443). Overrides the kubeconfig's server.
    type: str
  api_key:
    description:
      - Bearer token for the Kubernetes API. Overrides the kubeconfig user's token. Never logged.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Defaults to the kubeconfig's setting (verify).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA certificate bundle that signed the API server's certificate.
    type: path
    aliases: [ssl_ca_cert]
  api_timeout:
    description:
      - Seconds to wait for each Kubernetes API call before failing with a timeout.
    type: int
    default: 30
requirements:
  - kubernetes >= 24.2.0 (Python library)
"""
