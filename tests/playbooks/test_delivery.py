"""A page is never lost in silence, and a run that could not see is never green: the runbook playbooks against a
lab whose sink, Kubernetes API and logs fail on purpose (fleet_lab faults). Each test says what the on-call
engineer gets: the exit code, the report, and where the page landed."""
import json
import os
import subprocess

import pytest
import yaml

from conftest import ROOT, STRATEGIES

pytestmark = pytest.mark.lab_scenario("kafka_provisioning_stuck_strimzi")

# The lab's routes: data_plane is Slack (/slack/mk-sre), ocm_support and control_plane are PagerDuty (/v2/enqueue).
SLACK = "/slack/mk-sre"
FAST = {"kas_fleet_escalation_tries": 2, "kas_fleet_escalation_retry_window": 10, "kas_fleet_escalation_timeout": 3}


@pytest.fixture(autouse=True)
def _fresh(fleet_lab):
    """Each test starts from the incident with no fault, no message and no open incident."""
    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    fleet_lab.clear_faults()
    fleet_lab.sink_clear()
    yield
    fleet_lab.clear_faults()


def pagerduty(lab):
    return [m["body"] for m in lab.sink_received() if m["kind"] == "pagerduty"]


def no_traceback(run):
    assert "Traceback" not in run.output, run.output[-3000:]


def test_503_twice_then_200_is_delivered_on_the_third_try(fleet_lab, run_playbook):
    fleet_lab.fault("sink", "status", code=503, path=SLACK, count=2)
    run = run_playbook(fleet_lab, "sop_kafka_latency")
    assert run.rc == 0, run.output[-3000:]
    page = run.report["escalations"][0]
    assert page["team"] == "data_plane" and page["delivered"] is True
    assert page["attempts"] == [{"route": "data_plane", "outcome": "sent", "tries": 3, "error": None,
                                 "status": 200}]
    assert [m["kind"] for m in fleet_lab.sink_received()] == ["slack"]  # exactly one message got through
    assert [a["status"] for a in fleet_lab.sink_attempts() if a["path"] == SLACK] == [503, 503, 200]
    assert "3 tries" in open(run.report["files"]["markdown"]).read()


@pytest.mark.parametrize("playbook_strategy", STRATEGIES)
def test_a_route_down_falls_back_fails_the_run_and_the_next_run_pages_the_team(fleet_lab, run_playbook):
    fleet_lab.fault("sink", "status", code=503, path=SLACK)
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=FAST)
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert "failed=1" in run.output and "did not reach its route" in run.output
    assert '"pages: data_plane: control_plane"' in run.output  # the summary names the route that took it
    page = run.report["escalations"][0]
    assert page["delivered"] is False and page["delivered_to"] == "control_plane"
    assert [(a["route"], a["outcome"], a["tries"]) for a in page["attempts"]] == [
        ("data_plane", "fell_back", 2), ("control_plane", "sent", 1)]
    assert "HTTP 503" in page["attempts"][0]["error"] and "mk-sre" not in json.dumps(page)
    # The fallback carries the original team, decision, rule, evidence and the delivery error.
    [body] = pagerduty(fleet_lab)
    details = body["payload"]["custom_details"]
    assert details["team"] == "data_plane" and details["decision"] == "escalate_data_plane"
    assert "kafka_errors_or_kafkas_stuck" in details["evidence"]["reasons"]
    assert details["evidence"]["fallback_for"] == "data_plane" and "503" in details["evidence"]["delivery_error"]
    assert "FALLBACK: data_plane route failed" in body["payload"]["summary"]
    for path in run.report_files:
        text = open(path).read()
        assert "fell_back" in text and "control_plane" in text
    # The team's route works again: the next run pages it (the incident was not recorded open).
    fleet_lab.clear_faults()
    fleet_lab.sink_clear()
    again = run_playbook(fleet_lab, "sop_kafka_latency")
    assert again.rc == 0, again.output[-3000:]
    assert again.report["escalations"][0]["reason"] is None
    assert again.report["escalations"][0]["attempts"][0]["outcome"] == "sent"
    assert [m["kind"] for m in fleet_lab.sink_received()] == ["slack"]


