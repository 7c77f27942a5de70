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
    assert route["playbook"].startswith("kas.fleet_manager.sop_")
    assert route["environment"] == "production"


def test_unknown_alert_maps_to_nothing():
    assert source.route_for(ROUTES, {"labels": {"alertname": "KasFleetManagerObservatoriumNon200Status"}}) is None
