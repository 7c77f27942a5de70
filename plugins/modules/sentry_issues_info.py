#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sentry_issues_info
short_description: Read the fleet manager's unresolved Sentry issues and classify them like the log errors
version_added: 0.1.0
description:
  - The runbook's "Check Sentry to investigate possible causes" step (I(down), I(availability), I(latency) and the
    provisioning sections), as data a playbook can decide from.
  - Reads the project's issues (C(GET /api/0/projects/<organization>/<project>/issues/)), newest or most frequent
    first, following Sentry's C(Link rel=next) pages up to O(limit) issues.
  - Each issue gets the C(category) the runbook's escalation rules need (C(manager_api), C(ocm), C(kafka),
    C(database), C(other)), from the same classification data as the pod log errors of
    M(kas.fleet_manager.leader_check), applied to its title, culprit and error value.
  - Works with Sentry and Sentry-API-compatible services such as GlitchTip.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  url:
    description:
      - Base URL of Sentry, such as C(https://sentry.stage.devshift.net) (stage) or C(https://sentry.devshift.net)
        (production).
  token:
    description:
      - A Sentry auth token with the C(project:read) scope (or C(event:read)). Never logged nor returned.
      - One of O(token) and O(username) (a legacy API key, sent as basic auth) is required.
  organization:
    description:
      - The organization's slug, as in the project's URL.
    type: str
    required: true
  project:
    description:
      - The fleet manager's project slug.
    type: str
    default: kas-fleet-manager
  query:
    description:
      - Sentry search query.
    type: str
    default: "is:unresolved"
  environment:
    description:
      - Only issues seen in this Sentry environment (the fleet manager reports its OCM_ENV, such as C(stage) or
        C(production)). All environments when omitted.
    type: str
  period:
    description:
      - The period of the per-issue event counts (C(statsPeriod)), returned as RV(issues[].events_in_period).
    type: str
    choices: ["24h", "14d"]
    default: "24h"
  sort:
    description:
      - C(date) is most recently seen first, C(freq) most events first, C(new) most recently first seen first.
    type: str
    choices: [date, freq, new]
    default: date
  limit:
    description:
      - At most this many issues are read (pages of up to 100).
    type: int
    default: 25
extends_documentation_fragment:
  - kas.fleet_manager.http_api
  - kas.fleet_manager.attributes.info_module
seealso:
  - module: kas.fleet_manager.slo_metrics_info
"""

EXAMPLES = r"""
- name: Check Sentry to investigate possible causes (runbook, availability)
  kas.fleet_manager.sentry_issues_info:
    url: https://sentry.stage.devshift.net
    token: "{{ vault_sentry_token }}"
    organization: app-sre
    project: kas-fleet-manager
  register: sentry

- name: Which team the errors point at
  ansible.builtin.debug:
    msg: "{{ sentry.by_category | dict2items | selectattr('value.issues') | map(attribute='key') | list }}"

- name: The ten noisiest issues of the last two weeks in production
  kas.fleet_manager.sentry_issues_info:
    url: https://sentry.devshift.net
    token: "{{ vault_sentry_token }}"
    organization: app-sre
    environment: production
    sort: freq
    period: 14d
    limit: 10
"""

RETURN = r"""
issues:
  description: The issues, in the order of O(sort), at most O(limit).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Sentry's issue id.
      type: str
    short_id:
      description: The short id shown in Sentry, such as C(KAS-FLEET-MANAGER-1A).
      type: str
    title:
      description: The issue's title.
      type: str
    culprit:
      description: Where it happened (function or transaction).
      type: str
    level:
      description: C(fatal), C(error), C(warning), C(info) or C(debug).
      type: str
    status:
      description: C(unresolved), C(resolved) or C(ignored).
      type: str
    count:
      description: Events of the issue, ever.
      type: int
    user_count:
      description: Users affected.
      type: int
    events_in_period:
      description: Events in O(period) (from the issue's stats; null when Sentry sent none).
      type: int
    first_seen:
      description: First event (ISO 8601).
      type: str
    last_seen:
      description: Latest event (ISO 8601).
      type: str
    permalink:
      description: The issue's page in Sentry.
      type: str
    error_type:
      description: The error's type (metadata.type).
      type: str
    error_value:
      description: The error's message (metadata.value).
      type: str
    category:
      description: C(manager_api), C(ocm), C(kafka), C(database) or C(other), as the log errors are classified.
      type: str
  sample:
    - id: "4000123400"
      short_id: KAS-FLEET-MANAGER-1A
      title: "KAFKAS-MGMT-9: Unspecified error"
      culprit: handlers.handleError
      level: error
      status: unresolved
      count: 5120
      user_count: 0
      events_in_period: 5120
      first_seen: "2026-11-25T03:28:00Z"
      last_seen: "2026-11-25T04:00:00Z"
      permalink: https://sentry.stage.devshift.net/organizations/app-sre/issues/4000123400/
      error_type: "*errors.errorString"
      error_value: "KAFKAS-MGMT-9: Unspecified error"
      category: manager_api
by_category:
  description: Per category (all five, zeros included), the issues read, their events ever and in O(period).
  returned: always
  type: dict
  sample:
    manager_api: {issues: 1, events: 5120, events_in_period: 5120}
    ocm: {issues: 0, events: 0, events_in_period: 0}
    kafka: {issues: 0, events: 0, events_in_period: 0}
    database: {issues: 0, events: 0, events_in_period: 0}
    other: {issues: 0, events: 0, events_in_period: 0}
categories:
  description: The categories that have issues, most events in O(period) first.
  returned: always
  type: list
  elements: str
  sample: [manager_api]
total:
  description: The issues read and their events.
  returned: always
  type: dict
  sample: {issues: 1, events: 5120, events_in_period: 5120}
truncated:
  description: Sentry has more issues than O(limit).
  returned: always
  type: bool
  sample: false
http_requests:
  description: How many pages were read.
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import (
    HTTP_API_MUTUALLY_EXCLUSIVE, http_api_spec)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.sentry import SORT_KEYS, gather


def argument_spec():
    spec = http_api_spec()
    spec.update(
        organization=dict(type="str", required=True),
        project=dict(type="str", default="kas-fleet-manager"),
        query=dict(type="str", default="is:unresolved"),
        environment=dict(type="str"),
        period=dict(type="str", choices=["24h", "14d"], default="24h"),
        sort=dict(type="str", choices=list(SORT_KEYS), default="date"),
        limit=dict(type="int", default=25),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True, mutually_exclusive=HTTP_API_MUTUALLY_EXCLUSIVE,
                      required_one_of=[["token", "username"]])
SERVICE = gather


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE)


if __name__ == "__main__":
    main()
