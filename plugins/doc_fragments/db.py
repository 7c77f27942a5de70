# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Fleet manager database connection options, named as in community.postgresql where they can be."""

    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host of the fleet manager's PostgreSQL database. When not set, the connection comes from the Kubernetes
        secret O(db_secret) in the namespace, as the runbook says ("look up secret/kas-fleet-manager-rds").
    type: str
    aliases: [db_host]
  login_port:
    description:
      - Database port. Defaults to the secret's C(db.port), else 5432.
      - O(port) is an alias, the name this option had before (community.postgresql made the same change).
    type: int
    aliases: [port]
  login_db:
    description:
      - Database name. Defaults to the secret's C(db.name), else C(kas-fleet-manager).
      - O(db) is an alias, the name this option had before (community.postgresql made the same change).
    type: str
    aliases: [db]
  login_user:
    description:
      - Database user. Required with O(login_host); defaults to the secret's C(db.user).
    type: str
    aliases: [db_user]
  login_password:
    description:
      - Database password. Defaults to the secret's C(db.password). Never logged.
    type: str
    aliases: [db_password]
  ssl_mode:
    description:
      - libpq sslmode of the connection.
    type: str
    default: prefer
    choices: [allow, disable, prefer, require, verify-ca, verify-full]
  ssl_rootcert:
    description:
      - CA certificate file for O(ssl_mode=verify-ca) or O(ssl_mode=verify-full). Defaults to the secret's C(db.ca_cert).
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the database connection.
    type: int
    default: 10
  statement_timeout:
    description:
      - Seconds after which the database cancels a query. Every query runs in a READ ONLY transaction.
    type: int
    default: 15
  db_secret:
    description:
      - Name of the Kubernetes secret with upstream's keys C(db.host), C(db.port), C(db.name), C(db.user),
        C(db.password) and C(db.ca_cert), read from the module's namespace with the Kubernetes options.
      - Options given explicitly override the secret's values.
    type: str
requirements:
  - psycopg2-binary >= 2.9 (Python library)
"""
