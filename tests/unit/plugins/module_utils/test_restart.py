# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests of module_utils/restart.py (fleet_restart's service): history, cooldown and circuit-breaker
arithmetic on fixed clocks, the guards' order, the patch it sends, conflicts, check mode and the wait, against an
in-memory Kubernetes stand-in."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import deployment as d
from ansible_collections.kas.fleet_manager.plugins.module_utils import restart as m
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError
from ansible_collections.kas.fleet_manager.tests.unit.plugins.module_utils.fakes import FakeKube, dep_obj, pod
from ansible_collections.kas.fleet_manager.tests.unit.plugins.modules.utils import FakeModule

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 4, 0, 0, tzinfo=UTC)


def ago(minutes):
    return d.rfc3339(NOW - datetime.timedelta(minutes=minutes))


def entry(minutes_ago, outcome="pending", **extra):
    e = {"at": ago(minutes_ago), "reason": "r", "symptom": "s", "by": "h", "outcome": outcome, "outcome_at": None}
    e.update(extra)
    return e


# -- cooldown ----------------------------------------------------------------------------------------------
def test_cooldown_remaining_arithmetic():
    last = NOW - datetime.timedelta(minutes=5)
    assert m.cooldown_remaining(last, NOW, 15) == 600
    assert m.cooldown_remaining(last - datetime.timedelta(seconds=0.5), NOW, 15) == 600  # rounded up
    assert m.cooldown_remaining(NOW - datetime.timedelta(minutes=15), NOW, 15) == 0
    assert m.cooldown_remaining(NOW - datetime.timedelta(minutes=16), NOW, 15) == 0
    assert m.cooldown_remaining(last, NOW, 0) == 0  # cooldown disabled
    assert m.cooldown_remaining(None, NOW, 15) == 0


def test_last_restart_takes_history_and_manual_restarts():
    history = [entry(50), entry(30)]
    assert m.last_restart(history) == NOW - datetime.timedelta(minutes=30)
    # a person's kubectl rollout restart (the template annotation) counts too
    assert m.last_restart(history, ago(2)) == NOW - datetime.timedelta(minutes=2)
    assert m.last_restart([], None) is None
    assert m.last_restart([], "garbage") is None


# -- breaker -----------------------------------------------------------------------------------------------
def test_breaker_counts_pending_and_not_cleared_in_window_only():
    history = [entry(90, "not_cleared"), entry(40, "cleared"), entry(30, "not_cleared"), entry(10, "pending")]
    b = m.breaker_state(history, NOW, 2, 60)
    assert b == {"open": True, "restarts_not_cleared": 2, "max_restarts": 2, "window_minutes": 60}
    assert m.breaker_state(history, NOW, 3, 60)["open"] is False
    # a shorter window leaves the 30-minute-old one out
    assert m.breaker_state(history, NOW, 2, 20) == {"open": False, "restarts_not_cleared": 1, "max_restarts": 2,
                                                    "window_minutes": 20}


def test_breaker_ignores_cleared_and_reset_restarts():
    history = [entry(30, "cleared"), entry(20, "not_cleared", reset=True), entry(10, "cleared")]
    assert m.breaker_state(history, NOW, 1, 60)["restarts_not_cleared"] == 0


def test_breaker_window_edge_is_exclusive():
    assert m.breaker_state([entry(60)], NOW, 1, 60)["open"] is False
    assert m.breaker_state([entry(59)], NOW, 1, 60)["open"] is True


# -- decision order ----------------------------------------------------------------------------------------
def summary(in_progress=False, restarted_at=None):
    return {"rollout_in_progress": in_progress, "restarted_at": restarted_at, "updated_replicas": 1,
            "desired_replicas": 3, "available_replicas": 2, "observed_generation": 4, "generation": 5}


def test_decide_order_circuit_then_cooldown_then_rollout():
    two_bad = [entry(40, "not_cleared"), entry(5, "pending")]
    reason, facts = m.decide(summary(in_progress=True), two_bad, NOW, 15, 2, 60)
    assert reason == "circuit_open"
    assert facts["cooldown_remaining_seconds"] == 600
    reason, facts = m.decide(summary(in_progress=True), [entry(5)], NOW, 15, 2, 60)
    assert reason == "cooldown"
    assert facts["last_restarted_at"] == ago(5)
    reason = m.decide(summary(in_progress=True), [entry(20)], NOW, 15, 2, 60)[0]
    assert reason == "rollout_in_progress"
    reason, facts = m.decide(summary(), [entry(20)], NOW, 15, 2, 60)
    assert reason is None
    assert facts["breaker"]["restarts_not_cleared"] == 1


