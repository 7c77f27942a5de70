# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""classify on the lines the lab writes: every line of lab/fleet_lab/logformat.py ERROR_TEMPLATES (copied here
literally, ``{id}`` filled with an xid as the lab does, because the lab is not part of the collection copy the unit
tests run from), the fatal lines of restarted containers, and the noise that must not count as errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kas.fleet_manager.plugins.module_utils import classify

ID = "cq4n7v2bv1k5s0r8a9mg"
ID2 = "ckrmuno4iplrb4utfqq1"


def e_line(source, message, severity="E"):
    return "%s1125 03:58:41.100223       1 %s] %s" % (severity, source, message)


# (category, source, message) of logformat.ERROR_TEMPLATES, verbatim, with {id} replaced.
ERROR_LINES = [
    ("manager_api", "handler_errors.go:48", "Unable to handle request GET /api/kafkas_mgmt/v1/kafkas: "
     "KAFKAS-MGMT-9: Unspecified error: runtime error: invalid memory address or nil pointer dereference"),
    ("manager_api", "api_server.go:142",
     "http: panic serving 10.128.2.1:53422: runtime error: index out of range [3] with length 3"),
    ("manager_api", "kafka.go:212", "KAFKAS-MGMT-9: failed to register kafka request %s: Unspecified error" % ID),
    ("ocm", "clusters_mgr.go:312", "failed to reconcile accepted cluster %s: failed to create cluster: "
     "OCM error: status 503: CLUSTERS-MGMT-503: Service Unavailable" % ID),
    ("ocm", "clusters_mgr.go:355", "failed to get cluster status for %s from ocm: Get "
     "\"https://api.openshift.com/api/clusters_mgmt/v1/clusters/%s/status\": context deadline exceeded" % (ID, ID)),
    ("ocm", "ocm/client.go:221", "ocm client: failed to create addon installation on cluster %s: status 500" % ID),
    ("kafka", "provisioning_kafkas_mgr.go:98", "failed to reconcile provisioning kafka %s: kas-fleetshard-operator "
     "reported status 'error': strimzi-cluster-operator: Kafka resource not ready: pod %s-kafka-0 CrashLoopBackOff"
     % (ID, ID)),
    ("kafka", "ready_kafkas_mgr.go:77", "failed to reconcile ready kafka %s: strimzi-operator: failed to reconcile "
     "ManagedKafka: KafkaCluster %s timed out waiting for Kafka brokers" % (ID, ID)),
    ("kafka", "deleting_kafkas_mgr.go:91", "failed to delete kafka %s: strimzi: ManagedKafka %s finalizer not removed"
     % (ID, ID)),
    ("database", "leader_election_mgr.go:77",
     "failed to acquire leader lease: dial tcp 10.0.45.3:5432: connect: connection refused"),
    ("database", "kafka.go:398", "failed to list kafka requests: pq: SSL connection has been closed unexpectedly"),
    ("database", "clusters.go:144", "failed to update cluster %s status: sql: database is closed" % ID),
    ("other", "observatorium.go:88", "failed to fetch kafka metrics for %s: unexpected end of JSON input" % ID),
    ("other", "keycloak.go:130", "failed to get token: 401 Unauthorized: invalid_client"),
]

# The lab's fatal lines (kube/logs.py FATAL) that end a restarted container's log, as glog F lines.
FATAL_LINES = [
    ("manager_api", "panic: runtime error: invalid memory address or nil pointer dereference"),
    ("database", "failed to connect to the database: dial tcp 10.0.45.3:5432: connect: connection refused"),
    ("ocm", "unable to create OCM connection: context deadline exceeded"),
    ("kafka", "unable to start workers: no ManagedKafka status from kas-fleetshard-operator: "
              "context deadline exceeded"),
]

