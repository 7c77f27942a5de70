# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The escalate module's service: one page per incident to the team's route, retried, sent to a fallback route
when the team's route cannot take it, and the open incidents kept on the fleet manager's deployment so reruns
do not page twice and healthy runs resolve what earlier runs opened.

An incident is recorded open only once its team's own route accepted the page: a page that only a fallback
route took, or that nobody took, is tried again on the next run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time

from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    CONFLICT_ATTEMPTS, OPEN_INCIDENTS, annotation_json, dump_annotation, is_conflict, resource_version, rfc3339,
    utcnow)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_minimums
from ansible_collections.kas.fleet_manager.plugins.module_utils.notify import (
    ROUTE_TYPES, build_payload, deliver, mask_url, masked_payload, post_json, scrub_data)

# What happened at one route, as the report and set_stats list it.
SENT, DEDUPLICATED, FAILED, FELL_BACK, CHECK_MODE = "sent", "deduplicated", "failed", "fell_back", "check_mode"


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
    if out.get("validate_certs") is None:
        out["validate_certs"] = True
    return out


def shown_route(route):
    return {"type": route["type"], "url": mask_url(route["url"], route["type"])}


def same_route(a, b):
    return (a["type"], a["url"], a.get("routing_key")) == (b["type"], b["url"], b.get("routing_key"))


def event_of(params, action=None, dedup_key=None, team=None):
    source = params.get("source")
    if not source:
        source = "%s/%s" % (params["namespace"], params["deployment"]) if params.get("namespace") else "kas-fleet-manager"
    return {
        "action": action or params["action"],
        "dedup_key": dedup_key or params["dedup_key"],
        "team": team or params.get("team"),
        "decision": params.get("decision"),
        "summary": params.get("summary"),
        "severity": params.get("severity") or "error",
        "source": source,
        "rule": params.get("rule"),
        "evidence": params.get("evidence") or {},
        "report": params.get("report"),
        "links": params.get("links") or {},
    }


def fallback_event(event, route_name, error):
    """The page as a fallback route gets it: the original team, decision, rule and evidence, and why the
    team's own route did not take it."""
    out = dict(event)
    out["summary"] = "[FALLBACK: %s route failed] %s" % (route_name, event["summary"] or event["dedup_key"])
    out["evidence"] = dict(event["evidence"] or {}, delivery_error=error, fallback_for=event["team"])
    return out


def open_incident(incidents, dedup_key, team, route_type, now, sections=None):
    new = copy.deepcopy(incidents)
    new[dedup_key] = {"team": team, "opened_at": rfc3339(now), "route_type": route_type}
    if sections:
        new[dedup_key]["sections"] = sorted(set(sections))
    return new


def close_incident(incidents, dedup_key):
    new = copy.deepcopy(incidents)
    new.pop(dedup_key, None)
    return new


def resolvable(incidents, prefix, keep_open=(), sections=None):
    """The open incidents under ``prefix`` a healthy run may resolve: not in ``keep_open`` and, when the run
    names the ``sections`` it looked at, only incidents every section of which it looked at."""
    keys = []
    for key, incident in sorted(incidents.items()):
        if not key.startswith(prefix) or key in keep_open:
            continue
        opened_for = (incident or {}).get("sections") or []
        if sections is not None and opened_for and not set(opened_for) <= set(sections):
            continue
        keys.append(key)
    return keys


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


