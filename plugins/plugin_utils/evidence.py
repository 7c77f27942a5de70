# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Reshaping of the fact modules' results for the rules (plain functions, unit-tested)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class EvidenceError(ValueError):
    """Input that is not a request_status_info result, or a bad status selection."""


def stuck(result, which):
    """Statuses with rows idle past their threshold, from a request_status_info result.

    ``which`` is ``in_progress`` (the result's in_progress_statuses: the runbook's "not ready and not accepted"),
    ``deletion`` (deletion_statuses), or a list of status names. Returns
    ``[{status, over_threshold, oldest_idle_minutes, threshold_minutes}]`` in the result's status order; an
    empty or skipped result gives ``[]``.
    """
    if not result or not isinstance(result, dict) or "statuses" not in result:
        return []
    if which in ("in_progress", "deletion"):
        names = result.get("%s_statuses" % which)
        if names is None:
            raise EvidenceError("the result has no %s_statuses: is it from request_status_info?" % which)
    elif isinstance(which, (list, tuple)):
        names = list(which)
    else:
        raise EvidenceError("stuck() takes 'in_progress', 'deletion' or a list of statuses, not %r" % (which,))
    out = []
    for name in names:
        entry = (result.get("statuses") or {}).get(name)
        if entry and (entry.get("over_threshold") or 0) > 0:
            out.append({"status": name, "over_threshold": entry["over_threshold"],
                        "oldest_idle_minutes": entry.get("oldest_idle_minutes"),
                        "threshold_minutes": entry.get("threshold_minutes")})
    return out


# Keys Ansible adds to every module result; the report keeps only what the module found.
RESULT_NOISE = ("invocation", "changed", "failed", "skipped", "skip_reason", "false_condition", "_ansible_no_log",
                "warnings", "deprecations")


def report_evidence(evidence):
    """The evidence dict (source -> registered result) without Ansible's bookkeeping, module arguments included."""
    if not isinstance(evidence, dict):
        raise EvidenceError("report_evidence() takes the dict of registered results, not %r" % type(evidence).__name__)
    out = {}
    for source, result in evidence.items():
        if isinstance(result, dict):
            out[source] = dict((k, v) for k, v in result.items() if k not in RESULT_NOISE)
        else:
            out[source] = result
    return out
