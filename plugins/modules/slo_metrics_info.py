#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: slo_metrics_info
short_description: Read the fleet manager's SLO figures from Prometheus, Thanos or Grafana and name the breaches
version_added: 0.1.0
description:
  - The runbook's "Investigate the metrics in Grafana" step of the I(down), I(availability) and I(latency) sections
    (application volume, latency, errors; CPU, network, memory, IO), and the provisioning SLOs, as numbers a
    playbook can decide from.
  - Queries a Prometheus-compatible HTTP API (C(/api/v1/query) below O(url)) with upstream kas-fleet-manager's
    metric names, for each of O(windows) and for the windows of the multi-window burn-rate alerts, all evaluated
    at the same instant.
  - Returns request volume, 5xx ratio (from the application and from the router), p99/p95 latency, the share of
    requests under each latency bound, per-pod CPU and memory against the container limits, restarts, Kafka
    creation p90/p99 and Kafka create/delete success ratios, the pods' network traffic, errors and drops and their
    filesystem IO (cAdvisor's counters, per pod and in total, against their baseline); every PromQL it ran (to
    paste into Grafana); the thresholds breached and by how much.
  - With O(series=true), also each figure that has an SLO or a limit as a time series over the window the run
    looked at (C(/api/v1/query_range)), with its threshold line and the spans where it crossed it, for charts.
  - A query that fails or matches no series is listed in RV(unavailable) and makes RV(healthy) null, never true.
    A missing C(up) series is the fleet manager being down, as in upstream's C(absent(up == 1)) alert, so a breach;
    unless no query matched any series at all, which points at wrong labels or URL and is reported as unavailable.
  - One HTTP request per distinct query (about 18 per window plus 10 for the burn-rate windows with the defaults;
    with O(series=true) one more per series), four at a time.
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
options:
  url:
    description:
      - Base URL of the Prometheus HTTP API, below which C(/api/v1/query) is found. A Prometheus or Thanos
        querier (C(https://thanos-querier.example.com)), or Grafana's proxy for a Prometheus datasource
        (C(https://grafana.example.com/api/datasources/proxy/uid/<uid>)).
  namespace:
    description:
      - Namespace of the fleet manager (the C(namespace) label of its series, the C(exported_namespace) label of
        the router's), for example C(kas-fleet-manager-stage).
    type: str
    required: true
  job:
    description:
      - C(job) label of the fleet manager's own metrics.
    type: str
    default: kas-fleet-manager-metrics
  route:
    description:
      - C(route) label of the router's (haproxy) series for the fleet manager's route, upstream's availability SLI.
    type: str
    default: kas-fleet-manager
  deployment:
    description:
      - Name of the deployment; container metrics are taken from pods named C(<deployment>-<hash>-<suffix>).
    type: str
    default: kas-fleet-manager
  container:
    description:
      - Name of the fleet manager's container in its pods (the C(container) label of cAdvisor and kube-state-metrics).
    type: str
    default: service
  windows:
    description:
      - The windows to report figures for, as PromQL durations.
    type: list
    elements: str
    default: [5m, 1h]
  include:
    description:
      - Which groups of figures to query. C(requests) is volume and 5xx ratios, C(latency) the quantiles and the
        shares under the latency bounds, C(resources) CPU, memory and restarts per pod, C(kafka) the Kafka
        creation latency and operation success, C(burn_rates) the availability and latency burn-rate windows,
        C(network) the pods' bytes received and sent, receive and transmit errors and dropped packets, C(io) the
        service containers' filesystem reads and writes (bytes and operations). C(up) is always queried.
      - C(network) reads cAdvisor's counters as the kubelet reports them, once per pod for its sandbox
        (C(container="POD") under CRI-O, C(container="") under containerd) and per interface; C(io) per
        container (O(container)) and block device.
    type: list
    elements: str
    choices: [requests, latency, resources, kafka, burn_rates, network, io]
    default: [requests, latency, resources, kafka, burn_rates, network, io]
  thresholds:
    description:
      - The SLOs and limits checked. Defaults are upstream's SLOs. Set one to V(null) to skip that check.
    type: dict
    suboptions:
      availability:
        description:
          - Availability target (share of non-5xx responses). A window whose 5xx ratio is above C(1 - availability)
            is a breach, and so is a burn-rate pair of O(thresholds.burn_rates) whose both windows burn faster than
            C(factor * (1 - availability)).
        type: float
        default: 0.95
      burn_rates:
        description:
          - The multi-window burn-rate alerts, as upstream's rules (30m and 6h over 6x, 2h and 1d over 3x, 6h and
            3d over 1x the error budget), applied to availability and to each latency SLO.
        type: list
        elements: dict
        default:
          - {short: 30m, long: 6h, factor: 6.0, severity: critical}
          - {short: 2h, long: 1d, factor: 3.0, severity: high}
          - {short: 6h, long: 3d, factor: 1.0, severity: high}
        suboptions:
          short:
            description: The short window.
            type: str
            required: true
          long:
            description: The long window.
            type: str
            required: true
          factor:
            description: Both windows must burn the error budget faster than this.
            type: float
            required: true
          severity:
            description: Severity of the alert, returned with the breach.
            type: str
            default: high
      latency:
        description:
          - Latency SLOs, each a bound (a bucket of C(api_inbound_request_duration)) and the share of requests that
            must be faster. Federate calls and 5xx answers do not count, as in upstream's rules.
        type: list
        elements: dict
        default:
          - {seconds: 1.0, target: 0.99}
          - {seconds: 0.1, target: 0.9}
        suboptions:
          seconds:
            description: The bound, in seconds; must be one of the histogram's buckets (0.1 1 2 5 10 30 upstream).
            type: float
            required: true
          target:
            description: The share of requests that must be faster than the bound.
            type: float
            required: true
      kafka_create_p90_seconds:
        description: Kafka creation SLO, 90th percentile.
        type: float
        default: 900.0
      kafka_create_p99_seconds:
        description: Kafka creation SLO, 99th percentile.
        type: float
        default: 1800.0
      kafka_create_success:
        description: Share of Kafka creations that must succeed.
        type: float
        default: 0.99
      kafka_delete_success:
        description: Share of Kafka deletions that must succeed.
        type: float
        default: 0.99
      cpu:
        description: A pod using more than this share of its container's CPU limit is a breach.
        type: float
        default: 0.8
      memory:
        description: A pod using more than this share of its container's memory limit is a breach.
        type: float
        default: 0.8
      restarts:
        description: A pod restarting more often than this in a window is a breach.
        type: int
        default: 0
      network_errors_sustained:
        description:
          - A pod whose network errors (receive or transmit) rose during more than this share of a window is a
            breach (C(network_errors)). The share is taken at 30 s steps (a sixtieth of longer windows) of the
            error rate over the 2 minutes before each.
        type: float
        default: 0.5
      network_drops_sustained:
        description: The same for dropped packets (C(network_drops)).
        type: float
        default: 0.5
      network_spike_factor:
        description:
          - The pods' bytes received (or sent) per second over a window above this many times their baseline is a
            breach (C(network_receive_spike), C(network_transmit_spike)). The baseline is the median of the same
            rate through O(thresholds.spike_baseline) before the window.
        type: float
        default: 3.0
      network_spike_min_bytes_per_second:
        description: A network spike must also be above this many bytes per second, so a quiet baseline does not
          make noise a breach.
        type: float
        default: 1048576.0
      network_bytes_per_second:
        description: The pods together receiving (or sending) more bytes per second than this over a window is a
          breach (C(network_receive_limit), C(network_transmit_limit)). No limit by default.
        type: float
      io_spike_factor:
        description: As O(thresholds.network_spike_factor), for the service containers' filesystem reads and writes
          (C(io_read_spike), C(io_write_spike)).
        type: float
        default: 3.0
      io_spike_min_bytes_per_second:
        description: An IO spike must also be above this many bytes per second.
        type: float
        default: 1048576.0
      io_bytes_per_second:
        description: The containers together reading (or writing) more bytes per second than this over a window is a
          breach (C(io_read_limit), C(io_write_limit)). No limit by default.
        type: float
      spike_baseline:
        description: How far back before each window the network and IO baselines reach, as a PromQL duration.
        type: str
        default: 6h
  metric_names:
    description:
      - Metric names, when the deployment renames them (a recording rule, a prefix). Defaults are upstream's.
    type: dict
    suboptions:
      up:
        description: Scrape health of the fleet manager's targets.
        type: str
        default: up
      request_count:
        description: API requests counter (labels code, method, path).
        type: str
        default: api_inbound_request_count
      request_duration:
        description: API request duration histogram, without C(_bucket)/C(_count).
        type: str
        default: api_inbound_request_duration
      router_responses:
        description: The router's responses counter (labels route, exported_namespace, code C(5xx)).
        type: str
        default: haproxy_backend_http_responses_total
      cpu_usage:
        description: Container CPU seconds counter (cAdvisor).
        type: str
        default: container_cpu_usage_seconds_total
      memory_working_set:
        description: Container memory working set gauge (cAdvisor).
        type: str
        default: container_memory_working_set_bytes
      resource_limits:
        description: Container limits (kube-state-metrics v2, label resource C(cpu)/C(memory)).
        type: str
        default: kube_pod_container_resource_limits
      restarts:
        description: Container restarts counter (kube-state-metrics).
        type: str
        default: kube_pod_container_status_restarts_total
      kafka_duration:
        description: Kafka worker duration histogram (label jobType), without C(_bucket).
        type: str
        default: kas_fleet_manager_worker_kafka_duration
      kafka_operations_success:
        description: Successful Kafka operations counter (label operation).
        type: str
        default: kas_fleet_manager_kafka_operations_success_count
      kafka_operations_total:
        description: All Kafka operations counter (label operation).
        type: str
        default: kas_fleet_manager_kafka_operations_total_count
      network_receive_bytes:
        description: Bytes received counter (cAdvisor, per pod sandbox and interface).
        type: str
        default: container_network_receive_bytes_total
      network_transmit_bytes:
        description: Bytes transmitted counter (cAdvisor).
        type: str
        default: container_network_transmit_bytes_total
      network_receive_errors:
        description: Receive errors counter (cAdvisor).
        type: str
        default: container_network_receive_errors_total
      network_transmit_errors:
        description: Transmit errors counter (cAdvisor).
        type: str
        default: container_network_transmit_errors_total
      network_receive_drops:
        description: Received packets dropped counter (cAdvisor).
        type: str
        default: container_network_receive_packets_dropped_total
      network_transmit_drops:
        description: Transmitted packets dropped counter (cAdvisor).
        type: str
        default: container_network_transmit_packets_dropped_total
      fs_read_bytes:
        description: Filesystem bytes read counter (cAdvisor, per container and device).
        type: str
        default: container_fs_reads_bytes_total
      fs_write_bytes:
        description: Filesystem bytes written counter (cAdvisor).
        type: str
        default: container_fs_writes_bytes_total
      fs_reads:
        description: Filesystem reads completed counter (cAdvisor).
        type: str
        default: container_fs_reads_total
      fs_writes:
        description: Filesystem writes completed counter (cAdvisor).
        type: str
        default: container_fs_writes_total
  grafana_dashboard_url:
    description:
      - The SLO dashboard, returned in RV(links) with the time range of the figures. The runbook's stage dashboard
        is C(https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos?orgId=1).
    type: str
  time:
    description:
      - Evaluate every query at this instant (RFC 3339 such as C(2026-11-25T04:00:00Z), or Unix seconds), to look
        back at an incident. Defaults to now.
    type: str
  series:
    description:
      - Also return RV(series), each figure of the O(include) groups that has an SLO or a limit as a time series
        (one C(/api/v1/query_range) each) over O(series_range) before O(time), for charts; and RV(incident_window).
      - Each point is the figure over the shortest of O(windows) (or O(series_step) when that is longer) before it,
        as that window reports it; C(burn_rates) has no series (its figures are the other groups' over longer
        windows), nor have figures without a threshold (request rate, p95, the IO operation counts).
    type: bool
    default: false
  series_range:
    description:
      - How far back the series reach, as a PromQL duration. Defaults to the longest of O(windows), the window
        the run looked at.
    type: str
  series_step:
    description:
      - The resolution of the series, as a PromQL duration. Defaults to the first of 15s, 30s, 1m, 2m, 5m, 10m,
        15m, 30m, 1h, ... giving at most 120 steps over O(series_range) (30s for 1h, 5m for 6h).
      - A step giving more than 300 steps is refused, so a series never has more than 301 points.
    type: str
  fail_on_unreachable:
    description:
      - When the API cannot be reached, rejects the credentials, answers none of the queries (every one failed, as
        with a Prometheus answering 503), or O(url) is not a Prometheus API, fail (the default).
      - With V(false), return RV(healthy=null) and the reason in RV(unavailable) instead, so a runbook can go on
        with its other evidence.
    type: bool
    default: true
extends_documentation_fragment:
  - kas.fleet_manager.http_api
  - kas.fleet_manager.attributes.info_module
notes:
  - A 0/0 (no request or no Kafka creation in a window) is listed in RV(unavailable) with C(kind=no_events); it
    does not make RV(healthy) null, because there was nothing to measure.
  - Series are summed over pods, so pods restarted or replaced during a window are counted.
  - The network and IO spike rules compare the pods together with their own recent past, so pods replaced by a
    restart keep their baseline; a missing baseline (less history than the window) is listed in RV(unavailable).
seealso:
  - module: kas.fleet_manager.sentry_issues_info
  - module: kas.fleet_manager.fleet_pods_info
"""

EXAMPLES = r"""
- name: Investigate the metrics (runbook, availability) from the stage Thanos querier
  kas.fleet_manager.slo_metrics_info:
    url: https://thanos-querier.stage.example.com
    token: "{{ vault_kas_sre_prometheus_token }}"
    namespace: kas-fleet-manager-stage
    grafana_dashboard_url: https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos?orgId=1
  register: slo

- name: Show what is breached, and by how much
  ansible.builtin.debug:
    msg: "{{ slo.breaches | map(attribute='message') | list }}"

- name: Through Grafana's datasource proxy, with basic auth and an internal CA
  kas.fleet_manager.slo_metrics_info:
    url: https://grafana.stage.devshift.net/api/datasources/proxy/uid/P1809F7CD0C75ACF3
    username: kas-sre
    password: "{{ vault_grafana_password }}"
    ca_cert: /etc/pki/kas/internal-ca.pem
    namespace: kas-fleet-manager-stage
    windows: [5m, 30m]
    include: [requests, latency, resources]

- name: Scale up when the pods are CPU-bound and requests are slow (runbook, latency)
  ansible.builtin.set_fact:
    scale_up: >-
      {{ slo.breaches | selectattr('slo', 'in', ['cpu', 'memory']) | list | length > 0
         and slo.breaches | selectattr('slo', 'match', 'latency_') | list | length > 0 }}

- name: Network and IO evidence of the down section, with a 50 MiB/s network limit and IO spikes at 5x
  kas.fleet_manager.slo_metrics_info:
    url: https://thanos-querier.stage.example.com
    token: "{{ vault_kas_sre_prometheus_token }}"
    namespace: kas-fleet-manager-stage
    include: [requests, resources, network, io]
    thresholds:
      network_bytes_per_second: 52428800
      io_spike_factor: 5
  register: traffic

- name: The pods whose network errors or drops were sustained
  ansible.builtin.debug:
    msg: "{{ traffic.breaches | selectattr('slo', 'in', ['network_errors', 'network_drops'])
             | map(attribute='pods') | flatten | unique }}"

- name: The figures of the latency section as charts over the last 6 hours, a point every 5 minutes
  kas.fleet_manager.slo_metrics_info:
    url: https://thanos-querier.stage.example.com
    token: "{{ vault_kas_sre_prometheus_token }}"
    namespace: kas-fleet-manager-stage
    include: [latency, resources, network]
    series: true
    series_range: 6h
    series_step: 5m
  register: charts

- name: Each chart's threshold line and when the incident began
  ansible.builtin.debug:
    msg: >-
      {{ charts.series.latency_p99_seconds.threshold }} s;
      incident from {{ charts.incident_window.start | default('none') }}

- name: Look back at last night's incident, with a stricter CPU limit and no restart check
  kas.fleet_manager.slo_metrics_info:
    url: http://127.0.0.1:9090
    namespace: kas-fleet-manager-production
    time: "2026-11-24T23:30:00Z"
    thresholds:
      cpu: 0.7
      restarts: null
"""

RETURN = r"""
healthy:
  description:
    - V(false) when a threshold is breached; V(null) when none is but a figure could not be read (see
      RV(unavailable)); V(true) only when every figure was read and none breaches.
  returned: always
  type: bool
  sample: false
breaches:
  description: The thresholds crossed, one entry per SLO and window (or burn-rate window pair).
  returned: always
  type: list
  elements: dict
  contains:
    slo:
      description: >-
        C(up), C(availability), C(latency_under_1s), C(latency_under_100ms) (per latency bound),
        C(kafka_create_p90), C(kafka_create_p99), C(kafka_create_success), C(kafka_delete_success), C(cpu),
        C(memory), C(restarts), C(network_errors), C(network_drops), C(network_receive_spike),
        C(network_transmit_spike), C(network_receive_limit), C(network_transmit_limit), C(io_read_spike),
        C(io_write_spike), C(io_read_limit) or C(io_write_limit).
      type: str
    window:
      description: The window (C(5m)), or the burn-rate pair (C(30m/6h)); null for C(up).
      type: str
    value:
      description: The figure (for a burn-rate pair, the lower of the two windows' error ratios).
      type: float
    threshold:
      description: The limit it crossed.
      type: float
    by:
      description: How far past the limit, in the figure's unit (always positive).
      type: float
    comparison:
      description: C(>) when the figure must stay below the threshold, C(<) when it must stay above.
      type: str
    message:
      description: The breach in words.
      type: str
    source:
      description: For C(availability), whether the ratio is the C(router)'s or the C(application)'s.
      type: str
      returned: for availability breaches
    severity:
      description: The burn-rate alert's severity.
      type: str
      returned: for burn-rate breaches
    burn_rate:
      description: How many times faster than allowed the error budget burns.
      type: float
      returned: for burn-rate breaches
    pods:
      description: The pods over the limit.
      type: list
      elements: str
      returned: for cpu, memory, restarts, network_errors and network_drops breaches
    baseline:
      description: The baseline the figure spiked above (bytes per second, the median before the window).
      type: float
      returned: for the spike breaches
    ratio:
      description: The figure divided by its baseline (null when the baseline is 0).
      type: float
      returned: for the spike breaches
  sample:
    - slo: availability
      window: 5m
      value: 0.25
      threshold: 0.05
      by: 0.2
      comparison: ">"
      source: router
      message: 25.00% of requests answered 5xx (router), the SLO allows 5.00%
windows:
  description:
    - Figures per window of O(windows), keyed by window. A figure that could not be read is null and listed in
      RV(unavailable). Only the groups of O(include) are present.
  returned: always
  type: dict
  contains:
    request_rate:
      description: API requests per second.
      type: float
    error_ratio:
      description: Share of API requests answered 5xx, from C(api_inbound_request_count).
      type: float
    error_ratio_router:
      description: Share of the route's responses that are 5xx, from C(haproxy_backend_http_responses_total).
      type: float
    latency_p99_seconds:
      description: 99th percentile of the API request duration (histogram_quantile; non-5xx, non-federate).
      type: float
    latency_p95_seconds:
      description: 95th percentile of the API request duration.
      type: float
    fraction_under_1s:
      description: Share of requests faster than 1 s; one key per latency bound (C(fraction_under_100ms), ...).
      type: float
    pods:
      description: Per pod, C(pod), C(cpu_cores), C(cpu_limit_cores), C(cpu_ratio), C(memory_bytes) (highest in
        the window), C(memory_limit_bytes), C(memory_ratio) and C(restarts) (increase in the window).
      type: list
      elements: dict
    cpu_ratio_max:
      description: The highest pod CPU share of its limit.
      type: float
    memory_ratio_max:
      description: The highest pod memory share of its limit.
      type: float
    restarts:
      description: Restarts of all pods in the window.
      type: float
    kafka_create_p90_seconds:
      description: 90th percentile of the Kafka creation duration.
      type: float
    kafka_create_p99_seconds:
      description: 99th percentile of the Kafka creation duration.
      type: float
    kafka_create_success_ratio:
      description: Share of Kafka creations that succeeded.
      type: float
    kafka_delete_success_ratio:
      description: Share of Kafka deletions that succeeded.
      type: float
    network_receive_bytes_per_second:
      description: Bytes the pods received per second (all interfaces, all pods).
      type: float
    network_transmit_bytes_per_second:
      description: Bytes the pods sent per second.
      type: float
    network_receive_errors_per_second:
      description: Receive errors per second.
      type: float
    network_transmit_errors_per_second:
      description: Transmit errors per second.
      type: float
    network_receive_drops_per_second:
      description: Received packets dropped per second.
      type: float
    network_transmit_drops_per_second:
      description: Transmitted packets dropped per second.
      type: float
    network_receive_bytes_per_second_baseline:
      description: >-
        The median of C(network_receive_bytes_per_second) through O(thresholds.spike_baseline) before the window;
        likewise C(network_transmit_bytes_per_second_baseline), C(io_read_bytes_per_second_baseline) and
        C(io_write_bytes_per_second_baseline). Absent when the group's spike factor is null.
      type: float
    network_pods:
      description: >-
        Per pod, C(pod), C(receive_bytes_per_second), C(transmit_bytes_per_second), C(receive_errors_per_second),
        C(transmit_errors_per_second), C(receive_drops_per_second), C(transmit_drops_per_second), and the share
        of the window during which its errors (C(errors_share)) and drops (C(drops_share)) rose.
      type: list
      elements: dict
    io_read_bytes_per_second:
      description: Bytes the service containers read from their filesystems per second.
      type: float
    io_write_bytes_per_second:
      description: Bytes written per second.
      type: float
    io_reads_per_second:
      description: Read operations per second.
      type: float
    io_writes_per_second:
      description: Write operations per second.
      type: float
    io_pods:
      description: Per pod, C(pod), C(read_bytes_per_second), C(write_bytes_per_second), C(reads_per_second) and
        C(writes_per_second).
      type: list
      elements: dict
  sample:
    5m:
      request_rate: 20.0
      error_ratio: 0.25
      error_ratio_router: 0.25
      latency_p99_seconds: 0.82
      latency_p95_seconds: 0.091
      fraction_under_1s: 0.998
      fraction_under_100ms: 0.95
      pods:
        - pod: kas-fleet-manager-58f7b8b649-2mgcp
          cpu_cores: 0.15
          cpu_limit_cores: 1.0
          cpu_ratio: 0.15
          memory_bytes: 367001600
          memory_limit_bytes: 1073741824
          memory_ratio: 0.3418
          restarts: 0.0
      cpu_ratio_max: 0.15
      memory_ratio_max: 0.3418
      restarts: 0.0
      kafka_create_p90_seconds: 420.0
      kafka_create_p99_seconds: 590.0
      kafka_create_success_ratio: 1.0
      kafka_delete_success_ratio: 1.0
      network_receive_bytes_per_second: 7200000.0
      network_transmit_bytes_per_second: 9000000.0
      network_receive_errors_per_second: 0.0
      network_transmit_errors_per_second: 0.0
      network_receive_drops_per_second: 0.0
      network_transmit_drops_per_second: 0.0
      network_receive_bytes_per_second_baseline: 360000.0
      network_transmit_bytes_per_second_baseline: 750000.0
      network_pods:
        - pod: kas-fleet-manager-58f7b8b649-2mgcp
          receive_bytes_per_second: 2400000.0
          transmit_bytes_per_second: 3000000.0
          receive_errors_per_second: 0.0
          transmit_errors_per_second: 0.0
          receive_drops_per_second: 0.0
          transmit_drops_per_second: 0.0
          errors_share: 0.0
          drops_share: 0.0
      io_read_bytes_per_second: 12288.0
      io_write_bytes_per_second: 98304.0
      io_reads_per_second: 3.0
      io_writes_per_second: 12.0
      io_read_bytes_per_second_baseline: 12288.0
      io_write_bytes_per_second_baseline: 98304.0
      io_pods:
        - {pod: kas-fleet-manager-58f7b8b649-2mgcp, read_bytes_per_second: 4096.0, write_bytes_per_second: 32768.0,
           reads_per_second: 1.0, writes_per_second: 4.0}
burn_windows:
  description: The burn-rate windows' figures (C(error_ratio_router) and the C(fraction_under_*)), keyed by window.
  returned: when O(include) has C(burn_rates)
  type: dict
  sample:
    30m: {error_ratio_router: 0.25, fraction_under_1s: 0.998, fraction_under_100ms: 0.95}
burn_rates:
  description: Each multi-window burn-rate check, firing or not.
  returned: always
  type: list
  elements: dict
  contains:
    slo:
      description: C(availability) or C(latency_under_<bound>).
      type: str
    windows:
      description: The pair, such as C(30m/6h).
      type: str
    short:
      description: Error ratio (or share slower than the bound) over the short window.
      type: float
    long:
      description: The same over the long window.
      type: float
    factor:
      description: The pair's factor.
      type: float
    threshold:
      description: C(factor * (1 - target)).
      type: float
    severity:
      description: The alert's severity.
      type: str
    firing:
      description: Both windows over the threshold; null when one could not be read.
      type: bool
  sample:
    - {slo: availability, windows: 30m/6h, short: 0.25, long: 0.0225, factor: 6.0, threshold: 0.3,
       severity: critical, firing: false}
up:
  description: The fleet manager's scrape targets (C(up{job, namespace})).
  returned: always
  type: dict
  contains:
    targets:
      description: >-
        How many targets there are (0 when no series exists); null when the query failed or nothing at all
        matched.
      type: int
    up:
      description: How many are up.
      type: int
    pods:
      description: C(up) per pod (1 or 0).
      type: dict
    down:
      description: The pods whose target is down.
      type: list
      elements: str
  sample: {targets: 3, up: 2, pods: {kas-fleet-manager-58f7b8b649-2mgcp: 1, kas-fleet-manager-58f7b8b649-blf5h: 0},
           down: [kas-fleet-manager-58f7b8b649-blf5h]}
unavailable:
  description: Every figure that could not be read, and why.
  returned: always
  type: list
  elements: dict
  contains:
    figure:
      description: >-
        The figure's name (the query's when one query gives several figures, as C(fraction_under),
        C(kafka_success_ratio) and C(limits) do).
      type: str
    window:
      description: Its window (null for instant figures).
      type: str
    query:
      description: The PromQL.
      type: str
    kind:
      description: C(error) (the query failed), C(empty) (no series matched) or C(no_events) (0/0).
      type: str
    reason:
      description: Prometheus's error, or what an empty result means.
      type: str
  sample:
    - figure: kafka_create_p90_seconds
      window: 5m
      query: histogram_quantile(0.9, sum by (le) (rate(kas_fleet_manager_worker_kafka_duration_bucket{...}[5m])))
      kind: no_events
      reason: no Kafka creation finished in the window
queries:
  description: >-
    Every instant PromQL that was run, once each, to paste into Grafana's Explore or a panel (the range queries
    of RV(series) are in each series' C(query)).
  returned: always
  type: list
  elements: dict
  contains:
    figure:
      description: The figure it reads (the first one, when two figures share a query).
      type: str
    window:
      description: The window.
      type: str
    query:
      description: The PromQL.
      type: str
    status:
      description: C(ok), C(empty), C(error), or C(not_run) when the API could not be reached.
      type: str
  sample:
    - figure: error_ratio_router
      window: 5m
      query: >-
        sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",exported_namespace="kas-fleet-manager-stage",code="5xx"}[5m]))
        / sum(rate(haproxy_backend_http_responses_total{route="kas-fleet-manager",exported_namespace="kas-fleet-manager-stage"}[5m]))
      status: ok
links:
  description: The dashboard of O(grafana_dashboard_url), for the time range of the figures.
  returned: always
  type: list
  elements: dict
  contains:
    title:
      description: What the link shows.
      type: str
    url:
      description: The link.
      type: str
  sample:
    - title: Grafana kas-fleet-manager SLOs
      url: https://grafana.stage.devshift.net/d/Tbw1EgoMz/kas-fleet-manager-slos?orgId=1&from=1795831200000&to=1795834800000
evaluated_at:
  description: The instant every query was evaluated at (UTC, RFC 3339).
  returned: always
  type: str
  sample: "2026-11-25T04:00:00Z"
http_requests:
  description: How many HTTP requests were made.
  returned: always
  type: int
  sample: 36
series:
  description:
    - For charts, keyed by figure (the names of RV(windows)), each figure of the O(include) groups that has an SLO
      or a limit over RV(series_range). A series that could not be read has no points and a C(reason).
  returned: when O(series=true)
  type: dict
  contains:
    title:
      description: What the chart shows.
      type: str
    unit:
      description: C(ratio) (0 to 1), C(seconds), C(count), C(bytes_per_second) or C(per_second).
      type: str
    threshold:
      description: >-
        The SLO or limit line; null when its check is disabled. For network and IO bytes, the lower of the limit
        and the spike line (factor times the shortest window's baseline, at least the minimum); for errors and
        drops 0, the rate they count from.
      type: float
    comparison:
      description: C(>) when the figure must stay below the line, C(<) when above.
      type: str
    points:
      description: >-
        C([unix_seconds, value]) at every step (null where the figure is undefined, such as 0/0); at most 301.
      type: list
      elements: list
    breached:
      description: The C([from, to]) spans of consecutive points on the wrong side of the line.
      type: list
      elements: list
    query:
      description: The PromQL of the range query.
      type: str
    reason:
      description: Why there are no points (the query failed or matched nothing); null otherwise.
      type: str
  sample:
    latency_p99_seconds:
      title: API request duration, 99th percentile
      unit: seconds
      threshold: 1.0
      comparison: ">"
      points: [[1795575600, 0.82], [1795575630, 0.83], [1795578300, 4.1], [1795579200, 4.3]]
      breached: [[1795578300, 1795579200]]
      query: histogram_quantile(0.99, sum by (le) (rate(api_inbound_request_duration_bucket{...}[5m])))
      reason: null
series_range:
  description: >-
    The range of RV(series) in Unix seconds (C(start) and C(end) whole multiples of C(step), inside
    C([time - series_range, time])) and C(lookback), the window of each point.
  returned: when O(series=true)
  type: dict
  sample: {start: 1795575600, end: 1795579200, step: 30, lookback: 5m}
incident_window:
  description: >-
    From the first to the last point of RV(series) past its threshold line (C(start), C(end), Unix seconds), and
    the C(figures) that crossed it; null when none did.
  returned: when O(series=true)
  type: dict
  sample: {start: 1795576500, end: 1795579200, figures: [latency_p99_seconds, fraction_under_1s, cpu_ratio_max]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kas.fleet_manager.plugins.module_utils import slo
from ansible_collections.kas.fleet_manager.plugins.module_utils.args import (
    HTTP_API_MUTUALLY_EXCLUSIVE, http_api_spec)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import run_module
from ansible_collections.kas.fleet_manager.plugins.module_utils.slo import gather


def threshold_options():
    return dict(
        availability=dict(type="float", default=0.95),
        burn_rates=dict(type="list", elements="dict", default=[dict(b) for b in slo.DEFAULT_BURN_RATES], options=dict(
            short=dict(type="str", required=True),
            long=dict(type="str", required=True),
            factor=dict(type="float", required=True),
            severity=dict(type="str", default="high"),
        )),
        latency=dict(type="list", elements="dict", default=[dict(t) for t in slo.DEFAULT_LATENCY], options=dict(
            seconds=dict(type="float", required=True),
            target=dict(type="float", required=True),
        )),
        kafka_create_p90_seconds=dict(type="float", default=900.0),
        kafka_create_p99_seconds=dict(type="float", default=1800.0),
        kafka_create_success=dict(type="float", default=0.99),
        kafka_delete_success=dict(type="float", default=0.99),
        cpu=dict(type="float", default=0.8),
        memory=dict(type="float", default=0.8),
        restarts=dict(type="int", default=0),
        network_errors_sustained=dict(type="float", default=0.5),
        network_drops_sustained=dict(type="float", default=0.5),
        network_spike_factor=dict(type="float", default=3.0),
        network_spike_min_bytes_per_second=dict(type="float", default=1048576.0),
        network_bytes_per_second=dict(type="float"),
        io_spike_factor=dict(type="float", default=3.0),
        io_spike_min_bytes_per_second=dict(type="float", default=1048576.0),
        io_bytes_per_second=dict(type="float"),
        spike_baseline=dict(type="str", default="6h"),
    )


def argument_spec():
    spec = http_api_spec()
    spec.update(
        namespace=dict(type="str", required=True),
        job=dict(type="str", default="kas-fleet-manager-metrics"),
        route=dict(type="str", default="kas-fleet-manager"),
        deployment=dict(type="str", default="kas-fleet-manager"),
        container=dict(type="str", default="service"),
        windows=dict(type="list", elements="str", default=list(slo.DEFAULT_WINDOWS)),
        include=dict(type="list", elements="str", choices=list(slo.INCLUDE), default=list(slo.INCLUDE)),
        thresholds=dict(type="dict", apply_defaults=True, options=threshold_options()),
        metric_names=dict(type="dict", apply_defaults=True,
                          options=dict((k, dict(type="str", default=v)) for k, v in slo.DEFAULT_METRICS.items())),
        grafana_dashboard_url=dict(type="str"),
        time=dict(type="str"),
        series=dict(type="bool", default=False),
        series_range=dict(type="str"),
        series_step=dict(type="str"),
        fail_on_unreachable=dict(type="bool", default=True),
    )
    return spec


MODULE_OPTIONS = dict(supports_check_mode=True, mutually_exclusive=HTTP_API_MUTUALLY_EXCLUSIVE)
SERVICE = gather


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS), SERVICE)


if __name__ == "__main__":
    main()
