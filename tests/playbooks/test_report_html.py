"""The HTML report at the edges of what its data can be, rendered by the kas_fleet role's own report tasks and
templates (tests/playbooks/files/render_report.yml, no fleet needed) and looked at in headless Chromium
(browser.py): the longest status names, statuses with no rows, many pods with long names, a very long rule and
evidence, and database or log text with HTML and Jinja in it, which must show as text and never be templated."""
import copy
import json
import os
import subprocess

import pytest

from browser import report_expectations
from conftest import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "playbooks", "files", "render_report.yml")
UNSURE = "Otherwise, or if unsure about the reason, escalate the issue to the Control Plane team"
# Text a database row, a pod or a log line could carry: it must reach the reader as these very characters.
HOSTILE = [
    "<script>console.error('script ran')</script>",
    "<img src=x onerror=\"console.error('img ran')\">",
    "{{ 'tem' ~ 'plated' }}",
    "{% for i in range(3) %}looped{% endfor %}",
    "{# comment #}",
    "a & b < c > d \" e ' f",
]
# Upstream's longest status; a status the database can hold that upstream does not have, of any length and script.
LONGEST_KNOWN = "waiting_for_kas_fleetshard_operator"
LONG_STATUS = "status_from_a_newer_fleet_manager_" + "x" * 220
WIDE_STATUS = "待機中のステータス_" + "ü" * 10 + "🔥"


def status(count, oldest=None, threshold=45, over=0):
    return {"count": count, "oldest_idle_minutes": oldest, "threshold_minutes": threshold,
            "over_threshold": over, "over_long_idle": over}


def trace(rule_id, rule, fired, reason, decision="escalate_control_plane", signs=None):
    entry = {"id": rule_id, "rule": rule, "fired": fired, "reason": reason, "decision": decision}
    if signs is not None:
        entry["signs"] = signs
    return entry


def pod(name, ready=True, restarts=0):
    return {"name": name, "phase": "Running" if ready else "Pending", "ready": ready, "restarts": restarts,
            "waiting_reasons": [] if ready else ["CrashLoopBackOff"], "containers": []}


def base_report():
    """A report as the role writes it (the fields report.yml assembles), healthy and small."""
    section = {"section": "kafka_provisioning_latency", "title": "Kafka Cluster provisioning latency",
               "decision": "healthy", "rule": "No rule of the section matched and every check ran: nothing to do.",
               "rule_id": "none", "reason": "",
               "trace": [trace("kafka_errors_or_kafkas_stuck", "Error/exception related to Kafka", False, "none"),
                         trace("unsure", UNSURE, False, "nothing abnormal and every check ran", signs={})]}
    return {
        "environment": "stage", "namespace": "kas-fleet-manager-stage", "section": "kafka_provisioning_latency",
        "alert": "", "started": "2026-01-01T00:00:00+00:00", "remediation_mode": "recommend",
        "decision": {k: section[k] for k in ("decision", "rule", "rule_id", "reason")},
        "plan": {"steps": [], "remediation": None, "escalations": []}, "symptoms": [],
        "matched_sections": [], "sections": [section], "recheck": None, "actions": [], "escalations": [],
        "access": {}, "not_run": {}, "blind": {}, "failure": None, "signals": {}, "signs": {},
        "links": {"grafana": "https://grafana.example/d/x"},
        "evidence": {
            "pods": {"deployment": {"name": "kas-fleet-manager", "ready_replicas": 3, "desired_replicas": 3,
                                    "rollout_status": "complete"},
                     "pods": [pod("kas-fleet-manager-5d8f7c9b4-%s" % s) for s in ("abcde", "fghij", "klmno")],
                     "problems": []},
            "clusters": {"statuses": {"cluster_accepted": status(0, threshold=3), "ready": status(2, 4.2, None)},
                         "by_status_idle": [{"status": "ready", "idle_time": "00:04", "count": 2}]},
            "kafkas": {"statuses": {"accepted": status(1, 1.1), "ready": status(12, 5, None)},
                       "by_status_idle": [{"status": "ready", "idle_time": "00:05", "count": 12}]},
        },
    }