def test_skip_messages_say_what_to_do():
    facts = m.decide(summary(), [entry(40, "not_cleared"), entry(20, "not_cleared")], NOW, 15, 2, 60)[1]
    msg = m.skip_message("circuit_open", "kas-fleet-manager", facts, summary(), 15)
    assert "circuit breaker open: 2 restart(s)" in msg and "escalate to the Control Plane team" in msg
    facts = m.decide(summary(), [entry(5)], NOW, 15, 2, 60)[1]
    assert "not restarting again for 600 s" in m.skip_message("cooldown", "kas-fleet-manager", facts, summary(), 15)
    assert "rollout of deployment kas-fleet-manager is in progress (1/3 updated" in m.skip_message(
        "rollout_in_progress", "kas-fleet-manager", facts, summary(True), 15)


# -- history edits -----------------------------------------------------------------------------------------
def test_append_trims_to_newest_entries():
    history = [entry(100 - i) for i in range(m.HISTORY_MAX)]
    new = m.append_entry(history, m.new_entry(NOW, "why", "what", "awx-1"))
    assert len(new) == m.HISTORY_MAX
    assert new[0] == history[1]
    assert new[-1] == {"at": "2026-11-25T04:00:00Z", "reason": "why", "symptom": "what", "by": "awx-1",
                       "outcome": "pending", "outcome_at": None}


def test_record_outcome_latest_or_by_time():
    history = [entry(30), entry(10)]
    new, rec, changed = m.record_outcome(history, "cleared", NOW)
    assert changed and rec["at"] == ago(10) and rec["outcome"] == "cleared" and rec["outcome_at"] == ago(0)
    assert history[1]["outcome"] == "pending"  # the input is not modified
    new, rec, changed = m.record_outcome(history, "not_cleared", NOW, restarted_at=ago(30))
    assert changed and new[0]["outcome"] == "not_cleared" and new[1]["outcome"] == "pending"
    # same outcome again: nothing changes
    changed = m.record_outcome(new, "not_cleared", NOW, restarted_at=ago(30))[2]
    assert not changed
    # an offset spelling of the same time matches
    rec = m.record_outcome(history, "cleared", NOW, restarted_at="2026-11-25T04:50:00+01:00")[1]
    assert rec["at"] == ago(10)


def test_record_outcome_errors():
    assert m.record_outcome([], "cleared", NOW) == ([], None, False)
    with pytest.raises(FleetError, match="no restart at 2026-11-25T01:00:00Z"):
        m.record_outcome([entry(10)], "cleared", NOW, restarted_at="2026-11-25T01:00:00Z")
    with pytest.raises(FleetError, match="not an RFC 3339 time"):
        m.record_outcome([entry(10)], "cleared", NOW, restarted_at="soon")


def test_reset_closes_the_breaker_and_keeps_the_history():
    history = [entry(90, "not_cleared"), entry(30, "not_cleared"), entry(20, "cleared"), entry(5)]
    new, count = m.reset_breaker(history, NOW, 60)
    assert count == 2
    assert [e.get("reset", False) for e in new] == [False, True, False, True]
    assert m.breaker_state(new, NOW, 1, 60)["open"] is False
    # the cooldown still holds after a reset
    assert m.cooldown_remaining(m.last_restart(new), NOW, 15) == 600


def test_load_history_is_sorted_and_rejects_garbage():
    dep = {"metadata": {"name": "x", "annotations": {d.RESTART_HISTORY: json.dumps(
        [entry(10), {"at": "nonsense"}, "junk", entry(30)])}}}
    assert [e["at"] for e in m.load_history(dep)] == [ago(30), ago(10)]
    assert m.load_history({"metadata": {"name": "x"}}) == []
    bad = {"metadata": {"name": "x", "annotations": {d.RESTART_HISTORY: "{not json"}}}
    with pytest.raises(FleetError, match="annotation kas.fleet_manager/restart-history on deployment x is not a "
                                         "JSON list"):
        m.load_history(bad)


