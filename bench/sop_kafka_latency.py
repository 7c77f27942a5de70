"""Benchmark: a full `sop_kafka_latency` run against the lab, against the raw baseline measured in the same run:
the same evidence gathered by hand with kubectl + grep + psql + curl (deployment, pods, events, every pod's log
grepped for leader and error lines, the DB secret, the runbook's two queries, the PromQL queries the playbook ran,
the Sentry issues). Also the floor: ansible-playbook starting an empty play on the same inventory.

    make bench
    source scripts/env.sh && python bench/sop_kafka_latency.py [--runs 3] [--scenario NAME]

Prints medians in seconds and the ratios playbook/raw and playbook/floor. No assertion: numbers to read.
"""
import argparse
import glob
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from fleet_lab.lab import Lab, remove_state  # noqa: E402

CLUSTERS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters "
                "group by status, to_char(now() - updated_at,'HH24:MI');")
KAFKAS_SQL = ("select status, to_char(now() - updated_at,'HH24:MI'), count(1) from kafka_requests "
              "group by status, to_char(now() - updated_at,'HH24:MI');")


# What the runbook greps the logs for: leader lines of the workers, and errors.
LOG_PATTERN = "Running as the leader|No longer the leader|Error|Exception"


def timed(cmd, env=None):
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("failed: %s\n%s%s" % (cmd if isinstance(cmd, str) else " ".join(cmd),
                                              done.stdout[-2000:], done.stderr[-2000:]))
    return elapsed, done


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
        "  kubectl logs -n %s \"$pod\" -c service | { grep -E '%s' || true; } | sort | uniq -c | wc -l" % (ns, LOG_PATTERN),
        "done",
        "kubectl get secret kas-fleet-manager-rds -n %s -o jsonpath='{.data.db\\.password}' | base64 -d > /dev/null" % ns,
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
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", default="kafka_provisioning_stuck_strimzi")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-", dir=os.environ.get("TMPDIR"))
    lab = Lab.up(os.path.join(work, "lab"), args.scenario)
    try:
        reports = os.path.join(work, "reports")
        playbook = ["ansible-playbook", "-i", lab.inventory, "kas.fleet_manager.sop_kafka_latency",
                    "-e", "kas_fleet_report_dir=%s" % reports]
        floor_play = os.path.join(work, "empty.yml")
        with open(floor_play, "w") as handle:
            handle.write("- hosts: fleet_environments\n  gather_facts: false\n  tasks: []\n")
        floor = ["ansible-playbook", "-i", lab.inventory, floor_play]

        # Warm-up run (also gives the PromQL queries the playbook ran, for the raw baseline to run too).
        timed(playbook)
        report = json.load(open(sorted(glob.glob(os.path.join(reports, "*.json")), key=os.path.getmtime)[-1]))
        queries = [q["query"] for q in report["evidence"].get("metrics", {}).get("queries", [])]
        script = os.path.join(work, "raw.sh")
        with open(script, "w") as handle:
            handle.write(raw_script(lab, queries))
        timed(["bash", script])

        samples = {"raw": [], "playbook": [], "floor": []}
        for _ in range(args.runs):  # interleaved, so load on the machine hits every kind alike
            samples["raw"].append(timed(["bash", script])[0])
            samples["playbook"].append(timed(playbook)[0])
            samples["floor"].append(timed(floor)[0])
        median = {k: statistics.median(v) for k, v in samples.items()}
        print("sop_kafka_latency on scenario %s, %d runs each (median seconds)" % (args.scenario, args.runs))
        print("  raw kubectl+grep+psql+curl  %6.2f s  (%d PromQL queries, %d pods' logs)" % (
            median["raw"], len(queries), len(report["evidence"]["pods"].get("pods", []))))
        print("  ansible-playbook empty play %6.2f s" % median["floor"])
        print("  sop_kafka_latency playbook  %6.2f s  decision %s" % (median["playbook"],
                                                                    report["decision"]["decision"]))
        print("  ratio playbook/raw          %6.2f" % (median["playbook"] / median["raw"]))
        print("  ratio playbook/empty play   %6.2f" % (median["playbook"] / median["floor"]))
    finally:
        lab.down(quiet=True)
        remove_state(lab.state_dir)


if __name__ == "__main__":
    main()
