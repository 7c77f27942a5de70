# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Helpers the module unit tests share: run a module's main() as a task would, and a free loopback port."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


def run_module(module, args, capsys):
    """Run ``module.main()`` with ``args`` as the task's arguments; returns (result dict, raw stdout), so a test
    can assert on the result and that nothing (a secret, a traceback) is anywhere in what the module printed."""
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    basic._ANSIBLE_PROFILE = "legacy"
    with pytest.raises(SystemExit):
        module.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def free_port():
    """A TCP port nothing listens on at 127.0.0.1 right now."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


class FakeModule(object):
    """Stands for AnsibleModule where a test calls a module's service code directly: the module's ``defaults``
    overridden by ``params``, check and diff mode, and the warnings it gave."""

    def __init__(self, defaults, check_mode=False, diff=False, **params):
        self.params = dict(defaults)
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


def service_module(module, **params):
    """A FakeModule for ``module``'s service: the module's own option defaults (its argument_spec()) overridden by
    ``params``."""
    defaults = dict((name, spec.get("default")) for name, spec in module.argument_spec().items())
    return FakeModule(defaults, **params)


# The K8S_AUTH_* and login_port/login_db names, run as modules (test_option_names) and in process by their action
# plugins (action/test_option_names): one token, one list of variables (the no_k8s_env fixture, conftest.py), one
# database login.
TOKEN = "sha256~env-token-never-shown"
K8S_AUTH_VARIABLES = ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY",
                      "K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT")


def db_args(names, port):
    """request_status_info's direct login to a port nothing listens on, with the port and database under ``names``."""
    port_key, db_key = names
    return {"table": "clusters", "login_host": "127.0.0.1", port_key: port, db_key: "fleet-by-%s" % db_key,
            "login_user": "u", "login_password": "pw", "ssl_mode": "disable", "connect_timeout": 2}
