# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The findings filter at its entry point: stuck and failed rows with the log lines naming them, and the ready check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.filter.findings import FilterModule

findings = FilterModule().filters()["findings"]

KAFKAS = {
    "statuses": {"accepted": {"count": 1}, "provisioning": {"count": 2}, "ready": {"count": 9}, "failed": {"count": 2}},
    "accepted_status": "accepted", "in_progress_statuses": ["preparing", "provisioning", "resource_creating"],
    "over_threshold": {"accepted": [{"id": "k-acc", "idle_minutes": 12.0}],
                       "provisioning": [{"id": "k-prov-1", "idle_minutes": 75.5}, {"id": "k-prov-2", "idle_minutes": 46}],
                       "failed": [{"id": "k-old", "idle_minutes": 4300}]},
    "failed_by_reason": [{"failed_reason": "strimzi: not ready", "count": 2, "sample_ids": ["k-new", "k-old"]}],
}
CLUSTERS = {"statuses": {"failed": {"count": 0}}, "accepted_status": "cluster_accepted", "in_progress_statuses": [],
            "over_threshold": {}, "failed_by_reason": []}
LEADERS = {"mentions": {"k-prov-1": [{"pod": "p", "line": 3, "previous": False, "text": "E1 failed k-prov-1: x"}],
                        "k-new": [{"pod": "p", "line": 9, "previous": False, "text": "kafka k-new failed: strimzi"}]}}


def test_stuck_and_failed_rows_with_their_log_lines():
    out = findings({"kafkas": KAFKAS, "leaders": LEADERS})
    stuck, failed = out
    assert stuck["table"] == "kafka_requests" and "check the log for any abnormality" in stuck["check"]
    assert [(r["id"], r["log_lines"]) for r in stuck["rows"]] == [("k-prov-1", ["E1 failed k-prov-1: x"]),
                                                                  ("k-prov-2", [])]
    assert [(r["id"], r["failed_reason"], r["idle_minutes"]) for r in failed["rows"]] == [
        ("k-new", "strimzi: not ready", None), ("k-old", "strimzi: not ready", 4300)]
    assert failed["rows"][0]["log_lines"] == ["kafka k-new failed: strimzi"]


def test_the_knob_moves_the_stuck_rows_and_no_ready_cluster_is_a_finding():
    out = findings({"kafkas": KAFKAS, "clusters": CLUSTERS}, long_idle_minutes=60)
    assert [r["id"] for r in out[1]["rows"]] == ["k-prov-1"]
    assert out[0] == {"check": "Check if there is at least one OSD cluster created and in ready status.",
                      "table": "clusters", "rows": [], "note": "no OSD cluster is in ready status"}


def test_ids_to_look_up():
    assert findings([KAFKAS, {"skipped": True}, {"failed": True, "msg": "x"}], ids=True) == [
        "k-acc", "k-new", "k-old", "k-prov-1", "k-prov-2"]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="findings"):
        findings(["not evidence"])
