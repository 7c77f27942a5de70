"""The HTML report at the edges of what its data can be, rendered by the kas_fleet role's own report tasks and
templates (tests/playbooks/files/render_report.yml, no fleet needed) and looked at in headless Chromium
(browser.py): the longest status names, statuses with no rows, many pods with long names, a very long rule and
evidence, metrics series at their edges (many points, flat, gaps, huge and tiny values, none) with the run's
actions on their time axis, findings with log lines, and database or log text with HTML and Jinja in it, which
must show as text and never be templated (in the Markdown too, checked with a CommonMark parser)."""
import copy
import datetime
import html as html_lib
import json
import math
import os
import re
import subprocess
import sys

import pytest

from markdown_it import MarkdownIt

from browser import report_expectations
from conftest import ROOT

# The charts' breached spans as slo_metrics_info computes them, from the collection copy the playbooks run.
sys.path.insert(0, os.environ["ANSIBLE_COLLECTIONS_PATH"])
from ansible_collections.kas.fleet_manager.plugins.module_utils import slo  # noqa: E402 (needs the path above)

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
    ev["metrics"] = {"healthy": None, "breaches": []}
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
    # metrics as an older or partial result: one series of one point, a series of bare points, no series_range,
    # an incident window naming a figure that is not there
    report["evidence"]["metrics"] = {"breaches": [], "series": {
        "cpu_ratio_max": series("CPU of the busiest pod, share of its limit", "ratio", 0.8, [[START, 0.5]]),
        "bare": {"points": [[START, 1.0], [START + STEP, 2.0]]}},
        "incident_window": {"start": START, "end": START, "figures": ["gone"]}}
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


# The series' range as slo_metrics_info returns it: 301 points (its most) every 30 s, each over the 5m before it.
START, STEP, COUNT = 1795575600, 30, 301
END = START + STEP * (COUNT - 1)


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).replace(tzinfo=None).isoformat()


def series(title, unit, threshold, points, comparison=">", reason=None):
    return {"title": title, "unit": unit, "threshold": threshold, "comparison": comparison, "points": points,
            "breached": slo.breached_spans(points, threshold, comparison), "query": "sum(rate(x{namespace=\"kas\"}[5m]))",
            "reason": reason}


def along(value):
    """Points at every step, value(i) at the i-th."""
    return [[START + STEP * i, value(i)] for i in range(COUNT)]


def with_series():
    """A run that read its metrics as series, at their edges: many points crossing the line again and again, a
    flat series on its line, gaps (null values and missing steps) with a lone point, a share that must stay
    above its SLO, huge and tiny values, every value undefined, no points at all; a restart done and a scale not
    done on the time axis."""
    report = base_report()
    gappy = along(lambda i: 0.4 + i / 200.0)
    for i in range(60, 90):
        gappy[i][1] = None                               # undefined (0/0) for 15 minutes
    gappy[120][1] = None
    gappy[122][1] = None                                 # a lone point between two undefined ones
    del gappy[200:230]                                   # missing steps: Prometheus had no sample
    items = {
        "error_ratio_router": series("5xx share of the route's responses (router)", "ratio", 0.05,
                                     along(lambda i: 0.05 + 0.049 * math.sin(i / 7.0) + (0.004 if i % 3 else 0))),
        "error_ratio": series("5xx share of the API's requests (application)", "ratio", 0.05, along(lambda i: 0.0)),
        "latency_p99_seconds": series("API request duration, 99th percentile", "seconds", 1.0, gappy),
        "fraction_under_1s": series("Share of API requests faster than 1s", "ratio", 0.99,
                                    along(lambda i: 0.999 if i < 150 else 0.95), "<"),
        "cpu_ratio_max": series("CPU of the busiest pod, share of its limit", "ratio", 0.8,
                                along(lambda i: 0.15 if i < 100 else 0.97)),
        "memory_ratio_max": series("Memory of the fullest pod, share of its limit", "ratio", 0.8,
                                   along(lambda i: None)),
        "restarts": series("Restarts of all pods", "count", 0.0, [], reason=HOSTILE[0]),
        "kafka_create_p90_seconds": series("Kafka creation duration, p90", "seconds", 900.0,
                                           along(lambda i: 400.0 + 8 * i)),
        "network_receive_bytes_per_second": series("Network received by the pods", "bytes_per_second", 1048576.0,
                                                   along(lambda i: 5e15 * (1 + i % 5) / 5)),
        "network_receive_errors_per_second": series("Network receive errors", "per_second", None,
                                                    along(lambda i: 1e-9 * (i % 4))),
        "io_write_bytes_per_second": series("Filesystem writes of the service containers", "bytes_per_second",
                                            1048576.0, along(lambda i: 98304.0)),
        "a_figure_from_a_newer_module_" + "x" * 40: series(
            "Something counted " + "y" * 80, "count", None, along(lambda i: 3e13 + i * 1e11)),
    }
    spans = [s["breached"] for s in items.values() if s["breached"]]
    report["evidence"]["metrics"] = {
        "healthy": False, "breaches": [], "series": items,
        "series_range": {"start": START, "end": END, "step": STEP, "lookback": "5m"},
        "incident_window": {"start": min(b[0][0] for b in spans), "end": max(b[-1][1] for b in spans),
                            "figures": [name for name, s in items.items() if s["breached"]]}}
    report["actions"] = [
        {"action": "restart", "mode": "applied", "done": True, "cleared": False, "why": "no leader worker is running",
         "at": iso(START + 5400)},
        {"action": "scale", "mode": "applied", "done": False, "skipped_reason": "at the cap", "why": "CPU spike",
         "at": iso(END + 40) + "+00:00"}]
    return report