def escalated(report, reason, signs):
    """The report of a run that fell through to the catch-all rule, its page delivered after a retry."""
    section = report["sections"][0]
    section["trace"][-1] = trace("unsure", UNSURE, True, reason, signs=signs)
    section.update(decision="escalate_control_plane", rule=UNSURE, rule_id="unsure", reason=reason)
    report["decision"] = {k: section[k] for k in ("decision", "rule", "rule_id", "reason")}
    report["matched_sections"] = [section["section"]]
    report["symptoms"] = [{"section": section["section"], "present": True, "signs": ["kafkas_failed_recently"]}]
    report["plan"] = {"steps": ["escalate_control_plane"], "remediation": None, "escalations": [
        {"team": "control_plane", "decision": "escalate_control_plane", "rule_id": "unsure", "rule": UNSURE,
         "reason": reason, "rules": [{"id": "unsure", "rule": UNSURE, "reason": reason}],
         "sections": [section["section"]]}]}
    report["escalations"] = [{"team": "control_plane", "decision": "escalate_control_plane", "rules": ["unsure"],
                              "sections": [section["section"]], "sent": True, "delivered": True,
                              "delivered_to": "control_plane", "reason": None, "msg": "sent",
                              "dedup_key": "kas-fleet/stage/control_plane/unsure",
                              "attempts": [{"route": "control_plane", "outcome": "sent", "tries": 2, "error": None}]}]
    return report


def long_names():
    """Every upstream status with no rows but one, statuses the database may hold of any length, many pods."""
    report = base_report()
    ev = report["evidence"]
    ev["clusters"]["statuses"] = {name: status(0) for name in (
        "cluster_accepted", "cluster_provisioning", "cluster_provisioned", LONGEST_KNOWN, "ready", "deprovisioning",
        "cleanup", "failed")}
    ev["clusters"]["statuses"][LONGEST_KNOWN] = status(987654, 525600.4, 45, 987654)
    ev["kafkas"]["statuses"] = {"accepted": status(0), "preparing": status(3, 52, 45, 3), "ready": status(1),
                                LONG_STATUS: status(7, 90000, None), WIDE_STATUS: status(2, 3), "failed": status(1, 61)}
    names = ["kas-fleet-manager-%s-%05d" % ("7" * 36, i) for i in range(40)]
    ev["pods"]["pods"] = [pod(name, ready=i % 7 != 3, restarts=(i * 37) % 1200) for i, name in enumerate(names)]
    ev["pods"]["pods"].append(pod("p", restarts=1))
    ev["pods"]["problems"] = [{"code": "crash_looping"}, {"code": "pods_not_ready"}]
    return report


def long_texts():
    """A very long rule and reason, a catch-all with many signs and long lists, an unbreakable token, a re-check."""
    report = base_report()
    report["sections"][0]["trace"][0]["rule"] = " ".join(["Error/exception related to Kafka, strimzi-operator,"] * 40)
    report["sections"][0]["trace"][0]["reason"] = "token=" + "A1b2C3d4" * 60
    signs = {"kafkas_failed_recently": 123456,
             "pod_problems": ["crash_looping", "pods_not_ready", "image_pull_failing"] * 12,
             "unclassified_errors": 99, "kafka_creation_slo": ["kafka_create_p90", "kafka_create_p99"],
             "kafka_leader_problems": ["KafkaManager"]}
    reason = "; ".join("%s: %s" % (k.replace("_", " "), ", ".join(v) if isinstance(v, list) else v)
                       for k, v in signs.items())
    report = escalated(report, reason, signs)
    report["not_run"] = {"metrics": "cannot reach the Prometheus API at http://127.0.0.1:9/api/v1/query: " + "x" * 300,
                         "sentry": "no token"}
    report["failure"] = {"task": "Check the access the runbook requires", "msg": "forbidden " * 80}
    report["links"] = {"grafana": "https://grafana.example/d/" + "y" * 400}
    # a restart that did not clear the symptom, and its re-check
    report["actions"] = [{"action": "restart", "mode": "applied", "done": True, "cleared": False,
                          "why": "no leader worker is running"}]
    report["recheck"] = {"cleared": False, "not_run": {},
                         "plan": {"steps": ["escalate_control_plane"], "sections": [copy.deepcopy(report["sections"][0])]}}
    # a page its route refused, delivered by the fallback
    report["escalations"].append({
        "team": "data_plane", "decision": "escalate_data_plane", "rules": ["kafka_errors_or_kafkas_stuck"],
        "sections": ["kafka_provisioning_latency"], "sent": True, "delivered": False, "delivered_to": "control_plane",
        "reason": None, "msg": "fell back", "dedup_key": "kas-fleet/stage/data_plane/kafka_errors_or_kafkas_stuck",
        "attempts": [{"route": "data_plane", "outcome": "fell_back", "fell_back_to": "control_plane", "tries": 3,
                      "error": "the slack route http://127.0.0.1:9/slack/******** answered HTTP 503: " + "z" * 300},
                     {"route": "control_plane", "outcome": "sent", "tries": 1, "error": None}]})
    return report


