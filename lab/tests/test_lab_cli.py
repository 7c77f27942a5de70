"""The whole lab through its CLI: up, every shipped scenario answering the runbook's own SQL (verbatim, psql as
the read-only runbook login), status, and down leaving no process behind."""
import collections
import os
import subprocess
import sys

import pytest

from fleet_lab import scenario as scenarios
from fleet_lab.lab import Lab
from fleet_lab.state import alive

CLUSTERS_SQL = ("select status,  to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters "
                "group by status, to_char(now() - updated_at,'HH24:MI');")
KAFKAS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI'), count(1) from kafka_requests "
              "group by status, to_char(now() - updated_at,'HH24:MI');")


def cli(state_dir, *args):
    return subprocess.run([sys.executable, "-m", "fleet_lab", "--state-dir", state_dir] + list(args),
                          capture_output=True, text=True, timeout=120, check=False)


def psql(lab, sql):
    db = lab.info["db"]
    env = dict(os.environ, PGPASSWORD=db["runbook"]["password"])
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "|", "-h", db["host"], "-p", str(db["port"]),
                          "-U", db["runbook"]["user"], "-d", db["dbname"], "-c", sql],
                         capture_output=True, text=True, env=env, timeout=30, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def expected_counts(loaded, table):
    """Rows per status the scenario seeds: its own rows (not soft-deleted ones: the runbook query counts those too)."""
    counts = collections.Counter()
    for row in loaded["database"][table]:
        counts[row["status"]] += row["count"]
    counts["ready"] += loaded["volume"]["clusters" if table == "clusters" else "kafka_requests"]
    return counts


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp("cli-lab"))
    result = cli(state_dir, "up", "--scenario", "healthy")
    assert result.returncode == 0, result.stderr
    assert "fleet-lab: up in" in result.stdout
    yield Lab(state_dir)
    cli(state_dir, "down")


@pytest.mark.parametrize("name", scenarios.available())
def test_runbook_sql_returns_each_scenarios_rows(lab, name):
    result = cli(lab.state_dir, "scenario", name)
    assert result.returncode == 0, result.stderr
    loaded = scenarios.load(name)
    for table, sql in (("clusters", CLUSTERS_SQL), ("kafka_requests", KAFKAS_SQL)):
        got = collections.Counter()
        for status, idle, count in psql(lab, sql):
            assert len(idle) == 5 and idle[2] == ":"
            got[status] += int(count)
        assert got == expected_counts(loaded, table), (name, table)
    # Idle times: a seeded row idle N minutes shows N (or N+1 when a minute turns) in the runbook's HH24:MI, which
    # starts again from 00:00 every day (an interval's hours of the day: a row idle 3 days shows its remainder).
    for row in loaded["database"]["clusters"]:
        idles = [int(idle[:2]) * 60 + int(idle[3:]) for status, idle, _count in psql(lab, CLUSTERS_SQL)
                 if status == row["status"]]
        expected = row["idle_minutes"] % 1440
        assert any(expected <= m <= expected + 1 for m in idles), (name, row, idles)


def test_status_then_down_leaves_nothing(tmp_path):
    state_dir = str(tmp_path / "lab")
    assert cli(state_dir, "up", "--scenario", "osd_no_leader").returncode == 0
    status = cli(state_dir, "status")
    assert status.returncode == 0, status.stdout
    pids = dict((name, pid) for name, pid in Lab(state_dir).info["started"].items())
    assert set(pids) == {"postgres", "prometheus", "daemon"}
    assert all(alive(pid) for pid in pids.values())
    down = cli(state_dir, "down")
    assert down.returncode == 0, down.stderr
    assert not [name for name, pid in pids.items() if alive(pid)]
    assert cli(state_dir, "status").returncode == 3


def test_unknown_scenario_is_refused_with_the_list(tmp_path):
    result = cli(str(tmp_path / "lab"), "up", "--scenario", "no_such_incident")
    assert result.returncode == 2
    assert "no scenario 'no_such_incident'" in result.stderr and "osd_no_leader" in result.stderr


def kubectl(lab, *args, check=True):
    env = dict(os.environ, KUBECONFIG=lab.kubeconfig)
    return subprocess.run(["kubectl", "-n", lab.namespace] + list(args), capture_output=True, text=True, env=env,
                          timeout=60, check=check).stdout


def test_restart_makes_logs_and_leases_agree_and_scale_to_zero_changes_nothing(lab):
    """After a rollout restart that clears the scenario, the cluster lease names the worker that the new pods'
    logs say leads ClusterManager (not an unrelated id), and the stuck clusters moved on; scaling to zero
    afterwards leaves the database as it was."""
    assert cli(lab.state_dir, "scenario", "osd_cluster_accepted_stuck").returncode == 0
    assert [r for r in psql(lab, "select status, count(1) from clusters group by 1") if r[0] == "cluster_accepted"]
    kubectl(lab, "rollout", "restart", "deployment/kas-fleet-manager")
    kubectl(lab, "rollout", "status", "deployment/kas-fleet-manager", "--timeout=60s")
    leader_ids = set()
    for pod in kubectl(lab, "get", "pods", "-o", "name").split():
        # an old pod still terminating may refuse its logs; the new ones are what counts
        for line in kubectl(lab, "logs", pod, "-c", "service", check=False).splitlines():
            if "Running as the leader and starting worker" in line and "ClusterManager " in line:
                leader_ids.add(line.rsplit("[", 1)[1].split("]", 1)[0])
    (lease,) = psql(lab, "select leader from leader_leases where lease_type = 'cluster' and deleted_at is null "
                         "and expires > now()")
    assert lease[0] in leader_ids, (lease, leader_ids)
    assert not [r for r in psql(lab, "select status from clusters") if r[0] == "cluster_accepted"]

    before = psql(lab, "select lease_type, leader, status from leader_leases, (select string_agg(status, ',' "
                       "order by id) status from clusters) c order by 1")
    kubectl(lab, "scale", "deployment/kas-fleet-manager", "--replicas=0")
    kubectl(lab, "rollout", "status", "deployment/kas-fleet-manager", "--timeout=60s")
    assert psql(lab, "select lease_type, leader, status from leader_leases, (select string_agg(status, ',' "
                     "order by id) status from clusters) c order by 1") == before
