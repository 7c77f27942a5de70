# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The runbook_plan and gathered filters at their entry points, with the role's own section table
(roles/kas_fleet/vars/main.yml): one remediation at most, one page per team, every escalation that fired, and the
"if unsure" rule of each section weighing its own signs and the checks it could not run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.filter.gathered import FilterModule as Gathered
from ansible_collections.kas.fleet_manager.plugins.filter.runbook_plan import FilterModule as Plan

ROLE_VARS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "kas_fleet", "vars", "main.yml")
VARS = yaml.safe_load(open(ROLE_VARS))
SECTIONS, TEAMS = VARS["kas_fleet_sections"], VARS["kas_fleet_decision_teams"]
runbook_plan = Plan().filters()["runbook_plan"]
gathered = Gathered().filters()["gathered"]

DECISIONS = {"container_pressure": "scale_up", "start_pods": "start_pods", "manager_api_or_no_leader": "restart_pods",
             "cluster_accepted_idle": "restart_pods", "kafkas_deletion_stuck": "escalate_data_plane",
             "ocm_errors_or_clusters_stuck": "escalate_ocm", "ocm_errors": "escalate_ocm",
             "cluster_level_events": "escalate_ocm", "kafka_errors": "escalate_data_plane",
             "kafka_errors_or_kafkas_stuck": "escalate_data_plane"}


def verdicts(fired=(), signs=None):
    """A verdict for every rule of the role, the ``fired`` ones firing; the unsure rule carries ``signs``."""
    out = dict((rule, {"id": rule, "rule": "the %s rule" % rule, "decision": decision, "fired": rule in fired,
                       "reason": "%s: because" % rule if rule in fired else "no"})
               for rule, decision in DECISIONS.items())
    out["unsure"] = {"id": "unsure", "rule": "Otherwise", "decision": "escalate_control_plane", "fired": False,
                     "reason": "", "signs": signs or {}}
    return out


def test_every_rule_of_every_section_has_a_verdict_and_the_order_covers_them():
    assert set(VARS["kas_fleet_rule_order"]) == set(DECISIONS) | {"unsure"}
    for name, conf in SECTIONS.items():
        assert conf["rules"][-1] == "unsure", name
        assert set(conf["rules"]) <= set(VARS["kas_fleet_rule_order"]), name
        assert set(conf["symptom"]) <= set(conf["signs"]), name


def test_healthy_when_nothing_fired():
    plan = runbook_plan(verdicts(), SECTIONS, ["kafka_provisioning_latency"], TEAMS)
    assert plan["steps"] == [] and plan["decision"]["decision"] == "healthy"
    assert plan["remediation"] is None and plan["escalations"] == []
    [section] = plan["sections"]
    assert section["decision"] == "healthy" and [t["id"] for t in section["trace"]] == SECTIONS[
        "kafka_provisioning_latency"]["rules"]


def test_several_causes_make_one_remediation_and_one_page_per_team():
    fired = ["manager_api_or_no_leader", "ocm_errors_or_clusters_stuck", "ocm_errors", "kafka_errors_or_kafkas_stuck"]
    plan = runbook_plan(verdicts(fired), SECTIONS, ["kafka_provisioning_latency"], TEAMS)
    assert plan["steps"] == ["restart_pods", "escalate_ocm", "escalate_data_plane"]
    assert plan["decision"]["decision"] == "restart_pods"  # the plan's first step, for existing consumers
    assert plan["remediation"]["action"] == "restart"
    ocm = plan["escalations"][0]
    assert ocm["team"] == "ocm_support" and ocm["rule_id"] == "ocm_errors_or_clusters_stuck"
    assert [r["id"] for r in ocm["rules"]] == ["ocm_errors_or_clusters_stuck", "ocm_errors"]
    assert ocm["reason"] == "ocm_errors_or_clusters_stuck: because; ocm_errors: because"
    assert plan["escalations"][1]["team"] == "data_plane"


def test_the_first_remediation_in_the_runbooks_order_wins():
    plan = runbook_plan(verdicts(["container_pressure", "start_pods", "manager_api_or_no_leader"]), SECTIONS,
                        ["availability"], TEAMS)
    assert plan["steps"] == ["scale_up"] and plan["remediation"]["rule_id"] == "container_pressure"


def test_triage_pages_a_team_once_across_sections():
    plan = runbook_plan(verdicts(["ocm_errors_or_clusters_stuck"]), SECTIONS,
                        ["osd_provisioning_latency", "osd_provisioning_correctness", "kafka_provisioning_latency"], TEAMS)
    [ocm] = plan["escalations"]
    assert ocm["sections"] == ["osd_provisioning_latency", "osd_provisioning_correctness", "kafka_provisioning_latency"]
    assert len(ocm["rules"]) == 1


def test_unsure_weighs_only_its_sections_signs():
    signs = {"kafkas_failed_recently": 2, "no_cluster_ready": False, "pod_problems": []}
    plan = runbook_plan(verdicts(signs=signs), SECTIONS, ["osd_provisioning_latency", "kafka_provisioning_latency"],
                        TEAMS)
    osd, kafka = plan["sections"]
    assert osd["decision"] == "healthy"  # failed kafka requests are not the OSD section's business
    assert kafka["decision"] == "escalate_control_plane" and "kafkas failed recently: 2" in kafka["reason"]
    assert plan["escalations"][0]["sections"] == ["kafka_provisioning_latency"]


