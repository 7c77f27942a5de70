# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""leader_check's logic: scan one container log (an iterable of lines, read once, never held whole) for leader
election lines and error lines, gather the scans of every pod, and set the leader leases of the database against
them (plain functions); and the service (``check``) that reads the pods, their logs and the leases for them.

The runbook: "check the log to ensure there is exactly one OSD cluster leader running" (and one Kafka leader),
``grep 'Running as the leader.*ClusterManager'``. Upstream logs ``Running as the leader and starting worker %T
[uuid]`` when a worker takes its lease and ``No longer the leader and stopping worker %T [uuid]`` (or
``Terminating and stopping worker``) when it loses it, ``%T`` being the Go type with its package
(``*workers.ClusterManager`` in old builds, ``*cluster_mgrs.ClusterManager`` now). The type name is compared
exactly, so ``*kafka_mgrs.AcceptedKafkaManager`` is no KafkaManager leader. The uuid is the worker id that
``leader_leases.leader`` holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils.classify import (
    CATEGORIES, DEFAULT_ERROR_PATTERNS, classify, compile_error_patterns, is_error_line, message_of, signature)
from ansible_collections.kas.fleet_manager.plugins.module_utils.deployment import (
    check_namespace, container_names, container_restarts, selector_of, summarize_pod)
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_bounds
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube
from ansible_collections.kas.fleet_manager.plugins.module_utils.workers import LEADER_START, LEADER_STOP, LEASE_TYPES

MAX_SAMPLES_LIMIT = 100
# A sample's message is cut to this many characters (a Go panic or a JSON body can be long).
MAX_MESSAGE_CHARS = 500
# Worker ids remembered per scan (a process has one per worker; this only bounds a pathological log).
MAX_KNOWN_IDS = 1000
MAX_KNOWN_IDS_TOTAL = 20000

# Any worker mention with its id: reconciler lines (`Initial reconciliation loop for %T [%s]`, `not currently
# leader, skipping reconcile %T [%s]`) name the pod's worker ids even when the leader line is out of the window.
WORKER_MENTION = re.compile(r"\*(\w+)\.(\w+) \[([0-9A-Za-z-]+)\]")

# Lines kept per mentioned id (the database rows the runbook says to look up in the log), and ids looked up at most.
MAX_MENTION_LINES = 5
MAX_MENTION_IDS = 200

# How strongly a log ties a worker id to a pod, strongest first.
ID_STATES = ("leading", "stopped", "previous_container", "mentioned")

LEASE_QUERY = ("SELECT lease_type, leader, expires, expires > now() AS live FROM leader_leases "
               "WHERE deleted_at IS NULL AND lease_type = ANY(%s)")


# -- options ---------------------------------------------------------------------------------------------------------
def normalize_workers(names):
    """The worker names, de-duplicated in order; a Go type (``*cluster_mgrs.ClusterManager``) is taken by its name.

    FleetError naming the valid names for anything that is not an upstream leader-elected worker.
    """
    out, unknown = [], []
    for raw in names or []:
        name = str(raw).strip().lstrip("*").rsplit(".", 1)[-1]
        if name not in LEASE_TYPES:
            unknown.append(str(raw))
        elif name not in out:
            out.append(name)
    if unknown:
        raise FleetError("workers: unknown worker(s) %s; the leader-elected workers of upstream kas-fleet-manager "
                         "are %s" % (", ".join(unknown), ", ".join(sorted(LEASE_TYPES))), reason="unknown_worker")
    if not out:
        raise FleetError("workers: give at least one worker (for example ClusterManager, KafkaManager)",
                         reason="no_worker")
    return out


def compile_errors(patterns):
    """The error_patterns as one matcher (None: glog E/F lines only); FleetError naming a pattern that is not valid.

    The matcher has the ``search`` of a compiled regex (classify.is_error_line calls it on every line), with a
    substring test in front when every pattern needs a literal (see literal_hint): most lines of a log contain none
    of them, and ``in`` is far cheaper than a regex that tries each alternative at every position.
    """
    if patterns is None:
        patterns = DEFAULT_ERROR_PATTERNS
    for pattern in patterns:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise FleetError("error_patterns: %r is not a valid regular expression: %s" % (pattern, exc),
                             reason="bad_regex")
    try:
        regex = compile_error_patterns(list(patterns))
    except re.error as exc:  # each one compiled alone; together they can still clash (duplicate group names)
        raise FleetError("error_patterns: the patterns do not combine into one regular expression: %s" % exc,
                         reason="bad_regex")
    if regex is None:
        return None
    hints = [literal_hint(p) for p in patterns]
    return HintedRegex(regex, None if None in hints else hints)