# A log line of any length, with the characters that end a Markdown fence, a code span or an HTML element.
LOG_LINES = [
    "E1129 03:58:41.100223 1 provisioning_kafkas_mgr.go:98] failed to reconcile provisioning kafka "
    "cfbm5p2ev4h2a3kqg4c0: " + "the strimzi operator did not answer in time, " * 60,
    "```` a fence of four, then ``` three and ````` five ` `` ",
    "</pre></td></tr></table><h1>not a heading</h1>",
    "token=" + "Z9y8X7w6" * 120,
    "   indented line\twith a tab and \u2028 a separator, then CJK 待機中 and an emoji 🔥",
    "",
] + HOSTILE


def with_findings():
    """The runbook's checks that found rows, with hostile text in ids, statuses, reasons, notes and log lines."""
    report = base_report()
    report["findings"] = [
        {"check": "In case there are records with accepted, provisioning, resource_creating status, and the "
                  "idle_time is over 45 mins, check the log for any abnormality.",
         "table": "kafka_requests",
         "rows": [{"id": "cfbm5p2ev4h2a3kqg4c0", "status": "provisioning", "idle_minutes": 75.2,
                   "log_lines": LOG_LINES},
                  {"id": HOSTILE[1], "status": HOSTILE[2], "idle_minutes": 3000.0, "log_lines": []},
                  {"id": "`" * 7 + "id" + "x" * 200, "status": "accepted", "idle_minutes": 46,
                   "log_lines": ["``````` seven", "`" * 12]}]},
        {"check": "In case there is record with failed status, check the log for the error message.",
         "table": "kafka_requests",
         "rows": [{"id": "cfbm5p2ev4h2a3kqg4d1", "status": "failed", "idle_minutes": 20.0,
                   "failed_reason": "Kafka instance failed: " + HOSTILE[3] + " " + HOSTILE[5] + " " + "r" * 300,
                   "log_lines": [HOSTILE[4]]}]},
        {"check": "Check if there is at least one OSD cluster created and in ready status.", "table": "clusters",
         "rows": [], "note": "no OSD cluster is in ready status " + HOSTILE[0]},
    ]
    return report


CASES = {"long_names": long_names, "long_texts": long_texts, "hostile_text": hostile_text, "no_evidence": no_evidence,
         "with_series": with_series, "with_findings": with_findings}


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
        # a lone point is a dot; a restart without a time (an older record) is not on the axis
        assert [(c["series"], c["dots"], c["polylines"], c["actions"]) for c in seen.charts] == [
            ("cpu_ratio_max", 1, 0, []), ("bare", 0, 1, [])]
        assert "50 % now, limit 80 %, within it throughout" in seen.text
    if case == "hostile_text":
        # HTML and Jinja in the fleet's data reach the reader as these very characters: in the page, and in the
        # Markdown as a Markdown viewer shows it (escaped: no live tag, no link, no emphasis).
        shown = MarkdownIt("commonmark").render(markdown)
        shown_text = html_lib.unescape(re.sub(r"<[^>]+>", "", shown))
        for text in HOSTILE:
            assert text in seen.text, text
            assert text in shown_text, text
        assert "templated" not in seen.text and "loopedlooped" not in seen.text and "loopedlooped" not in markdown
        assert "<script" not in html and "<img" not in html
        assert "<script" not in shown and "<img" not in shown
    if case == "no_evidence":
        assert "no rule was applied" in seen.text
        assert "#metrics" not in report_expectations(report)
    if case == "long_names":
        # metrics read at one instant only (no series): the section says so, with no chart
        assert "No time series" in seen.text and not seen.charts
    if case == "with_series":
        check_series(report, seen, html, markdown)
    if case == "with_findings":
        check_findings(report, seen, html, markdown)


