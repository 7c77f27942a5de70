"""fleet-lab: the runbook's world on this machine.

  fleet-lab up --scenario NAME_OR_PATH [--environments N] [--state-dir DIR] [--clusters N --kafkas N --log-kb N]
  fleet-lab status | scenarios | scenario NAME_OR_PATH | integration-config | down   [--state-dir DIR]
  fleet-lab fault add COMPONENT KIND [--code N] [--retry-after S] [--seconds S] [--bytes N] [--path PREFIX]
                      [--method M] [--count N] [--window S]
  fleet-lab fault list [--json] | fault clear [COMPONENT]

Environments (lab/SCENARIOS.md, "Environments"): ``up --environments N`` serves N fleet environments from one
set of processes (namespaces kas-fleet-manager-stage-env01 ..., a database and a Sentry project each) and writes
an inventory of N hosts; ``scenario NAME`` switches them all.

Faults (lab/SCENARIOS.md, "Faults"): COMPONENT is sink, kube, sentry, prometheus or db; KIND status, stall, hang,
refuse or (kube) cut_log. Examples: make the Slack route answer 503 twice (``fault add sink status --code 503
--path /slack/mk-sre --count 2``), the Kubernetes API refuse connections for 10 s (``fault add kube refuse
--window 10``), a pod log stream stall after 4 KB (``fault add kube cut_log --bytes 4096 --seconds 60``).
"""
import argparse
import json
import os
import sys
import time

import yaml

from fleet_lab import faults as faults_mod
from fleet_lab import scenario as scenario_mod
from fleet_lab.lab import Lab, LabError

DEFAULT_STATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 ".work", "lab")


