# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of module_utils/escalation.py (escalate's service): the open-incident state on the deployment
(reruns do not page twice, resolves), fallback routes and what is recorded, against in-memory stand-ins for the
Kubernetes API and the route."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import escalation as e
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import OPEN_INCIDENTS
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fakes import KEY, PD, SLACK, SLACK_URL
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import FakeModule

NOW = datetime.datetime(2026, 11, 25, 4, 0, 0, tzinfo=datetime.timezone.utc)


# -- the service: state on the deployment ------------------------------------------------------------------
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
    assert [(a["route"], a["outcome"]) for a in result["attempts"]] == [
        ("data_plane", "fell_back"), ("control_plane", "sent")]
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
