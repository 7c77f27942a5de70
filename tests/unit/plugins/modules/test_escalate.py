# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of escalate: payloads for PagerDuty, Slack and webhooks, masking of routing keys and webhook
URLs, HTTP failures, and the open-incident state (reruns do not page twice, resolves) against in-memory
stand-ins for the Kubernetes API and the route."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import io
import json

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.kas.fleet_manager.plugins.module_utils import escalation as e
from ansible_collections.kas.fleet_manager.plugins.module_utils import notify as n
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import OPEN_INCIDENTS
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.plugins.modules import escalate as m
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import FakeModule, run_module

NOW = datetime.datetime(2026, 11, 25, 4, 0, 0, tzinfo=datetime.timezone.utc)
KEY = "rk-0123456789abcdef0123456789abcdef"
SLACK_URL = "https://hooks.slack.com/services/T0ABC123/B0DEF456/XyZsecretTokenValue123"
PD = {"type": "pagerduty", "url": "https://events.pagerduty.com/v2/enqueue", "routing_key": KEY}
SLACK = {"type": "slack", "url": SLACK_URL}
HOOK = {"type": "webhook", "url": "https://hooks.example.com/webhook/team-a?token=abcdef123456"}


def event(action="trigger", **kw):
    e = {"action": action, "dedup_key": "kas-fleet/stage/osd_provisioning_latency/no_leader",
         "team": "Control Plane", "summary": "[stage] no ClusterManager leader", "severity": "error",
         "source": "kas-fleet-manager-stage/kas-fleet-manager", "rule": "no leader worker is running, restart",
         "evidence": {"leaders": {"ClusterManager": 0}}, "report": "https://reports.example.com/r.html",
         "links": {"Grafana": "https://grafana.example.com/d/x", "Sentry": ""}}
    e.update(kw)
    return e


# -- masking -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url,route_type,shown", [
    (SLACK_URL, "slack", "https://hooks.slack.com/services/********"),
    ("https://events.pagerduty.com/v2/enqueue", "pagerduty", "https://events.pagerduty.com/v2/********"),
    ("https://hooks.example.com/webhook/team-a?token=abc", "webhook", "https://hooks.example.com/webhook/********?********"),
    ("https://user:pw@hooks.example.com:8443/x", "webhook", "https://hooks.example.com:8443/********"),
    ("http://127.0.0.1:41167/slack/mk-sre", "slack", "http://127.0.0.1:41167/slack/********"),
    ("https://hooks.example.com", "webhook", "https://hooks.example.com"),
])
def test_mask_url(url, route_type, shown):
    assert n.mask_url(url, route_type) == shown


def test_scrub_removes_every_secret_part():
    text = "posted to %s with key %s; token XyZsecretTokenValue123 echoed" % (SLACK_URL, KEY)
    route = dict(SLACK, routing_key=KEY)
    scrubbed = n.scrub(text, route)
    assert KEY not in scrubbed and "XyZsecretTokenValue123" not in scrubbed and SLACK_URL not in scrubbed
    assert n.scrub_data({"a": [text], "b": 1}, route)["a"][0] == scrubbed
    assert "abcdef123456" not in n.scrub("token=abcdef123456", HOOK)


def test_masked_payload_hides_routing_key_only():
    payload = n.pagerduty_payload(event(), KEY)
    shown = n.masked_payload(payload)
    assert shown["routing_key"] == "********" and payload["routing_key"] == KEY
    assert shown["dedup_key"] == payload["dedup_key"]


# -- payloads ----------------------------------------------------------------------------------------------
def test_pagerduty_trigger_payload():
    body = n.build_payload(PD, event())
    assert body["routing_key"] == KEY and body["event_action"] == "trigger"
    assert body["dedup_key"] == "kas-fleet/stage/osd_provisioning_latency/no_leader"
    assert body["payload"]["summary"] == "[Control Plane] [stage] no ClusterManager leader"
    assert body["payload"]["severity"] == "error" and body["payload"]["source"] == \
        "kas-fleet-manager-stage/kas-fleet-manager"
    assert body["payload"]["custom_details"] == {
        "team": "Control Plane", "rule": "no leader worker is running, restart",
        "evidence": {"leaders": {"ClusterManager": 0}}, "report": "https://reports.example.com/r.html"}
    # empty links are dropped; a report URL is a link too
    assert body["links"] == [{"href": "https://grafana.example.com/d/x", "text": "Grafana"},
                             {"href": "https://reports.example.com/r.html", "text": "Incident report"}]


