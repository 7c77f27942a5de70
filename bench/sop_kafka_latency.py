"""Benchmark: a full `sop_kafka_latency` run against the lab, against two baselines measured in the same run:

* raw: the same evidence gathered by hand with kubectl + grep + psql + curl (deployment, pods, events, every pod's log
  grepped for leader and error lines, the DB secret, the runbook's two queries, the PromQL queries the playbook ran,
  the Sentry issues), as one bash script;
* plain collections: bench/baseline_collections.yml, a plain playbook gathering that evidence with kubernetes.core
  (k8s_info, k8s_log), community.postgresql (postgresql_query) and ansible.builtin.uri, the two collections taken from
  PyPI's ansible package (benchlib.plain_collections, never Galaxy);

and two floors: ansible-playbook starting an empty play on the same inventory, and running as many no-op tasks
(set_fact of a constant) as the section ran: Ansible's own cost for that many tasks. The section also runs with the
collection's optional strategy kas.fleet_manager.linear_inline (each task in ansible-playbook's own process), which
must decide the same; its goal lines are printed beside the default's.

    make bench
    source scripts/env.sh && python bench/sop_kafka_latency.py [--runs 3] [--scenario NAME]

Each command's wall time and CPU time (user + system of its whole process tree, from os.wait4) are measured, the
kinds interleaved run by run; medians are printed with the goals of the issue: the section run at most 2.0 s CPU, at
most 2x the raw steps' wall time and at most 0.5x the plain collections playbook's. PASS or MISS, never a failure.
"""
import argparse
import glob
import json
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib  # noqa: E402
from benchlib import goal_line, measure, median, spread  # noqa: E402

CLUSTERS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters "
                "group by status, to_char(now() - updated_at,'HH24:MI');")
KAFKAS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI'), count(1) from kafka_requests "
              "group by status, to_char(now() - updated_at,'HH24:MI');")

# What the runbook greps the logs for: leader lines of the workers, and errors.
LOG_PATTERN = "Running as the leader|No longer the leader|Error|Exception"

GOAL_CPU = 2.0          # seconds of CPU for one section run
GOAL_VS_RAW = 2.0       # section wall / raw steps' wall
GOAL_VS_PLAIN = 0.5     # section wall / plain collections playbook's wall
PLAIN_PLAYBOOK = os.path.join(benchlib.ROOT, "bench", "baseline_collections.yml")
INLINE_STRATEGY = "kas.fleet_manager.linear_inline"
INLINE_NAME = "  the same, linear_inline"


def latest_report(directory):
    """The JSON report a section run wrote last in this directory."""
    return json.load(open(sorted(glob.glob(os.path.join(directory, "*.json")), key=os.path.getmtime)[-1]))


