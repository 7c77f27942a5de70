# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The fleet manager's PostgreSQL database: connection details (options, or the kas-fleet-manager-rds
secret as the runbook says), a READ ONLY connection with a statement timeout, and FleetError for every
failure. Messages never carry the password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile
import traceback

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.module_utils.redact import mask_secrets

PSYCOPG2_IMPORT_ERROR = None
try:
    import psycopg2
    import psycopg2.extensions
    import psycopg2.extras
    # sql is re-exported for the modules that compose SQL
    from psycopg2 import sql  # pylint: disable=unused-import
    HAS_PSYCOPG2 = True
except ImportError:
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

DEFAULT_DB_NAME = "kas-fleet-manager"
# The runbook's "Relevant secrets": the fleet manager's database login.
DEFAULT_DB_SECRET = "kas-fleet-manager-rds"
# Keys of upstream's kas-fleet-manager-rds secret (templates/secrets-template.yml).
SECRET_KEYS = {"host": "db.host", "port": "db.port", "dbname": "db.name", "user": "db.user",
               "password": "db.password", "ca_cert": "db.ca_cert"}


def require_psycopg2(module):
    if not HAS_PSYCOPG2:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("psycopg2-binary"), exception=PSYCOPG2_IMPORT_ERROR)


def wanted(params):
    """True when the options ask for a database connection at all."""
    return bool(params.get("login_host") or params.get("db_secret"))


def resolve(params, kube=None, namespace=None):
    """Connection settings from the options, filling gaps from the db_secret when one is named.

    Returns (settings, source) where source says where they came from (``options`` or ``secret NS/NAME``).
    """
    # login_port/login_db are the option names (args.DB_ARG_SPEC); port/db for callers that pass a dict of their own.
    settings = {"host": params.get("login_host"), "port": params.get("login_port", params.get("port")),
                "dbname": params.get("login_db", params.get("db")),
                "user": params.get("login_user"), "password": params.get("login_password"), "ca_cert": None}
    source = "options"
    if not params.get("login_host") and params.get("db_secret"):
        if kube is None or not namespace:
            raise FleetError("db_secret %s needs Kubernetes access and a namespace to be read" % params["db_secret"])
        data = kube.read_secret_data(namespace, params["db_secret"])
        missing = [SECRET_KEYS[k] for k in ("host", "user", "password") if not data.get(SECRET_KEYS[k])]
        if missing:
            raise FleetError("secret %s/%s lacks the key(s) %s that a database login needs"
                             % (namespace, params["db_secret"], ", ".join(missing)))
        for key, secret_key in SECRET_KEYS.items():
            if settings.get(key) in (None, "") and data.get(secret_key):
                settings[key] = data[secret_key]
        source = "secret %s/%s" % (namespace, params["db_secret"])
    if not settings["host"]:
        raise FleetError("no database to connect to: give login_host (with login_user and login_password) "
                         "or db_secret")
    if not settings["user"]:
        raise FleetError("login_user is required with login_host")
    try:
        settings["port"] = int(settings["port"] or 5432)
    except ValueError:
        raise FleetError("database port %r is not a number" % settings["port"])
    settings["dbname"] = settings["dbname"] or DEFAULT_DB_NAME
    return settings, source


def resolve_with_secret(params, kube, namespace):
    """resolve() reading db_secret through the Kubernetes API, with the API's refusals said plainly: a missing
    namespace told apart from a missing secret (the API says "not found" for both), and the permission named."""
    secret = params.get("db_secret")
    try:
        return resolve(params, kube, namespace)
    except FleetError as exc:
        status = exc.details.get("status")
        if status == 404:
            try:
                kube.read_namespace(namespace)
            except FleetError as ns_exc:
                if ns_exc.details.get("status") == 404:
                    raise FleetError("namespace %s not found: cannot read the database secret %s there; check "
                                     "namespace" % (namespace, secret), status=404, reason="namespace_not_found")
            raise FleetError("%s; check db_secret (the runbook's secret is %s) and namespace"
                             % (exc.msg, DEFAULT_DB_SECRET), status=404, reason="secret_not_found")
        if status == 403:
            raise FleetError("%s; the credentials need get on secrets in %s to read %s (the runbook's Relevant "
                             "secrets), or give login_host, login_user and login_password"
                             % (exc.msg, namespace, secret), status=403, reason="forbidden", permission="get secrets")
        raise