def test_pagerduty_summary_is_cut_and_resolve_is_minimal():
    body = n.build_payload(PD, event(summary="x" * 2000))
    assert len(body["payload"]["summary"]) == 1024
    assert n.build_payload(PD, event("resolve")) == {
        "routing_key": KEY, "event_action": "resolve", "dedup_key": "kas-fleet/stage/osd_provisioning_latency/no_leader"}


def test_slack_payload_has_text_and_blocks():
    body = n.build_payload(SLACK, event(report="/var/reports/r.html", rule="a <b> & c"))
    assert body["text"] == "ERROR [Control Plane] [stage] no ClusterManager leader"
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context"]
    assert "a &lt;b&gt; &amp; c" in body["blocks"][2]["text"]["text"]
    assert '"ClusterManager": 0' in body["blocks"][3]["text"]["text"]
    assert "report: `/var/reports/r.html`" in body["blocks"][4]["elements"][0]["text"]
    resolved = n.build_payload(SLACK, event("resolve", summary="[stage] healthy again"))
    assert resolved["text"] == "RESOLVED [Control Plane] [stage] healthy again"
    assert resolved["blocks"][0]["text"]["text"].startswith(":white_check_mark:")


def test_slack_evidence_is_truncated():
    body = n.build_payload(SLACK, event(evidence={"log": "y" * 10000}))
    text = body["blocks"][3]["text"]["text"]
    assert len(text) < 3000 and "(truncated)" in text


def test_webhook_payload_has_every_field():
    body = n.build_payload(HOOK, event())
    assert body["event_action"] == "trigger" and body["status"] == "triggered"
    assert body["team"] == "Control Plane" and body["evidence"] == {"leaders": {"ClusterManager": 0}}
    assert n.build_payload(HOOK, event("resolve"))["status"] == "resolved"


# -- sending -----------------------------------------------------------------------------------------------
class Response(object):
    def __init__(self, status, body):
        self.status, self.body = status, body

    def getcode(self):
        return self.status

    def read(self):
        return self.body


def test_post_json_sends_json():
    seen = {}

    def opener(url, **kw):
        seen.update(kw, url=url)
        return Response(202, b'{"status": "success"}')

    out = n.post_json(PD, {"a": 1}, 10, True, opener=opener)
    assert out == {"status": 202, "body": '{"status": "success"}'}
    assert seen["method"] == "POST" and json.loads(seen["data"]) == {"a": 1}
    assert seen["headers"]["Content-Type"] == "application/json" and seen["timeout"] == 10


def test_http_error_is_plain_and_secret_free():
    def opener(url, **kw):
        raise HTTPError(url, 400, "Bad Request", {}, io.BytesIO(
            ('{"status": "invalid event", "errors": ["bad routing_key %s"], "url": "%s"}' % (KEY, SLACK_URL)).encode()))

    with pytest.raises(FleetError) as err:
        n.post_json(dict(SLACK, routing_key=KEY), {}, 10, True, opener=opener)
    assert err.value.msg.startswith("the slack route https://hooks.slack.com/services/******** answered HTTP 400:")
    assert KEY not in err.value.msg and "XyZsecretTokenValue123" not in err.value.msg
    assert err.value.details["status"] == 400 and KEY not in err.value.details["body"]


def test_unreachable_route_is_plain():
    def opener(url, **kw):
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(FleetError, match=r"cannot reach the slack route https://hooks.slack.com/services/\*+: "
                                         r".*Connection refused") as err:
        n.post_json(SLACK, {}, 10, True, opener=opener)
    assert "XyZsecret" not in err.value.msg


def test_long_error_body_is_cut():
    def opener(url, **kw):
        raise HTTPError(url, 500, "err", {}, io.BytesIO(b"z" * 5000))

    with pytest.raises(FleetError) as err:
        n.post_json(PD, {}, 10, True, opener=opener)
    assert len(err.value.details["body"]) <= n.BODY_EXCERPT + 3