def raw_script(lab, queries):
    """The SRE's commands for the same evidence, as one bash script."""
    ns = shlex.quote(lab.namespace)
    info = lab.info
    sentry = "%s/api/0/projects/%s/%s/issues/?statsPeriod=24h&query=is:unresolved" % (
        info["daemon"]["sentry_url"], info["sentry"]["org"], info["sentry"]["project"])
    lines = [
        "set -euo pipefail",
        "source %s" % shlex.quote(os.path.join(lab.state_dir, "env.sh")),
        "kubectl get deployment kas-fleet-manager -n %s -o json > /dev/null" % ns,
        "kubectl get pods -n %s -o json > /dev/null" % ns,
        "kubectl get events -n %s -o json > /dev/null" % ns,
        "for pod in $(kubectl get pods -n %s -o name); do" % ns,
        "  kubectl logs -n %s \"$pod\" -c service | { grep -E '%s' || true; } | sort | uniq -c | wc -l"
        % (ns, LOG_PATTERN),
        "done",
        "kubectl get secret kas-fleet-manager-rds -n %s -o jsonpath='{.data.db\\.password}' | base64 -d > /dev/null"
        % ns,
        "psql -X -q -c %s -c %s > /dev/null" % (shlex.quote(CLUSTERS_SQL), shlex.quote(KAFKAS_SQL)),
    ]
    for query in queries:
        lines.append("curl -sf -G --data-urlencode query=%s %s/api/v1/query > /dev/null" % (
            shlex.quote(query), shlex.quote(info["prometheus"]["url"])))
    lines.append("curl -sf -H %s %s > /dev/null" % (
        shlex.quote("Authorization: Bearer " + info["sentry"]["token"]), shlex.quote(sentry)))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each kind (default 3)")
    parser.add_argument("--scenario", default="kafka_provisioning_stuck_strimzi")
    args = parser.parse_args()

    started = time.monotonic()
    plain_dir = benchlib.plain_collections()
    lab, work = benchlib.lab_up("sop", args.scenario)
    try:
        reports = os.path.join(work, "reports")
        section = ["ansible-playbook", "-i", lab.inventory, "kas.fleet_manager.sop_kafka_latency",
                   "-e", "kas_fleet_report_dir=%s" % reports]
        floor_play = os.path.join(work, "empty.yml")
        with open(floor_play, "w") as handle:
            handle.write("- hosts: fleet_environments\n  gather_facts: false\n  tasks: []\n")
        floor = ["ansible-playbook", "-i", lab.inventory, floor_play]

        # Warm-up run (also gives the PromQL queries the playbook ran, for both baselines to run too, and the number
        # of tasks it ran, for the second floor).
        warm = measure(section)
        tasks = warm.output.count("\nTASK [")
        noop_play = os.path.join(work, "noop.yml")
        with open(noop_play, "w") as handle:
            handle.write("- hosts: fleet_environments\n  gather_facts: false\n  tasks:\n")
            for number in range(tasks):
                handle.write("    - name: Task %d\n      ansible.builtin.set_fact:\n        noop_%d: %d\n"
                             % (number, number, number))
        noop = ["ansible-playbook", "-i", lab.inventory, noop_play]
        report = latest_report(reports)
        queries = [q["query"] for q in report["evidence"].get("metrics", {}).get("queries", [])]
        script = os.path.join(work, "raw.sh")
        with open(script, "w") as handle:
            handle.write(raw_script(lab, queries))
        raw = ["bash", script]
        extra = os.path.join(work, "queries.json")
        with open(extra, "w") as handle:
            json.dump({"bench_promql_queries": queries}, handle)
        plain = ["ansible-playbook", "-i", lab.inventory, PLAIN_PLAYBOOK, "-e", "@" + extra]
        plain_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=plain_dir)
        measure(raw)
        measure(plain, env=plain_env)  # also fills kubernetes.core's discovery cache, as an SRE's would be

        # The same run with the collection's optional strategy (plugins/strategy/linear_inline.py), which must decide
        # the same.
        inline_env = dict(os.environ, ANSIBLE_STRATEGY=INLINE_STRATEGY)
        measure(section, env=inline_env)
        inline_report = latest_report(reports)
        if inline_report["decision"] != report["decision"]:
            raise SystemExit("linear_inline decided otherwise: %s against %s" % (inline_report["decision"],
                                                                               report["decision"]))
        kinds = (("raw kubectl+grep+psql+curl", raw, None), ("sop_kafka_latency playbook", section, None),
                 (INLINE_NAME, section, inline_env), ("plain collections playbook", plain, plain_env),
                 ("ansible-playbook empty play", floor, None),
                 ("ansible-playbook %d no-op tasks" % tasks, noop, None))
        samples = dict((name, []) for name, _cmd, _env in kinds)
        for _ in range(args.runs):  # interleaved, so load on the machine hits every kind alike
            for name, cmd, env in kinds:
                samples[name].append(measure(cmd, env=env))

        wall = dict((name, median([s.wall for s in runs])) for name, runs in samples.items())
        cpu = dict((name, median([s.cpu for s in runs])) for name, runs in samples.items())
        print("sop_kafka_latency on scenario %s: %d interleaved runs of each, medians (min-max)"
              % (args.scenario, args.runs))
        print("  %d PromQL queries, %d pods' logs, decision %s; collections %s from PyPI's %s"
              % (len(queries), len(report["evidence"]["pods"].get("pods", [])), report["decision"]["decision"],
                 "kubernetes.core + community.postgresql", benchlib.ANSIBLE_PACKAGE))
        print("  %-30s %18s %18s" % ("", "wall s", "CPU s (tree)"))
        for name, _cmd, _env in kinds:
            runs = samples[name]
            print("  %-30s %6.2f (%s) %6.2f (%s)" % (name, wall[name], spread([s.wall for s in runs]), cpu[name],
                                                    spread([s.cpu for s in runs])))
        section_name = "sop_kafka_latency playbook"
        print("  ratio section/empty play (wall)    %6.2f" % (wall[section_name] / wall["ansible-playbook empty play"]))
        # Ansible's own floor for a run of this many tasks (a fork, the host's variables and the callbacks each):
        # what is left above it is the section's own work, the evidence, the rules' templates and the reports.
        noop_name = "ansible-playbook %d no-op tasks" % tasks
        print("  the section above %d no-op tasks: %.2f s CPU (the floor itself %.2f s)"
              % (tasks, cpu[section_name] - cpu[noop_name], cpu[noop_name]))
        print(goal_line("section run CPU", cpu[section_name], GOAL_CPU, unit=" s"))
        print(goal_line("section/raw steps wall", wall[section_name] / wall["raw kubectl+grep+psql+curl"],
                        GOAL_VS_RAW))
        print(goal_line("section/plain collections playbook wall",
                        wall[section_name] / wall["plain collections playbook"], GOAL_VS_PLAIN))
        # The optional strategy, for a run on one environment (off unless configured).
        print(goal_line("section run CPU, linear_inline", cpu[INLINE_NAME], GOAL_CPU, unit=" s"))
        print(goal_line("section/raw steps wall, linear_inline", wall[INLINE_NAME] / wall["raw kubectl+grep+psql+curl"],
                        GOAL_VS_RAW))
        print(goal_line("section/plain collections playbook wall, linear_inline",
                        wall[INLINE_NAME] / wall["plain collections playbook"], GOAL_VS_PLAIN))
        print("  (took %.0f s)" % (time.monotonic() - started))
    finally:
        benchlib.lab_down(lab, work)


if __name__ == "__main__":
    main()
