"""The event source's alert -> runbook section mapping, on upstream's alert names."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "alertmanager_webhook", os.path.join(ROOT, "extensions", "eda", "plugins", "event_source", "alertmanager_webhook.py"))
source = importlib.util.module_from_spec(spec)
spec.loader.exec_module(source)
ROUTES = source.load_routes(source.DEFAULT_ROUTES)


@pytest.mark.parametrize("alertname,section", [
    ("KasFleetManagerDown", "fleet_manager_down"),
    ("KasFleetManagerAPI30mto6hErrorBudgetBurn", "availability"),
    ("KasFleetManagerAPI6hto3dErrorBudgetBurn", "availability"),
    ("KasFleetManagerAPILatency30mto6hP99BudgetBurn", "latency"),
    ("KasFleetManagerAPILatency2hto1dor6hto3dP90BudgetBurn", "latency"),
    ("KasFleetManagerKafkaOperationsLatency30mto6hP90BudgetBurn", "kafka_provisioning_latency"),
    ("KasFleetManagerKafkaCreationSuccess2hto1dBudgetBurn", "kafka_provisioning_correctness"),
    ("KasFleetManagerKafkaDeleteSuccess6hto3dBudgetBurn", "kafka_deletion_correctness"),
])
def test_upstream_alerts_map_to_their_section(alertname, section):
    route = source.route_for(ROUTES, {"status": "firing", "labels": {
        "alertname": alertname, "namespace": "kas-fleet-manager-production"}})
    assert route["section"] == section
    assert route["known"] is True
    assert route["playbook"].startswith("kas.fleet_manager.sop_")
    assert route["environment"] == "production"


@pytest.mark.parametrize("labels", [
    {"alertname": "KasFleetManagerObservatoriumNon200Status", "namespace": "kas-fleet-manager-stage"},
    {"alertname": "KasFleetManagerAPIAvailability30mto6hBudgetBurn", "namespace": "kas-fleet-manager-stage"},
    {"namespace": "kas-fleet-manager-stage"},  # no alertname at all
], ids=["new", "renamed", "nameless"])
def test_unknown_alert_maps_to_triage_of_its_environment(labels):
    """A new or renamed upstream alert: triage for its environment, never a null route (the rulebook would fail)."""
    route = source.route_for(ROUTES, {"status": "firing", "labels": labels})
    assert route == {"playbook": "kas.fleet_manager.sop_triage", "section": "triage", "known": False,
                     "alertname": labels.get("alertname", ""), "namespace": "kas-fleet-manager-stage",
                     "environment": "stage", "status": "firing"}


def test_routes_file_names_the_unknown_route_and_code_falls_back_to_triage(tmp_path):
    assert ROUTES[-1]["known"] is False and ROUTES[-1]["playbook"] == "kas.fleet_manager.sop_triage"
    assert all(r["known"] for r in ROUTES[:-1])
    path = tmp_path / "routes.yml"
    path.write_text("routes:\n  - {alertname: A, section: availability, playbook: kas.fleet_manager.sop_availability}\n")
    routes = source.load_routes(str(path))
    assert source.route_for(routes, {"labels": {"alertname": "B"}})["playbook"] == "kas.fleet_manager.sop_triage"
    assert source.route_for(routes, {"labels": {"alertname": "A"}})["known"] is True
