"""The optional strategy kas.fleet_manager.linear_inline (plugins/strategy/linear_inline.py): where a task runs
(ansible-playbook's own process only when one task at a time can run, on the local connection, undelegated), that
every shipped scenario decides, plans and pages as with Ansible's linear strategy, and that a fleet of two
environments keeps its parallelism. The playbooks' failure paths run under both strategies in test_delivery.py and
test_sop_remediation.py (playbook_strategy)."""
import json
import os
import re
import subprocess

import pytest
import yaml

from fleet_lab import scenario as scenarios

from conftest import ROOT, SECTION_PLAYBOOK
from test_sop_decisions import check_decided

INLINE = "kas.fleet_manager.linear_inline"
WHERE = os.path.join(ROOT, "tests", "playbooks", "files", "where_tasks_run.yml")
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def where_tasks_run(tmp_path, hosts, strategy, *args):
    """Run files/where_tasks_run.yml on these hosts (name -> host vars); (ansible-playbook's pid, rc, output, the
    pid each host's "ran in" tasks printed, in order)."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": LOCAL}}))
    env = dict(os.environ, ANSIBLE_FILTER_PLUGINS=os.path.join(os.path.dirname(WHERE), "plugins", "filter"))
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    proc = subprocess.Popen(["ansible-playbook", "-i", str(inventory), WHERE] + list(args), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.communicate(timeout=300)[0]
    ran = {}
    for host, pid in re.findall(r'ok: \[(\w+)[^\]]*\] => \{\n\s+"msg": "ran in (\d+)"', output):
        ran.setdefault(host, []).append(int(pid))
    return proc.pid, proc.returncode, output, ran


def test_one_environment_runs_its_tasks_in_ansible_playbook_itself(tmp_path):
    pid, rc, output, ran = where_tasks_run(tmp_path, {"a": None}, INLINE)
    assert rc == 0, output[-3000:]
    # The first, third and last tasks inline; the delegated one in a worker of its own.
    first, delegated, third, last = ran["a"]
    assert first == third == last == pid
    assert delegated != pid
    # A task that ends its process (sys.exit in a filter) fails as a task, and the play's rescue runs.
    assert '"rescued: The task ended its process: SystemExit: 3"' in output
    # A task's own timeout works as in a worker.
    assert '"rescued: Task failed: Timed out after 1 second(s)."' in output
    assert "rescued=2" in output
    # Ansible says a strategy plugin outside ansible.builtin is deprecated: the README says so too.
    assert "strategy plugins not included in ansible.builtin are deprecated" in output


def test_linear_forks_every_task(tmp_path):
    pid, rc, output, ran = where_tasks_run(tmp_path, {"a": None}, None)
    # Ansible's own strategy, for comparison: each task in a worker of its own, and a task that ends its process
    # ends the run ("A worker was found in a dead state"), which is why the play stops before its last task.
    assert len(set(ran["a"])) == 3 and pid not in ran["a"], output[-3000:]
    assert "A worker was found in a dead state" in output and rc != 0


def test_several_environments_fork_and_run_at_once(tmp_path):
    pid, rc, output, ran = where_tasks_run(tmp_path, {"a": None, "b": None}, INLINE, "--skip-tags",
                                           "ends_the_process")
    assert rc == 0, output[-3000:]
    pids = ran["a"] + ran["b"]
    assert len(pids) == 8 and pid not in pids and len(set(pids)) == 8


def test_forks_1_runs_several_environments_inline(tmp_path):
    pid, rc, output, ran = where_tasks_run(tmp_path, {"a": None, "b": None}, INLINE, "--forks", "1")
    assert rc == 0, output[-3000:]
    for host in ("a", "b"):
        assert [ran[host][0], ran[host][2], ran[host][3]] == [pid, pid, pid] and ran[host][1] != pid


def test_another_connection_forks(tmp_path):
    # debug and the pipe lookup never use the connection: the ssh host runs them without an ssh server.
    pid, rc, output, ran = where_tasks_run(tmp_path, {"a": {"ansible_connection": "ssh"}}, INLINE, "--skip-tags",
                                           "ends_the_process,runs_a_command")
    assert rc == 0, output[-3000:]
    assert pid not in ran["a"] and len(set(ran["a"])) == 4


@pytest.mark.parametrize("playbook_strategy", [INLINE])
@pytest.mark.parametrize("name", list(scenarios.available()))
def test_every_scenario_decides_plans_and_pages_as_with_linear(fleet_lab, run_playbook, name):
    # test_sop_decisions.py runs the same scenarios with Ansible's linear strategy and the same check.
    loaded = fleet_lab.switch(name)
    fleet_lab.sink_clear()
    check_decided(fleet_lab, run_playbook(fleet_lab, SECTION_PLAYBOOK[loaded["section"]]), loaded["expected"])


@pytest.mark.parametrize("playbook_strategy", [INLINE])
@pytest.mark.parametrize("forks", ["5", "1"])
def test_a_fleet_of_two_decides_each_environment(lab_factory, run_playbook, forks):
    # Two environments: with forks their tasks run at once in workers (the fan-out keeps its parallelism), with
    # --forks 1 one after the other in ansible-playbook itself; each gets its own report and decision either way.
    lab = lab_factory("kafka_provisioning_stuck_strimzi", environments=2)
    run = run_playbook(lab, "sop_kafka_latency", "--forks", forks)
    assert run.rc == 0, run.output[-3000:]
    decided = {}
    for path in run.report_files:
        report = json.load(open(path))
        decided[report["environment"]] = report["decision"]["decision"]
    assert len(decided) == 2 and set(decided.values()) == {"escalate_data_plane"}, decided
