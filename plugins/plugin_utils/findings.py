# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The runbook Steps' checks that no "How to handle" rule reads, as findings for the report (plain functions,
unit-tested; the findings filter calls them): the stuck and failed rows with the log lines that name them, and
whether any OSD cluster is ready."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The runbook's sentences, per table.
STUCK_CHECK = {
    "clusters": "In case there are records with cluster_accepted, cluster_provisioning, or cluster_provisioned status, "
                "and the idle_time is over 45 mins, check the log for any abnormality.",
    "kafka_requests": "In case there are records with accepted, provisioning, resource_creating status, and the "
                      "idle_time is over 45 mins, check the log for any abnormality.",
}
FAILED_CHECK = {
    "clusters": "In case there is record with failed status, check the log for the error message.",
    "kafka_requests": "In case there is record with 'failed' status, check the log for any abnormality.",
}
READY_CHECK = "Check if there is at least one OSD cluster created and in ready status."


class FindingsError(ValueError):
    """Input that is not the role's evidence."""


def _lines(mentions, row_id):
    return [m.get("text") for m in (mentions.get(row_id) or [])]


def _stuck_rows(table, long_idle, mentions):
    statuses = [table.get("accepted_status")] + list(table.get("in_progress_statuses") or [])
    rows = []
    for status in statuses:
        for row in (table.get("over_threshold") or {}).get(status) or []:
            if (row.get("idle_minutes") or 0) >= long_idle:
                rows.append({"id": row.get("id"), "status": status, "idle_minutes": row.get("idle_minutes"),
                             "log_lines": _lines(mentions, row.get("id"))})
    return rows


def _failed_rows(table, mentions):
    idle = dict((row.get("id"), row.get("idle_minutes")) for row in (table.get("over_threshold") or {}).get("failed") or [])
    rows = []
    for group in table.get("failed_by_reason") or []:
        for row_id in group.get("sample_ids") or []:
            rows.append({"id": row_id, "status": "failed", "idle_minutes": idle.get(row_id),
                         "failed_reason": group.get("failed_reason"), "log_lines": _lines(mentions, row_id)})
    return rows


def mention_ids(results):
    """The ids of the rows the findings will name (stuck past their threshold, or failed), from request_status_info
    results (skipped or failed ones give none): what leader_check should look up in the logs."""
    ids = []
    for result in results or []:
        if not isinstance(result, dict) or result.get("failed") or result.get("skipped"):
            continue
        for rows in (result.get("over_threshold") or {}).values():
            ids.extend(row.get("id") for row in rows or [])
        for group in result.get("failed_by_reason") or []:
            ids.extend(group.get("sample_ids") or [])
    return sorted(set(i for i in ids if i))


def findings(evidence, long_idle_minutes=45):
    """``[{check, table, rows: [{id, status, idle_minutes, [failed_reason], log_lines}], [note]}]`` for the checks
    with something to show: rows idle over ``long_idle_minutes`` in an accepted or in-progress status, failed rows,
    and no OSD cluster ready."""
    if not isinstance(evidence, dict):
        raise FindingsError("findings() takes the evidence (source -> module result), not %s" % type(evidence).__name__)
    mentions = (evidence.get("leaders") or {}).get("mentions") or {}
    out = []
    for source, name in (("clusters", "clusters"), ("kafkas", "kafka_requests")):
        table = evidence.get(source)
        if not isinstance(table, dict) or "statuses" not in table:
            continue
        stuck = _stuck_rows(table, float(long_idle_minutes), mentions)
        if stuck:
            out.append({"check": STUCK_CHECK[name], "table": name, "rows": stuck})
        failed = _failed_rows(table, mentions)
        if failed:
            out.append({"check": FAILED_CHECK[name], "table": name, "rows": failed})
        if name == "clusters" and not (table["statuses"].get("ready") or {}).get("count"):
            out.append({"check": READY_CHECK, "table": name, "rows": [],
                        "note": "no OSD cluster is in ready status"})
    return out


def findings_or_ids(data, long_idle_minutes=45, ids=False):
    """The findings filter: the findings of ``data`` (evidence), or with ``ids`` the ids to look up of ``data`` (a
    list of request_status_info results)."""
    return mention_ids(data) if ids else findings(data, long_idle_minutes)