def test_every_route_down_says_not_delivered_and_fails(fleet_lab, run_playbook):
    fleet_lab.fault("sink", "status", code=500)
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=FAST)
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    page = run.report["escalations"][0]
    assert page["delivered"] is False and page["delivered_to"] is None
    assert [(a["route"], a["outcome"]) for a in page["attempts"]] == [
        ("data_plane", "failed"), ("control_plane", "failed"), ("ocm_support", "failed")]
    assert fleet_lab.sink_received() == []
    assert "NOT delivered to any route" in open(run.report["files"]["markdown"]).read()
    # The console's summary says it too, from the same data as the report.
    assert '"pages: data_plane: NOT DELIVERED"' in run.output
    assert '"report: %s"' % run.report["files"]["markdown"] in run.output


def test_a_bad_route_url_is_not_retried_and_named_masked(fleet_lab, run_playbook):
    routes = fleet_lab.host_vars()["kas_fleet_escalation_routes"]
    routes["data_plane"]["url"] = fleet_lab.info["daemon"]["sink_url"] + "/nowhere/secret-path-123"
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=dict(FAST, kas_fleet_escalation_routes=routes))
    assert run.rc == 2, run.output[-3000:]
    own = run.report["escalations"][0]["attempts"][0]
    assert own["tries"] == 1 and own["status"] == 404 and "not retried" in own["error"]
    assert "secret-path-123" not in run.output and "secret-path-123" not in json.dumps(run.report)


def blind_run(lab, run_playbook, extra=None):
    """A run that cannot see the Kubernetes API: Control Plane is paged with what failed, and the run fails."""
    run = run_playbook(lab, "sop_kafka_latency", extra=dict(FAST, **(extra or {})))
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert "could not gather its evidence" in run.output
    assert set(run.report["blind"]) >= {"pods", "leaders", "clusters", "kafkas"}
    assert "escalate_control_plane" in run.report["plan"]["steps"]
    [body] = [b for b in pagerduty(lab) if "control_plane" in b["dedup_key"]]
    assert set(body["payload"]["custom_details"]["evidence"]["not_run"]) >= {"pods", "leaders"}
    return run, body


def test_a_rejected_token_pages_control_plane_and_fails(fleet_lab, run_playbook, tmp_path):
    config = yaml.safe_load(open(fleet_lab.kubeconfig))
    for user in config["users"]:
        if user["user"].get("token"):
            user["user"]["token"] = "rejected-" + user["user"]["token"][:6]
    bad = tmp_path / "kubeconfig"
    bad.write_text(yaml.safe_dump(config))
    run, body = blind_run(fleet_lab, run_playbook, {"kas_fleet_k8s_auth": {"kubeconfig": str(bad)}})
    assert "401" in json.dumps(body["payload"]["custom_details"]["evidence"]["not_run"])
    assert "401" in run.report["blind"]["pods"]


@pytest.mark.parametrize("playbook_strategy", STRATEGIES)
def test_the_api_down_pages_control_plane_and_fails(fleet_lab, run_playbook):
    fleet_lab.fault("kube", "refuse", window=120)
    run, body = blind_run(fleet_lab, run_playbook)
    assert "Kubernetes API" in run.report["blind"]["pods"]


def test_a_log_stream_that_stalls_ends_on_its_timeout(fleet_lab, run_playbook):
    fleet_lab.fault("kube", "cut_log", bytes=2048, seconds=600)
    auth = {"kubeconfig": fleet_lab.kubeconfig, "api_timeout": 4}
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=dict(FAST, kas_fleet_k8s_auth=auth))
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert "did not answer within 4 s" in run.report["blind"]["leaders"], run.report["blind"]
    assert "pods" in run.report["evidence"] and "kafkas" in run.report["evidence"]  # the rest was gathered
    assert "escalate_control_plane" in run.report["plan"]["steps"]


def test_two_runs_at_once_leave_two_reports(fleet_lab, tmp_path):
    reports = tmp_path / "reports"
    cmd = ["ansible-playbook", "-i", fleet_lab.inventory, "kas.fleet_manager.sop_kafka_latency",
           "-e", "kas_fleet_report_dir=%s" % reports]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _run in range(2)]
    for proc in procs:
        proc.communicate(timeout=300)
    assert len([n for n in os.listdir(reports) if n.endswith(".json")]) == 2


