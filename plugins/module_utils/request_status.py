# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The runbook's database check ("select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from
clusters group by ...") and its "How to handle" thresholds, on the clusters and kafka_requests tables.

Everything is aggregated by PostgreSQL (GROUP BY, and ROW_NUMBER() for the bounded samples): no query returns more
rows than there are status x HH24:MI groups (the runbook's own query), failure reasons or samples. The table is read
once (``summary_sql``: the runbook's groups, each with the counts the thresholds need); the samples and the failed
rows are read only when there are some, through upstream's index on status.
SQL is composed with psycopg2.sql (Identifier for the table and columns) and every value is a parameter.
``gather`` is request_status_info's service: the login (db.resolve_login), one read-only snapshot, ``collect``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.kas.fleet_manager.plugins.module_utils import db
from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError, check_bounds, check_minimums
from ansible_collections.kas.fleet_manager.plugins.module_utils.k8s import Kube, require_k8s

# Upstream's status strings (pkg/api/cluster_types.go, internal/kafka/constants/kafka.go) in lifecycle order, and
# the runbook's "How to handle" thresholds in minutes: cluster_accepted idle over 3 min -> restart the pods; the
# ``long_idle_statuses`` (not ready, nor failed) idle over the runbook's 45 min (``long_idle_minutes``) -> escalate.
TABLES = {
    "clusters": {
        "statuses": ["cluster_accepted", "cluster_provisioning", "cluster_provisioned",
                     "waiting_for_kas_fleetshard_operator", "ready", "deprovisioning", "cleanup", "failed"],
        "accepted_status": "cluster_accepted",
        "in_progress_statuses": ["cluster_provisioning", "cluster_provisioned", "waiting_for_kas_fleetshard_operator"],
        "deletion_statuses": ["deprovisioning", "cleanup"],
        "thresholds": {"cluster_accepted": 3},
        "long_idle_statuses": ["cluster_provisioning", "cluster_provisioned", "waiting_for_kas_fleetshard_operator",
                               "deprovisioning", "cleanup"],
        "sample_columns": ["cluster_id", "cloud_provider", "region", "provider_type", "cluster_type"],
        # clusters has no failed_reason column: failed clusters are one group, under null.
        "failed_reason_column": None,
    },
    "kafka_requests": {
        # resource_creating: the old SOP's status, no longer in upstream HEAD; kept so old rows are judged too.
        "statuses": ["accepted", "preparing", "provisioning", "resource_creating", "resuming", "ready", "deprovision",
                     "deleting", "suspending", "suspended", "failed"],
        "accepted_status": "accepted",
        "in_progress_statuses": ["preparing", "provisioning", "resuming", "resource_creating"],
        "deletion_statuses": ["deprovision", "deleting"],
        "thresholds": {},
        "long_idle_statuses": ["accepted", "preparing", "provisioning", "resuming", "resource_creating",
                               "deprovision", "deleting"],
        "sample_columns": ["name", "cluster_id", "cloud_provider", "region", "owner", "organisation_id",
                           "instance_type", "failed_reason"],
        "failed_reason_column": "failed_reason",
    },
}
FAILED_STATUS = "failed"
LONG_IDLE_MINUTES = 45
REQUIRED_COLUMNS = ("id", "status", "updated_at", "deleted_at")
MAX_SAMPLES_LIMIT = 1000

# The runbook's query, verbatim but for the table name and an ORDER BY (psql shows groups in no set order).
RUNBOOK_QUERY = ("select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from %s "
                 "group by status, to_char(now() - updated_at,'HH24:MI') order by status, idle_time")


def _number(value):
    """An int when the number is whole (3, not 3.0), else the float."""
    value = float(value)
    return int(value) if value.is_integer() else value


def effective_thresholds(table, overrides, long_idle_minutes=LONG_IDLE_MINUTES):
    """The runbook's thresholds for ``table`` - ``long_idle_minutes`` (the runbook's 45) for its long-idle statuses,
    3 for cluster_accepted - merged with ``overrides`` (status -> minutes, each > 0).

    Returns (thresholds, unknown) where unknown lists override statuses upstream does not have for the table.
    """
    spec = TABLES[table]
    thresholds = dict((status, _number(long_idle_minutes)) for status in spec["long_idle_statuses"])
    thresholds.update(spec["thresholds"])
    unknown = []
    for status, minutes in (overrides or {}).items():
        if not isinstance(status, str) or not status:
            raise FleetError("thresholds: a status must be a non-empty string, got %r" % (status,))
        if isinstance(minutes, bool):
            minutes = None
        try:
            number = float(minutes)
        except (TypeError, ValueError):
            raise FleetError("thresholds: %s must be a number of minutes, got %r" % (status, minutes))
        if math.isnan(number) or math.isinf(number) or number <= 0:
            raise FleetError("thresholds: %s must be a positive number of minutes, got %r" % (status, minutes))
        thresholds[status] = _number(number)
        if status not in spec["statuses"]:
            unknown.append(status)
    return thresholds, unknown


def _status_order(table, names):
    known = TABLES[table]["statuses"]
    return sorted(names, key=lambda s: (known.index(s) if s in known else len(known), s))


def _run(conn, statement, args, settings, what, statement_timeout):
    try:
        return db.query(conn, statement, args, settings=settings, what=what)
    except FleetError as exc:
        if exc.details.get("reason") == "statement_timeout":
            raise FleetError("cannot %s: the query ran past statement_timeout (%s s); raise statement_timeout, or "
                             "look for locks or load on the database" % (what, statement_timeout),
                             reason="statement_timeout")
        raise


def table_columns(conn, table, settings, statement_timeout=None):
    """The table's column names; FleetError when the table does not exist or lacks upstream's base columns."""
    rows = _run(conn, db.sql.SQL(
        "SELECT to_regclass(%(name)s) IS NOT NULL AS present, "
        "ARRAY(SELECT attname::text FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass(%(name)s) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum) AS columns"),
        {"name": db.sql.Identifier(table).as_string(conn)}, settings, "look up table %s" % table, statement_timeout)
    if not rows or not rows[0]["present"]:
        raise FleetError("table %s does not exist in database %s (as user %s): is this the fleet manager's "
                         "database? check db (or the secret's db.name)"
                         % (table, settings.get("dbname"), settings.get("user")), reason="unknown_table")
    columns = list(rows[0]["columns"])
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FleetError("table %s lacks the column(s) %s that upstream's kas-fleet-manager schema has"
                         % (table, ", ".join(missing)), reason="unknown_table")
    return columns


def _col(name, present, alias=None):
    """``r.name AS alias``, or ``NULL::text AS alias`` when an older schema lacks the column."""
    alias = db.sql.Identifier(alias or name)
    if name in present:
        return db.sql.SQL("r.{} AS {}").format(db.sql.Identifier(name), alias)
    return db.sql.SQL("NULL::text AS {}").format(alias)


IDLE_MINUTES = "round((extract(epoch FROM now() - {t}updated_at) / 60)::numeric, 2)"
UTC_ISO = "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
# The thresholds as rows, each with its cutoff (now() - minutes) worked out once instead of for every row.
THRESHOLDS_CTE = ("WITH th(status, minutes, cutoff) AS (SELECT s, m, now() - m * interval '1 minute' FROM "
                  "unnest(%(th_status)s::text[], %(th_minutes)s::float8[]) AS u(s, m)) ")
LIVE = "(%(include_deleted)s OR r.deleted_at IS NULL)"
# The runbook's idle time, as its query writes it (to_char of an interval drops whole days).
RUNBOOK_IDLE = "to_char(now() - r.updated_at,'HH24:MI')"


# The planner cannot know how few status x HH24:MI groups there are (at most the statuses x 1440 minutes of a day):
# it assumes one group per row and may sort the whole table to group it (to disk at 200k clusters, or through the
# status index and an incremental sort at 1M kafka requests) where a hash table of a few hundred kB does it in one
# go. So the one-pass aggregate runs with sorting turned off (SET LOCAL, this transaction only; the final ORDER BY
# of its few rows still sorts), and they are reset (to pg_settings.reset_val) right after it. pg_settings names only
# the settings the server has (no enable_incremental_sort before PostgreSQL 13).
PLANNER_SETTINGS = "name IN ('enable_sort', 'enable_incremental_sort')"
HASH_AGGREGATE_SQL = "SELECT set_config(name, 'off', true) FROM pg_settings WHERE " + PLANNER_SETTINGS
RESET_PLANNER_SQL = "SELECT set_config(name, reset_val, true) FROM pg_settings WHERE " + PLANNER_SETTINGS


def summary_sql(table):
    """One pass over the table for everything but the samples: the runbook's query (status x HH24:MI idle time, every
    row) with, per group, what the module reads from the same rows: the soft-deleted rows, the oldest idle minutes of
    the counted rows (live ones, or all with include_deleted), how many of them sit past the status's threshold and past
    long_idle_minutes. ``collect`` adds the groups up per status and for the table. At least one row (checked_at),
    also for an empty table; groups ordered as the runbook's query orders them."""
    return db.sql.SQL(
        THRESHOLDS_CTE +
        ", g AS (SELECT r.status, " + RUNBOOK_IDLE + " AS idle_time, count(1) AS count, "
        "count(*) FILTER (WHERE r.deleted_at IS NOT NULL) AS soft_deleted, "
        "min(r.updated_at) FILTER (WHERE " + LIVE + ") AS oldest, "
        "count(*) FILTER (WHERE " + LIVE + " AND r.updated_at < th.cutoff) AS over_threshold, "
        "count(*) FILTER (WHERE " + LIVE + " AND r.updated_at < "
        "(SELECT now() - %(long_idle)s * interval '1 minute')) AS over_long_idle "
        "FROM {table} r LEFT JOIN th ON th.status = r.status "
        "GROUP BY r.status, " + RUNBOOK_IDLE + ") "
        "SELECT " + UTC_ISO.format(c="now()") + " AS checked_at, g.status, g.idle_time, g.count, g.soft_deleted, "
        "round((extract(epoch FROM now() - g.oldest) / 60)::numeric, 2) AS oldest_idle_minutes, g.over_threshold, "
        "g.over_long_idle FROM (SELECT 1) AS one LEFT JOIN g ON true ORDER BY g.status, g.idle_time"
    ).format(table=db.sql.Identifier(table))


def samples_sql(table, present):
    """Up to max_samples rows per status idle past its threshold, oldest first (ROW_NUMBER() per status), of the
    statuses that have such rows (%(sample_statuses)s, from the summary: the status index finds them)."""
    columns = [_col(c, present) for c in TABLES[table]["sample_columns"]]
    return db.sql.SQL(
        THRESHOLDS_CTE +
        "SELECT * FROM (SELECT r.id, r.status, " + IDLE_MINUTES.format(t="r.") + " AS idle_minutes, "
        + UTC_ISO.format(c="r.updated_at") + " AS updated_at, " + UTC_ISO.format(c="r.deleted_at") + " AS deleted_at, "
        "{columns}, ROW_NUMBER() OVER (PARTITION BY r.status ORDER BY r.updated_at, r.id) AS rn "
        "FROM {table} r JOIN th ON th.status = r.status "
        "WHERE r.status = ANY(%(sample_statuses)s::text[]) AND " + LIVE + " AND r.updated_at < th.cutoff) s "
        "WHERE rn <= %(max_samples)s ORDER BY status, rn").format(
            table=db.sql.Identifier(table), columns=db.sql.SQL(", ").join(columns))


def failed_sql(table, present):
    """Failed rows grouped by failed_reason: count, oldest idle minutes and up to max_samples ids (oldest first)."""
    reason_col = TABLES[table]["failed_reason_column"]
    if reason_col and reason_col in present:
        reason = db.sql.SQL("r.{}").format(db.sql.Identifier(reason_col))
    else:
        reason = db.sql.SQL("NULL::text")
    return db.sql.SQL(
        "SELECT failed_reason, count(*) AS count, "
        "round((extract(epoch FROM now() - min(updated_at)) / 60)::numeric, 2) AS oldest_idle_minutes, "
        "array_agg(id ORDER BY rn) FILTER (WHERE rn <= %(max_samples)s) AS sample_ids "
        "FROM (SELECT r.id, r.updated_at, {reason} AS failed_reason, "
        "ROW_NUMBER() OVER (PARTITION BY {reason} ORDER BY r.updated_at, r.id) AS rn "
        "FROM {table} r WHERE r.status = %(failed)s AND " + LIVE + ") f "
        "GROUP BY failed_reason ORDER BY count DESC, failed_reason NULLS FIRST").format(
            table=db.sql.Identifier(table), reason=reason)


def _float(value):
    return None if value is None else float(value)


def collect(conn, table, thresholds, include_deleted=False, max_samples=5, long_idle_minutes=45, settings=None,
            statement_timeout=None):
    """Everything the module returns about ``table``, from an open read-only connection (one snapshot)."""
    if table not in TABLES:
        raise FleetError("table must be one of %s, got %r" % (", ".join(sorted(TABLES)), table),
                         reason="unknown_table")
    settings = settings or {}
    spec = TABLES[table]
    present = table_columns(conn, table, settings, statement_timeout)
    names = sorted(thresholds)
    args = {"th_status": names, "th_minutes": [float(thresholds[n]) for n in names],
            "include_deleted": bool(include_deleted), "max_samples": int(max_samples),
            "long_idle": float(long_idle_minutes), "failed": FAILED_STATUS}

    def run(statement, what):
        return _run(conn, statement, args, settings, what, statement_timeout)

    # One pass: the runbook's groups, summed here per status (every figure is a count but the oldest idle time, the
    # largest of the status's groups' as rounded by the server) and for the table.
    run(db.sql.SQL(HASH_AGGREGATE_SQL), "turn sorting off for the aggregate")
    rows = run(summary_sql(table), "count the %s rows" % table)
    run(db.sql.SQL(RESET_PLANNER_SQL), "reset the planner's settings")
    checked_at = rows[0]["checked_at"]
    rows = [row for row in rows if row["count"] is not None]  # an empty table gives one row of nulls
    by_status_idle = [{"status": r["status"], "idle_time": r["idle_time"], "count": int(r["count"])} for r in rows]
    found = {}
    total = soft_deleted = 0
    for row in rows:
        counted = int(row["count"]) - (0 if include_deleted else int(row["soft_deleted"]))
        soft_deleted += int(row["soft_deleted"])
        total += counted
        if not counted:
            continue
        status = found.setdefault(row["status"], {"count": 0, "oldest_idle_minutes": None, "over_threshold": 0,
                                                  "over_long_idle": 0})
        status["count"] += counted
        status["over_threshold"] += int(row["over_threshold"])
        status["over_long_idle"] += int(row["over_long_idle"])
        if status["oldest_idle_minutes"] is None or row["oldest_idle_minutes"] > status["oldest_idle_minutes"]:
            status["oldest_idle_minutes"] = row["oldest_idle_minutes"]
    statuses = {}
    for name, figures in found.items():
        threshold = thresholds.get(name) if name is not None else None
        statuses["" if name is None else name] = {
            "count": figures["count"],
            "oldest_idle_minutes": _float(figures["oldest_idle_minutes"]),
            "threshold_minutes": None if threshold is None else _number(float(threshold)),
            "over_threshold": figures["over_threshold"],
            "over_long_idle": figures["over_long_idle"],
        }
    for status in thresholds:
        statuses.setdefault(status, {"count": 0, "oldest_idle_minutes": None, "threshold_minutes": thresholds[status],
                                     "over_threshold": 0, "over_long_idle": 0})
    statuses = dict((s, statuses[s]) for s in _status_order(table, statuses))

    over = dict((s, []) for s in statuses if statuses[s]["threshold_minutes"] is not None)
    args["sample_statuses"] = sorted(s for s in statuses if statuses[s]["over_threshold"])
    if max_samples > 0 and args["sample_statuses"]:
        for row in run(samples_sql(table, present), "sample the %s rows idle past their threshold" % table):
            row.pop("rn", None)
            row["idle_minutes"] = _float(row["idle_minutes"])
            over.setdefault(row["status"], []).append(row)

    failed = []
    if statuses.get(FAILED_STATUS, {}).get("count"):
        for row in run(failed_sql(table, present), "group the failed %s rows by failed_reason" % table):
            failed.append({"failed_reason": row["failed_reason"], "count": int(row["count"]),
                           "oldest_idle_minutes": _float(row["oldest_idle_minutes"]),
                           "sample_ids": list(row["sample_ids"] or [])})

    return {
        "table": table,
        "checked_at": checked_at,
        "total": total,
        "soft_deleted": soft_deleted,
        "include_deleted": bool(include_deleted),
        "thresholds": dict((s, thresholds[s]) for s in _status_order(table, thresholds)),
        "long_idle_minutes": _number(long_idle_minutes),
        "statuses": statuses,
        "over_threshold": over,
        # not "failed": Ansible reads a true top-level "failed" as the task failing
        "failed_by_reason": failed,
        "by_status_idle": by_status_idle,
        "runbook_query": RUNBOOK_QUERY % table,
        "accepted_status": spec["accepted_status"],
        "in_progress_statuses": list(spec["in_progress_statuses"]),
        "deletion_statuses": list(spec["deletion_statuses"]),
    }


# -- the service ------------------------------------------------------------------------------------------------------
def gather(module):
    """request_status_info: the table's figures, from the login of the options or of the runbook's secret."""
    params = module.params
    if not params["long_idle_minutes"] > 0:
        raise FleetError("long_idle_minutes must be a positive number, got %s" % params["long_idle_minutes"])
    thresholds, unknown = effective_thresholds(params["table"], params["thresholds"], params["long_idle_minutes"])
    for status in unknown:
        module.warn("thresholds: %s is not a status of upstream's %s table (%s)"
                    % (status, params["table"], ", ".join(TABLES[params["table"]]["statuses"])))
    check_bounds(params, {"max_samples": (0, MAX_SAMPLES_LIMIT)})
    check_minimums(params, {"statement_timeout": 1, "connect_timeout": 1}, unit="second")

    def kube():
        require_k8s(module)
        return Kube(params)

    settings, source = db.resolve_login(params, params.get("namespace"), kube)
    conn = db.connect(settings, params)
    try:
        # One snapshot for every query, so the counts, samples and totals agree.
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        result = collect(conn, params["table"], thresholds, include_deleted=params["include_deleted"],
                         max_samples=params["max_samples"], long_idle_minutes=params["long_idle_minutes"],
                         settings=settings, statement_timeout=params["statement_timeout"])
    finally:
        conn.rollback()
        conn.close()
    result["source"] = source
    return result