def test_restart_patch_is_what_kubectl_rollout_restart_writes_plus_the_history():
    patch = m.restart_patch("2026-11-25T04:00:00Z", [entry(0)], "123")
    assert patch["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2026-11-25T04:00:00Z"}
    assert patch["metadata"]["resourceVersion"] == "123"
    assert json.loads(patch["metadata"]["annotations"]["kas.fleet_manager/restart-history"]) == [entry(0)]


# -- the service against an in-memory API ------------------------------------------------------------------
DEFAULTS = dict(namespace="ns", deployment="kas-fleet-manager", state="restarted", reason="rule",
                symptom="no_leader", outcome=None, restarted_at=None, cooldown=15, max_restarts=2,
                window=60, wait=True, wait_timeout=5, wait_sleep=1)


def fake_module(check_mode=False, diff=False, **params):
    return FakeModule(DEFAULTS, check_mode, diff, **params)


def restarter(kube, check_mode=False, diff=False, now=NOW, **params):
    return m.Restarter(fake_module(check_mode, diff, **params), kube=kube, now=lambda: now, host="awx-1")


def history_on(kube):
    return json.loads(kube.dep["metadata"]["annotations"][d.RESTART_HISTORY])


def test_restart_patches_waits_and_records_history():
    kube = FakeKube(dep_obj(), [pod("old-%d" % i) for i in range(3)])
    result = restarter(kube).run()
    assert result["restarted"] and result["changed"] and result["skipped_reason"] is None
    assert result["restarted_at"] == "2026-11-25T04:00:00Z"
    assert kube.dep["spec"]["template"]["metadata"]["annotations"][d.RESTARTED_AT] == "2026-11-25T04:00:00Z"
    assert history_on(kube) == result["history"] == [
        {"at": "2026-11-25T04:00:00Z", "reason": "rule", "symptom": "no_leader", "by": "awx-1", "outcome": "pending",
         "outcome_at": None}]
    assert result["pods_before"] == ["old-0", "old-1", "old-2"]
    assert result["pods_after"] == ["new1-0", "new1-1", "new1-2"]
    assert result["rollout"]["status"] == "complete"
    assert result["breaker"] == {"open": False, "restarts_not_cleared": 1, "max_restarts": 2, "window_minutes": 60}
    assert len(kube.patches) == 1 and kube.patches[0]["metadata"]["resourceVersion"] == "1"


def test_second_run_inside_cooldown_is_skipped():
    kube = FakeKube(dep_obj(), [pod("p")])
    restarter(kube).run()
    result = restarter(kube, now=NOW + datetime.timedelta(minutes=5)).run()
    assert not result["changed"] and result["skipped_reason"] == "cooldown"
    assert result["cooldown_remaining_seconds"] == 600
    assert len(kube.patches) == 1


def test_breaker_opens_after_two_not_cleared_and_record_and_reset():
    kube = FakeKube(dep_obj(), [pod("p")])
    t = NOW
    restarter(kube, now=t).run()
    restarter(kube, now=t + datetime.timedelta(minutes=1), state="record", outcome="not_cleared").run()
    t += datetime.timedelta(minutes=20)
    restarter(kube, now=t).run()
    result = restarter(kube, now=t + datetime.timedelta(minutes=20)).run()
    assert result["skipped_reason"] == "circuit_open" and result["breaker"]["open"]
    assert "escalate to the Control Plane team" in result["msg"]
    # the second restart cleared after all: the breaker closes
    rec = restarter(kube, now=t + datetime.timedelta(minutes=21), state="record", outcome="cleared").run()
    assert rec["changed"] and rec["recorded"]["outcome"] == "cleared" and not rec["breaker"]["open"]
    assert restarter(kube, now=t + datetime.timedelta(minutes=22)).run()["restarted"]
    # two more pending restarts open it again; reset closes it by hand
    restarter(kube, now=t + datetime.timedelta(minutes=40)).run()
    blocked = restarter(kube, now=t + datetime.timedelta(minutes=56)).run()
    assert blocked["skipped_reason"] == "circuit_open"
    reset = restarter(kube, now=t + datetime.timedelta(minutes=57), state="reset").run()
    assert reset["changed"] and reset["reset_count"] == 2 and not reset["breaker"]["open"]
    assert restarter(kube, now=t + datetime.timedelta(minutes=58)).run()["restarted"]


