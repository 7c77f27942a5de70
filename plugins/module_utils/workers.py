# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Upstream kas-fleet-manager's leader-elected workers: the Go type name each logs, and its lease_type.

Source: internal/kafka/providers.go and the leader_leases migrations of upstream; the runbook's builds
logged the same names under the ``workers`` package (``*workers.ClusterManager``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Worker type name (without Go package) -> leader_leases.lease_type
LEASE_TYPES = {
    "ClusterManager": "cluster",
    "DynamicScaleUpManager": "dynamic_scale_up",
    "DynamicScaleDownManager": "dynamic_scale_down",
    "CleanupClustersManager": "cleanup_clusters",
    "DeprovisioningClustersManager": "deprovisioning_clusters",
    "KafkaManager": "general_kafka_worker",
    "AcceptedKafkaManager": "accepted_kafka",
    "PreparingKafkaManager": "preparing_kafka",
    "ProvisioningKafkaManager": "provisioning_kafka",
    "ReadyKafkaManager": "ready_kafka",
    "DeletingKafkaManager": "deleting_kafka",
    "KafkaRoutesCNAMEManager": "kafka_dns",
    "KafkasRoutesTLSCertificateManager": "kafka_routes_tls_certificate",
    "PromotionKafkaManager": "promoting_kafka",
}

# `Running as the leader and starting worker *pkg.Type [uuid]` (leader_election_mgr.go), any package prefix.
# The workers the runbook names ("exactly one OSD cluster leader", "one Kafka cluster leader"): leader_check's default.
RUNBOOK_WORKERS = ("ClusterManager", "KafkaManager")

LEADER_START = re.compile(r"Running as the leader and starting worker \*(\w+)\.(\w+) \[([^\]]*)\]")
LEADER_STOP = re.compile(r"(?:No longer the leader|Terminating) and stopping worker \*(\w+)\.(\w+) \[([^\]]*)\]")
