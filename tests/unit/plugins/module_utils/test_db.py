# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""module_utils.db: where the database login comes from (the options, or the runbook's secret through the Kubernetes
API), and the connection against a real PostgreSQL (the ``pg`` fixture, tests/unit/plugins/fleet_db.py): read-only,
and how it fails, never with the password."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.fleet_db import DBNAME, PASSWORD, params

pytest.importorskip("psycopg2")

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


# -- connections -------------------------------------------------------------------------------------------------------
def test_the_connection_is_read_only(pg):
    settings, _source = db.resolve(params(pg))
    conn = db.connect(settings, params(pg))
    try:
        with pytest.raises(FleetError, match="read-only transaction"):
            db.query(conn, "CREATE TEMPORARY TABLE t (x int)", settings=settings, what="write")
    finally:
        conn.close()


def test_wrong_password_names_the_failure_without_the_password(pg):
    wrong = "Wr0ng-" + PASSWORD
    settings, _source = db.resolve(params(pg, login_password=wrong))
    with pytest.raises(FleetError) as err:
        db.connect(settings, params(pg))
    assert 'password authentication failed for user "kas_runbook"' in err.value.msg
    assert "check login_user/login_password" in err.value.msg
    assert err.value.details == {"reason": "auth_failed"}
    assert wrong not in err.value.msg and PASSWORD not in err.value.msg


def _closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_refused_connection_is_named():
    settings = {"host": "127.0.0.1", "port": _closed_port(), "dbname": DBNAME, "user": "u", "password": PASSWORD}
    with pytest.raises(FleetError) as err:
        db.connect(settings, {"connect_timeout": 2, "ssl_mode": "disable"})
    assert err.value.details == {"reason": "refused"}
    assert "nothing listens there" in err.value.msg and PASSWORD not in err.value.msg


def test_silent_server_times_out():
    # A socket that accepts TCP but never speaks: libpq gives up after connect_timeout.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except socket.timeout:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        settings = {"host": "127.0.0.1", "port": listener.getsockname()[1], "dbname": DBNAME, "user": "u",
                    "password": PASSWORD}
        with pytest.raises(FleetError) as err:
            db.connect(settings, {"connect_timeout": 2, "ssl_mode": "disable"})
        assert err.value.details == {"reason": "timeout"}
        assert "no answer within connect_timeout (2 s)" in err.value.msg
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_connect_failure_categories():
    assert db.connect_failure('connection to server at "h" (1.2.3.4), port 5432 failed: FATAL:  no pg_hba.conf entry '
                              'for host "1.2.3.4"')[0] == "access_rule"
    assert db.connect_failure('FATAL:  database "x" does not exist')[0] == "unknown_database"
    assert db.connect_failure('FATAL:  role "x" does not exist')[0] == "unknown_role"
    assert db.connect_failure('could not translate host name "nope" to address')[0] == "unknown_host"
    assert db.connect_failure("something else") == ("error", "")
