"""Run where SREs run it: through ansible-runner with a private data dir, as AWX does, and from an Alertmanager
alert through a real ansible-rulebook with the collection's event source and rulebook."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

from fleet_lab.state import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
    secrets = [fleet_lab.info["sentry"]["token"], fleet_lab.info["pagerduty_routing_key"],
               fleet_lab.info["db"]["app"]["password"], fleet_lab.info["daemon"]["kube"]["tokens"]["runbook"]]
    for dirpath, _dirs, files in os.walk(pdd / "artifacts"):
        for name in files:
            text = open(os.path.join(dirpath, name), errors="replace").read()
            for secret in secrets:
                assert secret not in text, "secret found in %s" % os.path.join(dirpath, name)


def test_alert_runs_the_section_playbook_through_ansible_rulebook(fleet_lab, tmp_path):
    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    port = free_port()
    rulebook = tmp_path / "rulebook.yml"
    text = open(os.path.join(ROOT, "extensions", "eda", "rulebooks", "fleet_alerts.yml")).read()
    rulebook.write_text(text)
    env = dict(os.environ, KAS_FLEET_REPORT_DIR=str(tmp_path / "reports"))
    log = open(tmp_path / "rulebook.log", "w")
    proc = subprocess.Popen(["ansible-rulebook", "--rulebook", str(rulebook), "-i", fleet_lab.inventory,
                             "--vars", str(tmp_path / "vars.yml"), "--verbose"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(tmp_path))
    (tmp_path / "vars.yml").write_text("kas_fleet_eda_host: 127.0.0.1\nkas_fleet_eda_port: %d\n" % port)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1)
                break
            except OSError:
                assert proc.poll() is None, open(tmp_path / "rulebook.log").read()
                time.sleep(0.5)
        fleet_lab.sink_clear()
        alert = {"receiver": "kas-sre", "status": "firing", "alerts": [{
            "status": "firing", "labels": {"alertname": "KasFleetManagerKafkaOperationsLatency30mto6hP90BudgetBurn",
                                           "namespace": fleet_lab.namespace, "severity": "critical"},
            "annotations": {}, "startsAt": "2026-11-25T03:00:00Z"}]}
        for _attempt in range(2):  # a flapping alert: throttled to one run
            req = urllib.request.Request("http://127.0.0.1:%d/alerts" % port, data=json.dumps(alert).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
            assert json.load(urllib.request.urlopen(req, timeout=5)) == {"queued": 1}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not fleet_lab.sink_received():
            time.sleep(1)
        time.sleep(3)
        received = fleet_lab.sink_received()
        assert [m["kind"] for m in received] == ["slack"], open(tmp_path / "rulebook.log").read()[-4000:]
        reports = [r for r in os.listdir(tmp_path / "reports") if r.endswith(".json")]
        assert len(reports) == 1
        report = json.load(open(tmp_path / "reports" / reports[0]))
        assert report["section"] == "kafka_provisioning_latency"
        assert report["alert"] == alert["alerts"][0]["labels"]["alertname"]
        assert report["decision"]["decision"] == "escalate_data_plane"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
