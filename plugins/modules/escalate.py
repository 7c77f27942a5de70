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
      - Where the team is paged. One of O(route) and O(routes) is required.
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
        all incidents of an environment's runbook section). Needs the state on the deployment (O(namespace)).
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
      - Seconds to wait for the route to answer.
    type: int
    default: 30
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
    evidence: "{{ kas_fleet_signals }}"
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

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    CONFLICT_ATTEMPTS, OPEN_INCIDENTS, annotation_json, dump_annotation, is_conflict, resource_version, rfc3339,
    utcnow)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.notify import (
    ROUTE_TYPES, SEVERITIES, build_payload, mask_url, masked_payload, post_json, scrub_data)

ROUTE_SPEC = dict(
    type=dict(type="str", required=True, choices=list(ROUTE_TYPES)),
    url=dict(type="str", required=True, no_log=True),
    routing_key=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
)


# -- pure pieces -------------------------------------------------------------------------------------------
def check_route(route, label="route"):
    """The route normalised, or FleetError naming what is wrong (never its secrets)."""
    if not isinstance(route, dict):
        raise FleetError("%s must be a mapping with type, url and (for pagerduty) routing_key" % label)
    kind = route.get("type")
    if kind not in ROUTE_TYPES:
        raise FleetError("%s.type must be one of %s, got %r" % (label, ", ".join(ROUTE_TYPES), kind))
    url = route.get("url")
    if not url or not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise FleetError("%s.url must be an http:// or https:// URL" % label)
    if kind == "pagerduty" and not route.get("routing_key"):
        raise FleetError("%s: a pagerduty route needs routing_key" % label)
    out = dict(route)
    out.setdefault("validate_certs", True)
    if out.get("validate_certs") is None:
        out["validate_certs"] = True
    return out


def shown_route(route):
    return {"type": route["type"], "url": mask_url(route["url"], route["type"])}


def event_of(params, action=None, dedup_key=None, team=None):
    source = params.get("source")
    if not source:
        source = "%s/%s" % (params["namespace"], params["deployment"]) if params.get("namespace") else "kas-fleet-manager"
    return {
        "action": action or params["action"],
        "dedup_key": dedup_key or params["dedup_key"],
        "team": team or params.get("team"),
        "summary": params.get("summary"),
        "severity": params.get("severity") or "error",
        "source": source,
        "rule": params.get("rule"),
        "evidence": params.get("evidence") or {},
        "report": params.get("report"),
        "links": params.get("links") or {},
    }


def open_incident(incidents, dedup_key, team, route_type, now):
    new = copy.deepcopy(incidents)
    new[dedup_key] = {"team": team, "opened_at": rfc3339(now), "route_type": route_type}
    return new


def close_incident(incidents, dedup_key):
    new = copy.deepcopy(incidents)
    new.pop(dedup_key, None)
    return new


# -- state on the deployment -------------------------------------------------------------------------------
class IncidentState(object):
    """The open incidents on the deployment; every failure is kept as ``error`` (the message goes out anyway)."""

    def __init__(self, kube, namespace, name):
        self.kube, self.namespace, self.name = kube, namespace, name
        self.error = None
        self.dep = None

    def load(self):
        """The open incidents (dict), or None when the state cannot be read (``error`` says why)."""
        try:
            self.dep = self.kube.read_deployment(self.namespace, self.name)
            if self.dep is None:
                self.error = "deployment %s not found in namespace %s: state not recorded" % (self.name, self.namespace)
                return None
            return annotation_json(self.dep, OPEN_INCIDENTS, {}, dict)
        except FleetError as exc:
            self.error = "%s: state not recorded" % exc.msg
            return None

    def update(self, change):
        """Apply ``change(incidents) -> incidents`` on the latest deployment; the new incidents or None."""
        try:
            for attempt in range(CONFLICT_ATTEMPTS):
                if self.dep is None:
                    incidents = self.load()
                    if incidents is None:
                        return None
                else:
                    incidents = annotation_json(self.dep, OPEN_INCIDENTS, {}, dict)
                new = change(incidents)
                value = dump_annotation(new) if new else None  # null removes the annotation
                patch = {"metadata": {"resourceVersion": resource_version(self.dep),
                                      "annotations": {OPEN_INCIDENTS: value}}}
                try:
                    self.dep = self.kube.patch_deployment(self.namespace, self.name, patch)
                    return new
                except FleetError as exc:
                    if is_conflict(exc) and attempt < CONFLICT_ATTEMPTS - 1:
                        self.dep = None
                        continue
                    raise
        except FleetError as exc:
            self.error = "%s: state not recorded" % exc.msg
        return None