def test_record_without_any_restart_says_so():
    kube = FakeKube(dep_obj(), [pod("p")])
    result = restarter(kube, state="record", outcome="cleared").run()
    assert result["skipped_reason"] == "no_restart_recorded" and not result["changed"]
    assert kube.patches == []


def test_rollout_in_progress_is_skipped():
    kube = FakeKube(dep_obj(generation=3, observed=2), [pod("p")])
    result = restarter(kube).run()
    assert result["skipped_reason"] == "rollout_in_progress" and kube.patches == []


def test_manual_restart_annotation_counts_for_the_cooldown():
    kube = FakeKube(dep_obj(restarted_at=ago(3)), [pod("p")])
    result = restarter(kube).run()
    assert result["skipped_reason"] == "cooldown" and result["last_restarted_at"] == ago(3)


def test_check_mode_never_patches_and_diffs():
    kube = FakeKube(dep_obj(restarted_at=ago(120)), [pod("p")])
    result = restarter(kube, check_mode=True, diff=True).run()
    assert result["changed"] and not result["restarted"] and kube.patches == []
    assert result["rollout"]["status"] == "check_mode"
    assert result["pods_after"] == result["pods_before"] == ["p"]
    assert result["diff"]["before"] == {d.RESTARTED_AT: ago(120), d.RESTART_HISTORY: []}
    assert result["diff"]["after"][d.RESTARTED_AT] == ago(0)
    assert len(result["diff"]["after"][d.RESTART_HISTORY]) == 1
    assert d.RESTART_HISTORY not in kube.dep["metadata"]["annotations"]


def test_check_mode_reports_a_forbidden_patch():
    kube = FakeKube(dep_obj(), [pod("p")], allowed=False)
    with pytest.raises(FleetError, match=r"cannot patch deployment ns/kas-fleet-manager: forbidden \(403\)"):
        restarter(kube, check_mode=True).run()
    assert kube.patches == []


def test_forbidden_patch_names_verb_and_resource():
    kube = FakeKube(dep_obj(), [pod("p")], allowed=False)
    with pytest.raises(FleetError, match="cannot patch deployment ns/kas-fleet-manager: forbidden") as err:
        restarter(kube).run()
    assert err.value.details["restarted"] is False


def test_conflict_rereads_and_redecides():
    kube = FakeKube(dep_obj(), [pod("p")], conflicts=1)
    result = restarter(kube).run()
    assert result["restarted"]
    assert [p["metadata"]["resourceVersion"] for p in kube.patches] == ["1", "2"]


def test_missing_deployment_is_a_plain_failure():
    kube = FakeKube(None, [])
    with pytest.raises(FleetError, match="deployment kas-fleet-manager not found in namespace ns") as err:
        restarter(kube).run()
    assert err.value.details["skipped_reason"] == "deployment_missing"


def test_unhealthy_rollout_fails_with_what_was_seen():
    kube = FakeKube(dep_obj(), [pod("p%d" % i) for i in range(3)], rollout_ok=False)
    with pytest.raises(FleetError) as err:
        restarter(kube, wait_timeout=1, wait_sleep=1).run()
    msg = err.value.msg
    assert "was restarted at 2026-11-25T04:00:00Z but its rollout was not healthy after 1 s" in msg
    assert "observed generation 2 of 3" in msg
    details = err.value.details
    assert details["restarted"] and details["changed"] and details["rollout"]["status"] == "timeout"
    assert len(history_on(kube)) == 1  # the restart is recorded and counts against the breaker


def test_no_wait_returns_at_once():
    kube = FakeKube(dep_obj(), [pod("p")], rollout_ok=False)
    result = restarter(kube, wait=False).run()
    assert result["restarted"] and result["rollout"]["status"] == "not_waited"


def test_reset_rewrites_a_malformed_history():
    kube = FakeKube(dep_obj(annotations={d.RESTART_HISTORY: "oops"}), [pod("p")])
    with pytest.raises(FleetError, match="not a JSON list"):
        restarter(kube).run()
    result = restarter(kube, state="reset").run()
    assert result["changed"] and history_on(kube) == []
