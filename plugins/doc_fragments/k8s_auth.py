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
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable, as in kubernetes.core. Without either,
        the first file of E(KUBECONFIG), else C(~/.kube/config), unless O(host) is given.
    type: path
  context:
    description:
      - The kubeconfig context to use. Defaults to the kubeconfig's current context.
      - Can also be set with the E(K8S_AUTH_CONTEXT) environment variable, as in kubernetes.core.
    type: str
  host:
    description:
      - URL of the Kubernetes API, for example C(https://api.example.com:6443). Overrides the kubeconfig's server.
      - Can also be set with the E(K8S_AUTH_HOST) environment variable, as in kubernetes.core.
    type: str
  api_key:
    description:
      - Bearer token for the Kubernetes API. Overrides the kubeconfig user's token. Never logged.
      - Can also be set with the E(K8S_AUTH_API_KEY) environment variable, as in kubernetes.core.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Defaults to the kubeconfig's setting (verify).
      - Can also be set with the E(K8S_AUTH_VERIFY_SSL) environment variable, as in kubernetes.core (which reads
        E(K8S_AUTH_VALIDATE_CERTS) first, and so does this collection). Its value is one of Ansible's booleans
        (C(true)/C(false), C(yes)/C(no), C(1)/C(0)).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA certificate bundle that signed the API server's certificate.
      - Can also be set with the E(K8S_AUTH_SSL_CA_CERT) environment variable, as in kubernetes.core (which reads
        E(K8S_AUTH_CA_CERT) first, and so does this collection).
    type: path
    aliases: [ssl_ca_cert]
  api_timeout:
    description:
      - Seconds to wait for each Kubernetes API call before failing with a timeout.
    type: int
    default: 30
notes:
  - An option given to the task, or through C(module_defaults), wins over its E(K8S_AUTH_*) environment variable;
    an empty variable counts as unset. The variables are read where the module runs; on the controller that is the
    environment of C(ansible-playbook), or the task's C(environment).
requirements:
  - kubernetes >= 24.2.0 (Python library)
"""