# -- the module --------------------------------------------------------------------------------------------
class Escalation(object):
    def __init__(self, module, kube_factory=None, sender=post_json, now=utcnow):
        self.module = module
        self.p = module.params
        self.sender = sender
        self.now = now
        self.state = None
        self.state_error = None
        if self.p.get("namespace"):
            if kube_factory is None:
                from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube
                kube_factory = Kube
            try:
                kube = kube_factory(self.p)
            except FleetError as exc:  # a bad kubeconfig must not stop the page: say the state was not kept
                self.state_error = "%s: state not recorded" % exc.msg
            else:
                self.state = IncidentState(kube, self.p["namespace"], self.p["deployment"])

    def secrets_route(self):
        """Every route whose secrets must be masked in output."""
        routes = [r for r in [self.p.get("route")] if r]
        routes.extend(r for r in (self.p.get("routes") or {}).values() if isinstance(r, dict))
        return routes

    def scrub(self, value):
        for route in self.secrets_route():
            value = scrub_data(value, route)
        return value

    def route_for(self, team):
        if self.p.get("route"):
            return check_route(self.p["route"])
        routes = self.p.get("routes") or {}
        if team not in routes:
            raise FleetError("no route for team %r in routes (teams with a route: %s)"
                             % (team, ", ".join(sorted(routes)) or "none"))
        return check_route(routes[team], "routes[%s]" % team)

    def load(self):
        if self.state is None:
            return None
        incidents = self.state.load()
        if incidents is None:
            self.state_error = self.state.error
        return incidents

    def result(self, **kw):
        out = {"changed": False, "sent": False, "reason": None, "action": self.p["action"],
               "dedup_key": self.p.get("dedup_key") or self.p.get("dedup_key_prefix"), "route": None,
               "would_send": None, "state_recorded": False, "state_error": None, "open_incidents": None}
        out.update(kw)
        return out

    def send(self, route, event):
        payload = build_payload(route, event)
        return self.sender(route, payload, self.p["timeout"], route["validate_certs"], route.get("ca_path"))

    def record(self, change):
        if self.state is None:
            return False, None
        new = self.state.update(change)
        if new is None:
            self.state_error = self.state.error
            self.module.warn(self.state_error)
            return False, None
        return True, new

    def run(self):
        if self.p.get("dedup_key_prefix"):
            return self.resolve_prefix()
        return self.one()

    def one(self):
        p = self.p
        action, key = p["action"], p["dedup_key"]
        incidents = self.load()
        team = p.get("team")
        if action == "resolve" and not team and incidents and key in incidents:
            team = incidents[key].get("team")
        route = self.route_for(team)
        shown = shown_route(route)
        base = dict(route=shown, open_incidents=incidents)
        if incidents is not None:
            if action == "trigger" and key in incidents:
                return self.result(reason="already_open", state_recorded=True, msg=(
                    "incident %s is already open for %s (since %s): nothing sent" % (
                        key, incidents[key].get("team"), incidents[key].get("opened_at"))), **base)
            if action == "resolve" and key not in incidents:
                return self.result(reason="not_open", state_recorded=True, msg=(
                    "incident %s is not open: no resolve sent" % key), **base)
        elif self.state_error and self.p.get("namespace"):
            self.module.warn(self.state_error)
        event = event_of(p, team=team)
        if self.module.check_mode:
            payload = build_payload(route, event)
            after = self.next_incidents(incidents, action, key, team, route["type"])
            res = self.result(changed=True, reason="check_mode", would_send=self.scrub(masked_payload(payload)),
                              state_error=self.state_error, msg="would send %s of %s to %s (%s %s); check mode" % (
                                  action, key, team or "the route", shown["type"], shown["url"]), **base)
            self.add_diff(res, incidents, after)
            return res
        response = self.send(route, event)
        recorded, new = self.record(lambda inc: self.next_incidents(inc, action, key, team, route["type"]))
        res = self.result(changed=True, sent=True, response=self.scrub(response), state_recorded=recorded,
                          state_error=self.state_error, open_incidents=new if recorded else incidents,
                          route=shown, msg="sent %s of %s to %s (%s %s): HTTP %s%s" % (
                              action, key, team or "the route", shown["type"], shown["url"], response["status"],
                              "" if recorded or not p.get("namespace") else "; %s" % self.state_error))
        self.add_diff(res, incidents, new if recorded else incidents)
        return res

    def next_incidents(self, incidents, action, key, team, route_type):
        if incidents is None:
            return None
        if action == "trigger":
            return open_incident(incidents, key, team, route_type, self.now())
        return close_incident(incidents, key)

    def add_diff(self, res, before, after):
        if self.module._diff and before is not None and after is not None:
            res["diff"] = {"before": {OPEN_INCIDENTS: before}, "after": {OPEN_INCIDENTS: after}}

    def resolve_prefix(self):
        p = self.p
        prefix = p["dedup_key_prefix"]
        incidents = self.load()
        if incidents is None:
            why = self.state_error or "no namespace given: open incidents are not tracked"
            self.module.warn("cannot resolve the incidents under %s: %s" % (prefix, why))
            return self.result(reason="state_unavailable", state_error=why, events=[],
                               msg="cannot resolve the incidents under %s: %s" % (prefix, why))
        keys = sorted(k for k in incidents if k.startswith(prefix))
        if not keys:
            return self.result(reason="nothing_open", state_recorded=True, open_incidents=incidents, events=[],
                               msg="no open incident under %s: nothing to resolve" % prefix)
        events, remaining, failures = [], incidents, []
        for key in keys:
            team = incidents[key].get("team")
            entry = {"dedup_key": key, "team": team, "sent": False}
            try:
                route = self.route_for(team)
            except FleetError as exc:
                entry["error"] = exc.msg
                failures.append(exc.msg)
                events.append(entry)
                continue
            entry["route"] = shown_route(route)
            event = event_of(p, action="resolve", dedup_key=key, team=team)
            if self.module.check_mode:
                entry["would_send"] = masked_payload(build_payload(route, event))
                remaining = close_incident(remaining, key)
                events.append(entry)
                continue
            try:
                entry["response"] = self.send(route, event)
                entry["sent"] = True
                remaining = close_incident(remaining, key)
            except FleetError as exc:
                entry["error"] = exc.msg
                failures.append(exc.msg)
            events.append(entry)
        sent = [e["dedup_key"] for e in events if e["sent"]]
        res = self.result(changed=bool(sent) or (self.module.check_mode and remaining != incidents),
                          sent=bool(sent), events=self.scrub(events), open_incidents=incidents,
                          reason="check_mode" if self.module.check_mode else None)
        if sent:
            recorded, new = self.record(lambda inc: dict((k, v) for k, v in inc.items() if k not in sent))
            res.update(state_recorded=recorded, state_error=self.state_error,
                       open_incidents=new if recorded else incidents)
        self.add_diff(res, incidents, res["open_incidents"] if not self.module.check_mode else remaining)
        verb = "would resolve" if self.module.check_mode else "resolved"
        done = [e["dedup_key"] for e in events if e["sent"] or "would_send" in e]
        res["msg"] = "%s %d incident(s) under %s: %s" % (verb, len(done), prefix, ", ".join(done) or "none")
        if failures:
            if sent or self.module.check_mode:
                for failure in failures:
                    self.module.warn(self.scrub(failure))
                res["msg"] += "; %d failed: %s" % (len(failures), self.scrub("; ".join(failures)))
            else:
                res.pop("msg")
                raise FleetError(self.scrub("; ".join(failures)), **res)
        return res