def hostile_text():
    """HTML and Jinja in every place the fleet's data reaches: status names, pod names, log samples, Sentry."""
    report = base_report()
    ev = report["evidence"]
    ev["kafkas"]["statuses"].update({text: status(1, 2) for text in HOSTILE})
    ev["kafkas"]["by_status_idle"] = [{"status": text, "idle_time": "00:02", "count": 1} for text in HOSTILE]
    ev["pods"]["pods"] = [pod(text, restarts=i) for i, text in enumerate(HOSTILE)]
    ev["sentry"] = {"issues": [{"title": text, "permalink": "https://sentry.example/%d" % i, "count": i,
                                "category": text} for i, text in enumerate(HOSTILE)]}
    signs = {"unclassified_errors": 3, "pod_problems": HOSTILE}
    report = escalated(report, "; ".join(HOSTILE), signs)
    report["escalations"][0]["attempts"][0]["error"] = HOSTILE[0]
    report["blind"] = {"sentry": HOSTILE[2]}
    report["not_run"] = {text: text for text in HOSTILE}
    report["failure"] = {"task": HOSTILE[2], "msg": HOSTILE[3]}
    return report


def no_evidence():
    """A run that failed before it gathered anything: no evidence, no trace."""
    report = base_report()
    report["evidence"] = {}
    report["sections"] = []
    report["decision"] = {"decision": "escalate_control_plane", "rule": UNSURE, "rule_id": "unsure",
                          "reason": "the run failed at 'Check the access the runbook requires': forbidden"}
    report["failure"] = {"task": "Check the access the runbook requires", "msg": "forbidden"}
    report["links"] = {}
    return report


CASES = {"long_names": long_names, "long_texts": long_texts, "hostile_text": hostile_text, "no_evidence": no_evidence}


def render(facts, directory, name):
    """Write the report with the role's tasks and templates; the role's JSON report (read back) and its paths."""
    source = directory / (name + "-facts.json")
    source.write_text(json.dumps(facts))
    base = str(directory / name)
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", "report_facts=%s" % source,
                           "-e", "report_base=%s" % base], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    with open(base + ".json") as handle:
        return json.load(handle), base


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_reads_well_at_the_edges(tmp_path, report_browser, case):
    facts = CASES[case]()
    report, base = render(copy.deepcopy(facts), tmp_path, case)
    seen = report_browser.check(base + ".html", "edge-" + case, report_expectations(report))
    assert seen.problems == [], "\n".join(seen.problems)
    assert seen.scripts == 0
    html = open(base + ".html").read()
    markdown = open(base + ".md").read()
    if case == "long_names":
        # every status is there, the empty ones say so; a label too long is cut, its <title> has it whole
        assert seen.text.count("no rows") == 8
        assert "oldest 0 min" not in seen.text and "oldest 0 min" not in html
        assert "987654 · oldest 365 d · 987654 past 45 min" in seen.text
        assert LONGEST_KNOWN in seen.text and WIDE_STATUS in seen.text
        assert LONG_STATUS not in seen.text and LONG_STATUS[:40] in seen.text and "<title>%s: " % LONG_STATUS in html
        assert html.count('class="mark') == 1 + 5 + 40  # no bar for a zero (the first pod never restarted)
    if case == "long_texts":
        # the catch-all rule's evidence as a definition list, not JSON
        assert '{"' not in seen.text
        assert "pod problems\ncrash_looping, pods_not_ready" in seen.text
    if case == "hostile_text":
        for text in HOSTILE:
            assert text in seen.text, text
            assert text in markdown, text
        assert "templated" not in seen.text and "loopedlooped" not in seen.text
        assert "<script" not in html and "<img" not in html
    if case == "no_evidence":
        assert "no rule was applied" in seen.text