# Characters that make a pattern more than a sequence of literals (quantifiers, alternation, groups, anchors, any).
_NOT_PLAIN = frozenset("|()?*+{}^$.")
# Escapes that stand for one literal character.
_ESCAPED_LITERALS = frozenset(" !\"#%&',-/:;<=>@[]_`~^$.|?*+(){}\\")


def literal_hint(pattern, shortest=3):
    """A substring every match of ``pattern`` contains, or None when the pattern is not simple enough to tell.

    Simple means literal characters, escaped punctuation, ``\\b``/``\\B`` and character classes (which only break
    a run of literals): ``\\bError\\b`` -> ``Error``, ``[Ee]xception`` -> ``xception``. Anything else (alternation,
    quantifiers, groups, inline flags, anchors, ``.``) gives None, and that pattern is always run as a regex.
    """
    runs, run, i = [], [], 0
    while i < len(pattern):
        char = pattern[i]
        if char in _NOT_PLAIN:
            return None
        if char == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt in ("b", "B"):
                i += 2
                continue
            if nxt and nxt in _ESCAPED_LITERALS:
                run.append(nxt)
                i += 2
                continue
            return None  # \d, \x41, \1, \A...: not one plain character
        if char == "[":
            start = i + 1
            if pattern[start:start + 1] == "^":
                start += 1
            if pattern[start:start + 1] == "]":
                start += 1  # a ] first in a class is a literal
            end = pattern.find("]", start)
            if end < 0 or "\\" in pattern[i:end]:
                return None  # an escape inside a class could hide its end: do not guess
            runs.append(run)
            run = []
            i = end + 1
            continue
        run.append(char)
        i += 1
    runs.append(run)
    best = max(("".join(r) for r in runs), key=len)
    return best if len(best) >= shortest else None


class HintedRegex(object):
    """A compiled regex whose ``search`` runs only on lines that contain one of ``hints`` (all lines when None)."""

    def __init__(self, regex, hints):
        self.regex = regex
        self.hints = tuple(hints) if hints is not None else None
        self.pattern = regex.pattern

    def search(self, line):
        if self.hints is not None:
            for hint in self.hints:
                if hint in line:
                    return self.regex.search(line)
            return None
        return self.regex.search(line)


# -- error samples ---------------------------------------------------------------------------------------------------
def new_counts():
    return {"total": 0, "by_category": dict((c, 0) for c in CATEGORIES)}


class Samples(object):
    """Error samples, de-duplicated by classify.signature, at most ``max_samples`` distinct ones per category.

    A sample keeps where its first line was seen; ``count`` counts every line of its signature in every log
    scanned. Lines whose signature came after a category was full are counted only in the totals.
    """

    def __init__(self, max_samples):
        self.max_samples = max_samples
        self.by_key = {}
        self.order = []
        self.per_category = dict((c, 0) for c in CATEGORIES)

    def add(self, category, message, pod, container, previous, line_no):
        key = (category, signature(message))
        sample = self.by_key.get(key)
        if sample is not None:
            sample["count"] += 1
            if pod is not None and pod not in sample["pods"]:
                sample["pods"].append(pod)
            return
        if self.per_category[category] >= self.max_samples:
            return
        self.per_category[category] += 1
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS - 3] + "..."
        sample = {"pod": pod, "container": container, "previous": previous, "category": category,
                  "message": message, "count": 1, "first_line_no": line_no, "pods": [pod] if pod is not None else []}
        self.by_key[key] = sample
        self.order.append(sample)

    def as_list(self):
        """The samples, category by category (CATEGORIES order), most frequent first."""
        rank = dict((c, i) for i, c in enumerate(CATEGORIES))
        return sorted(self.order, key=lambda s: (rank[s["category"]], -s["count"]))


# -- one log ---------------------------------------------------------------------------------------------------------
def compile_mentions(ids):
    """A matcher for the ids to look up (a regex of the escaped ids, longest first), or None."""
    ids = sorted(set(str(i) for i in ids or [] if str(i)), key=lambda i: (-len(i), i))[:MAX_MENTION_IDS]
    if not ids:
        return None
    return re.compile("|".join(re.escape(i) for i in ids))


