"""Every shipped scenario through the playbook of its runbook section, in recommend mode: the decision is the
scenario's expected one, the escalation reaches the right team once per incident, and nothing changes."""
import json
import os
import re

import pytest
import yaml

from fleet_lab import scenario as scenarios

from browser import report_expectations
from conftest import ROOT, SECTION_PLAYBOOK

CASES = list(scenarios.available())
SECTIONS = yaml.safe_load(open(os.path.join(ROOT, "roles", "kas_fleet", "vars", "main.yml")))["kas_fleet_sections"]
# One series each metrics group of slo_metrics_info always returns (burn_rates has none).
GROUP_SERIES = {"requests": "error_ratio", "latency": "latency_p99_seconds", "resources": "cpu_ratio_max",
                "kafka": "kafka_create_p90_seconds", "network": "network_receive_bytes_per_second",
                "io": "io_read_bytes_per_second"}
TEAM_ROUTE = {"escalate_ocm": "pagerduty", "escalate_data_plane": "slack", "escalate_control_plane": "pagerduty"}


def pods_of(lab):
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(lab.kubeconfig))
    return sorted(p.metadata.name for p in api.list_namespaced_pod(lab.namespace).items)


TEAM = {"escalate_ocm": "ocm_support", "escalate_data_plane": "data_plane", "escalate_control_plane": "control_plane"}
TRIAGE_CASES = [name for name in CASES if scenarios.load(name)["expected"]["triage"] is not None]


def check_pages(lab, run, steps):
    """One page per team of the plan, each delivered to its own route, its dedup key the one the page carries."""
    received = lab.sink_received()
    pages = [step for step in steps if step.startswith("escalate_")]
    assert [m["kind"] for m in received] == [TEAM_ROUTE[step] for step in pages], received
    for step, escalation, message in zip(pages, run.report["escalations"], received):
        assert escalation["team"] == TEAM[step]
        assert escalation["sent"] is True and escalation["delivered"] is True
        assert [a["outcome"] for a in escalation["attempts"]] == ["sent"]
        # One dedup key per environment, team and rule: the one the page carries and the report names.
        plan = [e for e in run.report["plan"]["escalations"] if e["team"] == TEAM[step]][0]
        key = "kas-fleet/%s/%s/%s" % (run.report["environment"], TEAM[step], plan["rule_id"])
        assert escalation["dedup_key"] == key
        if message["kind"] == "pagerduty":
            assert message["body"]["dedup_key"] == key
        else:  # Slack has no dedup field: the key is in the message, for the person who reads it
            assert key in json.dumps(message["body"])
    return received


def check_decided(lab, run, expected):
    """A recommend-mode run of a scenario: it succeeded, decided and planned as expected, recommended its action
    without taking it, and paged as check_pages says; what the lab's sink received."""
    assert run.rc == 0, run.output[-3000:]
    assert run.decision == expected["decision"], "%s\n%s" % (run.report["decision"], run.output[-2000:])
    assert run.report["plan"]["steps"] == expected["plan"], run.report["plan"]
    assert all(a["mode"] == "recommended" for a in run.report["actions"])
    return check_pages(lab, run, expected["plan"])


@pytest.mark.parametrize("name", CASES)
def test_section_decides_as_the_runbook_says(fleet_lab, run_playbook, report_browser, name):
    loaded = fleet_lab.switch(name)
    fleet_lab.sink_clear()
    before = pods_of(fleet_lab)
    run = run_playbook(fleet_lab, SECTION_PLAYBOOK[loaded["section"]])
    expected = loaded["expected"]
    received = check_decided(fleet_lab, run, expected)
    # recommend mode: an action is recommended, never taken
    assert pods_of(fleet_lab) == before
    if received:
        # A rerun finds the incidents open and does not page again.
        again = run_playbook(fleet_lab, SECTION_PLAYBOOK[loaded["section"]])
        assert again.report["plan"]["steps"] == expected["plan"]
        assert {e["reason"] for e in again.report["escalations"]} == {"already_open"}
        assert len(fleet_lab.sink_received()) == len(received)
    for path in run.report_files:
        assert fleet_lab.info["sentry"]["token"] not in open(path).read()
    # Every rule's evidence reads as text: no Python or JSON rendering of a list or a mapping.
    for section in run.report["sections"]:
        for rule in section["trace"]:
            assert not re.search(r"\[\]|\[\{|\{['\"]", rule["reason"]), (rule["id"], rule["reason"])
    # The HTML report as a person sees it, in a real browser (screenshots in tests/output/reports).
    seen = report_browser.check(run.keep(name), name, report_expectations(run.report))
    assert seen.problems == [], "\n".join(seen.problems)
    # A chart (or words, when Prometheus had no point) for every figure of the metrics groups the section reads.
    sections = SECTIONS if loaded["section"] == "none" else {loaded["section"]: SECTIONS[loaded["section"]]}
    groups = set(group for section in sections.values() for group in section["metrics"])
    charts = dict((c["series"], c) for c in seen.charts)
    assert set(GROUP_SERIES[g] for g in groups if g in GROUP_SERIES) <= set(charts), sorted(charts)
    if name == "high_latency_cpu_pressure":
        # the pods at their CPU limit: the CPU chart's line crosses its limit line (SVG y grows downwards)
        cpu = charts["cpu_ratio_max"]
        assert cpu["chart"] and cpu["crossed"] == "yes", cpu
        assert cpu["y_max"] > cpu["threshold_y"] > cpu["y_min"], cpu
        assert charts["latency_p99_seconds"]["crossed"] == "yes" and charts["error_ratio"]["crossed"] == "no"
        assert "over it since" in charts["cpu_ratio_max"]["caption"]


@pytest.mark.parametrize("name", TRIAGE_CASES)
def test_triage_names_the_sections_whose_symptom_is_present(fleet_lab, run_playbook, name):
    loaded = fleet_lab.switch(name)
    fleet_lab.sink_clear()
    run = run_playbook(fleet_lab, "sop_triage")
    assert run.rc == 0, run.output[-3000:]
    triage = loaded["expected"]["triage"]
    assert run.report["matched_sections"] == triage["sections"], run.report["symptoms"]
    assert run.report["plan"]["steps"] == triage["plan"], run.report["plan"]
    check_pages(fleet_lab, run, triage["plan"])
