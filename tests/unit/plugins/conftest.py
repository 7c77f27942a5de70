# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Fixtures the unit tests of several plugin types share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.tests.unit.plugins import fleet_db
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import K8S_AUTH_VARIABLES


@pytest.fixture
def pg():
    """The seeded PostgreSQL of tests/unit/plugins/fleet_db.py, started once per test process."""
    return fleet_db.server()


@pytest.fixture
def no_k8s_env(monkeypatch):
    """None of the K8S_AUTH_* variables set, whatever the shell that runs the tests exports."""
    for name in K8S_AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
