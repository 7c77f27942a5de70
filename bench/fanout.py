"""Benchmark: one ansible-playbook run over N fleet environments (one lab serving them all, ``fleet-lab up
--environments N``) against the same section over one environment, in the same run.

    source scripts/env.sh && python bench/fanout.py [--environments 20] [--runs 1] [--forks N]

Prints the wall time and the CPU of the whole process tree for 1 and N environments, the N-environment run's time per
environment, checks that every environment wrote its report, and the goal: N=20 in at most 25 s of wall time.
Numbers to read, never assertions.
"""
import argparse
import glob
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import goal_line, measure, median, spread  # noqa: E402  (bench/ is not a package)

GOAL_SECONDS = 25.0
PLAYBOOK = "kas.fleet_manager.sop_kafka_latency"


def run(lab, reports, forks):
    os.makedirs(reports)
    return measure(["ansible-playbook", "-f", str(forks), "-i", lab.inventory, PLAYBOOK,
                    "-e", "kas_fleet_report_dir=%s" % reports])


def main():
    from fleet_lab.lab import Lab, remove_state

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--forks", type=int, help="ansible-playbook --forks (default: one per environment)")
    parser.add_argument("--scenario", default="kafka_provisioning_stuck_strimzi")
    args = parser.parse_args()
    forks = args.forks or args.environments

    work = tempfile.mkdtemp(prefix="bench-fanout-", dir=os.environ.get("TMPDIR"))
    one = many = None
    try:
        one = Lab.up(os.path.join(work, "lab1"), args.scenario)
        many = Lab.up(os.path.join(work, "labN"), args.scenario, environments=args.environments)
        samples = {"one": [], "many": []}
        for i in range(args.runs):  # interleaved
            samples["one"].append(run(one, os.path.join(work, "r1-%d" % i), 1))
            reports = os.path.join(work, "rN-%d" % i)
            samples["many"].append(run(many, reports, forks))
            written = len(glob.glob(os.path.join(reports, "*.json")))
            if written != args.environments:
                raise SystemExit("%d environments wrote %d reports" % (args.environments, written))
        wall = dict((k, median([s.wall for s in v])) for k, v in samples.items())
        cpu = dict((k, median([s.cpu for s in v])) for k, v in samples.items())
        print("%s over 1 and %d environments of one lab (scenario %s), forks %d, %d run(s), medians (min-max)"
              % (PLAYBOOK, args.environments, args.scenario, forks, args.runs))
        print("                              wall s                  CPU s (tree)")
        for key, label in (("one", "1 environment"), ("many", "%d environments" % args.environments)):
            print("  %-18s %7.2f (%s)  %7.2f (%s)" % (label, wall[key], spread([s.wall for s in samples[key]]),
                                                      cpu[key], spread([s.cpu for s in samples[key]])))
        print("  per environment     %7.2f wall   %7.2f CPU" % (wall["many"] / args.environments,
                                                                 cpu["many"] / args.environments))
        print("  ratio N environments/1 environment (wall)  %.2f" % (wall["many"] / wall["one"]))
        print("  every environment wrote its report: %d of %d" % (args.environments, args.environments))
        if args.environments == 20:
            print(goal_line("fan-out: 20 environments, one run (wall)", wall["many"], GOAL_SECONDS, unit=" s"))
    finally:
        for lab in (one, many):
            if lab is not None:
                lab.down(quiet=True)
                remove_state(lab.state_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