def resolve_login(params, namespace, kube):
    """The database login of a module's options, as (settings, source): the login options when login_host is given
    (or db_secret is empty), else db_secret read in ``namespace`` (resolve_with_secret). ``kube`` is a Kube, or a
    function that makes one, called only when the secret is read. The one place the modules resolve it."""
    if params.get("login_host") or not params.get("db_secret"):
        return resolve(params)
    if not namespace:
        raise FleetError("namespace is required to read the database secret %s (db_secret); give namespace, or "
                         "login_host, login_user and login_password" % params["db_secret"], reason="namespace_required")
    return resolve_with_secret(params, kube() if callable(kube) else kube, namespace)


def connect(settings, params):
    """A read-only connection (every transaction READ ONLY) with statement_timeout set.

    The caller closes it. A CA certificate from the secret is written to a private temp file for libpq
    and removed once the connection is made.
    """
    kwargs = dict(host=settings["host"], port=settings["port"], dbname=settings["dbname"], user=settings["user"],
                  password=settings["password"] or "", sslmode=params.get("ssl_mode") or "prefer",
                  connect_timeout=params.get("connect_timeout") or 10,
                  application_name="kas.fleet_manager",
                  options="-c statement_timeout=%d" % (int(params.get("statement_timeout") or 15) * 1000))
    ca_file = None
    if params.get("ssl_rootcert"):
        kwargs["sslrootcert"] = params["ssl_rootcert"]
    elif settings.get("ca_cert"):
        fd, ca_file = tempfile.mkstemp(prefix="kas-db-ca-", suffix=".pem")
        with os.fdopen(fd, "w") as handle:
            handle.write(settings["ca_cert"])
        kwargs["sslrootcert"] = ca_file
    where = "database %s at %s:%s as %s" % (settings["dbname"], settings["host"], settings["port"], settings["user"])
    try:
        conn = psycopg2.connect(**kwargs)
        conn.set_session(readonly=True, autocommit=False)
    except psycopg2.Error as exc:
        text = scrub(exc, settings)
        reason, hint = connect_failure(text, kwargs["connect_timeout"])
        raise FleetError("cannot connect to %s: %s%s" % (where, text, "; " + hint if hint else ""), reason=reason)
    finally:
        if ca_file:
            os.unlink(ca_file)
    return conn


# (reason, regular expression on libpq's message, what to check): the first match names the failure, for the user
# (the hint ends the message) and for playbooks (FleetError detail ``reason``).
CONNECT_FAILURES = (
    ("auth_failed", r"password authentication failed|authentication failed|no password supplied|password is required",
     "check login_user/login_password (or the secret's db.user/db.password)"),
    ("access_rule", r"no pg_hba\.conf entry", "the server's pg_hba.conf refuses this client, user or database"),
    ("unknown_role", r'role "[^"]*" does not exist', "check login_user (or the secret's db.user)"),
    ("unknown_database", r'database "[^"]*" does not exist', "check db (or the secret's db.name)"),
    ("refused", r"connection refused",
     "nothing listens there: check login_host/port (or the secret's db.host/db.port) and that the database is up"),
    ("timeout", r"timeout expired|timed out",
     "no answer within connect_timeout (%s s): check the network path to the database, or raise connect_timeout"),
    ("unknown_host", r"could not translate host name|name or service not known|nodename nor servname",
     "check login_host (or the secret's db.host)"),
    ("tls", r"ssl|certificate", "check ssl_mode and ssl_rootcert (or the secret's db.ca_cert)"),
)


def connect_failure(text, connect_timeout=None):
    """(reason, hint) for a connection failure message from libpq; ('error', '') when none matches."""
    for reason, pattern, hint in CONNECT_FAILURES:
        if re.search(pattern, text, re.IGNORECASE):
            return reason, (hint % connect_timeout) if "%s" in hint else hint
    return "error", ""


def scrub(exc, settings):
    """The driver's message, first line only, with the password removed should it ever appear."""
    text = (getattr(exc, "pgerror", None) or str(exc) or type(exc).__name__).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return mask_secrets(text, [settings.get("password")])


def query(conn, statement, args=None, settings=None, what="run a query"):
    """Rows (as dicts) of one statement; FleetError on timeout or SQL error, with the transaction rolled back."""
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(statement, args)
            return [dict(row) for row in cur.fetchall()]
    except psycopg2.extensions.QueryCanceledError:
        conn.rollback()
        raise FleetError("cannot %s: the query ran past statement_timeout" % what, reason="statement_timeout")
    except psycopg2.Error as exc:
        conn.rollback()
        raise FleetError("cannot %s: %s" % (what, scrub(exc, settings or {})))
