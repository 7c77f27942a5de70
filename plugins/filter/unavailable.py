# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: unavailable
short_description: The checks a run cannot even try (missing access, nothing configured, the access check failed)
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Takes the registered result of M(kas.fleet_manager.fleet_access_info) and the role's configuration, and returns
    the evidence sources (C(pods), C(leaders), C(clusters), C(kafkas), C(metrics), C(sentry)) whose check cannot run,
    each with C(kind) (C(not_configured), C(denied) or C(failed)) and a reason a person can act on.
  - A failed access check means no Kubernetes check can run; a refused permission stops the checks that need it; an
    unreadable database secret stops the database checks unless the database is reached directly; an empty
    Prometheus or Sentry URL is a check nobody configured.
  - The kas_fleet role skips these checks and the "if unsure" rule pages Control Plane with the reasons
    (the P(kas.fleet_manager.gathered#filter) filter carries them into the report).
options:
  _input:
    description: The registered result of M(kas.fleet_manager.fleet_access_info).
    type: dict
    required: true
  db_secret:
    description:
      - The Kubernetes secret the database checks read their credentials from; empty when the database is reached
        directly (then the database checks need no Kubernetes access).
    type: str
    default: ""
  prometheus_url:
    description: The Prometheus URL of the metrics check; empty when none is configured.
    type: str
    default: ""
  sentry_url:
    description: The Sentry URL of the error tracker check; empty when none is configured.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check access first
  kas.fleet_manager.fleet_access_info:
    namespace: kas-fleet-manager-stage
    secret: kas-fleet-manager-rds
  register: access
  ignore_errors: true

- name: Read the pods only when the run may
  kas.fleet_manager.fleet_pods_info:
    namespace: kas-fleet-manager-stage
  when: "'pods' not in (access | kas.fleet_manager.unavailable(db_secret='kas-fleet-manager-rds',
         prometheus_url=prometheus_url, sentry_url=sentry_url))"
"""

RETURN = r"""
_value:
  description: Source name to C({kind, reason}), for the sources whose check cannot run; empty when every check can.
  type: dict
  sample: {"leaders": {"kind": "denied", "reason": "missing access: get pods/log"},
           "sentry": {"kind": "not_configured", "reason": "kas_fleet_sentry_url is not set"}}
"""

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.filters import as_filter
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.runbook import unavailable


class FilterModule(object):
    def filters(self):
        return {"unavailable": as_filter("unavailable", unavailable)}