# -- the module: state on the deployment -------------------------------------------------------------------
class FakeKube(object):
    host = "https://k8s.example:6443"

    def __init__(self, incidents=None, missing=False, read_error=None, patch_error=None):
        annotations = {OPEN_INCIDENTS: json.dumps(incidents)} if incidents else {}
        self.dep = None if missing else {"metadata": {"name": "kas-fleet-manager", "resourceVersion": "1",
                                                      "annotations": annotations}}
        self.read_error = read_error
        self.patch_error = patch_error
        self.patches = []

    def __call__(self, params):  # stands in for the Kube class
        return self

    def read_deployment(self, namespace, name):
        if self.read_error:
            raise self.read_error
        return copy.deepcopy(self.dep)

    def patch_deployment(self, namespace, name, patch):
        self.patches.append(copy.deepcopy(patch))
        if self.patch_error:
            raise self.patch_error
        assert patch["metadata"]["resourceVersion"] == self.dep["metadata"]["resourceVersion"]
        value = patch["metadata"]["annotations"][OPEN_INCIDENTS]
        if value is None:
            self.dep["metadata"]["annotations"].pop(OPEN_INCIDENTS, None)
        else:
            self.dep["metadata"]["annotations"][OPEN_INCIDENTS] = value
        self.dep["metadata"]["resourceVersion"] = str(int(self.dep["metadata"]["resourceVersion"]) + 1)
        return copy.deepcopy(self.dep)

    def incidents(self):
        raw = self.dep["metadata"]["annotations"].get(OPEN_INCIDENTS)
        return json.loads(raw) if raw else {}


class Sender(object):
    def __init__(self, error=None):
        self.sent = []
        self.error = error

    def __call__(self, route, payload, timeout, validate_certs, ca_path=None):
        if self.error:
            raise self.error
        self.sent.append((route["type"], payload))
        return {"status": 202, "body": "ok"}


DEFAULTS = dict(route=None, routes=None, fallback=[], team="Control Plane", action="trigger",
                dedup_key="kas-fleet/stage/osd/no_leader", dedup_key_prefix=None, keep_open=[], sections=None,
                decision=None, summary="no leader", severity="error", source=None, rule="rule", evidence={"a": 1},
                report=None, links=None, timeout=30, tries=1, retry_window=30, namespace="ns",
                deployment="kas-fleet-manager")


def fake_module(check_mode=False, diff=False, **params):
    return FakeModule(DEFAULTS, check_mode, diff, **params)


def run_m(kube, sender, check_mode=False, diff=False, **params):
    """(result, module)"""
    params.setdefault("route", dict(PD, validate_certs=True, ca_path=None))
    module = fake_module(check_mode, diff, **params)
    result = e.Escalation(module, kube_factory=kube, sender=sender, now=lambda: NOW, sleep=lambda s: None).run()
    return result, module


def run(kube, sender, check_mode=False, diff=False, **params):
    return run_m(kube, sender, check_mode, diff, **params)[0]


def test_trigger_twice_sends_once():
    kube, sender = FakeKube(), Sender()
    first = run(kube, sender)
    assert first["sent"] and first["changed"] and first["state_recorded"] and first["reason"] is None
    assert kube.incidents() == {"kas-fleet/stage/osd/no_leader": {
        "team": "Control Plane", "opened_at": "2026-11-25T04:00:00Z", "route_type": "pagerduty"}}
    second = run(kube, sender)
    assert not second["sent"] and not second["changed"] and second["reason"] == "already_open"
    assert len(sender.sent) == 1
    assert first["route"] == {"type": "pagerduty", "url": "https://events.pagerduty.com/v2/********"}
    assert first["open_incidents"] == kube.incidents()


def test_resolve_sends_and_clears_then_not_open():
    kube, sender = FakeKube({"kas-fleet/stage/osd/no_leader": {"team": "Control Plane"}}), Sender()
    resolved = run(kube, sender, action="resolve", summary=None, team=None)
    assert resolved["sent"] and kube.incidents() == {}
    assert sender.sent[0][1]["event_action"] == "resolve"
    assert OPEN_INCIDENTS not in kube.dep["metadata"]["annotations"]  # empty state removes the annotation
    again = run(kube, sender, action="resolve", summary=None, team=None)
    assert not again["sent"] and again["reason"] == "not_open" and len(sender.sent) == 1


