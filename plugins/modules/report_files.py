#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report_files
short_description: Write a runbook run's report files on the controller
version_added: 0.1.0
description:
  - Writes each of O(files) (file name to text) into O(directory) on the Ansible controller, creating the directory
    when missing, each file through a temporary file in the same directory so that a reader never sees half a
    report, and never over an existing file (a run's reports have names of their own).
  - An action plugin that runs in the controller's process, so the three reports of a run (JSON, Markdown, HTML)
    cost no module round trips; it renders the role's report templates itself, at a fraction of the CPU the
    C(template) lookup takes for a report with charts.
  - Never reports C(changed), since a report is the run's output, not a change to the fleet.
options:
  directory:
    description:
      - Where the files go (absolute, or relative to the current directory of C(ansible-playbook)).
    type: str
    required: true
  files:
    description:
      - Plain file names (no C(/), no C(..), not hidden) and their text contents. A name that is not plain, or a file
        that exists already, fails the task and nothing is overwritten. The same holds for the names of O(templates)
        and O(json).
    type: dict
    default: {}
  templates:
    description:
      - File names and the Jinja2 template each is rendered from, found as the C(template) lookup finds them (the
        role's C(templates/) first). Rendered with Ansible's core filters and tests and C(trim_blocks), from
        O(variables) only; what the variables hold is never itself templated.
    type: dict
    default: {}
  texts:
    description:
      - Names and the Jinja2 template each is rendered from, as O(templates), returned in RV(texts) instead of
        written, for what the run shows on the console (the role's summary) from the same data as its report files.
    type: dict
    default: {}
  variables:
    description:
      - The variables the O(templates) and O(texts) see.
    type: dict
    default: {}
  json:
    description:
      - File names and the data each holds, written as JSON (indented, keys sorted, as C(to_nice_json)).
    type: dict
    default: {}
  mode:
    description:
      - Permissions of the files, as an octal string.
    type: raw
    default: "0640"
  directory_mode:
    description:
      - Permissions of directories it creates, as an octal string.
    type: raw
    default: "0750"
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: Everything runs on the controller; nothing is sent to the host.
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The files are the run's output, so they are written in check mode too (the fleet is not touched).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
"""

EXAMPLES = r"""
- name: Write the report of the run
  kas.fleet_manager.report_files:
    directory: reports
    json:
      "stage-latency-20261125T031313123456Z.json": "{{ kas_fleet_report }}"
    templates:
      "stage-latency-20261125T031313123456Z.md": report.md.j2
    variables:
      kas_fleet_report: "{{ kas_fleet_report }}"
    files:
      "stage-latency-20261125T031313123456Z.txt": "{{ kas_fleet_report.decision.decision }}\n"
    texts:
      summary: report.summary.j2
  register: written

- name: Show the summary rendered from the same data
  ansible.builtin.debug:
    msg: "{{ written.texts.summary.splitlines() }}"
"""

RETURN = r"""
files:
  description: Absolute paths of the files written, sorted.
  returned: always
  type: list
  elements: str
  sample: ["/home/sre/kas-fleet-reports/stage-kafka_provisioning_latency-20261125T031313Z.json"]
texts:
  description: Each name of O(texts) and the text its template rendered.
  returned: always
  type: dict
  sample: {"summary": "Kafka Cluster provisioning latency on stage: escalate_data_plane\n"}
"""
