# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Literal upstream log lines (glog headers, the leader election lines of pkg/workers/leader_election_mgr.go with old
and current Go package prefixes, errors of each team) and leader_leases rows, for the tests of module_utils.leader_scan
and of leader_check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

CM_ID = "3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88"
KM_ID = "0a7c2e44-1b9d-4f6e-a3c5-58d9e2f1b7a0"
AK_ID = "9d2e7b10-55c3-4a8f-8e1d-7b6a0c4f2e91"
CM_ID2 = "5b0f3c1e-2f43-4d0a-8c59-0f1e2d3c4b5a"
KM_ID2 = "7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098"
XID = "cq4n7v2bv1k5s0r8a9mg"
NS = "kas-fleet-manager-stage"
PODS = ["kas-fleet-manager-7c9d5b8f6d-x2lqp", "kas-fleet-manager-7c9d5b8f6d-9wq4z", "kas-fleet-manager-7c9d5b8f6d-tk5vn"]


def glog(message, severity="I", source="logger.go:194", clock="15:12:01.123456"):
    """A line in upstream's format: ``Lmmdd hh:mm:ss.uuuuuu PID file:line] msg``, PID 1 padded to 7."""
    return "%s0628 %s %7d %s] %s" % (severity, clock, 1, source, message)


def started(wtype, wid):
    return glog("Running as the leader and starting worker %s [%s]" % (wtype, wid), source="leader_election_mgr.go:104")


def stopped(wtype, wid, how="No longer the leader"):
    return glog("%s and stopping worker %s [%s]" % (how, wtype, wid),
                source="leader_election_mgr.go:108" if how.startswith("No") else "leader_election_mgr.go:94")


def lease(lease_type, leader, live=True):
    return {"lease_type": lease_type, "leader": leader, "live": live,
            "expires": datetime.datetime(2026, 11, 25, 4, 0, 45, tzinfo=datetime.timezone.utc)}


STARTUP = [
    glog("Initializing stage environment", source="environment.go:89"),
    glog("Sentry error reporting enabled to sentry.autom8.in on project 8", source="sentry.go:61"),
    glog("Starting LeaderElectionManager", source="leader_election_mgr.go:42"),
]
NOISE = [
    glog("src_ip='10.128.2.1:53422' opid='2RkVq' {\"request_method\":\"GET\",\"request_url\":"
         "\"/api/kafkas_mgmt/v1/kafkas\",\"request_remote_ip\":\"10.128.2.1:53422\"}"),
    glog("not currently leader, skipping reconcile *kafka_mgrs.AcceptedKafkaManager [%s]" % AK_ID,
         source="leader_election_mgr.go:60"),
]
OCM_ERROR = ("failed to reconcile accepted cluster %s: failed to create cluster: OCM error: status 503: "
             "CLUSTERS-MGMT-503: Service Unavailable")
STRIMZI_ERROR = ("failed to reconcile ready kafka %s: strimzi-operator: failed to reconcile ManagedKafka: "
                 "KafkaCluster %s timed out waiting for Kafka brokers")
API_ERROR = "http: panic serving 10.128.2.1:53422: runtime error: index out of range [3] with length 3"
DB_ERROR = "failed to acquire leader lease: dial tcp 10.0.45.3:5432: connect: connection refused"
