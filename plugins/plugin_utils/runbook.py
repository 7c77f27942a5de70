# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""What a run can check, what it gathered, and the plan its rules make (plain functions, unit-tested; the filters
unavailable, gathered and runbook_plan call them).

The rules themselves are tasks of the kas_fleet role, one per runbook rule, each leaving a verdict
``{id, rule, decision, fired, reason}``; this module only orders and groups what fired: a run's outcome is a plan
with at most one remediation (the first the runbook's order gives) and one page per team whose rules fired.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.evidence import RESULT_NOISE

REMEDIATIONS = {"restart_pods": "restart", "start_pods": "scale", "scale_up": "scale"}
UNSURE = "unsure"
HEALTHY_RULE = "No rule of the section matched and every check ran: nothing to do."

# Why a check did not run; "failed" and "denied" mean the run could not see what the runbook asks to look at.
NOT_CONFIGURED, DENIED, FAILED = "not_configured", "denied", "failed"


class RunbookError(ValueError):
    """Input that is not what the role passes."""


# -- evidence ------------------------------------------------------------------------------------------------
def unavailable(access, db_secret="", prometheus_url="", sentry_url=""):
    """The checks a run cannot even try, and why: source -> ``{"kind": not_configured|denied|failed, "reason": text}``.

    ``access``: the registered result of fleet_access_info (``denied``: the permissions the API refused, ``secret``:
    whether the database secret is readable; a failed result means the access check itself could not run, so no
    Kubernetes check can). ``db_secret``: the secret the database checks read, empty when the role reaches the
    database directly (then they need no Kubernetes access). An empty Prometheus or Sentry URL is a check nobody
    configured.
    """
    if not isinstance(access, dict):
        raise RunbookError("unavailable() takes the registered result of fleet_access_info, not %s"
                           % type(access).__name__)
    denied = [entry.get("permission") for entry in access.get("denied") or [] if isinstance(entry, dict)]
    k8s_down = ({"kind": FAILED, "reason": "the access check failed: %s" % (access.get("msg") or "")}
                if access.get("failed") else None)
    db = None
    if db_secret:
        db = k8s_down
        if not db and (access.get("secret") or {}).get("readable", True) is False:
            db = {"kind": DENIED, "reason": "missing access: secret %s" % db_secret}
    out = {
        "pods": k8s_down or ({"kind": DENIED, "reason": "missing access: list pods / get deployments"}
                             if "list pods" in denied or "get deployments" in denied else None),
        "leaders": k8s_down or ({"kind": DENIED, "reason": "missing access: get pods/log"}
                                if "get pods/log" in denied else None),
        "clusters": db,
        "kafkas": db,
        "metrics": None if prometheus_url else {"kind": NOT_CONFIGURED, "reason": "kas_fleet_prometheus_url is not set"},
        "sentry": None if sentry_url else {"kind": NOT_CONFIGURED, "reason": "kas_fleet_sentry_url is not set"},
    }
    return dict((source, why) for source, why in out.items() if why)


def gathered(results, unavailable=None):
    """Split the registered results of the evidence tasks into what was gathered and what was not.

    ``results``: source -> registered result (skipped, failed or the module's result); ``unavailable``: source ->
    ``{"kind": not_configured|denied|failed, "reason": text}`` for the sources the role did not even try.
    Returns ``{"evidence": {source: result without Ansible's bookkeeping}, "not_run": {source: reason}, "not_run_kind": {source: kind},
    "failed": [sources that failed or were denied]}``.
    """
    if not isinstance(results, dict):
        raise RunbookError("gathered() takes a dict of registered results, not %s" % type(results).__name__)
    unavailable = unavailable or {}
    evidence, not_run, kinds = {}, {}, {}
    for source, result in results.items():
        why = unavailable.get(source)
        if why:
            not_run[source] = why.get("reason") or why.get("kind")
            kinds[source] = why.get("kind") or FAILED
            continue
        if not isinstance(result, dict) or result.get("skipped"):
            continue  # not wanted by this run
        if result.get("failed"):
            not_run[source] = result.get("msg") or "failed"
            kinds[source] = FAILED
            continue
        evidence[source] = dict((k, v) for k, v in result.items() if k not in RESULT_NOISE)
    failed = sorted(s for s, kind in kinds.items() if kind in (FAILED, DENIED))
    return {"evidence": evidence, "not_run": not_run, "not_run_kind": kinds, "failed": failed}


# -- the plan ------------------------------------------------------------------------------------------------
def _present(signs):
    """The signs that hold: non-zero numbers, non-empty lists, true, non-empty text."""
    return dict((k, v) for k, v in sorted((signs or {}).items()) if v not in (None, False, 0, 0.0, "", [], {}))


def _verdict(verdicts, rule_id, section):
    verdict = verdicts.get(rule_id)
    if not isinstance(verdict, dict):
        raise RunbookError("no verdict for rule %s of section %s: the rule task did not run" % (rule_id, section))
    return dict(verdict)


def _unsure(verdict, section, conf, checks_failed, others_fired):
    """The catch-all of one section: it fires when a check the section needs could not run, or when no other rule
    of the section fired and the section's own signs show something wrong."""
    every = verdict.get("signs") or {}
    signs = _present(dict((name, every.get(name)) for name in conf.get("signs") or []))
    blind = dict((s, checks_failed[s]) for s in conf.get("evidence") or [] if s in checks_failed)
    reasons = []
    if blind:
        reasons.append("could not check %s" % "; ".join("%s (%s)" % (s, blind[s]) for s in sorted(blind)))
    if signs and not others_fired:
        reasons.append("no other rule fired, and %s" % ", ".join(
            "%s: %s" % (k.replace("_", " "), ", ".join(map(str, v)) if isinstance(v, list) else v)
            for k, v in signs.items()))
    if not reasons:
        reasons.append("an earlier rule of the section fired" if others_fired else
                       "nothing abnormal in this section's signs and every check ran")
    out = {"id": UNSURE, "rule": verdict["rule"], "decision": "escalate_control_plane",
           "fired": bool(blind) or (bool(signs) and not others_fired),
           "reason": "; ".join(reasons),
           "signs": signs, "checks_failed": blind}
    return out


def _section_result(name, conf, trace, missing=None):
    """A section's outcome: its first rule that fired; none fired, healthy, unless the run failed before some of its
    rules ran (``missing``), which leaves it to Control Plane and names them."""
    first = next((v for v in trace if v.get("fired")), None)
    if first:
        decided = {"decision": first["decision"], "rule_id": first["id"], "rule": first["rule"],
                   "reason": first.get("reason", "")}
    elif missing:
        decided = {"decision": "escalate_control_plane", "rule_id": UNSURE, "rule": "", "reason": ""}
    else:
        decided = {"decision": "healthy", "rule_id": "none", "rule": HEALTHY_RULE, "reason": ""}
    if missing:
        decided["reason"] = "; ".join(r for r in (decided["reason"], "the run failed before these rules ran: %s"
                                                  % ", ".join(missing)) if r)
    return dict(decided, section=name, title=conf.get("title", name), trace=trace)


def runbook_plan(verdicts, sections, run_sections, teams, checks_failed=None, extra=None, partial=False):
    """The plan of a run from the verdicts of its rule tasks.

    ``verdicts``: rule id -> verdict (``{id, rule, decision, fired, reason}``; the unsure rule's carries the run's
    ``signs``, of which each section weighs its own, ``sections[name]["signs"]``); ``sections``: the role's section
    table (``rules`` in the runbook's order, ``title``, ``evidence``); ``run_sections``: the sections whose rules
    ran, in the runbook's order; ``teams``: escalation decision -> team; ``checks_failed``: source -> reason for
    checks that failed or were denied; ``extra``: verdicts that fired outside a section (a restart that did not help,
    a run that failed), added as escalations; ``partial``: the run failed before every rule ran (the role's rescue),
    so a section whose rules did not all leave a verdict is decided from those that did (its first fired rule, else
    Control Plane) and names its missing rules, instead of failing for want of them: the plan must still page.

    Returns ``{"sections": [...], "remediation": step or None, "escalations": [...], "steps": [...],
    "decision": the first step}`` where a step is ``{decision, rule_id, rule, reason, section}``.
    """
    if not isinstance(verdicts, dict) or not isinstance(sections, dict):
        raise RunbookError("runbook_plan() takes the verdicts and the section table as dicts")
    checks_failed = checks_failed or {}
    results, fired = [], []
    for name in run_sections or []:
        conf = sections.get(name)
        if not conf:
            raise RunbookError("unknown section %r (known: %s)" % (name, ", ".join(sorted(sections))))
        # A run cut short (partial) is decided from the rules that ran; its "if unsure" is the run's failure itself.
        missing = [rule_id for rule_id in conf.get("rules") or [] if not isinstance(verdicts.get(rule_id), dict)]
        missing = missing if partial else []
        trace = []
        for rule_id in conf.get("rules") or []:
            if rule_id in missing or (missing and rule_id == UNSURE):
                continue
            verdict = _verdict(verdicts, rule_id, name)
            if rule_id == UNSURE:
                verdict = _unsure(verdict, name, conf, checks_failed, any(v["fired"] for v in trace))
            trace.append(verdict)
        results.append(_section_result(name, conf, trace, missing))
        fired.extend(dict(v, section=name) for v in trace if v.get("fired"))
    for verdict in extra or []:
        if verdict and verdict.get("fired", True):
            fired.append(dict(verdict, fired=True, section=verdict.get("section")))

    remediation = None
    escalations, by_team = [], {}
    for verdict in fired:
        decision = verdict["decision"]
        step = {"decision": decision, "rule_id": verdict["id"], "rule": verdict["rule"],
                "reason": verdict.get("reason", ""), "section": verdict.get("section")}
        if decision in REMEDIATIONS:
            if remediation is None:
                remediation = dict(step, action=REMEDIATIONS[decision])
            continue
        team = teams.get(decision)
        if team is None:
            raise RunbookError("rule %s decides %r, which is neither a remediation nor an escalation"
                               % (verdict["id"], decision))
        entry = by_team.get(team)
        if entry is None:
            entry = dict(step, team=team, rules=[], sections=[])
            by_team[team] = entry
            escalations.append(entry)
        if verdict["id"] not in [r["id"] for r in entry["rules"]]:
            entry["rules"].append({"id": verdict["id"], "rule": verdict["rule"], "reason": verdict.get("reason", ""),
                                   "section": verdict.get("section")})
        if verdict.get("section") and verdict["section"] not in entry["sections"]:
            entry["sections"].append(verdict["section"])
    for entry in escalations:
        entry["reason"] = "; ".join(r["reason"] for r in entry["rules"] if r["reason"])
    steps = ([remediation] if remediation else []) + escalations
    if steps:
        first = steps[0]
        decision = {"decision": first["decision"], "rule_id": first["rule_id"], "rule": first["rule"],
                    "reason": first["reason"]}
    else:
        decision = {"decision": "healthy", "rule_id": "none", "rule": HEALTHY_RULE, "reason": ""}
    return {"sections": results, "remediation": remediation, "escalations": escalations,
            "steps": [s["decision"] for s in steps], "decision": decision}