@pytest.mark.parametrize("extra,message", [
    ({"kas_fleet_max_replicas": -1}, "kas_fleet_max_replicas must be greater than 0"),
    ({"kas_fleet_stuck_idle_minutes": 0}, "kas_fleet_stuck_idle_minutes must be greater than 0"),
    ({"kas_fleet_escalation_timeout": 0}, "kas_fleet_escalation_timeout must be greater than 0"),
    ({"kas_fleet_restart_cooldown_minutes": -5}, "kas_fleet_restart_cooldown_minutes must be 0 or more"),
    ({"kas_fleet_max_replicas": 2, "kas_fleet_expected_replicas": 3},
     "kas_fleet_max_replicas (2) must be at least kas_fleet_expected_replicas (3)"),
    ({"kas_fleet_environment": "../../x"}, "kas_fleet_environment may hold only letters, digits"),
    ({"kas_fleet_escalation_routes": {"data_plane": {"type": "email", "url": "http://127.0.0.1:9/x"}}},
     "value of type must be one of: pagerduty, slack, webhook"),
    ({"kas_fleet_escalation_routes": {"data_plane": {"type": "slack"}}}, "missing required arguments: url"),
    ({"kas_fleet_escalation_routes": {"control_plane": {"type": "pagerduty", "url": "http://127.0.0.1:9/v2/enqueue"}}},
     "type is pagerduty but all of the following are missing: routing_key"),
    ({"kas_fleet_escalation_routes": {"data_plane": {"type": "slack", "url": "hooks.slack.com/x"}}},
     "kas_fleet_escalation_routes.data_plane.url must start with http:// or https://"),
    ({"kas_fleet_escalation_routes": {"dataplane": {"type": "slack", "url": "http://127.0.0.1:9/x"}}},
     "dataplane"),
    ({"kas_fleet_escalation_fallback": ["ocm_support"], "kas_fleet_escalation_routes": {}},
     "kas_fleet_escalation_fallback names ocm_support, which has no route"),
])
def test_a_bad_configuration_fails_before_anything_is_gathered(fleet_lab, run_playbook, extra, message):
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=extra)
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert message in run.output, run.output[-3000:]
    assert "Check Deployments" not in run.output  # no evidence was gathered
    assert run.report is None and fleet_lab.sink_attempts() == []
    assert not os.path.exists(os.path.join(ROOT, "x"))


def test_the_fallback_order_is_a_knob(fleet_lab, run_playbook):
    fleet_lab.fault("sink", "status", code=503, path=SLACK)
    routes = fleet_lab.host_vars()["kas_fleet_escalation_routes"]
    routes["ocm_support"] = {"type": "webhook", "url": fleet_lab.info["daemon"]["sink_url"] + "/webhook/ocm-support"}
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=dict(
        FAST, kas_fleet_escalation_routes=routes, kas_fleet_escalation_fallback=["ocm_support", "control_plane"]))
    assert run.rc == 2, run.output[-3000:]
    assert run.report["escalations"][0]["delivered_to"] == "ocm_support"
    assert [m["kind"] for m in fleet_lab.sink_received()] == ["webhook"]


def test_the_timeout_and_the_retry_window_are_knobs(fleet_lab, run_playbook):
    fleet_lab.fault("sink", "hang", seconds=30, path=SLACK, count=1)
    fleet_lab.fault("sink", "status", code=503, retry_after=20, path=SLACK)
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra={
        "kas_fleet_escalation_timeout": 2, "kas_fleet_escalation_retry_window": 12, "kas_fleet_escalation_tries": 5})
    assert run.rc == 2, run.output[-3000:]
    own = run.report["escalations"][0]["attempts"][0]
    # the first try hung past the 2 s timeout, the second was told to come back in 20 s: past the 12 s window
    assert own["tries"] == 2 and "no time left in the 12 s retry window" in own["error"], own
    assert [a["status"] for a in fleet_lab.sink_attempts() if a["path"] == SLACK][-1] == 503