def test_missing_deployment_sends_anyway_and_says_so():
    kube, sender = FakeKube(missing=True), Sender()
    result, module = run_m(kube, sender)
    assert result["sent"] and not result["state_recorded"]
    assert result["state_error"] == "deployment kas-fleet-manager not found in namespace ns: state not recorded"
    assert "state not recorded" in result["msg"] and module.warnings


def test_unreadable_state_sends_anyway():
    kube = FakeKube(read_error=FleetError("cannot read deployment ns/kas-fleet-manager: forbidden (403): no",
                                          status=403))
    sender = Sender()
    result = run(kube, sender)
    assert result["sent"] and "forbidden (403)" in result["state_error"]


def test_failed_state_write_is_reported():
    kube = FakeKube(patch_error=FleetError("cannot patch deployment ns/kas-fleet-manager: forbidden (403): no",
                                           status=403))
    sender = Sender()
    result, module = run_m(kube, sender)
    assert result["sent"] and not result["state_recorded"]
    assert "cannot patch deployment ns/kas-fleet-manager: forbidden (403)" in result["state_error"]


def test_without_namespace_every_call_sends():
    sender = Sender()
    run(None, sender, namespace=None)
    result = run(None, sender, namespace=None)
    assert result["sent"] and len(sender.sent) == 2 and not result["state_recorded"]
    assert result["state_error"] is None and result["open_incidents"] is None


def test_check_mode_sends_nothing_and_masks():
    kube, sender = FakeKube(), Sender()
    result = run(kube, sender, check_mode=True, diff=True)
    assert result["changed"] and not result["sent"] and result["reason"] == "check_mode"
    assert sender.sent == [] and kube.patches == []
    assert result["would_send"]["routing_key"] == "********"
    assert KEY not in json.dumps(result)
    assert result["diff"]["after"][OPEN_INCIDENTS]["kas-fleet/stage/osd/no_leader"]["team"] == "Control Plane"


def test_check_mode_already_open_would_send_nothing():
    kube, sender = FakeKube({"kas-fleet/stage/osd/no_leader": {"team": "Control Plane"}}), Sender()
    result = run(kube, sender, check_mode=True)
    assert not result["changed"] and result["would_send"] is None and result["reason"] == "already_open"


def test_slack_route_never_shows_its_url():
    kube, sender = FakeKube(), Sender()
    result = run(kube, sender, route=dict(SLACK, routing_key=None, validate_certs=True, ca_path=None),
                 check_mode=True)
    assert "XyZsecretTokenValue123" not in json.dumps(result)
    assert result["route"]["url"] == "https://hooks.slack.com/services/********"


def test_http_failure_records_nothing():
    kube = FakeKube()
    sender = Sender(FleetError("the pagerduty route https://events.pagerduty.com/v2/******** answered HTTP 400: bad",
                               status=400))
    with pytest.raises(FleetError, match="answered HTTP 400"):
        run(kube, sender)
    assert kube.patches == [] and kube.incidents() == {}


def test_resolve_by_prefix_uses_each_teams_route():
    open_ = {"kas-fleet/stage/osd/no_leader": {"team": "control_plane"},
             "kas-fleet/stage/osd/ocm": {"team": "ocm_support"},
             "kas-fleet/stage/kafka/strimzi": {"team": "data_plane"}}
    kube, sender = FakeKube(open_), Sender()
    routes = {"control_plane": PD, "ocm_support": dict(PD), "data_plane": SLACK}
    result = run(kube, sender, route=None, routes=routes, action="resolve", dedup_key=None,
                 dedup_key_prefix="kas-fleet/stage/osd/", team=None, summary="[stage] healthy again")
    assert result["sent"] and sorted(e["dedup_key"] for e in result["events"]) == [
        "kas-fleet/stage/osd/no_leader", "kas-fleet/stage/osd/ocm"]
    assert [s[1]["event_action"] for s in sender.sent] == ["resolve", "resolve"]
    assert list(kube.incidents()) == ["kas-fleet/stage/kafka/strimzi"]
    assert KEY not in json.dumps(result)


