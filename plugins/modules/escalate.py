#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: escalate
short_description: Escalate a runbook incident to a team (PagerDuty, Slack or a webhook), once per incident
version_added: 0.1.0
description:
  - The runbook's I(Escalations) - "escalate the issue to the Control Plane team", "check with OCM support",
    the Data Plane / MK SRE - as one message to the team's route, and its resolution when the environment is
    healthy again.
  - "Routes: a PagerDuty Events API v2 endpoint (an event with C(routing_key), C(event_action), C(dedup_key),
    C(payload.summary/source/severity/custom_details) and C(links)), a Slack incoming webhook (C(text) and
    C(blocks)), or a generic webhook (one JSON document with every field)."
  - "Reruns do not page twice: with O(namespace) (and the Kubernetes options), the open incidents are kept on the
    fleet manager's deployment, in its C(kas.fleet_manager/open-incidents) annotation
    (C({dedup_key: {team, opened_at, route_type}})). A trigger for a dedup key already open sends nothing
    (C(reason=already_open)); a resolve for an open key sends the resolve (PagerDuty C(event_action=resolve), a
    I(resolved) message on Slack and webhooks) and forgets the key; a resolve for a key that is not open sends
    nothing (C(reason=not_open))."
  - When the deployment cannot be read or written (it is missing because the fleet manager is down, or the API
    refuses), the message is sent anyway and the result says the state was not recorded (C(state_recorded=false),
    C(state_error)).
  - Nothing is sent in check mode; C(would_send) shows the document, with the routing key masked.
  - The routing key and webhook URLs are never returned or logged; URLs are shown with their path masked
    (Slack URLs carry their secret in the path), HTTP failures with their status and a short body.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  route:
    description:
      - Where the team is paged. To trigger, O(route) or O(fallback) is required; to resolve, O(route) or
        O(routes).
    type: dict
    suboptions:
      type:
        description:
          - C(pagerduty) (Events API v2), C(slack) (incoming webhook) or C(webhook) (generic JSON POST).
        type: str
        required: true
        choices: [pagerduty, slack, webhook]
      url:
        description:
          - The endpoint, for example C(https://events.pagerduty.com/v2/enqueue) or the Slack webhook URL. Never
            logged; shown with its path masked.
        type: str
        required: true
      routing_key:
        description:
          - The PagerDuty integration (routing) key. Required for C(pagerduty). Never logged.
        type: str
      validate_certs:
        description:
          - Whether to verify the route's TLS certificate.
        type: bool
        default: true
      ca_path:
        description:
          - A CA bundle to verify the route's TLS certificate with.
        type: path
      name:
        description:
          - The route's name in results and messages (for example the team's key, C(data_plane)). Defaults to
            O(team).
        type: str
  fallback:
    description:
      - Routes to try, in order, when O(route) cannot take the page, or when the team has no O(route) at all (it kept failing through O(tries) tries, or it
        refused the page with a 4xx other than 429). The fallback gets the original team, decision, rule and
        evidence, and the delivery error. A fallback equal to O(route) is skipped.
      - When a fallback took the page the result has C(delivered=false) and C(delivered_to) names the fallback; the
        team's own route needs fixing, and the incident is not recorded open, so the next run tries the team's
        route again. When no route took it the module fails, listing every attempt.
    type: list
    elements: dict
    suboptions:
      type:
        description: As O(route.type).
        type: str
        required: true
        choices: [pagerduty, slack, webhook]
      url:
        description: As O(route.url).
        type: str
        required: true
      routing_key:
        description: As O(route.routing_key).
        type: str
      validate_certs:
        description: As O(route.validate_certs).
        type: bool
        default: true
      ca_path:
        description: As O(route.ca_path).
        type: path
      name:
        description: The fallback's name in results and messages (for example C(control_plane)).
        type: str
  tries:
    description:
      - How many times a route is tried before it counts as failed. Connection errors, timeouts, HTTP 429 and 5xx
        are tried again after 1 s, 2 s, 4 s ... (or what the route's C(Retry-After) asks); any other 4xx is not
        (the routing key or URL is wrong, and the same request would be refused again).
    type: int
    default: 3
  retry_window:
    description:
      - Seconds within which the tries of one route must fit, waits included; each try's timeout is cut to what
        is left of it.
    type: int
    default: 30
  decision:
    description:
      - The runbook decision the page is for (for example C(escalate_data_plane)); sent with the page.
    type: str
  sections:
    description:
      - The runbook sections whose rules opened the incident; kept with the open incident so that a healthy run of
        other sections does not resolve it.
    type: list
    elements: str
  keep_open:
    description:
      - With O(dedup_key_prefix), dedup keys that stay open (the escalations the same run just made).
    type: list
    elements: str
    default: []
  routes:
    description:
      - The routes of every team, as a mapping team name -> route (the same keys as O(route)), for resolves - each
        open incident is resolved through the route of the team it was opened for.
      - Its values are never logged; in the output, strings equal to any of its values are masked.
    type: dict
  team:
    description:
      - The team escalated to, for example C(Control Plane), C(OCM support), C(Data Plane / MK SRE). Required to
        trigger.
    type: str
  action:
    description:
      - V(trigger) opens (pages) the incident; V(resolve) resolves it.
    type: str
    choices: [trigger, resolve]
    default: trigger
  dedup_key:
    description:
      - One key per incident, computed by the caller (environment + runbook section + rule), so reruns and the
        resolve refer to the same incident. One of O(dedup_key) and O(dedup_key_prefix) is required.
    type: str
  dedup_key_prefix:
    description:
      - With O(action=resolve), resolve every open incident whose dedup key starts with this prefix (for example
        all incidents of an environment), except those in O(keep_open) and, with O(sections), those opened for a
        section not in O(sections). Needs the state on the deployment (O(namespace)).
    type: str
  summary:
    description:
      - One line saying what is wrong. Required to trigger (PagerDuty cuts it at 1024 characters).
    type: str
  severity:
    description:
      - PagerDuty severity; also shown on Slack and webhooks.
    type: str
    choices: [critical, error, warning, info]
    default: error
  source:
    description:
      - What is affected. Defaults to C(namespace/deployment), or C(kas-fleet-manager).
    type: str
  rule:
    description:
      - The runbook rule that fired.
    type: str
  evidence:
    description:
      - The evidence behind the decision (sent as PagerDuty C(custom_details.evidence), a Slack code block, a
        webhook field).
    type: dict
  report:
    description:
      - Where the incident report is (a path or a URL; a URL is also sent as a link).
    type: str
  links:
    description:
      - Links to send along, as a mapping text -> URL (Grafana dashboard, Sentry, ...).
    type: dict
  timeout:
    description:
      - Seconds to wait for the route to answer one try.
    type: int
    default: 10
  namespace:
    description:
      - Namespace of the fleet manager. With it, open incidents are tracked on the deployment so that reruns do
        not page twice; without it, every call sends.
    type: str
  deployment:
    description:
      - The fleet manager's deployment that holds the open incidents.
    type: str
    default: kas-fleet-manager
extends_documentation_fragment:
  - kas.fleet_manager.k8s_auth
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is sent and nothing is recorded; C(would_send) shows the document (routing key masked) and
      C(changed) says whether it would be sent.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The open incidents kept on the deployment, before and after.
notes:
  - The Kubernetes options (O(kubeconfig), O(validate_certs), ...) are those of the API that holds the state; the
    route's TLS settings are O(route.validate_certs) and O(route.ca_path).
  - With the state, needs C(get) and C(patch) on C(deployments) in the namespace.
seealso:
  - module: kas.fleet_manager.fleet_restart
  - name: PagerDuty Events API v2
    description: The event format sent to PagerDuty routes.
    link: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
"""

EXAMPLES = r"""
- name: "Otherwise, or if unsure about the reason, escalate the issue to the Control Plane team"
  kas.fleet_manager.escalate:
    route:
      type: pagerduty
      url: https://events.pagerduty.com/v2/enqueue
      routing_key: "{{ vault_control_plane_routing_key }}"
    team: Control Plane
    dedup_key: "kas-fleet/production/kafka_provisioning_latency/unsure"
    summary: "[production] Kafka Cluster provisioning latency: escalated, cause unclear"
    severity: error
    rule: "Otherwise, or if unsure about the reason, escalate the issue to the Control Plane team"
    evidence: "{{ kas_fleet_derived.signals }}"
    report: https://reports.example.com/kas-fleet/production/latest.html
    links:
      Grafana: https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos
    namespace: kas-fleet-manager-production
    kubeconfig: /etc/kas-sre/kubeconfig
  register: page

- name: Data Plane / MK SRE on Slack
  kas.fleet_manager.escalate:
    route:
      type: slack
      url: "{{ vault_mk_sre_slack_webhook }}"
    team: Data Plane / MK SRE
    dedup_key: "kas-fleet/stage/kafka_provisioning_latency/strimzi_errors"
    summary: Kafka requests stuck in provisioning, strimzi-operator errors in the logs
    namespace: kas-fleet-manager-stage

- name: The environment is healthy again - resolve what earlier runs opened for this section
  kas.fleet_manager.escalate:
    routes: "{{ kas_fleet_escalation_routes }}"
    action: resolve
    dedup_key_prefix: "kas-fleet/production/kafka_provisioning_latency/"
    summary: "[production] Kafka Cluster provisioning latency: healthy again"
    namespace: kas-fleet-manager-production

- name: Show what would be sent
  kas.fleet_manager.escalate:
    route: "{{ kas_fleet_escalation_routes.ocm_support }}"
    team: OCM support
    dedup_key: "kas-fleet/stage/osd_provisioning_latency/ocm_errors"
    summary: OCM refuses cluster creation
  check_mode: true
"""

RETURN = r"""
msg:
  description: What was sent, or why not, in one sentence.
  returned: always
  type: str
  sample: "sent trigger to Control Plane (pagerduty http://events.example.com/v2/enqueue): HTTP 202"
sent:
  description: True when at least one message was sent.
  returned: always
  type: bool
  sample: true
reason:
  description:
    - Why nothing was sent, or null. C(already_open) (trigger for an open incident), C(not_open) (resolve for an
      incident that is not open), C(check_mode), C(nothing_open) (no open incident matches O(dedup_key_prefix)),
      C(state_unavailable) (O(dedup_key_prefix) without readable state).
  returned: always
  type: str
  sample: already_open
action:
  description: O(action).
  returned: always
  type: str
  sample: trigger
dedup_key:
  description: O(dedup_key) (or O(dedup_key_prefix)).
  returned: always
  type: str
  sample: kas-fleet/production/osd_provisioning_latency/no_leader
route:
  description: The route, with its URL masked. With O(routes), null.
  returned: always
  type: dict
  sample: {type: slack, url: "https://hooks.slack.com/services/********"}
response:
  description: The route's answer, HTTP status and a short body.
  returned: when a message was sent
  type: dict
  sample: {status: 202, body: '{"status": "success", "message": "Event processed"}'}
would_send:
  description: In check mode, the document that would be sent (routing key masked); null when nothing would be.
  returned: always
  type: dict
  sample: {routing_key: "********", event_action: trigger, dedup_key: "kas-fleet/stage/osd/no_leader",
           payload: {summary: "[Control Plane] no leader", source: kas-fleet-manager-stage/kas-fleet-manager,
                     severity: error}}
events:
  description: With O(dedup_key_prefix), one entry per open incident resolved (or that would be).
  returned: when dedup_key_prefix is given
  type: list
  elements: dict
  sample: [{dedup_key: kas-fleet/stage/osd/no_leader, team: control_plane, sent: true, response: {status: 202}}]
delivered:
  description:
    - True when the team's own route took the page (or it was already open). False when only a fallback took it,
      or in check mode.
  returned: always
  type: bool
  sample: true
delivered_to:
  description: The name of the route that took the page, or null.
  returned: always
  type: str
  sample: data_plane
attempts:
  description:
    - Every route tried, in order, with C(outcome) (C(sent), C(deduplicated), C(failed), C(fell_back) - with
      C(fell_back_to) -, C(check_mode)), C(tries), the HTTP C(status) and the C(error) (secrets masked).
  returned: always
  type: list
  elements: dict
  sample: [{route: data_plane, outcome: fell_back, fell_back_to: control_plane, tries: 3, status: 503,
            error: "the slack route http://127.0.0.1:8080/slack/******** answered HTTP 503: down (3 tries)"},
           {route: control_plane, outcome: sent, tries: 1, status: 202, error: null}]
state_recorded:
  description: True when the open incidents on the deployment are up to date with what was sent (always false
    without O(namespace)).
  returned: always
  type: bool
  sample: true
state_error:
  description: Why the state could not be read or written (the message was sent anyway), or null.
  returned: always
  type: str
  sample: "deployment kas-fleet-manager not found in namespace kas-fleet-manager-stage: state not recorded"
open_incidents:
  description: The open incidents kept on the deployment after this run (null without state).
  returned: always
  type: dict
  sample: {"kas-fleet/stage/osd/no_leader": {team: Control Plane, opened_at: "2026-11-25T04:00:00Z", route_type: pagerduty}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.escalation import escalate, require_k8s_for_state
from ansible_collections.kas.fleet_manager.plugins.module_utils.notify import ROUTE_TYPES, SEVERITIES

ROUTE_SPEC = dict(
    type=dict(type="str", required=True, choices=list(ROUTE_TYPES)),
    url=dict(type="str", required=True, no_log=True),
    routing_key=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    name=dict(type="str"),
)


def argument_spec():
    spec = k8s_auth_spec()
    spec.update(
        route=dict(type="dict", options=ROUTE_SPEC, required_if=[("type", "pagerduty", ["routing_key"])]),
        fallback=dict(type="list", elements="dict", options=ROUTE_SPEC,
                      required_if=[("type", "pagerduty", ["routing_key"])]),
        routes=dict(type="dict", no_log=True),
        team=dict(type="str"),
        action=dict(type="str", default="trigger", choices=["trigger", "resolve"]),
        dedup_key=dict(type="str", no_log=False),
        dedup_key_prefix=dict(type="str", no_log=False),
        keep_open=dict(type="list", elements="str", default=[], no_log=False),
        sections=dict(type="list", elements="str"),
        decision=dict(type="str"),
        summary=dict(type="str"),
        severity=dict(type="str", default="error", choices=list(SEVERITIES)),
        source=dict(type="str"),
        rule=dict(type="str"),
        evidence=dict(type="dict"),
        report=dict(type="str"),
        links=dict(type="dict"),
        timeout=dict(type="int", default=10),
        tries=dict(type="int", default=3),
        retry_window=dict(type="int", default=30),
        namespace=dict(type="str"),
        deployment=dict(type="str", default="kas-fleet-manager"),
    )
    return spec


MODULE_OPTIONS = dict(
    supports_check_mode=True,
    required_one_of=[("route", "routes", "fallback"), ("dedup_key", "dedup_key_prefix")],
    mutually_exclusive=[("route", "routes"), ("dedup_key", "dedup_key_prefix")],
    required_if=[("action", "trigger", ["team", "summary", "dedup_key"]),
                 ("action", "trigger", ["route", "fallback"], True)],
)
SERVICE = escalate


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=require_k8s_for_state)


if __name__ == "__main__":
    main()