def scan_log(lines, workers, error_regex, samples=None, pod=None, container="service", previous=False,
             mentions=None, found=None):
    """Scan one container log, line by line.

    ``workers`` are worker names (``ClusterManager``); ``error_regex`` the compiled error patterns (or None);
    ``samples`` a Samples collecting the error lines. Returns a dict:

    - ``lines``, ``bytes``: how much was read (bytes as UTF-8, a newline per line);
    - ``leaders``: {worker: id} of the workers whose last leader line in this log is a start;
    - ``lost``: {worker: id} of the workers that started and then stopped being leader;
    - ``ids``: {worker id: {worker, state}} for every worker id the log names (``leading``, ``stopped`` or
      ``mentioned``: a reconciler line without a leader line);
    - ``errors``: {total, by_category}.

    With ``mentions`` (compile_mentions) every line naming one of the ids is added to ``found`` ({id: [line]},
    at most MAX_MENTION_LINES each): the runbook's "check the log for any abnormality" of a stuck or failed row.
    """
    wanted = frozenset(workers)
    leaders, lost, ids = {}, {}, {}
    errors = new_counts()
    by_category = errors["by_category"]
    n_lines = n_bytes = 0
    for line in lines:
        n_lines += 1
        n_bytes += len(line.encode("utf-8", "replace")) + 1
        # Every leader-elected worker's type name ends in Manager (workers.LEASE_TYPES): a cheap test first.
        if "Manager [" in line:
            stop = LEADER_STOP.search(line) if "stopping worker" in line else None
            start = LEADER_START.search(line) if stop is None and "starting worker" in line else None
            if stop is not None:
                wtype, wid = stop.group(2), stop.group(3)
                if wtype in wanted:
                    if wtype in leaders:
                        lost[wtype] = leaders.pop(wtype)
                        _note_id(ids, lost[wtype], wtype, "stopped")
                    _note_id(ids, wid, wtype, "stopped")
            elif start is not None:
                wtype, wid = start.group(2), start.group(3)
                if wtype in wanted:
                    leaders[wtype] = wid
                    lost.pop(wtype, None)
                    _note_id(ids, wid, wtype, "leading")
            else:
                # Any worker type: only the id matters here, to tell which pod a lease holder runs in.
                mention = WORKER_MENTION.search(line)
                if mention is not None:
                    _note_id(ids, mention.group(3), mention.group(2), "mentioned")
        if mentions is not None:
            hit = mentions.search(line)
            if hit is not None:
                kept = found.setdefault(hit.group(0), [])
                if len(kept) < MAX_MENTION_LINES:
                    kept.append({"pod": pod, "previous": previous, "line": n_lines,
                                 "text": line if len(line) <= MAX_MESSAGE_CHARS else line[:MAX_MESSAGE_CHARS] + "..."})
        if is_error_line(line, error_regex):
            message = message_of(line)
            category = classify(message)
            errors["total"] += 1
            by_category[category] += 1
            if samples is not None:
                samples.add(category, message, pod, container, previous, n_lines)
    return {"lines": n_lines, "bytes": n_bytes, "leaders": leaders, "lost": lost, "ids": ids, "errors": errors}


def _note_id(ids, wid, worker, state):
    known = ids.get(wid)
    if known is None:
        if len(ids) < MAX_KNOWN_IDS:
            ids[wid] = {"worker": worker, "state": state}
    elif state != "mentioned":
        known.update(worker=worker, state=state)