def test_resolve_by_prefix_without_state_or_match():
    sender = Sender()
    result, module = run_m(None, sender, namespace=None, action="resolve", dedup_key=None,
                           dedup_key_prefix="kas-fleet/stage/", team=None)
    assert result["reason"] == "state_unavailable" and sender.sent == [] and module.warnings
    result = run(FakeKube({"other/x": {"team": "t"}}), sender, action="resolve", dedup_key=None,
                 dedup_key_prefix="kas-fleet/stage/", team=None)
    assert result["reason"] == "nothing_open" and not result["changed"]


def test_resolve_by_prefix_with_a_team_without_route():
    kube, sender = FakeKube({"kas-fleet/stage/osd/x": {"team": "nobody"}}), Sender()
    with pytest.raises(FleetError, match="no route for team 'nobody'"):
        run(kube, sender, route=None, routes={"control_plane": PD}, action="resolve", dedup_key=None,
            dedup_key_prefix="kas-fleet/stage/", team=None)


def test_check_route():
    with pytest.raises(FleetError, match="a pagerduty route needs routing_key"):
        e.check_route({"type": "pagerduty", "url": "https://x"})
    with pytest.raises(FleetError, match="must be an http:// or https:// URL"):
        e.check_route({"type": "slack", "url": "ftp://x"})
    with pytest.raises(FleetError, match="routes\\[a\\].type must be one of"):
        e.check_route({"type": "email", "url": "https://x"}, "routes[a]")


# -- main(): bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    ({"route": PD, "dedup_key": "k", "summary": "s"}, "missing: team"),
    ({"route": PD, "team": "t", "summary": "s"}, "dedup_key"),
    ({"route": PD, "routes": {"t": PD}, "team": "t", "dedup_key": "k", "summary": "s"}, "mutually exclusive"),
    ({"routes": {"t": PD}, "team": "t", "dedup_key": "k", "summary": "s"}, "missing: route"),
    ({"route": {"type": "pagerduty", "url": "https://x"}, "team": "t", "dedup_key": "k", "summary": "s"},
     "type is pagerduty but all of the following are missing: routing_key"),
    ({"route": {"type": "email", "url": "https://x"}, "team": "t", "dedup_key": "k", "summary": "s"},
     "value of type must be one of: pagerduty, slack, webhook"),
    ({"route": {"type": "slack"}, "team": "t", "dedup_key": "k", "summary": "s"}, "missing required arguments: url"),
    ({"route": PD, "team": "t", "dedup_key": "k", "summary": "s", "tries": 0}, "tries must be at least 1"),
    ({"route": PD, "team": "t", "dedup_key": "k", "summary": "s", "timeout": -5}, "timeout must be at least 1"),
])
def test_bad_input(capsys, args, message):
    result, _out = run_module(m, args, capsys)
    assert result["failed"] and message in result["msg"]
    assert KEY not in json.dumps(result)


# -- delivery: fallback routes and what is recorded --------------------------------------------------------
class RouteSender(object):
    """Answers per route URL: a FleetError for the URLs in ``failing``, 202 otherwise."""

    def __init__(self, failing):
        self.failing = failing
        self.sent = []

    def __call__(self, route, payload, timeout, validate_certs, ca_path=None):
        self.sent.append((route["url"], payload))
        if route["url"] in self.failing:
            raise self.failing[route["url"]]
        return {"status": 202, "body": "ok"}


DOWN = FleetError("cannot reach the slack route https://hooks.slack.com/services/********: refused", retryable=True)
CP = dict(PD, name="control_plane", routing_key="rk-control-plane-000000000000", url="https://pd.example/v2/enqueue")
OCM = dict(PD, name="ocm_support", routing_key="rk-ocm-000000000000000000000", url="https://pd2.example/v2/enqueue")


