# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The stuck filter at its entry point, over request_status_info results as the role registers them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kas.fleet_manager.plugins.filter.stuck import FilterModule

stuck = FilterModule().filters()["stuck"]

KAFKAS = {
    "changed": False, "table": "kafka_requests", "accepted_status": "accepted",
    "in_progress_statuses": ["preparing", "provisioning", "resuming", "resource_creating"],
    "deletion_statuses": ["deprovision", "deleting"],
    "statuses": {
        "accepted": {"count": 2, "oldest_idle_minutes": 50.5, "threshold_minutes": 45, "over_threshold": 1},
        "provisioning": {"count": 2, "oldest_idle_minutes": 46.5, "threshold_minutes": 45, "over_threshold": 1},
        "resource_creating": {"count": 1, "oldest_idle_minutes": 60.5, "threshold_minutes": 45, "over_threshold": 1},
        "ready": {"count": 2, "oldest_idle_minutes": 1.5, "threshold_minutes": None, "over_threshold": 0},
        "deleting": {"count": 1, "oldest_idle_minutes": 100.5, "threshold_minutes": 45, "over_threshold": 1},
    },
}


def test_the_runbooks_selections():
    assert stuck(KAFKAS, "in_progress") == [
        {"status": "provisioning", "over_threshold": 1, "oldest_idle_minutes": 46.5, "threshold_minutes": 45},
        {"status": "resource_creating", "over_threshold": 1, "oldest_idle_minutes": 60.5, "threshold_minutes": 45}]
    assert [s["status"] for s in stuck(KAFKAS, "deletion")] == ["deleting"]
    assert [s["status"] for s in stuck(KAFKAS, ["accepted", "ready"])] == ["accepted"]


def test_a_skipped_or_failed_task_gives_nothing():
    assert stuck({"skipped": True, "skip_reason": "Conditional result was False"}, "in_progress") == []
    assert stuck({"failed": True, "msg": "cannot connect"}, "in_progress") == []


def test_bad_selections_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="takes 'in_progress', 'deletion' or a list"):
        stuck(KAFKAS, "everything")
    with pytest.raises(AnsibleFilterError, match="no deletion_statuses: is it from request_status_info"):
        stuck({"statuses": {}}, "deletion")
