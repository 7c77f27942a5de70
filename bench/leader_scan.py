"""Benchmark: leader_check's log scan against `kubectl logs | grep` on three big pod logs of the lab (200 MB each by
default), throughput and peak memory.

    source scripts/env.sh && python bench/leader_scan.py [--log-mb 200] [--small-mb 20] [--runs 2]

leader_check runs as its own process (the module file with its arguments, as ansible-playbook would start it, without
the controller), streaming the ``service`` log of every pod of the deployment through its scan; the baseline is the
runbook's ``kubectl logs <pod> -c service | grep -E '...'`` for the same three pods, one after the other. Runs are
interleaved; medians of wall time give each one's throughput (MB of log per second) and their ratio, the goal being at
least 0.8x. Peak RSS is the largest process of each tree (os.wait4); leader_check's is measured again on logs of
``--small-mb`` to show it stays flat as the logs grow (goal: at most 1.2x).

The lab generates its logs in Python as they are read, at some 10-20 MB/s on this machine, which bounds both: the
first line says how fast it serves one pod's log to ``kubectl logs > file``. That saved log is then scanned from the
file, leader_check's scan (module_utils leader_scan) against ``grep -E``, to show each one's own ceiling.
"""
import argparse
import json
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib  # noqa: E402
from benchlib import goal_line, measure, median, spread  # noqa: E402

GOAL_THROUGHPUT = 0.8   # leader_check MB/s / (kubectl logs | grep) MB/s, at least
GOAL_FLAT = 1.2         # leader_check peak RSS on big logs / on small logs, at most
# The runbook's grep: the workers' leader lines, and errors (as bench/sop_kafka_latency.py).
LOG_PATTERN = "Running as the leader|No longer the leader|Error|Exception"

# leader_check's scan of a saved log, line by line as module_utils k8s streams it (bytes split on newlines, each line
# decoded), with the module's default workers and error patterns.
FILE_SCAN = r"""
import sys
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import DEFAULT_ERROR_PATTERNS
from ansible_collections.kas.fleet_manager.plugins.module_utils.leader_scan import (
    Samples, compile_errors, normalize_workers, scan_log)

def lines(path, chunk_size=65536):
    pending = b""
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            pending += chunk
            parts = pending.split(b"\n")
            pending = parts.pop()
            for raw in parts:
                yield raw.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")

result = scan_log(lines(sys.argv[1]), normalize_workers(["ClusterManager", "KafkaManager"]),
                  compile_errors(list(DEFAULT_ERROR_PATTERNS)), Samples(5))
print(result["bytes"], result["errors"]["total"])
"""