def test_a_failed_route_falls_back_and_is_not_recorded_open():
    kube = FakeKube()
    sender = RouteSender({SLACK_URL: DOWN})
    result, module = run_m(kube, sender, route=dict(SLACK, name="data_plane"), team="data_plane",
                           fallback=[CP, OCM], decision="escalate_data_plane", tries=3)
    assert result["sent"] and not result["delivered"] and result["delivered_to"] == "control_plane"
    assert [(a["route"], a["outcome"]) for a in result["attempts"]] == [("data_plane", "fell_back"),
                                                                       ("control_plane", "sent")]
    assert result["attempts"][0]["fell_back_to"] == "control_plane" and result["attempts"][0]["tries"] == 3
    assert kube.patches == [] and kube.incidents() == {}  # tried again next run
    body = sender.sent[-1][1]
    assert body["payload"]["summary"].startswith("[data_plane] [FALLBACK: data_plane route failed]")
    details = body["payload"]["custom_details"]
    assert details["team"] == "data_plane" and details["decision"] == "escalate_data_plane"
    assert details["evidence"]["fallback_for"] == "data_plane" and "refused" in details["evidence"]["delivery_error"]
    assert any("fix the data_plane route" in w for w in module.warnings)
    assert "XyZsecretTokenValue123" not in json.dumps(result) and CP["routing_key"] not in json.dumps(result)


def test_no_route_taking_the_page_fails_with_every_attempt():
    kube = FakeKube()
    sender = RouteSender({SLACK_URL: DOWN, CP["url"]: FleetError("the pagerduty route answered HTTP 503: x (3 tries)",
                                                                 status=503, retryable=True, tries=3)})
    with pytest.raises(FleetError, match="was not delivered to any route") as err:
        run(kube, sender, route=dict(SLACK, name="data_plane"), team="data_plane", fallback=[CP])
    attempts = err.value.details["attempts"]
    assert [(a["route"], a["outcome"]) for a in attempts] == [("data_plane", "failed"), ("control_plane", "failed")]
    assert err.value.details["delivered"] is False and kube.incidents() == {}


def test_the_own_route_among_the_fallbacks_is_not_tried_twice():
    sender = RouteSender({CP["url"]: DOWN})
    with pytest.raises(FleetError):
        run(FakeKube(), sender, route=CP, team="control_plane", fallback=[CP])
    assert len(sender.sent) == 1


def test_already_open_is_deduplicated_and_widens_its_sections():
    kube = FakeKube({"kas-fleet/stage/osd/no_leader": {"team": "Control Plane", "sections": ["osd_provisioning_latency"]}})
    sender = Sender()
    result = run(kube, sender, sections=["kafka_provisioning_latency"])
    assert result["reason"] == "already_open" and result["delivered"] and sender.sent == []
    assert result["attempts"] == [{"route": "Control Plane", "outcome": "deduplicated", "tries": 0, "error": None}]
    assert kube.incidents()["kas-fleet/stage/osd/no_leader"]["sections"] == [
        "kafka_provisioning_latency", "osd_provisioning_latency"]


def test_sent_records_the_sections():
    kube, sender = FakeKube(), Sender()
    result = run(kube, sender, sections=["availability", "fleet_manager_down"])
    assert result["delivered"] and result["attempts"][0]["outcome"] == "sent"
    assert kube.incidents()["kas-fleet/stage/osd/no_leader"]["sections"] == ["availability", "fleet_manager_down"]


def test_resolvable_keeps_what_fired_and_what_other_sections_opened():
    incidents = {"kas-fleet/stage/control_plane/unsure": {"team": "control_plane", "sections": ["availability"]},
                 "kas-fleet/stage/data_plane/kafka_errors": {"team": "data_plane", "sections": ["kafka_provisioning_latency"]},
                 "kas-fleet/stage/ocm_support/ocm_errors": {"team": "ocm_support"},
                 "kas-fleet/prod/control_plane/unsure": {"team": "control_plane"}}
    assert e.resolvable(incidents, "kas-fleet/stage/", keep_open=["kas-fleet/stage/ocm_support/ocm_errors"],
                        sections=["kafka_provisioning_latency"]) == ["kas-fleet/stage/data_plane/kafka_errors"]
    assert e.resolvable(incidents, "kas-fleet/stage/") == [
        "kas-fleet/stage/control_plane/unsure", "kas-fleet/stage/data_plane/kafka_errors",
        "kas-fleet/stage/ocm_support/ocm_errors"]