# Ordinary lines (logformat.NOISE_TEMPLATES and the startup lines): never errors with the default patterns.
NOISE_LINES = [
    e_line("logger.go:194", "src_ip='10.128.2.1:53422' opid='2RkVqAbCdEfGhIjKlMnOpQrStUv' {\"request_method\":"
           "\"GET\",\"request_url\":\"/api/kafkas_mgmt/v1/kafkas\",\"request_remote_ip\":\"10.128.2.1:53422\"}",
           severity="I"),
    e_line("logger.go:194", "src_ip='10.128.2.7:40110' opid='2RkVqAbCdEfGhIjKlMnOpQrStUv' "
           "{\"response_status_code\":200,\"response_duration\":\"12.3ms\"}", severity="I"),
    e_line("reconciler.go:61", "Timeout triggered reconciliation loop for *kafka_mgrs.ReadyKafkaManager "
           "[9d2e7b10-55c3-4a8f-8e1d-7b6a0c4f2e91]", severity="I"),
    e_line("leader_election_mgr.go:60", "not currently leader, skipping reconcile *kafka_mgrs.AcceptedKafkaManager "
           "[9d2e7b10-55c3-4a8f-8e1d-7b6a0c4f2e91]", severity="I"),
    e_line("sentry.go:61", "Sentry error reporting enabled to sentry.autom8.in on project 8", severity="I"),
    e_line("leader_election_mgr.go:104", "Running as the leader and starting worker *cluster_mgrs.ClusterManager "
           "[3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88]", severity="I"),
]


@pytest.mark.parametrize("category, source, message", ERROR_LINES,
                         ids=["%s-%s" % entry[:2] for entry in ERROR_LINES])
def test_every_lab_error_template_lands_in_its_category(category, source, message):
    line = e_line(source, message)
    assert classify.is_error_line(line, classify.compile_error_patterns())
    assert classify.message_of(line) == message
    assert classify.classify(classify.message_of(line)) == category


def test_every_category_of_the_lab_is_covered():
    assert set(entry[0] for entry in ERROR_LINES) == set(classify.CATEGORIES)


@pytest.mark.parametrize("category, message", FATAL_LINES)
def test_fatal_lines_are_errors_in_their_category(category, message):
    line = e_line("main.go:51", message, severity="F")
    assert classify.is_error_line(line, None)
    assert classify.classify(classify.message_of(line)) == category


@pytest.mark.parametrize("line", NOISE_LINES)
def test_noise_is_not_an_error(line):
    assert not classify.is_error_line(line, classify.compile_error_patterns())


def test_default_patterns_catch_unmarked_exceptions_and_panics():
    regex = classify.compile_error_patterns()
    assert classify.is_error_line(e_line("x.go:1", "java.lang.NullPointerException in handler", "I"), regex)
    assert classify.is_error_line(e_line("x.go:1", "Error: something", "W"), regex)
    assert classify.is_error_line("panic: runtime error: index out of range", regex)
    assert classify.is_error_line("goroutine 1 [running]: ERROR", regex)
    assert not classify.is_error_line("an error in lower case", regex)
    # No patterns at all: only glog E/F lines.
    assert not classify.is_error_line(e_line("x.go:1", "Exception", "I"), None)
    assert classify.is_error_line(e_line("x.go:1", "boom", "E"), None)


def test_message_of_a_line_without_glog_header_is_the_line():
    assert classify.message_of("panic: boom") == "panic: boom"


def test_signature_blurs_ids_uuids_numbers_and_addresses():
    one = "failed to reconcile accepted cluster %s: OCM error: status 503 from 10.0.0.1:443" % ID
    two = "failed to reconcile accepted cluster %s: OCM error: status 504 from 10.0.0.2:8443" % ID2
    assert classify.signature(one) == classify.signature(two)
    assert classify.signature("worker [3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88]") == \
        classify.signature("worker [0a7c2e44-1b9d-4f6e-a3c5-58d9e2f1b7a0]")
    assert classify.signature("failed to create cluster") != classify.signature("failed to delete cluster")