def escalate(module):
    return Escalation(module).run()


def main():
    argument_spec = k8s_auth_spec()
    argument_spec.update(
        route=dict(type="dict", options=ROUTE_SPEC),
        routes=dict(type="dict", no_log=True),
        team=dict(type="str"),
        action=dict(type="str", default="trigger", choices=["trigger", "resolve"]),
        dedup_key=dict(type="str", no_log=False),
        dedup_key_prefix=dict(type="str", no_log=False),
        summary=dict(type="str"),
        severity=dict(type="str", default="error", choices=list(SEVERITIES)),
        source=dict(type="str"),
        rule=dict(type="str"),
        evidence=dict(type="dict"),
        report=dict(type="str"),
        links=dict(type="dict"),
        timeout=dict(type="int", default=30),
        namespace=dict(type="str"),
        deployment=dict(type="str", default="kas-fleet-manager"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec, supports_check_mode=True,
        required_one_of=[("route", "routes"), ("dedup_key", "dedup_key_prefix")],
        mutually_exclusive=[("route", "routes"), ("dedup_key", "dedup_key_prefix")],
        required_if=[("action", "trigger", ["team", "summary", "dedup_key"]),
                     ("action", "trigger", ["route"])],
    )
    p = module.params
    if p["timeout"] < 1:
        module.fail_json(msg="timeout must be at least 1, got %d" % p["timeout"])
    if p.get("namespace"):
        from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s
        require_k8s(module)
    run_module(module, escalate)


if __name__ == "__main__":
    main()
