# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.evidence import EvidenceError, report_evidence, stuck

CLUSTERS = {
    "table": "clusters",
    "in_progress_statuses": ["cluster_provisioning", "cluster_provisioned", "waiting_for_kas_fleetshard_operator"],
    "deletion_statuses": ["deprovisioning", "cleanup"],
    "statuses": {
        "cluster_accepted": {"count": 2, "oldest_idle_minutes": 25, "threshold_minutes": 3, "over_threshold": 2},
        "cluster_provisioning": {"count": 2, "oldest_idle_minutes": 65, "threshold_minutes": 45, "over_threshold": 2},
        "cluster_provisioned": {"count": 1, "oldest_idle_minutes": 10, "threshold_minutes": 45, "over_threshold": 0},
        "ready": {"count": 3, "oldest_idle_minutes": 5, "threshold_minutes": None, "over_threshold": 0},
        "cleanup": {"count": 1, "oldest_idle_minutes": 50, "threshold_minutes": 45, "over_threshold": 1},
    },
}


def test_in_progress_excludes_accepted_ready_and_deletion():
    assert stuck(CLUSTERS, "in_progress") == [
        {"status": "cluster_provisioning", "over_threshold": 2, "oldest_idle_minutes": 65, "threshold_minutes": 45}]


def test_deletion_and_explicit_lists():
    assert [s["status"] for s in stuck(CLUSTERS, "deletion")] == ["cleanup"]
    assert [s["status"] for s in stuck(CLUSTERS, ["cluster_accepted", "ready"])] == ["cluster_accepted"]


def test_skipped_or_empty_results_give_nothing():
    assert stuck({}, "in_progress") == []
    assert stuck({"skipped": True}, "in_progress") == []


def test_bad_selection_is_an_error():
    with pytest.raises(EvidenceError, match="takes 'in_progress', 'deletion' or a list"):
        stuck(CLUSTERS, "everything")
    with pytest.raises(EvidenceError, match="no in_progress_statuses"):
        stuck({"statuses": {}}, "in_progress")


def test_report_evidence_drops_arguments_and_bookkeeping():
    registered = {"pods": {"changed": False, "invocation": {"module_args": {"api_key": "s3cret"}},
                           "healthy": True, "problems": []}}
    assert report_evidence(registered) == {"pods": {"healthy": True, "problems": []}}
    with pytest.raises(EvidenceError):
        report_evidence(["not", "a", "dict"])
