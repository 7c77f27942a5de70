"""apply mode against the lab: restarts really replace the pods and the re-check says whether that cleared the
symptom; the circuit breaker stops a restart storm; scale-ups never go down or above the cap; check mode changes
nothing and sends nothing; a healthy rerun resolves the open incident."""
import pytest

from conftest import STRATEGIES


APPLY = {"kas_fleet_remediation": "apply"}
ADMIN = {}


@pytest.fixture(autouse=True)
def _admin_kubeconfig(fleet_lab):
    ADMIN["kubeconfig"] = fleet_lab.kubeconfig


def deployment(lab):
    from kubernetes import client, config
    api = client.AppsV1Api(config.new_client_from_config(lab.kubeconfig))
    return api.read_namespaced_deployment("kas-fleet-manager", lab.namespace)


def admin_apps(lab=None):
    from kubernetes import client, config
    return client.AppsV1Api(config.new_client_from_config(ADMIN["kubeconfig"], context="lab-admin"))


def pods_of(lab):
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(lab.kubeconfig))
    return sorted(p.metadata.name for p in api.list_namespaced_pod(lab.namespace).items)


@pytest.mark.parametrize("playbook_strategy", STRATEGIES)
def test_restart_replaces_pods_and_clears_no_leader(fleet_lab, run_playbook):
    fleet_lab.switch("osd_no_leader")
    fleet_lab.sink_clear()
    before = pods_of(fleet_lab)
    run = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra=APPLY)
    assert run.rc == 0, run.output[-3000:]
    assert run.decision == "restart_pods"
    restart = [a for a in run.report["actions"] if a["action"] == "restart"][0]
    assert restart["mode"] == "applied" and restart["done"] is True
    assert restart["cleared"] is True, run.report["recheck"]
    after = pods_of(fleet_lab)
    assert set(after).isdisjoint(before)
    assert run.report["recheck"]["cleared"] is True and run.report["recheck"]["plan"]["steps"] == []
    assert fleet_lab.sink_received() == []
    # Within the cooldown a second run does not restart again.
    second = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra=APPLY)
    assert pods_of(fleet_lab) == after
    assert second.decision == "healthy"


def test_check_mode_changes_and_sends_nothing(fleet_lab, run_playbook):
    fleet_lab.switch("osd_no_leader")
    fleet_lab.sink_clear()
    before = pods_of(fleet_lab)
    annotations = deployment(fleet_lab).metadata.annotations
    # run as a file of the repository, as `ansible-playbook playbooks/<name>.yml` (the other tests use the FQCN)
    run = run_playbook(fleet_lab, "playbooks/sop_osd_provisioning_latency.yml", "--check", "--diff", extra=APPLY)
    assert run.rc == 0, run.output[-3000:]
    assert run.decision == "restart_pods"
    assert run.report["remediation_mode"] == "check"
    assert pods_of(fleet_lab) == before
    assert deployment(fleet_lab).metadata.annotations == annotations
    assert fleet_lab.sink_received() == []
    assert "restartedAt" in run.output  # --diff shows what the restart would change


def test_circuit_breaker_stops_restarts_that_do_not_help(fleet_lab, run_playbook):
    fleet_lab.switch("osd_no_leader_persistent")
    fleet_lab.sink_clear()
    extra = dict(APPLY, kas_fleet_restart_cooldown_minutes=0)
    first = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra=extra)
    assert first.rc == 0, first.output[-3000:]
    assert first.report["actions"][0]["done"] is True and first.report["actions"][0]["cleared"] is False
    # The plan: the restart (its first step), and Control Plane paged because it did not help.
    assert first.report["plan"]["steps"] == ["restart_pods", "escalate_control_plane"]
    assert first.report["plan"]["escalations"][0]["rule_id"] == "restart_did_not_help"
    second = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra=extra)
    assert second.report["actions"][0]["done"] is True
    pods = pods_of(fleet_lab)
    third = run_playbook(fleet_lab, "sop_osd_provisioning_latency", extra=extra)
    assert third.report["actions"][0]["done"] is False
    assert third.report["actions"][0]["skipped_reason"] == "circuit_open"
    assert third.report["plan"]["steps"] == ["restart_pods", "escalate_control_plane"]
    assert "circuit breaker" in third.report["plan"]["escalations"][0]["reason"]
    assert pods_of(fleet_lab) == pods
    # One incident for the environment/team/rule, however many runs.
    assert len([m for m in fleet_lab.sink_received() if m["kind"] == "pagerduty"]) == 1


@pytest.mark.parametrize("name,playbook,before,after", [
    ("replicas_below_default", "sop_availability", 1, 3),
    ("fleet_manager_scaled_to_zero", "sop_fleet_manager_down", 0, 3),
    ("high_latency_cpu_pressure", "sop_latency", 3, 4),
])
def test_scale_up_never_down(fleet_lab, run_playbook, name, playbook, before, after):
    fleet_lab.switch(name)
    assert deployment(fleet_lab).spec.replicas == before
    run = run_playbook(fleet_lab, playbook, extra=APPLY)
    assert run.rc == 0, run.output[-3000:]
    scale = [a for a in run.report["actions"] if a["action"] == "scale"][0]
    assert scale["done"] is True and scale["replicas_after"] == after
    dep = deployment(fleet_lab)
    assert dep.spec.replicas == after and dep.status.ready_replicas == after


def test_scale_up_stops_at_the_cap(fleet_lab, run_playbook):
    fleet_lab.switch("high_latency_cpu_pressure")
    run = run_playbook(fleet_lab, "sop_latency", extra=dict(APPLY, kas_fleet_max_replicas=3))
    assert run.rc == 0, run.output[-3000:]
    scale = [a for a in run.report["actions"] if a["action"] == "scale"][0]
    assert scale["done"] is False
    assert deployment(fleet_lab).spec.replicas == 3


def test_healthy_rerun_resolves_the_open_incident(fleet_lab, run_playbook):
    fleet_lab.switch("osd_provisioning_stuck_ocm")
    fleet_lab.sink_clear()
    run = run_playbook(fleet_lab, "sop_osd_provisioning_latency")
    assert run.decision == "escalate_ocm"
    key = run.report["escalations"][0]["dedup_key"]
    assert key in fleet_lab.sink_incidents()
    # The scenario switch stands for the fix; it resets the deployment, so carry the collection's state
    # annotations (the open incident) over, as the real deployment would keep them.
    annotations = dict((k, v) for k, v in deployment(fleet_lab).metadata.annotations.items()
                       if k.startswith("kas.fleet_manager/"))
    fleet_lab.switch("healthy")
    admin_apps().patch_namespaced_deployment("kas-fleet-manager", fleet_lab.namespace,
                                             {"metadata": {"annotations": annotations}})
    healthy = run_playbook(fleet_lab, "sop_osd_provisioning_latency")
    assert healthy.rc == 0, healthy.output[-3000:]
    assert healthy.decision == "healthy"
    assert key not in fleet_lab.sink_incidents()
    assert [m["body"]["event_action"] for m in fleet_lab.sink_received() if m["kind"] == "pagerduty"] == [
        "trigger", "resolve"]