# -- the service -------------------------------------------------------------------------------------------
class Escalation(object):
    def __init__(self, module, kube_factory=None, sender=post_json, now=utcnow, sleep=time.sleep,
                 clock=time.monotonic):
        self.module = module
        self.p = module.params
        self.sender = sender
        self.now = now
        self.sleep = sleep
        self.clock = clock
        self.state = None
        self.state_error = None
        check_minimums(self.p, {"timeout": 1, "tries": 1, "retry_window": 1})
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

    # -- routes and masking --------------------------------------------------------------------------------
    def secret_routes(self):
        """Every route whose secrets must be masked in output."""
        routes = [r for r in [self.p.get("route")] if r]
        routes.extend(r for r in (self.p.get("routes") or {}).values() if isinstance(r, dict))
        routes.extend(r for r in (self.p.get("fallback") or []) if isinstance(r, dict))
        return routes

    def scrub(self, value):
        for route in self.secret_routes():
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

    def fallbacks(self, own):
        out = []
        for i, route in enumerate(self.p.get("fallback") or []):
            checked = check_route(route, "fallback[%d]" % i)
            if own is None or not same_route(checked, own):
                out.append(checked)
        return out

    @staticmethod
    def name_of(route, default):
        return route.get("name") or default or route["type"]

    # -- state ---------------------------------------------------------------------------------------------
    def load(self):
        if self.state is None:
            return None
        incidents = self.state.load()
        if incidents is None:
            self.state_error = self.state.error
        return incidents

    def record(self, change):
        if self.state is None:
            return False, None
        new = self.state.update(change)
        if new is None:
            self.state_error = self.state.error
            self.module.warn(self.state_error)
            return False, None
        return True, new

    def result(self, **kw):
        out = {"changed": False, "sent": False, "reason": None, "action": self.p["action"],
               "dedup_key": self.p.get("dedup_key") or self.p.get("dedup_key_prefix"), "route": None,
               "would_send": None, "state_recorded": False, "state_error": None, "open_incidents": None,
               "delivered": False, "delivered_to": None, "attempts": []}
        out.update(kw)
        return out

    def send(self, route, event):
        """One route, with the retries: ``{"tries", "response"}`` or FleetError (details: tries)."""
        return deliver(route, build_payload(route, event), self.p["timeout"], tries=self.p.get("tries") or 1,
                       window=self.p.get("retry_window") or self.p["timeout"], sender=self.sender,
                       sleep=self.sleep, clock=self.clock)

    def add_diff(self, res, before, after):
        if self.module._diff and before is not None and after is not None:
            res["diff"] = {"before": {OPEN_INCIDENTS: before}, "after": {OPEN_INCIDENTS: after}}

    # -- actions -------------------------------------------------------------------------------------------
    def run(self):
        if self.p.get("dedup_key_prefix"):
            return self.resolve_prefix()
        if self.p["action"] == "resolve":
            return self.resolve_one()
        return self.trigger()

    def trigger(self):
        p = self.p
        key, team = p["dedup_key"], p.get("team")
        if not p.get("route") and not p.get("routes") and p.get("fallback"):
            return self.no_route(team)
        route = self.route_for(team)
        name = self.name_of(route, team)
        fallbacks = self.fallbacks(route)
        incidents = self.load()
        shown = shown_route(route)
        base = dict(route=shown, open_incidents=incidents)
        sections = p.get("sections") or []
        if incidents is not None and key in incidents:
            known = incidents[key].get("sections") or []
            res = self.result(reason="already_open", state_recorded=True, delivered=True, delivered_to=name,
                              attempts=[{"route": name, "outcome": DEDUPLICATED, "tries": 0, "error": None}],
                              msg="incident %s is already open for %s (since %s): nothing sent" % (
                                  key, incidents[key].get("team"), incidents[key].get("opened_at")), **base)
            if sections and not set(sections) <= set(known) and not self.module.check_mode:
                # The same incident now seen by another section too: a healthy run of one of them alone must
                # not resolve it.
                def widen(inc):
                    new = copy.deepcopy(inc)
                    if key in new:
                        new[key]["sections"] = sorted(set(known) | set(sections))
                    return new
                recorded, new = self.record(widen)
                res.update(state_recorded=recorded, open_incidents=new if recorded else incidents)
            return res
        if incidents is None and self.state_error and p.get("namespace"):
            self.module.warn(self.state_error)
        event = event_of(p, team=team)
        if self.module.check_mode:
            after = self.next_incidents(incidents, key, team, route["type"], sections)
            res = self.result(changed=True, reason="check_mode", would_send=self.scrub(masked_payload(
                build_payload(route, event))), state_error=self.state_error,
                attempts=[{"route": name, "outcome": CHECK_MODE, "tries": 0, "error": None}],
                msg="would send trigger of %s to %s (%s %s); check mode" % (key, team, shown["type"], shown["url"]),
                **base)
            self.add_diff(res, incidents, after)
            return res
        attempts = []
        try:
            sent = self.send(route, event)
        except FleetError as exc:
            own_error = self.scrub(exc.msg)
            attempts.append({"route": name, "outcome": FAILED, "tries": exc.details.get("tries", 1),
                             "error": own_error, "status": exc.details.get("status")})
            return self.fall_back(route, name, fallbacks, event, own_error, attempts, base)
        attempts.append({"route": name, "outcome": SENT, "tries": sent["tries"], "error": None,
                         "status": sent["response"]["status"]})
        recorded, new = self.record(lambda inc: self.next_incidents(inc, key, team, route["type"], sections))
        res = self.result(changed=True, sent=True, delivered=True, delivered_to=name, attempts=attempts,
                          response=self.scrub(sent["response"]), state_recorded=recorded,
                          state_error=self.state_error,
                          msg="sent trigger of %s to %s (%s %s): HTTP %s after %d %s%s" % (
                              key, team, shown["type"], shown["url"], sent["response"]["status"], sent["tries"],
                              "try" if sent["tries"] == 1 else "tries",
                              "" if recorded or not p.get("namespace") else "; %s" % self.state_error),
                          route=shown, open_incidents=new if recorded else incidents)
        self.add_diff(res, incidents, new if recorded else incidents)
        return res

    def no_route(self, team):
        """The team has no route of its own: the page goes to the fallbacks, and the result says so."""
        event = event_of(self.p, team=team)
        error = "no route is configured for %s" % team
        attempts = [{"route": team, "outcome": FAILED, "tries": 0, "error": error, "status": None}]
        if self.module.check_mode:
            attempts[0]["outcome"] = CHECK_MODE
            return self.result(changed=True, reason="check_mode", attempts=attempts,
                               msg="%s: would send the page to the fallback routes; check mode" % error)
        return self.fall_back(None, team, self.fallbacks(None), event, error, attempts, {})

    def fall_back(self, route, name, fallbacks, event, own_error, attempts, base):
        """The team's route failed: try each fallback route in turn. The incident is not recorded open (the
        team's route is tried again next run), and the result says the team's route needs fixing."""
        for i, fb in enumerate(fallbacks):
            fb_name = self.name_of(fb, "fallback[%d]" % i)
            try:
                sent = self.send(fb, fallback_event(event, name, own_error))
            except FleetError as exc:
                attempts.append({"route": fb_name, "outcome": FAILED, "tries": exc.details.get("tries", 1),
                                 "error": self.scrub(exc.msg), "status": exc.details.get("status")})
                continue
            attempts.append({"route": fb_name, "outcome": SENT, "tries": sent["tries"], "error": None,
                             "status": sent["response"]["status"]})
            attempts[0].update(outcome=FELL_BACK, fell_back_to=fb_name)
            msg = ("the %s route could not take the page for %s (%s); it went to the fallback route %s instead: "
                   "fix the %s route" % (name, event["team"], own_error, fb_name, name))
            self.module.warn(msg)
            return self.result(changed=True, sent=True, delivered=False, delivered_to=fb_name,
                               attempts=attempts, response=self.scrub(sent["response"]),
                               state_error=self.state_error, msg=msg, **base)
        tried = ", ".join("%s: %s" % (a["route"], a["error"]) for a in attempts)
        raise FleetError("the page for %s (%s) was not delivered to any route: %s" % (
            event["team"], event["dedup_key"], tried), attempts=attempts, delivered=False, delivered_to=None,
            sent=False, dedup_key=event["dedup_key"], action="trigger", status=attempts[0].get("status"))

    def next_incidents(self, incidents, key, team, route_type, sections=None):
        if incidents is None:
            return None
        return open_incident(incidents, key, team, route_type, self.now(), sections)

    def resolve_one(self):
        p = self.p
        key = p["dedup_key"]
        incidents = self.load()
        team = p.get("team")
        if not team and incidents and key in incidents:
            team = incidents[key].get("team")
        route = self.route_for(team)
        shown = shown_route(route)
        base = dict(route=shown, open_incidents=incidents)
        if incidents is not None and key not in incidents:
            return self.result(reason="not_open", state_recorded=True, msg=(
                "incident %s is not open: no resolve sent" % key), **base)
        if incidents is None and self.state_error and p.get("namespace"):
            self.module.warn(self.state_error)
        event = event_of(p, team=team)
        name = self.name_of(route, team)
        if self.module.check_mode:
            after = close_incident(incidents, key) if incidents is not None else None
            res = self.result(changed=True, reason="check_mode", would_send=self.scrub(masked_payload(
                build_payload(route, event))), state_error=self.state_error,
                attempts=[{"route": name, "outcome": CHECK_MODE, "tries": 0, "error": None}],
                msg="would send resolve of %s to %s (%s %s); check mode" % (
                    key, team or "the route", shown["type"], shown["url"]), **base)
            self.add_diff(res, incidents, after)
            return res
        sent = self.send(route, event)
        recorded, new = self.record(lambda inc: close_incident(inc, key))
        res = self.result(changed=True, sent=True, delivered=True, delivered_to=name,
                          response=self.scrub(sent["response"]), state_recorded=recorded,
                          attempts=[{"route": name, "outcome": SENT, "tries": sent["tries"], "error": None}],
                          state_error=self.state_error, msg="sent resolve of %s to %s (%s %s): HTTP %s%s" % (
                              key, team or "the route", shown["type"], shown["url"], sent["response"]["status"],
                              "" if recorded or not p.get("namespace") else "; %s" % self.state_error),
                          route=shown, open_incidents=new if recorded else incidents)
        self.add_diff(res, incidents, new if recorded else incidents)
        return res

    def resolve_prefix(self):
        p = self.p
        prefix = p["dedup_key_prefix"]
        incidents = self.load()
        if incidents is None:
            why = self.state_error or "no namespace given: open incidents are not tracked"
            self.module.warn("cannot resolve the incidents under %s: %s" % (prefix, why))
            return self.result(reason="state_unavailable", state_error=why, events=[],
                               msg="cannot resolve the incidents under %s: %s" % (prefix, why))
        keys = resolvable(incidents, prefix, p.get("keep_open") or (), p.get("sections"))
        if not keys:
            return self.result(reason="nothing_open", state_recorded=True, open_incidents=incidents, events=[],
                               msg="no open incident to resolve under %s" % prefix)
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
                sent = self.send(route, event)
                entry.update(response=sent["response"], tries=sent["tries"], sent=True)
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


def require_k8s_for_state(module):
    """The open incidents are kept on the deployment: the kubernetes library is needed only with namespace."""
    if module.params.get("namespace"):
        from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s
        require_k8s(module)
