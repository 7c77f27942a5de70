#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: leader_check
short_description: Check that exactly one pod leads each fleet manager worker, and count the log errors by team
version_added: 0.1.0
description:
  - The runbook's "check the log to ensure there is exactly one OSD cluster leader running"
    (C(grep 'Running as the leader.*ClusterManager')), for the ClusterManager, the KafkaManager or any other
    leader-elected worker of upstream kas-fleet-manager, and its "look for any Error/Exception messages" with each
    error put in the runbook's categories (Manager Services API, OCM, Kafka or strimzi-operator, database, other).
  - Reads the log of the O(container) container of every pod of the O(deployment) (or of the pods O(label_selector)
    selects) as a stream, line by line; a log is never held whole in memory.
  - A pod leads a worker when its log has C(Running as the leader and starting worker *pkg.Worker [id]) and no later
    C(No longer the leader and stopping worker) (or C(Terminating and stopping worker)) line for that worker. Any Go
    package prefix matches (C(*workers.ClusterManager) of old builds, C(*cluster_mgrs.ClusterManager) now); the
    worker name must match exactly, so C(*kafka_mgrs.AcceptedKafkaManager) is not a KafkaManager leader.
  - With O(include_previous), the log of the previous container of a restarted pod is scanned for errors too; a
    restart ends that container's leadership, so its leader lines do not count.
  - When a database is given (O(login_host) or O(db_secret)), the leases of C(leader_leases) are read as well and
    set against the logs, in a READ ONLY transaction; the worker id in brackets is what C(leader_leases.leader)
    holds.
  - Pods whose container has not started (the API answers that it is waiting to start) are listed in
    RV(unreadable), not failed.
  - Read-only.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  namespace:
    description:
      - Namespace of the fleet manager.
    type: str
    required: true
  deployment:
    description:
      - The fleet manager's deployment; its pods are those its C(spec.selector) selects.
      - Mutually exclusive with O(label_selector), which is used instead when given.
    type: str
    default: kas-fleet-manager
  label_selector:
    description:
      - A label selector (C(app=kas-fleet-manager)) that picks the pods directly, without reading a deployment.
    type: str
  container:
    description:
      - The container whose log is read. The fleet manager's pods run C(service) and C(envoy-sidecar).
    type: str
    default: service
  workers:
    description:
      - The leader-elected workers to check, by upstream name (a Go type such as C(*cluster_mgrs.ClusterManager) is
        taken by its name).
      - The runbook checks C(ClusterManager) (OSD clusters) and C(KafkaManager) (Kafka requests). The others are
        C(DynamicScaleUpManager), C(DynamicScaleDownManager), C(CleanupClustersManager),
        C(DeprovisioningClustersManager), C(AcceptedKafkaManager), C(PreparingKafkaManager),
        C(ProvisioningKafkaManager), C(ReadyKafkaManager), C(DeletingKafkaManager), C(KafkaRoutesCNAMEManager),
        C(KafkasRoutesTLSCertificateManager) and C(PromotionKafkaManager). Any other name fails.
    type: list
    elements: str
    default: [ClusterManager, KafkaManager]
  include_previous:
    description:
      - Also scan the log of the previous container of pods whose O(container) restarted, for errors.
    type: bool
    default: true
  since_seconds:
    description:
      - Read only the log lines of the last N seconds (the log API's C(sinceSeconds)).
      - The leader line is logged once, when the leadership starts, so a window can leave a leader out; the module
        warns when a worker has no leader while a window is set.
    type: int
  tail_lines:
    description:
      - Read only the last N lines of each log (C(tailLines)). Same caveat as O(since_seconds).
    type: int
  limit_bytes:
    description:
      - Read at most N bytes of each log, from its start (or from the start of the window) (C(limitBytes)).
    type: int
  error_patterns:
    description:
      - Regular expressions (Python C(re)) that make a log line an error line. glog C(E) and C(F) lines are always
        error lines.
      - An empty list keeps only glog C(E)/C(F) lines.
    type: list
    elements: str
    default: ['\bError\b', '\bERROR\b', '[Ee]xception', '\bpanic\b']
  max_samples:
    description:
      - At most this many distinct error messages (de-duplicated with their ids and numbers blurred) per category
        in RV(errors.samples). V(0) returns none. At most 100.
    type: int
    default: 5
  mentions:
    description:
      - Ids (of database rows, such as the stuck or failed C(clusters) and C(kafka_requests) of
        M(kas.fleet_manager.request_status_info)) to look up in the same pass over the logs; the lines naming each are
        returned in RV(mentions), at most 5 per id. The runbook's "check the log for any abnormality" and "check the
        log for the error message". At most 200 ids are looked up.
    type: list
    elements: str
    default: []
notes:
  - The Kubernetes credentials need C(get) on C(deployments) (unless O(label_selector) is given), C(list) on C(pods),
    C(get) on C(pods/log), and C(get) on C(secrets) with O(db_secret).
  - The database login needs C(SELECT) on C(leader_leases) only.
seealso:
  - module: kas.fleet_manager.fleet_pods_info
  - module: kas.fleet_manager.fleet_access_info
extends_documentation_fragment:
  - kas.fleet_manager.k8s_auth
  - kas.fleet_manager.db
  - kas.fleet_manager.attributes.info_module
"""

EXAMPLES = r"""
- name: Check that exactly one pod leads the ClusterManager and the KafkaManager
  kas.fleet_manager.leader_check:
    namespace: kas-fleet-manager-stage
    kubeconfig: /etc/kas-sre/kubeconfig
  register: leaders

- name: Say which workers have no leader, or more than one
  ansible.builtin.debug:
    msg: >-
      no leader: {{ leaders.missing | join(', ') or 'none' }};
      several leaders: {{ leaders.duplicated | join(', ') or 'none' }}
  when: not leaders.healthy

- name: Also set the leader leases of the database against the logs (credentials from the runbook's secret)
  kas.fleet_manager.leader_check:
    namespace: kas-fleet-manager-production
    db_secret: kas-fleet-manager-rds
    workers: [ClusterManager, KafkaManager, AcceptedKafkaManager, ProvisioningKafkaManager]
  register: leaders

- name: Show where the logs and the leases disagree
  ansible.builtin.debug:
    msg: "{{ leaders.disagreements | map(attribute='message') | list }}"
  when: leaders.disagreements | length > 0

- name: Only the last hour of each log, errors only from glog E/F lines, 10 samples per category
  kas.fleet_manager.leader_check:
    namespace: kas-fleet-manager-stage
    since_seconds: 3600
    error_patterns: []
    max_samples: 10
  register: recent

- name: Escalate to OCM when the logs show OCM errors
  ansible.builtin.debug:
    msg: >-
      {{ recent.errors.by_category.ocm }} OCM errors, for example
      {{ recent.errors.samples | selectattr('category', '==', 'ocm') | map(attribute='message') | first }}
  when: recent.errors.by_category.ocm > 0

- name: Pods picked by label, database given directly
  kas.fleet_manager.leader_check:
    namespace: kas-fleet-manager-stage
    label_selector: app=kas-fleet-manager
    login_host: kas-fleet-manager-db.example.com
    login_user: kas_runbook
    login_password: "{{ vault_kas_runbook_password }}"
    statement_timeout: 5
"""

RETURN = r"""
workers:
  description: One entry per worker of O(workers).
  returned: always
  type: dict
  contains:
    leaders:
      description: The pods whose current container leads the worker, by name.
      type: list
      elements: str
    count:
      description: How many pods lead it (the runbook wants exactly 1).
      type: int
    worker_ids:
      description: The worker ids the leaders logged, in the order of RV(workers.leaders).
      type: list
      elements: str
    lease_type:
      description: The worker's C(leader_leases.lease_type).
      type: str
    lease:
      description:
        - The worker's lease in C(leader_leases); null when no database was given.
        - C(exists) is false when the table has no row for the lease type.
        - C(pod) is the pod whose log shows the leader id, and C(log_state) how it does - C(leading),
          C(stopped) (it logged that it stopped leading), C(previous_container) (a container since restarted),
          C(mentioned) (a worker line without a leader line) - or null when no scanned log shows it.
      type: dict
      returned: always, null without a database
    agree:
      description: Whether the lease and the logs agree (a live lease held by the only log leader, or no live
        lease and no log leader); null without a database.
      type: bool
  sample:
    ClusterManager:
      leaders: [kas-fleet-manager-7c9d5b8f6d-x2lqp]
      count: 1
      worker_ids: [3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88]
      lease_type: cluster
      lease: {lease_type: cluster, exists: true, leader: 3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88,
              expires: "2026-11-25T04:00:45.120000+00:00", live: true, pod: kas-fleet-manager-7c9d5b8f6d-x2lqp,
              log_state: leading}
      agree: true
    KafkaManager:
      leaders: []
      count: 0
      worker_ids: []
      lease_type: general_kafka_worker
      lease: null
      agree: null
missing:
  description: The workers no pod leads.
  returned: always
  type: list
  elements: str
  sample: [KafkaManager]
duplicated:
  description: The workers more than one pod leads.
  returned: always
  type: list
  elements: str
  sample: []
healthy:
  description: True when every worker has exactly one leader (RV(missing) and RV(duplicated) are empty).
  returned: always
  type: bool
  sample: false
errors:
  description: The error lines of every log scanned (current and previous containers).
  returned: always
  type: dict
  contains:
    total:
      description: How many error lines.
      type: int
    by_category:
      description: Error lines per category - C(kafka) (Kafka, strimzi-operator, kas-fleetshard), C(ocm), C(database),
        C(manager_api) (the Manager Services API) and C(other).
      type: dict
    by_pod:
      description: Per pod whose log was read, C(total), C(by_category), and C(previous) (how many of the total
        came from the previous container's log).
      type: dict
    samples:
      description:
        - Distinct error messages, at most O(max_samples) per category, ordered by category then frequency.
        - Each has the C(pod), C(container) and C(previous) of its first line, its C(category), the glog
          C(message) (cut at 500 characters), C(count) (lines with the same message once ids and numbers are
          blurred, in every log), C(first_line_no) (line number of the first one in its log) and C(pods)
          (every pod that logged it).
      type: list
      elements: dict
  sample:
    total: 5
    by_category: {kafka: 0, ocm: 4, database: 1, manager_api: 0, other: 0}
    by_pod:
      kas-fleet-manager-7c9d5b8f6d-x2lqp:
        total: 5
        previous: 0
        by_category: {kafka: 0, ocm: 4, database: 1, manager_api: 0, other: 0}
    samples:
      - pod: kas-fleet-manager-7c9d5b8f6d-x2lqp
        container: service
        previous: false
        category: ocm
        message: "failed to reconcile accepted cluster cq4n7v2bv1k5s0r8a9mg: failed to create cluster: OCM error: status 503"
        count: 4
        first_line_no: 1043
        pods: [kas-fleet-manager-7c9d5b8f6d-x2lqp]
scanned:
  description: How much was read - C(pods) (pods whose current log was read), C(bytes), C(lines), and C(logs),
    one entry per log read with C(pod), C(container), C(previous), C(bytes) and C(lines).
  returned: always
  type: dict
  sample:
    pods: 1
    bytes: 65611
    lines: 412
    logs: [{pod: kas-fleet-manager-7c9d5b8f6d-x2lqp, container: service, previous: false, bytes: 65611, lines: 412}]
pods:
  description: The pods selected, by name - C(phase), C(ready) (the Ready condition), C(restarts) (of O(container)),
    C(readable) (its current log was read), C(leads) (the workers of O(workers) it leads) and C(lost) (those
    it led and then stopped leading).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: kas-fleet-manager-7c9d5b8f6d-x2lqp, phase: Running, ready: true, restarts: 0, readable: true,
       leads: [ClusterManager], lost: [KafkaManager]}
unreadable:
  description: The logs that could not be read, with the API's C(reason) and HTTP C(status) - a container waiting
    to start, a previous container the API no longer has, a pod without O(container).
  returned: always
  type: list
  elements: dict
  sample:
    - pod: kas-fleet-manager-7c9d5b8f6d-9wq4z
      container: service
      previous: false
      status: 400
      reason: >-
        cannot read the log of container service in pod kas-fleet-manager-stage/kas-fleet-manager-7c9d5b8f6d-9wq4z:
        the Kubernetes API answered 400: container "service" in pod "kas-fleet-manager-7c9d5b8f6d-9wq4z" is waiting
        to start: trying and failing to pull image
selector:
  description: The label selector the pods were listed with.
  returned: always
  type: str
  sample: app=kas-fleet-manager
sources:
  description:
    - What each source saw. C(log) - per worker, the pods whose log shows them leading. C(leases) - per worker,
      the lease's C(leader), C(live) and C(pod), or null without a database. C(database) - where the database
      login came from (C(options) or C(secret NAMESPACE/NAME)), or null.
  returned: always
  type: dict
  sample:
    log: {ClusterManager: [kas-fleet-manager-7c9d5b8f6d-x2lqp], KafkaManager: []}
    leases:
      ClusterManager: {leader: 3f1c9a52-6b0e-4d8e-9a47-0c5e2b7d1f88, live: true, pod: kas-fleet-manager-7c9d5b8f6d-x2lqp}
      KafkaManager: {leader: 0a7c2e44-1b9d-4f6e-a3c5-58d9e2f1b7a0, live: false, pod: null}
    database: secret kas-fleet-manager-stage/kas-fleet-manager-rds
mentions:
  description:
    - For each id of O(mentions), the log lines that name it (C(pod), C(previous) container or not, C(line) number,
      C(text) cut at 500 characters), at most 5; an id no line names has an empty list.
  returned: always
  type: dict
  sample:
    cfbm5p2ev4h2a3kqg4c0:
      - pod: kas-fleet-manager-5d8f7c9b4-abcde
        previous: false
        line: 1042
        text: "E1129 03:58:41.100223       1 provisioning_kafkas_mgr.go:98] failed to reconcile provisioning kafka cfbm5p2ev4h2a3kqg4c0: ..."
disagreements:
  description:
    - Where the leases and the logs disagree (empty without a database), each with C(worker), C(lease_type), C(kind),
      a C(message) in words, C(log_leaders), C(lease_leader) and C(lease_pod).
    - C(kind) is C(lease_live_no_log_leader) (a live lease, no leader in the logs), C(lease_holder_not_log_leader)
      (a live lease held by another id than the log leader's), C(extra_log_leaders) (the lease names one of
      several log leaders), C(log_leader_lease_expired) (a log leader, but the lease is expired or empty) or
      C(log_leader_no_lease) (a log leader, but no lease row).
  returned: always
  type: list
  elements: dict
  sample:
    - worker: ClusterManager
      lease_type: cluster
      kind: lease_live_no_log_leader
      message: >-
        lease cluster is live, held by 5b0f3c1e-2f43-4d0a-8c59-0f1e2d3c4b5a (a worker id no scanned pod log shows),
        but no pod log shows a ClusterManager leader
      log_leaders: []
      lease_leader: 5b0f3c1e-2f43-4d0a-8c59-0f1e2d3c4b5a
      lease_pod: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils.args import db_spec, k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import DEFAULT_ERROR_PATTERNS
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import require_k8s
from ansible_collections.kas.fleet_manager.plugins.module_utils.leader_scan import check
from ansible_collections.kas.fleet_manager.plugins.module_utils.workers import RUNBOOK_WORKERS


def argument_spec():
    spec = k8s_auth_spec()
    spec.update(db_spec())
    spec.update(
        namespace=dict(type="str", required=True),
        deployment=dict(type="str", default="kas-fleet-manager"),
        label_selector=dict(type="str"),
        container=dict(type="str", default="service"),
        workers=dict(type="list", elements="str", default=list(RUNBOOK_WORKERS)),
        include_previous=dict(type="bool", default=True),
        since_seconds=dict(type="int"),
        tail_lines=dict(type="int"),
        limit_bytes=dict(type="int"),
        error_patterns=dict(type="list", elements="str", default=list(DEFAULT_ERROR_PATTERNS)),
        max_samples=dict(type="int", default=5),
        mentions=dict(type="list", elements="str", default=[], no_log=False),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True, mutually_exclusive=[["deployment", "label_selector"]])
SERVICE = check


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=require_k8s)


if __name__ == "__main__":
    main()