def _volume(args):
    volume = {}
    for key, attr in (("clusters", "clusters"), ("kafka_requests", "kafkas"), ("log_kb_per_pod", "log_kb")):
        value = getattr(args, attr, None)
        if value is not None:
            volume[key] = value
    return volume or None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fleet-lab", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=os.environ.get("FLEET_LAB_STATE_DIR", DEFAULT_STATE_DIR),
                        help="where the lab keeps its state (default: .work/lab in the project)")
    # --state-dir is accepted before or after the command (fleet-lab --state-dir D up / fleet-lab up --state-dir D).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", parents=[common], help="start every component with a scenario")
    switch = sub.add_parser("scenario", parents=[common], help="switch the running lab to another scenario")
    for p in (up, switch):
        p.add_argument("--scenario" if p is up else "name", default="healthy" if p is up else None,
                       help="a shipped scenario name or a path to a scenario YAML file")
        p.add_argument("--clusters", type=int, help="filler ready clusters (volume)")
        p.add_argument("--kafkas", type=int, help="filler ready kafka requests (volume)")
        p.add_argument("--log-kb", type=int, help="KB of log per pod (volume)")
    up.add_argument("--environments", type=int, default=1, metavar="N",
                    help="fleet environments to serve (a namespace, database and Sentry project each; default 1)")
    sub.add_parser("status", parents=[common], help="what runs, where")
    sub.add_parser("scenarios", parents=[common], help="list shipped scenarios: section and expected decision")
    sub.add_parser("integration-config", parents=[common], help="print the vars ansible-test passes to integration targets")
    sub.add_parser("inventory", parents=[common], help="print the path of the lab's Ansible inventory")
    sub.add_parser("down", parents=[common], help="stop exactly what up started")
    fault = sub.add_parser("fault", parents=[common], help="make a component fail: add, list, clear")
    fault_sub = fault.add_subparsers(dest="action", required=True)
    add = fault_sub.add_parser("add", parents=[common], help="add a fault")
    add.add_argument("component", choices=faults_mod.COMPONENTS)
    add.add_argument("kind", choices=sorted(faults_mod.STAGES))
    add.add_argument("--code", type=int, help="status: the HTTP status to answer (default 503)")
    add.add_argument("--retry-after", type=int, help="status: send Retry-After with these seconds")
    add.add_argument("--seconds", type=float, help="stall, hang: hold this long (default 300); cut_log: stall "
                                                   "this long before the cut")
    add.add_argument("--bytes", type=int, help="cut_log: bytes of the log sent before the cut (default 0)")
    add.add_argument("--path", help="only requests whose path starts with this")
    add.add_argument("--method", help="only requests with this method")
    add.add_argument("--count", type=int, help="only the next N matching requests (connections)")
    add.add_argument("--window", type=float, help="only for this many seconds from now")
    listing = fault_sub.add_parser("list", parents=[common], help="every fault, ended ones too")
    listing.add_argument("--json", action="store_true", help="as JSON")
    clear = fault_sub.add_parser("clear", parents=[common], help="forget faults (all, or one component's)")
    clear.add_argument("component", nargs="?", choices=faults_mod.COMPONENTS)
    args = parser.parse_args(argv)
    lab = Lab(args.state_dir)
    try:
        if args.command in ("status", "scenario", "integration-config", "down", "fault") and not os.path.isfile(
                os.path.join(lab.state_dir, "lab.json")):
            raise LabError("no lab in %s (start one with: fleet-lab up --state-dir %s)" % (lab.state_dir, lab.state_dir))
        if args.command == "up":
            if args.environments < 1:
                raise LabError("--environments: expected a number of at least 1, got %d" % args.environments)
            start = time.monotonic()
            Lab.up(args.state_dir, args.scenario, volume=_volume(args), environments=args.environments)
            status = lab.status()
            if args.environments == 1:
                print("fleet-lab: up in %.1f s, scenario %s, namespace %s" % (time.monotonic() - start,
                                                                             status["scenario"], status["namespace"]))
            else:
                envs = status["environments"]
                print("fleet-lab: up in %.1f s, scenario %s, %d environments: namespaces %s ... %s"
                      % (time.monotonic() - start, status["scenario"], len(envs), envs[0]["namespace"],
                         envs[-1]["namespace"]))
            _print_status(status)
            print("  source %s/env.sh   # kubectl, psql" % lab.state_dir)
        elif args.command == "scenario":
            start = time.monotonic()
            loaded = lab.switch(args.name, volume=_volume(args))
            count = loaded["lab_environment"]["count"]
            print("fleet-lab: scenario %s loaded in %.1f s%s (expected decision: %s)"
                  % (loaded["name"], time.monotonic() - start, " in %d environments" % count if count > 1 else "",
                     loaded["expected"]["decision"]))
        elif args.command == "status":
            status = lab.status()
            print(json.dumps(status, indent=2))
            return 0 if status["components"] and all(c["alive"] for c in status["components"].values()) else 3
        elif args.command == "scenarios":
            for name in scenario_mod.available():
                s = scenario_mod.load(name)
                print("%-34s %-32s %s" % (name, s["section"], s["expected"]["decision"]))
                print("    %s" % " ".join(s["description"].split()))
        elif args.command == "integration-config":
            sys.stdout.write(yaml.safe_dump(lab.integration_vars(), default_flow_style=False))
        elif args.command == "inventory":
            print(lab.inventory)
        elif args.command == "down":
            lab.down()
            print("fleet-lab: down (%s)" % lab.state_dir)
        elif args.command == "fault":
            return _fault(lab, args)
    except (LabError, scenario_mod.ScenarioError, FileNotFoundError) as exc:
        print("fleet-lab: %s" % exc, file=sys.stderr)
        return 2
    return 0


def _fault(lab, args):
    if args.action == "add":
        options = {key: getattr(args, key) for key in ("code", "retry_after", "seconds", "bytes", "path", "method",
                                                       "count", "window") if getattr(args, key) is not None}
        added = lab.fault(args.component, args.kind, **options)
        print("fleet-lab: fault %s" % faults_mod.describe(added))
    elif args.action == "list":
        listed = lab.faults()
        if args.json:
            print(json.dumps(listed, indent=2))
        elif not listed:
            print("fleet-lab: no faults")
        for fault in listed if not args.json else []:
            print(faults_mod.describe(fault))
    else:
        cleared = lab.clear_faults(args.component)
        print("fleet-lab: %d fault(s) cleared" % cleared)
    return 0


def _print_status(status):
    for key in ("kubernetes", "postgres", "prometheus", "sentry", "sink"):
        print("  %-11s %s" % (key, status[key]))