def check_series(report, seen, html, markdown):
    """One figure per series, in the DOM as the data says: lines where there are values, broken at gaps, the line
    the figure crossed between its lowest and highest point, the actions on every chart's time axis."""
    series = report["evidence"]["metrics"]["series"]
    charts = dict((c["series"], c) for c in seen.charts)
    assert sorted(charts) == sorted(series)
    for name, chart in charts.items():
        assert chart["crossed"] == ("yes" if series[name]["breached"] else "no"), name
        assert chart["points"] == len([p for p in series[name]["points"] if p[1] is not None]), name
        if chart["chart"]:
            assert chart["breaches"] == len(series[name]["breached"]), name
            assert chart["incident"] == 1, name
            assert chart["actions"] == ["scale", "restart"], name  # the latest on the top row
            assert 3 <= chart["ticks"] <= 8, name
    cpu = charts["cpu_ratio_max"]
    assert cpu["y_min"] < cpu["threshold_y"] < cpu["y_max"]  # SVG y grows downwards: the line crosses the limit
    flat = charts["error_ratio"]
    assert flat["polylines"] == 1 and flat["y_min"] == flat["y_max"] and flat["threshold_y"] < flat["y_min"]
    assert charts["error_ratio_router"]["polylines"] == 1 and charts["error_ratio_router"]["breaches"] > 5
    # null values, a lone point between two nulls, missing steps: four lines and a dot
    gaps = charts["latency_p99_seconds"]
    assert (gaps["polylines"], gaps["dots"]) == (4, 1)
    share = charts["fraction_under_1s"]  # must stay above its SLO: the axis starts near it, not at 0
    assert share["y_max"] > share["threshold_y"] > share["y_min"] and "below it since" in share["caption"]
    assert charts["network_receive_errors_per_second"]["threshold_y"] is None
    # no points, and points that are all undefined: words, no chart; the query's error is text, not markup
    assert not charts["restarts"]["chart"] and "no data: " + HOSTILE[0] in seen.text
    memory = charts["memory_ratio_max"]
    assert not memory["chart"] and "every point is undefined" in memory["caption"]
    assert "<script" not in html
    # huge and tiny values in units a person reads
    assert "TiB/s" in charts["network_receive_bytes_per_second"]["caption"] and "e-09/s" in seen.text
    assert "46.7 min now, SLO 15 min" in charts["kafka_create_p90_seconds"]["caption"]
    # the Markdown says the same in words
    assert "- CPU of the busiest pod, share of its limit: 97 % now, limit 80 %, over it since 03:50 UTC" in markdown
    assert "- 5xx share of the API's requests (application): 0 % now, SLO 5 %, within it throughout" in markdown
    assert "\nIncident window 03:00–05:30 UTC: 5xx share of the route's responses (router); " in markdown
    assert "- restart (applied) recorded at 04:30 UTC" in markdown


def check_findings(report, seen, html, markdown):
    """Each finding and its rows; the database's and the logs' text shown as those very characters, never markup:
    in the HTML escaped, in the Markdown (rendered by a CommonMark parser) inside fences longer than any backtick
    run and code spans, with no HTML of theirs."""
    for text in HOSTILE + LOG_LINES[1:4]:
        assert text in seen.text, text
    assert "<script" not in html and "<h1>not" not in html and "<img" not in html
    tokens = list(walk(MarkdownIt("commonmark").parse(markdown)))
    assert not [t for t in tokens if t.type.startswith("html")]
    fences = [t for t in tokens if t.type == "fence"]
    logged = [row["log_lines"] for f in report["findings"] for row in f["rows"] if row["log_lines"]]
    assert [t.content for t in fences] == ["\n".join(lines) + "\n" for lines in logged]
    rendered = MarkdownIt("commonmark").render(markdown)
    for text in HOSTILE:
        assert html_lib.escape(text, quote=True).replace("&#x27;", "'") in rendered, text
    assert "no OSD cluster is in ready status" in markdown


def walk(tokens):
    for token in tokens:
        yield token
        yield from walk(token.children or [])
