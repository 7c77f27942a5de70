#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: request_status_info
short_description: Count the fleet manager's OSD cluster and Kafka requests by status and idle time
version_added: 0.1.0
description:
  - The runbook's database check in the I(OSD cluster) and I(Kafka cluster) provisioning sections, "Look up
    secret/kas-fleet-manager-rds, login to database" and count the rows by status and idle time (its query is
    returned as RV(runbook_query)), with the thresholds of its "How to handle" rules applied.
  - For one table (O(table)), returns per status the number of requests, the oldest idle time and how many sit idle
    past the status's threshold (cluster_accepted over 3 minutes is the restart rule; a not ready status over 45
    minutes is the escalation rule), a few of those requests as samples, the failed requests grouped by failed
    reason, and the runbook query's own result to compare with psql.
  - Runs in a READ ONLY transaction (one snapshot) with a statement timeout. PostgreSQL does the aggregation
    (GROUP BY, ROW_NUMBER() for the samples), so the result stays small whatever the size of the table.
  - Soft-deleted rows (C(deleted_at) set, upstream's gorm soft delete) are left out unless O(include_deleted=true),
    except in RV(by_status_idle), which is the runbook's query as written.
  - Read-only; call it once per table (the runbook reads C(clusters), then C(kafka_requests)).
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  table:
    description:
      - The table to read. C(clusters) holds the OSD cluster requests, C(kafka_requests) the Kafka requests.
    type: str
    required: true
    choices: [clusters, kafka_requests]
  namespace:
    description:
      - Namespace of the fleet manager, where O(db_secret) is read.
      - Required when the connection comes from the secret, that is when O(login_host) is not given.
    type: str
  db_secret:
    description:
      - Name of the Kubernetes secret with upstream's keys C(db.host), C(db.port), C(db.name), C(db.user),
        C(db.password) and C(db.ca_cert), read from O(namespace) with the Kubernetes options when O(login_host) is
        not given. The runbook's "Relevant secrets".
      - Options given explicitly override the secret's values. Set to an empty string to never read a secret.
    type: str
    default: kas-fleet-manager-rds
  thresholds:
    description:
      - Idle minutes per status past which a request counts in RV(statuses.over_threshold) and is sampled in
        RV(over_threshold), merged over the runbook's defaults. Values must be positive numbers.
      - For C(clusters) the defaults are C(cluster_accepted=3) (restart rule) and O(long_idle_minutes) (the
        runbook's 45) for C(cluster_provisioning), C(cluster_provisioned), C(waiting_for_kas_fleetshard_operator),
        C(deprovisioning) and C(cleanup).
      - For C(kafka_requests) the defaults are O(long_idle_minutes) for C(accepted), C(preparing), C(provisioning),
        C(resuming), the legacy C(resource_creating), C(deprovision) and C(deleting).
      - A status upstream does not have for the table is accepted with a warning.
    type: dict
    default: {}
  long_idle_minutes:
    description:
      - The runbook's "idle_time is over 45 mins", the default threshold of every status but C(cluster_accepted)
        (see O(thresholds)), and every status also counts its requests idle longer than this
        (RV(statuses.over_long_idle)), the runbook's "check the log for any abnormality" view, which for
        C(cluster_accepted) is longer than its threshold.
    type: float
    default: 45
  include_deleted:
    description:
      - Also count soft-deleted rows (C(deleted_at) set).
    type: bool
    default: false
  max_samples:
    description:
      - At most this many requests per status in RV(over_threshold), and ids per reason in RV(failed_by_reason), the
        ones idle longest first. C(0) for counts only. At most 1000.
    type: int
    default: 5
notes:
  - The database login only needs C(SELECT) on the table (the lab's C(kas_runbook) login has nothing more); the
    module never writes, in check mode or not.
  - Idle time is the time since C(updated_at) on the database server's clock, as in the runbook's query.
seealso:
  - name: kas-fleet-manager SOP
    description: The runbook this module automates (OSD and Kafka cluster provisioning sections).
    link: https://github.com/bf2fc6cc711aee1a0c2a/kas-fleet-manager/blob/main/docs/sop/kas-fleet-manager-sop.md
extends_documentation_fragment:
  - kas.fleet_manager.k8s_auth
  - kas.fleet_manager.db
  - kas.fleet_manager.attributes.info_module
"""

EXAMPLES = r"""
- name: Count OSD cluster requests by status, from the kas-fleet-manager-rds secret
  kas.fleet_manager.request_status_info:
    table: clusters
    namespace: kas-fleet-manager-stage
    kubeconfig: /etc/kas-sre/kubeconfig
  register: clusters

- name: Restart rule - cluster requests in cluster_accepted idle over 3 minutes
  ansible.builtin.debug:
    msg: "{{ clusters.statuses.cluster_accepted.over_threshold }} cluster request(s) stuck in cluster_accepted"
  when: clusters.statuses.cluster_accepted.over_threshold > 0

- name: Escalation rule - not ready and not accepted, idle over 45 minutes
  ansible.builtin.debug:
    msg: "{{ clusters | kas.fleet_manager.stuck('in_progress') }}"

- name: Count Kafka requests with direct credentials, soft-deleted ones too, a stricter provisioning threshold
  kas.fleet_manager.request_status_info:
    table: kafka_requests
    login_host: kas-fleet-manager.cluster-abc.us-east-1.rds.amazonaws.com
    login_user: kas_runbook
    login_password: "{{ vault_kas_runbook_password }}"
    ssl_mode: verify-full
    ssl_rootcert: /etc/kas-sre/rds-ca.pem
    include_deleted: true
    thresholds:
      provisioning: 30
  register: kafkas

- name: Failed Kafka requests, by failed reason
  ansible.builtin.debug:
    msg: "{{ item.count }} x {{ item.failed_reason }} (e.g. {{ item.sample_ids | join(', ') }})"
  loop: "{{ kafkas.failed_by_reason }}"
"""

RETURN = r"""
table:
  description: The table read.
  returned: success
  type: str
  sample: clusters
source:
  description: Where the connection settings came from, C(options) or C(secret NAMESPACE/NAME). Never the password.
  returned: success
  type: str
  sample: secret kas-fleet-manager-stage/kas-fleet-manager-rds
checked_at:
  description: The database's time of the snapshot (its now function), in UTC; idle times are relative to it.
  returned: success
  type: str
  sample: "2026-11-25T04:00:00Z"
total:
  description: Rows counted (soft-deleted ones only with O(include_deleted=true)); the sum of the statuses' counts.
  returned: success
  type: int
  sample: 5
soft_deleted:
  description: Soft-deleted rows in the table, counted in RV(total) only with O(include_deleted=true).
  returned: success
  type: int
  sample: 0
include_deleted:
  description: The O(include_deleted) in effect.
  returned: success
  type: bool
  sample: false
thresholds:
  description: The effective thresholds (the runbook's merged with O(thresholds)), status to minutes.
  returned: success
  type: dict
  sample: {cluster_accepted: 3, cluster_provisioning: 45, cluster_provisioned: 45,
           waiting_for_kas_fleetshard_operator: 45, deprovisioning: 45, cleanup: 45}
long_idle_minutes:
  description: The O(long_idle_minutes) in effect.
  returned: success
  type: float
  sample: 45
statuses:
  description:
    - Per status, every status found plus every status with a threshold (count 0 when none), in upstream's
      lifecycle order.
  returned: success
  type: dict
  contains:
    count:
      description: Requests in the status.
      type: int
    oldest_idle_minutes:
      description: Minutes since the oldest C(updated_at) of the status (two decimals); null when count is 0.
      type: float
    threshold_minutes:
      description: The status's threshold; null for a status without one (C(ready), C(failed)).
      type: float
    over_threshold:
      description: Requests idle longer than the threshold (0 without one).
      type: int
    over_long_idle:
      description: Requests idle longer than O(long_idle_minutes).
      type: int
  sample:
    cluster_accepted: {count: 2, oldest_idle_minutes: 25.02, threshold_minutes: 3, over_threshold: 2,
                       over_long_idle: 0}
    ready: {count: 3, oldest_idle_minutes: 4.51, threshold_minutes: null, over_threshold: 0, over_long_idle: 0}
over_threshold:
  description:
    - Per status with a threshold, up to O(max_samples) requests idle past it, idle longest first.
    - Each has C(id), C(status), C(idle_minutes), C(updated_at), C(deleted_at) and the identifying columns of the
      table, C(cluster_id), C(cloud_provider), C(region), C(provider_type), C(cluster_type) for clusters; C(name),
      C(cluster_id), C(cloud_provider), C(region), C(owner), C(organisation_id), C(instance_type), C(failed_reason)
      for kafka_requests. A column an older schema lacks is null.
  returned: success
  type: dict
  sample:
    cluster_accepted:
      - {id: cdhunvd8igjhbi0nmtt0, status: cluster_accepted, idle_minutes: 25.02,
         updated_at: "2026-11-25T03:34:59Z", deleted_at: null, cluster_id: cdhunvd8igjhbi0nmtt0,
         cloud_provider: aws, region: eu-west-1, provider_type: ocm, cluster_type: managed}
    cluster_provisioning: []
failed_by_reason:
  description:
    - The C(failed) requests grouped by C(failed_reason), most frequent first, with C(count),
      C(oldest_idle_minutes) and up to O(max_samples) C(sample_ids). The clusters table has no failed reason, so its
      failed requests make one group under a null reason.
    - Not named C(failed), which Ansible would read as the task's own failure flag.
  returned: success
  type: list
  elements: dict
  sample:
    - {failed_reason: "Kafka instance failed: strimzi-cluster-operator: Kafka resource not ready after 1800s",
       count: 2, oldest_idle_minutes: 20.01, sample_ids: [cdhv0a58igjhbi0nmtu0, cdhv0a58igjhbi0nmtug]}
by_status_idle:
  description:
    - The runbook's query as written (RV(runbook_query)), soft-deleted rows included, ordered by status and idle
      time, to compare with psql. C(idle_time) is C(HH24:MI), which drops whole days as the runbook's query does.
  returned: success
  type: list
  elements: dict
  sample:
    - {status: cluster_accepted, idle_time: "00:12", count: 1}
    - {status: cluster_accepted, idle_time: "00:25", count: 1}
    - {status: ready, idle_time: "00:02", count: 3}
runbook_query:
  description: The SQL of RV(by_status_idle), to paste into psql.
  returned: success
  type: str
  sample: >-
    select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters group by status,
    to_char(now() - updated_at,'HH24:MI') order by status, idle_time
accepted_status:
  description: The table's first status (C(cluster_accepted) or C(accepted)), the one the restart rule watches.
  returned: success
  type: str
  sample: cluster_accepted
in_progress_statuses:
  description:
    - Upstream's provisioning statuses of the table after the accepted one, the runbook's "not ready and not
      accepted" (neither failed nor deleting), for the escalation rule.
  returned: success
  type: list
  elements: str
  sample: [cluster_provisioning, cluster_provisioned, waiting_for_kas_fleetshard_operator]
deletion_statuses:
  description: Upstream's deletion statuses of the table.
  returned: success
  type: list
  elements: str
  sample: [deprovisioning, cleanup]
reason:
  description:
    - On failure, what kind of failure when it is known, for example C(auth_failed), C(refused), C(timeout),
      C(statement_timeout), C(unknown_table), C(namespace_not_found).
  returned: failure
  type: str
  sample: auth_failed
status:
  description: On a Kubernetes API failure (reading the secret), the HTTP status, for example 403.
  returned: failure
  type: int
  sample: 403
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils.args import db_spec, k8s_auth_spec
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.request_status import TABLES, gather


def argument_spec():
    spec = k8s_auth_spec()
    spec.update(db_spec(db_secret_default=db.DEFAULT_DB_SECRET))
    spec.update(
        table=dict(type="str", required=True, choices=sorted(TABLES)),
        namespace=dict(type="str"),
        thresholds=dict(type="dict", default={}),
        long_idle_minutes=dict(type="float", default=45),
        include_deleted=dict(type="bool", default=False),
        max_samples=dict(type="int", default=5),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True)
SERVICE = gather


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE, require=db.require_psycopg2)


if __name__ == "__main__":
    main()
