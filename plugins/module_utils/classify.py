# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Which team an error belongs to: the runbook's categories as data, used by leader_check (pod logs),
sentry_issues_info (Sentry issues) and the filters, so every source classifies the same way.

The runbook tells apart errors "related to Manager Services API" (restart the pods), "related to OCM"
(OCM support), "related to Kafka or strimzi-operator" (Data Plane / MK SRE); we add "database" (the
fleet manager's own PostgreSQL, which a restart does not fix) and "other" (unsure: Control Plane).
The first category whose pattern matches wins, so the more specific ones come first.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

CATEGORIES = ("kafka", "ocm", "database", "manager_api", "other")

# (category, patterns): a line or issue text that matches any pattern belongs to the category.
CATEGORY_PATTERNS = (
    ("kafka", (
        r"strimzi",
        r"kas-fleetshard",
        r"fleetshard",
        r"ManagedKafka",
        r"KafkaCluster",
        r"kafka broker",
        r"kafka-\d+",
        r"-kafka-\d+",
        r"\bzookeeper\b",
    )),
    ("ocm", (
        r"\bOCM\b",
        r"\bocm\b",
        r"clusters_mgmt",
        r"CLUSTERS-MGMT",
        r"api\.openshift\.com",
        r"addon installation",
    )),
    ("database", (
        r"\bpq: ",
        r"\bsql: ",
        r"SQLSTATE",
        r"leader lease",
        r"dial tcp [^ ]+:5432",
        r"database is closed",
        r"connection to server at",
        r"deadlock detected",
        r"gorm",
    )),
    ("manager_api", (
        r"KAFKAS-MGMT-\d+",
        r"MGD-SERV-API-\d+",
        r"http: panic serving",
        r"Unable to handle request",
        r"nil pointer dereference",
        r"index out of range",
        r"/api/kafkas_mgmt/",
    )),
)

# A log line is an error line when glog marks it E(rror) or F(atal), or when it matches one of these.
DEFAULT_ERROR_PATTERNS = (r"\bError\b", r"\bERROR\b", r"[Ee]xception", r"\bpanic\b")
GLOG_HEADER = re.compile(r"^([IWEF])(\d{4}) (\d{2}:\d{2}:\d{2}\.\d{6})\s+(\d+) ([^\]]+)\] ?(.*)$")

_COMPILED = tuple((cat, re.compile("|".join("(?:%s)" % p for p in pats))) for cat, pats in CATEGORY_PATTERNS)


def classify(text):
    """The category of an error text: kafka, ocm, database, manager_api, or other."""
    for category, pattern in _COMPILED:
        if pattern.search(text):
            return category
    return "other"


def compile_error_patterns(patterns=None):
    """One regex for the error patterns (the module option), raising re.error for a bad one."""
    patterns = DEFAULT_ERROR_PATTERNS if patterns is None else patterns
    if not patterns:
        return None
    return re.compile("|".join("(?:%s)" % p for p in patterns))


def is_error_line(line, error_regex):
    """True for glog E/F lines, and for any line that matches ``error_regex``."""
    match = GLOG_HEADER.match(line)
    if match and match.group(1) in ("E", "F"):
        return True
    return bool(error_regex is not None and error_regex.search(line))


def message_of(line):
    """The message part of a glog line (the line itself when it has no glog header)."""
    match = GLOG_HEADER.match(line)
    return match.group(6) if match else line


def signature(message):
    """A de-duplication key for samples: the message with ids, numbers and addresses blurred."""
    text = re.sub(r"\b[0-9a-v]{20}\b", "<id>", message)
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>", text)
    text = re.sub(r"\d+(\.\d+)*(:\d+)?", "<n>", text)
    return text