# -- every pod -------------------------------------------------------------------------------------------------------
class FleetScan(object):
    """The scans of every pod's logs, gathered into leader_check's result."""

    def __init__(self, workers, error_regex, max_samples, mentions=None):
        self.workers = list(workers)
        self.mentions = compile_mentions(mentions)
        self.found = dict((str(i), []) for i in mentions or [])
        self.error_regex = error_regex
        self.samples = Samples(max_samples)
        self.pods = []
        self.logs = []
        self.unreadable = []
        self.errors = new_counts()
        self.by_pod = {}
        self.leaders = dict((w, []) for w in self.workers)  # worker -> [(pod, id)]
        self.ids = {}  # worker id -> {pod, worker, state, previous}

    def add_pod(self, summary):
        entry = {"name": summary["name"], "phase": summary.get("phase"), "ready": summary.get("ready", False),
                 "restarts": summary.get("restarts", 0), "readable": False, "leads": [], "lost": []}
        self.pods.append(entry)
        return entry

    def scan(self, pod_entry, lines, container, previous=False):
        """Scan one log of a pod added with add_pod. A previous container's log counts for errors and worker ids
        only: the restart ended that container's leadership."""
        name = pod_entry["name"]
        result = scan_log(lines, self.workers, self.error_regex, self.samples, pod=name, container=container,
                          previous=previous, mentions=self.mentions, found=self.found)
        self.logs.append({"pod": name, "container": container, "previous": previous, "bytes": result["bytes"],
                          "lines": result["lines"]})
        counts = self.by_pod.setdefault(name, dict(new_counts(), previous=0))
        for category, n in result["errors"]["by_category"].items():
            counts["by_category"][category] += n
            self.errors["by_category"][category] += n
        counts["total"] += result["errors"]["total"]
        self.errors["total"] += result["errors"]["total"]
        if previous:
            counts["previous"] += result["errors"]["total"]
        for wid, info in result["ids"].items():
            state = "previous_container" if previous and info["state"] != "mentioned" else info["state"]
            known = self.ids.get(wid)
            if known is None or ID_STATES.index(state) < ID_STATES.index(known["state"]):
                if known is not None or len(self.ids) < MAX_KNOWN_IDS_TOTAL:
                    self.ids[wid] = {"pod": name, "worker": info["worker"], "state": state, "previous": previous}
        if not previous:
            pod_entry["readable"] = True
            for worker in self.workers:
                if worker in result["leaders"]:
                    self.leaders[worker].append((name, result["leaders"][worker]))
                    pod_entry["leads"].append(worker)
                elif worker in result["lost"]:
                    pod_entry["lost"].append(worker)
        return result

    def add_unreadable(self, pod, container, previous, reason, status=None):
        self.unreadable.append({"pod": pod, "container": container, "previous": previous, "reason": reason,
                                "status": status})

    # -- the result ------------------------------------------------------------------------------------------------
    def result(self, leases=None, lease_source=None):
        """leader_check's return values. ``leases`` are leader_leases rows (dicts with lease_type, leader, expires,
        live), or None when the database was not asked."""
        workers = {}
        for worker in self.workers:
            held = self.leaders[worker]
            workers[worker] = {"leaders": [pod for pod, wid in held], "count": len(held),
                               "worker_ids": [wid for pod, wid in held],
                               "lease_type": LEASE_TYPES[worker], "lease": None, "agree": None}
        disagreements = []
        lease_view = None
        if leases is not None:
            lease_view = {}
            rows = pick_leases(leases)
            for worker in self.workers:
                entry = workers[worker]
                lease = self.lease_of(worker, rows.get(LEASE_TYPES[worker]))
                entry["lease"] = lease
                found = triangulate(worker, entry, lease, self.ids)
                entry["agree"] = not found
                disagreements.extend(found)
                lease_view[worker] = {"leader": lease["leader"], "live": lease["live"], "pod": lease["pod"]}
        missing = [w for w in self.workers if workers[w]["count"] == 0]
        duplicated = [w for w in self.workers if workers[w]["count"] > 1]
        errors = {"total": self.errors["total"], "by_category": self.errors["by_category"],
                  "by_pod": self.by_pod, "samples": self.samples.as_list()}
        scanned = {"pods": sum(1 for p in self.pods if p["readable"]),
                   "bytes": sum(log["bytes"] for log in self.logs),
                   "lines": sum(log["lines"] for log in self.logs), "logs": self.logs}
        return {
            "workers": workers,
            "missing": missing,
            "duplicated": duplicated,
            "healthy": not missing and not duplicated,
            "errors": errors,
            "scanned": scanned,
            "pods": self.pods,
            "unreadable": self.unreadable,
            "sources": {"log": dict((w, workers[w]["leaders"]) for w in self.workers), "leases": lease_view,
                        "database": lease_source},
            "disagreements": disagreements,
            "mentions": self.found,
        }

    def lease_of(self, worker, row):
        lease = {"lease_type": LEASE_TYPES[worker], "exists": row is not None, "leader": None, "expires": None,
                 "live": False, "pod": None, "log_state": None}
        if row is None:
            return lease
        leader = row.get("leader") or None
        expires = row.get("expires")
        lease.update(leader=leader, live=bool(row.get("live")),
                     expires=expires.isoformat() if hasattr(expires, "isoformat") else expires)
        known = self.ids.get(leader) if leader else None
        if known is not None:
            lease.update(pod=known["pod"], log_state=known["state"])
        return lease


