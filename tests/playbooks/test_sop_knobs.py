"""The rule knobs mean what they say: each changes what the runbook decides on the same incident."""
import pytest

pytestmark = pytest.mark.lab_scenario("several_causes")


@pytest.fixture(autouse=True)
def _fresh(fleet_lab):
    fleet_lab.switch("several_causes")
    fleet_lab.sink_clear()


def steps(run):
    assert run.rc == 0, run.output[-3000:]
    return run.report["plan"]["steps"]


def test_stuck_idle_minutes_moves_what_counts_as_stuck(fleet_lab, run_playbook):
    # clusters idle 46 and 50 min: past the runbook's 45, not past 65
    assert steps(run_playbook(fleet_lab, "sop_osd_provisioning_latency")) == ["restart_pods", "escalate_ocm"]
    raised = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra={"kas_fleet_stuck_idle_minutes": 65})
    assert steps(raised) == ["restart_pods"]
    assert raised.report["evidence"]["clusters"]["thresholds"]["cluster_provisioning"] == 65


def test_accepted_idle_minutes_moves_the_restart_rule(fleet_lab, run_playbook):
    # a cluster in cluster_accepted for 4 min: past the runbook's 3, not past 5
    run = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra={"kas_fleet_accepted_idle_minutes": 5})
    assert steps(run) == ["escalate_ocm"]
    assert run.report["signs"]["clusters_accepted_idle"] == 0


def test_failed_window_minutes_decides_which_failed_rows_are_an_incident(fleet_lab, run_playbook):
    fleet_lab.switch("healthy_with_old_failed_rows")
    assert steps(run_playbook(fleet_lab, "sop_kafka_provisioning_correctness")) == []
    wide = run_playbook(fleet_lab, "sop_kafka_provisioning_correctness",
                        extra={"kas_fleet_failed_window_minutes": 10000})
    assert steps(wide) == ["escalate_control_plane"]
    assert "kafkas failed recently: 2" in wide.report["plan"]["escalations"][0]["reason"]
