# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Fixtures the unit tests of several plugin types share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.tests.unit.plugins import fleet_db


@pytest.fixture
def pg():
    """The seeded PostgreSQL of tests/unit/plugins/fleet_db.py, started once per test process."""
    return fleet_db.server()