def pick_leases(rows):
    """{lease_type: row}: upstream reads one row per lease_type (LIMIT 1); should there be several, the live one
    that expires last wins."""
    out = {}
    for row in rows:
        best = out.get(row["lease_type"])
        if best is None or _lease_rank(row) > _lease_rank(best):
            out[row["lease_type"]] = row
    return out


def _lease_rank(row):
    expires = row.get("expires")
    return (bool(row.get("live")), expires.isoformat() if hasattr(expires, "isoformat") else str(expires or ""))


def _where(lease):
    """Where the logs show the lease's holder, in words."""
    state, pod = lease.get("log_state"), lease.get("pod")
    if state == "leading":
        return "pod %s, which logs it as leader" % pod
    if state == "stopped":
        return "pod %s, whose log says it stopped being leader" % pod
    if state == "previous_container":
        return "the previous (restarted) container of pod %s" % pod
    if state == "mentioned":
        return ("pod %s, whose scanned log names the worker but not its leader line (since_seconds, tail_lines or "
                "limit_bytes may have cut it)" % pod)
    return "a worker id no scanned pod log shows"


def triangulate(worker, entry, lease, ids):
    """Disagreements between the logs (entry: leaders, worker_ids) and the lease (lease_of), as a list of dicts
    {worker, lease_type, kind, message, log_leaders, lease_leader, lease_pod}; empty when they agree."""
    lease_type = lease["lease_type"]
    log_leaders = entry["leaders"]
    held = bool(lease["live"] and lease["leader"])

    def found(kind, message):
        return [{"worker": worker, "lease_type": lease_type, "kind": kind, "message": message,
                 "log_leaders": list(log_leaders), "lease_leader": lease["leader"], "lease_pod": lease["pod"]}]

    if held:
        if lease["leader"] in entry["worker_ids"]:
            if len(log_leaders) > 1:
                others = [p for p, i in zip(log_leaders, entry["worker_ids"]) if i != lease["leader"]]
                return found("extra_log_leaders", "lease %s is held by pod %s, but the logs of %s also say they run "
                             "the %s leader" % (lease_type, lease["pod"], ", ".join(others), worker))
            return []
        if not log_leaders:
            return found("lease_live_no_log_leader", "lease %s is live, held by %s (%s), but no pod log shows a %s "
                         "leader" % (lease_type, lease["leader"], _where(lease), worker))
        return found("lease_holder_not_log_leader", "lease %s is held by %s (%s), but the logs show %s as the %s "
                     "leader" % (lease_type, lease["leader"], _where(lease), ", ".join(log_leaders), worker))
    if log_leaders:
        if not lease["exists"]:
            return found("log_leader_no_lease", "the logs show %s as the %s leader, but leader_leases has no row "
                         "for lease_type %s" % (", ".join(log_leaders), worker, lease_type))
        state = "expired at %s" % lease["expires"] if lease["leader"] else "held by nobody"
        return found("log_leader_lease_expired", "the logs show %s as the %s leader, but lease %s is %s"
                     % (", ".join(log_leaders), worker, lease_type, state))
    return []


# -- the service: pods, logs and leases -------------------------------------------------------------------------------
def needs(exc, permission, namespace, hint=""):
    """The FleetError of a Kubernetes call, naming the permission when the API answered 403."""
    if exc.details.get("status") == 403:
        return FleetError("%s; the credentials need %s in namespace %s%s" % (exc.msg, permission, namespace, hint),
                          status=403, reason="forbidden", permission=permission)
    return exc


