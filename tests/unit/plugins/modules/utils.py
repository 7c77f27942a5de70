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
