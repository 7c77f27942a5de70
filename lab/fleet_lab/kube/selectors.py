"""Label and field selectors as the API server parses them.

Label selector syntax: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x,y)``, ``a`` (exists),
``!a`` (does not exist), joined by commas. Field selectors: ``path=value``, ``path==value``, ``path!=value``
over the fields each resource supports (``FIELDS``); an unsupported field is a 400 as on a real server.
"""
import re


class SelectorError(ValueError):
    pass


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_KEY_RE = re.compile(r"^%s$" % _KEY)


def _split_top(text):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError("unable to parse requirement: unexpected ')'")
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise SelectorError("unable to parse requirement: unclosed '('")
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)$")
_CMP_RE = re.compile(r"^(?P<key>[^=!\s]+)\s*(?P<op>==|!=|=)\s*(?P<value>.*)$")


def _check_key(key):
    if not _KEY_RE.match(key):
        raise SelectorError("unable to parse requirement: invalid label key %r" % key)


def parse_labels(text):
    """Parse a label selector into requirements ``(key, op, values)``; op in = != in notin exists !exists."""
    reqs = []
    for part in _split_top(text or ""):
        m = _SET_RE.match(part)
        if m:
            _check_key(m.group("key"))
            values = [v.strip() for v in m.group("values").split(",") if v.strip()]
            reqs.append((m.group("key"), m.group("op"), values))
            continue
        if part.startswith("!"):
            key = part[1:].strip()
            _check_key(key)
            reqs.append((key, "!exists", []))
            continue
        m = _CMP_RE.match(part)
        if m:
            _check_key(m.group("key"))
            op = "!=" if m.group("op") == "!=" else "="
            reqs.append((m.group("key"), op, [m.group("value").strip()]))
            continue
        if re.search(r"[\s()=!]", part):
            raise SelectorError("unable to parse requirement: found '%s', expected: ',' or 'end of string'" % part)
        _check_key(part)
        reqs.append((part, "exists", []))
    return reqs


def match_labels(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        val = labels.get(key)
        if op == "=" and not (present and val == values[0]):
            return False
        if op == "!=" and present and val == values[0]:
            return False
        if op == "in" and not (present and val in values):
            return False
        if op == "notin" and present and val in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


def selector_from_match_labels(match_labels_dict):
    return ",".join("%s=%s" % (k, v) for k, v in sorted((match_labels_dict or {}).items()))


# Fields each resource supports in fieldSelector (all support metadata.name and metadata.namespace).
FIELDS = {
    "pods": ("status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "status.podIP", "status.nominatedNodeName"),
    "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"),
    "secrets": ("type",),
    "namespaces": ("status.phase",),
    "nodes": ("spec.unschedulable",),
    "replicasets": ("status.replicas",),
}


def parse_fields(text, resource):
    reqs = []
    allowed = ("metadata.name", "metadata.namespace") + FIELDS.get(resource, ())
    for part in _split_top(text or ""):
        m = _CMP_RE.match(part)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (text, part))
        key = m.group("key").strip()
        if key not in allowed:
            raise SelectorError('field label not supported: %s' % key)
        reqs.append((key, "!=" if m.group("op") == "!=" else "=", m.group("value").strip()))
    return reqs


def _field_value(obj, path):
    if path == "source":
        return (obj.get("source") or {}).get("component", "")
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def match_fields(reqs, obj):
    for key, op, value in reqs:
        actual = _field_value(obj, key)
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
    return True
