"""Every benchmark of bench/, one after the other, then their goal lines together and how long each took.

    make bench [BENCH_ARGS="--quick"]
    source scripts/env.sh && python bench/all.py [--quick] [--only sop,db,logs] [--runs N]

* sop: bench/sop_kafka_latency.py, one section run against the raw steps and the plain collections playbook;
* db: bench/request_status_db.py, request_status_info's database work at 1M kafka requests and 200k clusters;
* logs: bench/leader_scan.py, leader_check's log scan on 3 x 200 MB of pod logs;
* fanout: bench/fanout.py, one run over 20 environments of one lab against one environment.

The goals hold at the default sizes; ``--quick`` (a tenth of the rows and of the logs, one run each) only checks that
everything runs. Figures are noisy on a shared machine: read the spreads. Exits 0 whatever the goals say; 1 only if a
benchmark itself failed.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and one run each: a smoke run")
    parser.add_argument("--only", default="sop,fanout,db,logs",
                        help="comma-separated: sop, fanout, db, logs (default all)")
    parser.add_argument("--runs", type=int, help="runs of each benchmark (default: each one's own)")
    args = parser.parse_args()

    benches = {
        "sop": ["sop_kafka_latency.py"],
        "db": ["request_status_db.py"] + (["--kafkas", "100000", "--clusters", "20000"] if args.quick else []),
        "logs": ["leader_scan.py"] + (["--log-mb", "20", "--small-mb", "2"] if args.quick else []),
        "fanout": ["fanout.py"] + (["--environments", "3"] if args.quick else []),
    }
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(benches))
    if unknown:
        parser.error("--only: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(benches)))
    runs = 1 if args.quick and args.runs is None else args.runs
    summary, failed = [], []
    started = time.monotonic()
    for name in wanted:
        cmd = [sys.executable, os.path.join(HERE, benches[name][0])] + benches[name][1:]
        if runs is not None:
            cmd += ["--runs", str(runs)]
        print("=== %s: %s" % (name, " ".join(os.path.relpath(c) if c.startswith(HERE) else c for c in cmd[1:])),
              flush=True)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.startswith("  goal "):
                summary.append("  %-7s%s" % (name, line.rstrip()[7:]))
        proc.wait()
        elapsed = time.monotonic() - start
        if proc.returncode != 0:
            failed.append(name)
        summary.append("  %-7s(%s in %.0f s)" % (name, "failed, rc %d" % proc.returncode if proc.returncode else "ran",
                                                 elapsed))
    print("=== goals%s" % (" (--quick: not at the goals' sizes)" if args.quick else ""))
    print("\n".join(summary))
    print("=== make bench took %.0f s" % (time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
