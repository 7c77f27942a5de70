"""The pods' logs name the scenario's own database rows: the ids in the database (seeded by the Seeder) are the
ids the service logs of the Kubernetes API mention, in the log of the pod that leads the row's worker, and the
error lines per category stay what the scenario says, as the collection's classifier
(plugins/module_utils/classify.py) counts them."""
import collections
import datetime
import importlib.util
import os
import re
import shutil
import tempfile

import pytest

from fleet_lab import postgres, scenario as scenario_mod
from fleet_lab.kube.testing import Harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP_ROOT = os.path.join(ROOT, ".work", "tmp")
# The shipped scenarios with rows of their own (database.clusters / database.kafka_requests).
WITH_ROWS = ("kafka_provisioning_stuck_strimzi", "kafka_failed", "osd_failed", "osd_provisioning_stuck_ocm",
             "osd_cluster_accepted_stuck", "kafka_deletion_stuck", "unclear")
XID = re.compile(r"\b[0-9a-v]{20}\b")


def _classify_module():
    """The collection's classifier, loaded from its file (the lab does not import the collection)."""
    path = os.path.join(ROOT, "plugins", "module_utils", "classify.py")
    spec = importlib.util.spec_from_file_location("kas_classify", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


classify = _classify_module()


@pytest.fixture(scope="module")
def world():
    """A database server and a Kubernetes API, both loaded with the same scenario by ``load(name)``."""
    os.makedirs(TMP_ROOT, exist_ok=True)
    state = tempfile.mkdtemp(prefix="rowlog-", dir=TMP_ROOT)
    pg = postgres.Postgres(state)
    pg.start()
    os.makedirs(os.path.join(state, "kube"))
    harness = Harness(os.path.join(state, "kube"), "healthy")

    def load(name):
        loaded = harness.load(name)
        pg.seed(loaded, harness.now)
        return loaded

    try:
        yield pg, harness, load
    finally:
        harness.stop()
        postgres.stop(state)
        shutil.rmtree(state, ignore_errors=True)


def _service_log(harness, loaded, pod):
    status, _headers, text = harness.request("/api/v1/namespaces/%s/pods/%s/log?container=service"
                                             % (loaded["namespace"], pod["name"]))
    assert status == 200, text
    return text


def _db_ids(pg, table):
    conn = pg.connect("runbook")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, status FROM %s WHERE deleted_at IS NULL" % table)
            return dict(cur.fetchall())
    finally:
        conn.close()


def test_ids_are_decided_when_the_scenario_loads():
    first = scenario_mod.load("kafka_provisioning_stuck_strimzi")
    again = scenario_mod.load("kafka_provisioning_stuck_strimzi")
    rows = first["database"]["kafka_requests"]
    assert [r["ids"] for r in rows] == [r["ids"] for r in again["database"]["kafka_requests"]]
    assert [len(r["ids"]) for r in rows] == [r["count"] for r in rows] == [3, 1, 2]
    ids = [i for r in rows for i in r["ids"]]
    assert len(set(ids)) == len(ids) and all(XID.fullmatch(i) for i in ids)
    # every environment of a multi-environment lab has ids of its own
    envs = scenario_mod.load_environments("kafka_provisioning_stuck_strimzi", environments=3)
    per_env = [set(i for r in e["database"]["kafka_requests"] for i in r["ids"]) for e in envs]
    assert not (per_env[0] & per_env[1]) and not (per_env[1] & per_env[2])
    assert envs[0]["database"]["kafka_requests"][0]["ids"] != ids[:3]


@pytest.mark.parametrize("name", WITH_ROWS)
def test_rows_in_the_database_are_the_rows_the_logs_name(world, name):
    pg, harness, load = world
    loaded = load(name)
    logs = {pod["name"]: _service_log(harness, loaded, pod) for pod in loaded["pods"]}
    error_regex = classify.compile_error_patterns()
    for table, workers in scenario_mod.STATUS_WORKER.items():
        in_db = _db_ids(pg, table)
        for row in loaded["database"][table]:
            for row_id in row["ids"]:
                assert in_db.get(row_id) == row["status"], (name, table, row_id)
                if row["status"] not in workers or row.get("deleted"):
                    continue
                # named in the log of the pod leading the worker of the row's status, and in no other pod's
                leader = next(p for p in loaded["pods"] if any(r["id"] == row_id for r in p["rows"]))
                assert workers[row["status"]] in leader["leads"] or leader is loaded["pods"][0]
                lines = [line for line in logs[leader["name"]].splitlines() if row_id in line]
                assert lines, (name, row_id)
                assert not any(row_id in logs[other] for other in logs if other != leader["name"])
                if row["status"] == "failed":
                    failed = [line for line in lines if " failed" in line and line.startswith("I")]
                    assert failed, (name, row_id, lines)
                    if row.get("failed_reason"):
                        assert any(line.endswith(row["failed_reason"]) for line in failed)
                for line in lines:
                    if classify.is_error_line(line, error_regex):
                        # an error line naming a kafka request is a kafka error, one naming a cluster an OCM one
                        category = classify.classify(classify.message_of(line))
                        assert category == ("kafka" if table == "kafka_requests" else "ocm"), line


@pytest.mark.parametrize("name", WITH_ROWS)
def test_error_lines_per_category_are_the_scenarios(world, name):
    _pg, harness, load = world
    loaded = load(name)
    error_regex = classify.compile_error_patterns()
    for pod in loaded["pods"]:
        if pod["state"] not in ("running", "not_ready"):
            continue
        counts = collections.Counter()
        for line in _service_log(harness, loaded, pod).splitlines():
            if classify.is_error_line(line, error_regex):
                counts[classify.classify(classify.message_of(line))] += 1
        assert counts == collections.Counter({c: n for c, n in pod["errors"].items() if n}), (name, pod["name"])


def test_an_info_line_never_reads_as_an_error():
    from fleet_lab import logformat
    row = {"table": "kafka_requests", "id": "c" * 20, "status": "failed", "worker": "ProvisioningKafkaManager",
           "failed_reason": "Error: panic in the strimzi Exception handler"}
    _source, msg = logformat.row_info(row)
    line = logformat.line(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), msg)
    assert row["id"] in line and not classify.is_error_line(line, classify.compile_error_patterns())
    row["failed_reason"] = "strimzi: Kafka resource not ready"
    assert logformat.row_info(row)[1].endswith(": strimzi: Kafka resource not ready")