def collections_path():
    for path in (os.environ.get("ANSIBLE_COLLECTIONS_PATH") or "").split(os.pathsep):
        if path and os.path.isdir(os.path.join(path, "ansible_collections", "kas", "fleet_manager")):
            return path
    raise SystemExit("kas.fleet_manager not found on ANSIBLE_COLLECTIONS_PATH: source scripts/env.sh and run "
                     "scripts/sync_collection.sh")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-mb", type=int, default=200, help="MB of service log per pod (default 200)")
    parser.add_argument("--small-mb", type=int, default=20,
                        help="MB per pod for the flat-memory comparison (default 20; 0 leaves it out)")
    parser.add_argument("--runs", type=int, default=2, help="interleaved runs of each (default 2)")
    parser.add_argument("--scenario", default="healthy")
    parser.add_argument("--no-file-scan", action="store_true", help="leave the scans of a saved log out")
    args = parser.parse_args()

    started = time.monotonic()
    cols = collections_path()
    lab, work = benchlib.lab_up("logs", args.scenario, volume={"log_kb_per_pod": args.log_mb * 1024})
    try:
        ns = lab.namespace
        env_file = os.path.join(lab.state_dir, "env.sh")
        module_args = os.path.join(work, "leader_check.json")
        with open(module_args, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"namespace": ns, "kubeconfig": lab.kubeconfig}}, handle)
        module_env = dict(os.environ, PYTHONPATH=cols)
        leader_check = [sys.executable, "-m", "ansible_collections.kas.fleet_manager.plugins.modules.leader_check",
                        module_args]

        def run_module():
            sample = measure(leader_check, env=module_env)
            result = json.loads(sample.output[sample.output.index("{"):])
            if result.get("failed"):
                raise SystemExit("leader_check failed: %s" % result.get("msg"))
            return sample, result

        def kubectl(command):
            return ["bash", "-c", "set -euo pipefail; source %s; %s" % (shlex.quote(env_file), command)]

        pods = measure(kubectl("kubectl get pods -n %s -o jsonpath='{.items[*].metadata.name}'" % shlex.quote(ns)))
        pods = sorted(pods.output.split())
        kubectl_grep = ["bash", os.path.join(work, "grep.sh")]
        with open(kubectl_grep[1], "w") as handle:
            handle.write("set -euo pipefail\nsource %s\n" % shlex.quote(env_file))
            for pod in pods:
                handle.write("kubectl logs -n %s %s -c service | { grep -cE '%s' || true; }\n"
                             % (shlex.quote(ns), shlex.quote(pod), LOG_PATTERN))

        # One pod's log saved to a file: how fast the lab serves a log, and the file for the scans without a server.
        saved = os.path.join(work, "pod.log")
        source = measure(kubectl("kubectl logs -n %s %s -c service > %s" % (shlex.quote(ns), shlex.quote(pods[0]),
                                                                               shlex.quote(saved))))
        saved_mb = os.path.getsize(saved) / 1e6

        samples = {"grep": [], "module": []}
        for _ in range(args.runs):  # interleaved
            sample, result = run_module()
            samples["module"].append(sample)
            samples["grep"].append(measure(kubectl_grep))
        total_mb = result["scanned"]["bytes"] / 1e6
        wall = dict((k, median([s.wall for s in v])) for k, v in samples.items())
        cpu = dict((k, median([s.cpu for s in v])) for k, v in samples.items())
        rss = dict((k, max(s.rss_mb for s in v)) for k, v in samples.items())

        print("leader_check's log scan: %d pods x %d MB of service log (%.0f MB, %d lines), %d interleaved runs, "
              "medians (min-max)" % (len(pods), args.log_mb, total_mb, result["scanned"]["lines"], args.runs))
        print("  %-34s %16s %9s %14s %12s" % ("", "wall s", "MB/s", "CPU s (tree)", "peak RSS MB"))
        print("  %-34s %6.2f %9s %9.1f %14.2f %12.1f  (one pod's log, once: how fast the lab serves)" % (
            "kubectl logs > file", source.wall, "", saved_mb / source.wall, source.cpu, source.rss_mb))
        for key, name in (("grep", "kubectl logs | grep -E"), ("module", "leader_check")):
            walls = [s.wall for s in samples[key]]
            print("  %-34s %6.2f (%s) %6.1f %14.2f %12.1f" % (name, wall[key], spread(walls), total_mb / wall[key],
                                                              cpu[key], rss[key]))
        print(goal_line("leader_check/(kubectl logs | grep) MB/s", wall["grep"] / wall["module"], GOAL_THROUGHPUT,
                        at_most=False))

        if not args.no_file_scan:
            grep = [measure(["grep", "-cE", LOG_PATTERN, saved], check=False) for _ in range(args.runs)]
            scan = [measure([sys.executable, "-c", FILE_SCAN, saved], env=module_env) for _ in range(args.runs)]
            print("  one saved log (%.0f MB) from a file, no server: grep -E %.0f MB/s, leader_check's scan "
                  "%.0f MB/s (%.1f MB peak RSS)" % (saved_mb, saved_mb / median([s.wall for s in grep]),
                                                    saved_mb / median([s.wall for s in scan]),
                                                    max(s.rss_mb for s in scan)))
        os.unlink(saved)
        if args.small_mb:
            lab.switch(args.scenario, volume={"log_kb_per_pod": args.small_mb * 1024})
            small = [run_module() for _ in range(max(1, args.runs))]
            small_rss = max(s.rss_mb for s, _r in small)
            small_mb = small[0][1]["scanned"]["bytes"] / 1e6
            print("  leader_check peak RSS: %.1f MB scanning %.0f MB, %.1f MB scanning %.0f MB"
                  % (small_rss, small_mb, rss["module"], total_mb))
            print(goal_line("leader_check peak RSS, big/small logs", rss["module"] / small_rss, GOAL_FLAT))

        print("  (took %.0f s)" % (time.monotonic() - started))
    finally:
        benchlib.lab_down(lab, work)


if __name__ == "__main__":
    main()
