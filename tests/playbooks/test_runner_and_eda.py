"""Run where SREs run it: by hand at -vvv, through ansible-runner with a private data dir, as AWX does, and from an
Alertmanager alert through a real ansible-rulebook with the collection's event source and rulebook."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from fleet_lab.state import free_port

from conftest import STRATEGIES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lab_secrets(lab):
    """The lab's secrets a run uses: the Sentry token, the PagerDuty routing key, the database password (read from
    the Kubernetes secret) and the Kubernetes token."""
    return [lab.info["sentry"]["token"], lab.info["pagerduty_routing_key"], lab.info["db"]["app"]["password"],
            lab.info["daemon"]["kube"]["tokens"]["runbook"]]


@pytest.mark.parametrize("playbook_strategy", STRATEGIES)
def test_no_secret_in_the_console_at_vvv(fleet_lab, run_playbook):
    # With linear_inline the tasks' display goes to the console from ansible-playbook itself, not through a worker.
    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    run = run_playbook(fleet_lab, "sop_kafka_latency", "-vvv")
    assert run.rc == 0, run.output[-3000:]
    assert "escalate_data_plane" in run.output and "module_args" in run.output  # it ran and said everything
    for secret in lab_secrets(fleet_lab):
        assert secret not in run.output


def test_ansible_runner_artifacts_carry_the_decision_and_no_secret(fleet_lab, tmp_path):
    import ansible_runner

    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    pdd = tmp_path / "pdd"
    (pdd / "inventory").mkdir(parents=True)
    (pdd / "env").mkdir()
    shutil.copy(fleet_lab.inventory, pdd / "inventory" / "hosts.yml")
    report_dir = tmp_path / "reports"
    (pdd / "env" / "extravars").write_text(json.dumps({"kas_fleet_report_dir": str(report_dir)}))
    # As in AWX: collections come from the project, secrets from the inventory (credentials), never the environment.
    (pdd / "env" / "envvars").write_text(json.dumps({"ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"]}))
    result = ansible_runner.run(private_data_dir=str(pdd), playbook="kas.fleet_manager.sop_kafka_latency",
                                quiet=True, ident="sop")
    assert result.status == "successful", result.stdout.read()[-3000:]
    assert result.rc == 0
    # AWX reads set_stats from the playbook_on_stats event's artifact_data, as read here from the job_events files.
    events = [json.loads((pdd / "artifacts" / "sop" / "job_events" / name).read_text())
              for name in os.listdir(pdd / "artifacts" / "sop" / "job_events")]
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1
    artifact_stats = stats[0]["event_data"]["artifact_data"]
    assert artifact_stats["kas_fleet_decision"] == "escalate_data_plane"
    assert os.path.isfile(artifact_stats["kas_fleet_report"])
    secrets = lab_secrets(fleet_lab)
    for dirpath, _dirs, files in os.walk(pdd / "artifacts"):
        for name in files:
            text = open(os.path.join(dirpath, name), errors="replace").read()
            for secret in secrets:
                assert secret not in text, "secret found in %s" % os.path.join(dirpath, name)


def post_alerts(port, *alerts):
    """POST an Alertmanager webhook payload with these alerts to the rulebook's event source."""
    payload = {"receiver": "kas-sre", "status": alerts[0]["status"], "alerts": list(alerts)}
    req = urllib.request.Request("http://127.0.0.1:%d/alerts" % port, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    assert json.load(urllib.request.urlopen(req, timeout=5)) == {"queued": len(alerts)}


def json_reports(directory):
    """The JSON reports written so far, oldest first."""
    if not os.path.isdir(directory):
        return []
    paths = sorted((os.path.join(directory, r) for r in os.listdir(directory) if r.endswith(".json")),
                   key=os.path.getmtime)
    return [json.load(open(path)) for path in paths]


def wait_until(predicate, proc, log_path, limit=300):
    """Poll until predicate() holds or the rulebook exits; a generous limit only ends a hung run, it is no check."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not predicate():
        assert proc.poll() is None, open(log_path).read()[-4000:]
        time.sleep(1)


def test_alerts_run_their_section_or_triage_through_ansible_rulebook(fleet_lab, tmp_path):
    """A known alert runs its section (once, however often it fires); an alert no route names (a new or renamed
    upstream alert) runs triage for its environment with its name recorded, and the rulebook's output says so."""
    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    port = free_port()
    rulebook = tmp_path / "rulebook.yml"
    text = open(os.path.join(ROOT, "extensions", "eda", "rulebooks", "fleet_alerts.yml")).read()
    rulebook.write_text(text)
    (tmp_path / "vars.yml").write_text("kas_fleet_eda_host: 127.0.0.1\nkas_fleet_eda_port: %d\n" % port)
    reports = str(tmp_path / "reports")
    env = dict(os.environ, KAS_FLEET_REPORT_DIR=reports)
    log_path = str(tmp_path / "rulebook.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(["ansible-rulebook", "--rulebook", str(rulebook), "-i", fleet_lab.inventory,
                             "--vars", str(tmp_path / "vars.yml"), "--verbose"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(tmp_path))
    try:
        def healthy():
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1)
                return True
            except OSError:
                return False
        wait_until(healthy, proc, log_path, limit=120)
        fleet_lab.sink_clear()
        known = {"status": "firing", "labels": {"alertname": "KasFleetManagerKafkaOperationsLatency30mto6hP90BudgetBurn",
                                                "namespace": fleet_lab.namespace, "severity": "critical"},
                 "annotations": {}, "startsAt": "2026-11-25T03:00:00Z"}
        for _attempt in range(2):  # a flapping alert: throttled to one run
            post_alerts(port, known)
        wait_until(lambda: fleet_lab.sink_received() and json_reports(reports), proc, log_path)
        time.sleep(3)
        received = fleet_lab.sink_received()
        assert [m["kind"] for m in received] == ["slack"], open(log_path).read()[-4000:]
        (report,) = json_reports(reports)
        assert report["section"] == "kafka_provisioning_latency"
        assert report["alert"] == known["labels"]["alertname"]
        assert report["decision"]["decision"] == "escalate_data_plane"

        # Not in alert_routes.yml: upstream renamed or added it. Triage of the alert's environment (stage, from
        # the namespace), not a dropped event.
        unknown = {"status": "firing", "labels": {"alertname": "KasFleetManagerObservatoriumNon200Status",
                                                  "namespace": fleet_lab.namespace, "severity": "warning"},
                   "annotations": {}, "startsAt": "2026-11-25T03:05:00Z"}
        post_alerts(port, unknown)
        wait_until(lambda: len(json_reports(reports)) >= 2, proc, log_path)
        output = open(log_path).read()
        assert len(json_reports(reports)) == 2, output[-4000:]
        _known, triage = json_reports(reports)
        assert triage["section"] == "triage", output[-4000:]
        assert triage["alert"] == "KasFleetManagerObservatoriumNon200Status"
        assert triage["environment"] == "stage" and triage["namespace"] == fleet_lab.namespace
        # The lab's incident is found by triage too: the section the known alert ran is among those it names.
        assert "kafka_provisioning_latency" in triage["matched_sections"], triage["matched_sections"]
        assert ("No runbook section for alert KasFleetManagerObservatoriumNon200Status: running "
                "kas.fleet_manager.sop_triage for stage") in output
        assert "Error calling action" not in output and "StrictUndefined" not in output
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
