"""Runbook playbooks against the lab: each test module gets its own lab (fleet_lab.pytest_plugin) and runs
ansible-playbook from the collection copy that scripts/test.sh prepares (ANSIBLE_COLLECTIONS_PATH)."""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

pytest_plugins = ["fleet_lab.pytest_plugin"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

SECTION_PLAYBOOK = {
    "fleet_manager_down": "sop_fleet_manager_down",
    "availability": "sop_availability",
    "latency": "sop_latency",
    "osd_provisioning_latency": "sop_osd_provisioning_latency",
    "osd_provisioning_correctness": "sop_osd_provisioning_correctness",
    "kafka_provisioning_latency": "sop_kafka_latency",
    "kafka_provisioning_correctness": "sop_kafka_provisioning_correctness",
    "kafka_deletion_correctness": "sop_kafka_deletion_correctness",
    "none": "sop_triage",
}


class Run(object):
    def __init__(self, proc, report_dir):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        reports = sorted(glob.glob(os.path.join(report_dir, "*.json")), key=os.path.getmtime)
        self.report = json.load(open(reports[-1])) if reports else None
        self.report_files = reports

    @property
    def decision(self):
        return self.report["decision"]["decision"]

    def keep(self, name, directory=None):
        """Copy the run's report files (JSON, Markdown, HTML) to tests/output/reports/<name>.*; the HTML copy's path."""
        directory = directory or os.path.join(ROOT, "tests", "output", "reports")
        os.makedirs(directory, exist_ok=True)
        for kind, path in self.report["files"].items():
            shutil.copyfile(path, os.path.join(directory, "%s.%s" % (name, "md" if kind == "markdown" else kind)))
        return os.path.join(directory, name + ".html")


@pytest.fixture
def playbook_strategy():
    """The strategy plugin the playbooks run with: Ansible's default (linear) unless a test is parametrized with
    another, e.g. @pytest.mark.parametrize("playbook_strategy", STRATEGIES)."""
    return None


# Ansible's default, and the collection's optional accelerator (plugins/strategy/linear_inline.py).
STRATEGIES = [pytest.param(None, id="linear"), pytest.param("kas.fleet_manager.linear_inline", id="linear_inline")]


@pytest.fixture
def run_playbook(tmp_path, playbook_strategy):
    """Run a collection playbook against a lab's inventory; returns a Run with rc, output and the JSON report."""
    env = dict(os.environ, ANSIBLE_STRATEGY=playbook_strategy) if playbook_strategy else None

    def run(lab, playbook, *args, extra=None):
        report_dir = tmp_path / ("reports-%d" % len(list(tmp_path.iterdir())))
        report_dir.mkdir()
        # "sop_x" runs the collection's playbook by FQCN; "playbooks/sop_x.yml" runs the file in the repository.
        target = os.path.join(ROOT, playbook) if playbook.endswith(".yml") else "kas.fleet_manager.%s" % playbook
        cmd = ["ansible-playbook", "-i", lab.inventory, target,
               "-e", "kas_fleet_report_dir=%s" % report_dir]
        for key, value in (extra or {}).items():
            cmd += ["-e", json.dumps({key: value})]
        cmd += list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
        return Run(proc, str(report_dir))
    return run


@pytest.fixture(scope="session")
def report_browser():
    """Headless Chromium (Debian's) for looking at HTML reports: tests/playbooks/browser.py."""
    from browser import ReportBrowser
    browser = ReportBrowser()
    yield browser
    browser.close()