@pytest.mark.parametrize("component,kind,options,blind", [
    ("db", "refuse", {}, {"clusters", "kafkas"}),
    ("prometheus", "status", {"code": 503}, {"metrics"}),
    ("sentry", "status", {"code": 500}, {"sentry"}),
])
def test_a_source_down_is_evidence_pages_control_plane_and_fails(fleet_lab, run_playbook, component, kind, options,
                                                                 blind):
    fleet_lab.fault(component, kind, **options)
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=FAST)
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert set(run.report["blind"]) == blind, run.report["blind"]
    # the rest was gathered, the rules still decided, and Control Plane heard what could not be checked
    assert "pods" in run.report["evidence"] and "escalate_control_plane" in run.report["plan"]["steps"]
    control = [b for b in pagerduty(fleet_lab) if "control_plane" in b["dedup_key"]]
    assert len(control) == 1 and blind <= set(control[0]["payload"]["custom_details"]["evidence"]["not_run"])


def test_a_check_the_token_may_not_make_is_blindness_one_nobody_configured_is_not(fleet_lab, run_playbook, tmp_path):
    scenario = tmp_path / "no_logs_no_secrets.yml"
    scenario.write_text(yaml.safe_dump({"name": "no_logs_no_secrets", "description": "a healthy fleet; the runbook's "
                                        "token may read neither pod logs nor secrets",
                                        "access": {"denied": ["pods/log", "secrets"]}}))
    fleet_lab.switch(str(scenario))
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=dict(FAST, kas_fleet_sentry_url=""))
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    secret = "missing access: secret kas-fleet-manager-rds"
    assert run.report["not_run"] == {"leaders": "missing access: get pods/log", "clusters": secret, "kafkas": secret,
                                     "sentry": "kas_fleet_sentry_url is not set"}
    assert set(run.report["blind"]) == {"leaders", "clusters", "kafkas"}  # an unconfigured check is no blindness
    assert set(run.report["evidence"]) == {"pods", "metrics"}
    control = [b for b in pagerduty(fleet_lab) if "control_plane" in b["dedup_key"]]
    assert len(control) == 1 and control[0]["payload"]["custom_details"]["evidence"]["not_run"] == run.report["not_run"]


@pytest.mark.parametrize("playbook_strategy", STRATEGIES)
def test_a_rule_that_fails_still_reports_and_pages_control_plane(fleet_lab, run_playbook):
    # A rule's template breaks mid-decision (here a bad JMESPath in the role's status formatter, as a bug would):
    # the rules before it keep their verdicts, the plan is made from them, and Control Plane hears of the failure.
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=dict(FAST, kas_fleet_status_count="bad[["))
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert "Rule: " in run.report["failure"]["task"] and "bad JMESPath" in run.report["failure"]["msg"]
    assert run.report["plan"]["steps"] == ["escalate_control_plane"]
    [section] = run.report["sections"]
    assert "the run failed before these rules ran: kafka_errors_or_kafkas_stuck, unsure" in section["reason"]
    ran = ["manager_api_or_no_leader", "ocm_errors_or_clusters_stuck", "ocm_errors"]
    assert [v["id"] for v in section["trace"]] == ran
    [body] = pagerduty(fleet_lab)
    assert "control_plane" in body["dedup_key"] and "the run failed at 'Rule: " in json.dumps(body)
    assert '"pages: control_plane: control_plane"' in run.output


def test_a_plan_that_cannot_be_made_still_reports_and_pages_control_plane(fleet_lab, run_playbook):
    # Making the plan breaks (a bad value where the role's extra verdicts go, as a bug would), in the rescue too:
    # the page to Control Plane made from the failure alone stands.
    run = run_playbook(fleet_lab, "sop_kafka_latency", extra=dict(FAST, kas_fleet_plan_extra=5))
    no_traceback(run)
    assert run.rc == 2, run.output[-3000:]
    assert run.report["failure"]["task"].startswith("Make the plan")
    assert run.report["plan"]["steps"] == ["escalate_control_plane"]
    assert run.report["plan"]["escalations"][0]["reason"].startswith("the run failed at 'Make the plan")
    [body] = pagerduty(fleet_lab)
    assert "control_plane" in body["dedup_key"]
    assert "ignored=1" in run.output and '"pages: control_plane: control_plane"' in run.output


@pytest.mark.parametrize("playbook_strategy", STRATEGIES)
def test_check_mode_sends_nothing_and_says_so(fleet_lab, run_playbook):
    run = run_playbook(fleet_lab, "sop_kafka_latency", "--check")
    assert run.rc == 0, run.output[-3000:]
    assert fleet_lab.sink_attempts() == []
    assert run.report["escalations"][0]["reason"] == "check_mode"
    assert '"pages: data_plane: would be sent (check mode)"' in run.output