def select_pods(kube, params):
    """(label selector, pods) of the deployment, or of label_selector."""
    namespace = params["namespace"]
    if params.get("label_selector") is not None:
        selector = params["label_selector"]
    else:
        name = params["deployment"]
        try:
            deployment = kube.read_deployment(namespace, name)
        except FleetError as exc:
            raise needs(exc, "get deployments", namespace, ", or give label_selector to pick pods directly")
        if deployment is None:
            check_namespace(kube, namespace)
            raise FleetError("deployment %s not found in namespace %s; give label_selector to pick pods directly"
                             % (name, namespace), status=404, reason="deployment_not_found")
        selector = selector_of(deployment)
        if not selector:
            raise FleetError("deployment %s/%s has no spec.selector to find its pods by; give label_selector"
                             % (namespace, name), reason="no_selector")
    try:
        pods = kube.list_pods(namespace, selector)
    except FleetError as exc:
        raise needs(exc, "list pods", namespace)
    if not pods:
        check_namespace(kube, namespace)
    return selector, sorted(pods, key=lambda p: (p.get("metadata") or {}).get("name") or "")


def read_logs(kube, params, scan, pods):
    """Stream every pod's log (and previous log) through the scan; logs the API will not give are unreadable."""
    namespace, container = params["namespace"], params["container"]
    window = dict(since_seconds=params["since_seconds"], tail_lines=params["tail_lines"],
                  limit_bytes=params["limit_bytes"])
    with_container = 0
    for pod in pods:
        summary = summarize_pod(pod)
        restarts = container_restarts(summary, container)
        entry = scan.add_pod(dict(summary, restarts=restarts))
        containers = container_names(pod)
        if container not in containers:
            scan.add_unreadable(summary["name"], container, False, "pod %s has no container %s (its containers: %s)"
                                % (summary["name"], container, ", ".join(containers)))
            continue
        with_container += 1
        wanted = [False] + ([True] if params["include_previous"] and restarts > 0 else [])
        for previous in wanted:
            try:
                lines = kube.stream_log(namespace, summary["name"], container, previous=previous, **window)
                scan.scan(entry, lines, container, previous)
            except FleetError as exc:
                status = exc.details.get("status")
                if status == 403:
                    raise needs(exc, "get pods/log", namespace)
                if status not in (400, 404):
                    raise
                scan.add_unreadable(summary["name"], container, previous, exc.msg, status)
    if pods and not with_container:
        raise FleetError("no pod has a container named %s (container); the pods' containers are: %s"
                         % (container, ", ".join(sorted(set(c for p in pods for c in container_names(p))))),
                         reason="no_container")


def validate(params):
    check_bounds(params, {"since_seconds": (1, None), "tail_lines": (0, None), "limit_bytes": (1, None),
                          "statement_timeout": (1, None), "connect_timeout": (1, None), "api_timeout": (1, None),
                          "max_samples": (0, MAX_SAMPLES_LIMIT)}, reason="bad_option")
    if not params["namespace"]:
        raise FleetError("namespace must not be empty", reason="bad_option")
    if params.get("label_selector") is None and not params["deployment"]:
        raise FleetError("give deployment, or label_selector", reason="bad_option")


def check(module):
    """leader_check: the leaders and errors of every pod's log, and the leases set against them with a database."""
    params = module.params
    validate(params)
    workers = normalize_workers(params["workers"])
    error_regex = compile_errors(params["error_patterns"])
    kube = Kube(params)
    conn = settings = source = None
    if db.wanted(params):
        db.require_psycopg2(module)
        settings, source = db.resolve_login(params, params["namespace"], kube)
        conn = db.connect(settings, params)  # before the logs: a wrong login fails at once
    try:
        selector, pods = select_pods(kube, params)
        scan = FleetScan(workers, error_regex, params["max_samples"], params["mentions"])
        read_logs(kube, params, scan, pods)
        leases = None
        if conn is not None:
            leases = db.query(conn, LEASE_QUERY, ([LEASE_TYPES[w] for w in workers],), settings,
                              what="read the leader leases (leader_leases)")
    finally:
        if conn is not None:
            conn.rollback()
            conn.close()
    result = scan.result(leases, source)
    result["selector"] = selector
    if not pods:
        module.warn("no pod matches %s in namespace %s" % (selector, params["namespace"]))
    window = [n for n in ("since_seconds", "tail_lines", "limit_bytes") if params[n] is not None]
    if window and result["missing"] and result["scanned"]["pods"]:
        module.warn("no leader found for %s in the part of the logs read: %s may have cut the 'Running as the "
                    "leader' line, which is logged only when a leadership starts"
                    % (", ".join(result["missing"]), ", ".join(window)))
    return result
