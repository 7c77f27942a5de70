# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.db: where the database login comes from (the options, or the runbook's secret through the Kubernetes
API), and how connections fail."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

SECRET = {"db.host": "db.example", "db.port": "5433", "db.name": "kas-fleet-manager", "db.user": "kas_runbook",
          "db.password": "Pw-never-print-7f3b", "db.ca_cert": "-----BEGIN CERTIFICATE-----"}


class SecretKube(object):
    def __init__(self, secret=None, error=None):
        self.secret, self.error, self.reads = secret, error, []

    def read_secret_data(self, namespace, name):
        self.reads.append((namespace, name))
        if self.error:
            raise self.error
        return dict(self.secret)

    def read_namespace(self, namespace):
        return {"metadata": {"name": namespace}}


def login(**params):
    out = {"login_host": None, "port": None, "db": None, "login_user": None, "login_password": None,
           "db_secret": db.DEFAULT_DB_SECRET}
    out.update(params)
    return out


def test_the_options_win_and_never_touch_kubernetes():
    made = []
    settings, source = db.resolve_login(login(login_host="h", login_user="u", login_password="p"), "ns",
                                        lambda: made.append(1))
    assert source == "options" and made == []
    assert settings == {"host": "h", "port": 5432, "dbname": "kas-fleet-manager", "user": "u", "password": "p",
                        "ca_cert": None}


def test_the_runbooks_secret_fills_the_login_options_left_out():
    kube = SecretKube(SECRET)
    settings, source = db.resolve_login(login(login_user="other"), "ns", lambda: kube)
    assert source == "secret ns/kas-fleet-manager-rds" and kube.reads == [("ns", "kas-fleet-manager-rds")]
    assert (settings["host"], settings["port"], settings["user"], settings["password"], settings["ca_cert"]) == (
        "db.example", 5433, "other", "Pw-never-print-7f3b", "-----BEGIN CERTIFICATE-----")
    assert db.resolve_login(login(), "ns", kube)[1] == "secret ns/kas-fleet-manager-rds"  # a Kube, not a maker


def test_a_secret_needs_a_namespace_and_none_needs_a_host():
    with pytest.raises(FleetError) as err:
        db.resolve_login(login(), None, SecretKube(SECRET))
    assert err.value.msg == ("namespace is required to read the database secret kas-fleet-manager-rds (db_secret); "
                             "give namespace, or login_host, login_user and login_password")
    assert err.value.details == {"reason": "namespace_required"}
    with pytest.raises(FleetError, match="no database to connect to"):
        db.resolve_login(login(db_secret=""), "ns", SecretKube(SECRET))


def test_a_forbidden_secret_names_the_permission():
    kube = SecretKube(error=FleetError("cannot read secret ns/kas-fleet-manager-rds: forbidden (403)", status=403))
    with pytest.raises(FleetError) as err:
        db.resolve_login(login(), "ns", kube)
    assert err.value.details == {"status": 403, "reason": "forbidden", "permission": "get secrets"}
    assert "Pw-never-print-7f3b" not in err.value.msg