def test_unsure_is_otherwise_unless_a_check_could_not_run():
    signs = {"kafkas_stuck": ["provisioning"]}
    plan = runbook_plan(verdicts(["kafka_errors_or_kafkas_stuck"], signs), SECTIONS, ["kafka_provisioning_latency"],
                        TEAMS)
    assert plan["steps"] == ["escalate_data_plane"]
    plan = runbook_plan(verdicts(["kafka_errors_or_kafkas_stuck"], signs), SECTIONS, ["kafka_provisioning_latency"],
                        TEAMS, {"leaders": "the Kubernetes API did not answer within 4 s"})
    assert plan["steps"] == ["escalate_data_plane", "escalate_control_plane"]
    unsure = plan["sections"][0]["trace"][-1]
    assert unsure["fired"] and "could not check leaders (the Kubernetes API did not answer" in unsure["reason"]
    # a check another section needs does not make this one unsure
    plan = runbook_plan(verdicts(), SECTIONS, ["osd_provisioning_latency"], TEAMS, {"metrics": "down"})
    assert plan["steps"] == []


def test_extra_verdicts_page_outside_the_sections():
    extra = [{"id": "restart_did_not_help", "rule": "Otherwise", "decision": "escalate_control_plane",
              "reason": "the restart circuit breaker is open"}]
    plan = runbook_plan(verdicts(["manager_api_or_no_leader"]), SECTIONS, ["osd_provisioning_latency"], TEAMS,
                        extra=extra)
    assert plan["steps"] == ["restart_pods", "escalate_control_plane"]
    assert plan["escalations"][0]["rule_id"] == "restart_did_not_help" and plan["escalations"][0]["sections"] == []


@pytest.mark.parametrize("args,message", [
    (([], SECTIONS, [], TEAMS), "takes the verdicts and the section table as dicts"),
    (({}, SECTIONS, ["osd_provisioning_latency"], TEAMS), "no verdict for rule manager_api_or_no_leader"),
    ((verdicts(), SECTIONS, ["nope"], TEAMS), "unknown section 'nope'"),
    ((verdicts(), SECTIONS, [], TEAMS, None, [{"id": "x", "rule": "x", "decision": "reboot"}]),
     "rule x decides 'reboot'"),
])
def test_bad_input_is_a_filter_error(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        runbook_plan(*args)


def test_gathered_splits_evidence_from_what_did_not_run():
    results = {"pods": {"changed": False, "deployment": {}}, "leaders": {"failed": True, "msg": "timed out"},
               "clusters": {"skipped": True}, "metrics": {"skipped": True}, "sentry": {"skipped": True}}
    unavailable = {"clusters": {"kind": "denied", "reason": "missing access: secret"},
                   "metrics": {"kind": "not_configured", "reason": "kas_fleet_prometheus_url is not set"}}
    out = gathered(results, unavailable)
    assert list(out["evidence"]) == ["pods"]
    assert out["not_run"] == {"leaders": "timed out", "clusters": "missing access: secret",
                              "metrics": "kas_fleet_prometheus_url is not set"}
    assert out["failed"] == ["clusters", "leaders"]  # not configured is no blindness
    with pytest.raises(AnsibleFilterError, match="takes a dict of registered results"):
        gathered([])


def test_a_run_cut_short_still_makes_a_plan_from_the_rules_that_ran():
    # The rules of the section stopped after ocm_errors_or_clusters_stuck fired (a later rule task failed).
    partial = dict((k, v) for k, v in verdicts(["ocm_errors_or_clusters_stuck"]).items()
                   if k in ("manager_api_or_no_leader", "ocm_errors_or_clusters_stuck"))
    failed = {"id": "unsure", "rule": "Otherwise", "decision": "escalate_control_plane",
              "reason": "the run failed at 'Rule: ocm_errors': boom"}
    with pytest.raises(AnsibleFilterError, match="no verdict for rule ocm_errors of section kafka_provisioning"):
        runbook_plan(partial, SECTIONS, ["kafka_provisioning_latency"], TEAMS, {}, [failed])
    plan = runbook_plan(partial, SECTIONS, ["kafka_provisioning_latency"], TEAMS, {}, [failed], partial=True)
    assert plan["steps"] == ["escalate_ocm", "escalate_control_plane"]
    assert [e["team"] for e in plan["escalations"]] == ["ocm_support", "control_plane"]
    [section] = plan["sections"]
    assert section["rule_id"] == "ocm_errors_or_clusters_stuck"
    assert section["reason"].endswith("the run failed before these rules ran: ocm_errors, "
                                      "kafka_errors_or_kafkas_stuck, unsure")
    assert [v["id"] for v in section["trace"]] == ["manager_api_or_no_leader", "ocm_errors_or_clusters_stuck"]
    # Nothing of the section fired before the failure: Control Plane, with the failure.
    plan = runbook_plan({}, SECTIONS, ["kafka_provisioning_latency"], TEAMS, {}, [failed], partial=True)
    assert plan["steps"] == ["escalate_control_plane"] and plan["sections"][0]["trace"] == []
    assert plan["escalations"][0]["reason"] == "the run failed at 'Rule: ocm_errors': boom"
