"""The three PATCH flavours the API server accepts (and server-side apply, treated as a strategic merge).

* ``application/merge-patch+json``: RFC 7386.
* ``application/json-patch+json``: RFC 6902 (add, remove, replace, move, copy, test).
* ``application/strategic-merge-patch+json``: maps merge recursively, ``null`` deletes, lists of objects
  with a known merge key (containers by ``name``, ...) merge by that key, other lists are replaced;
  directives ``$patch: replace|delete|merge``, ``$deleteFromPrimitiveList/<field>``, ``$retainKeys`` and
  ``$setElementOrder/<field>`` are understood (the last two only as far as they matter here).
"""
import copy


class PatchError(ValueError):
    """A patch that cannot be applied (HTTP 422 on a real server)."""


MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC, APPLY)


# --- RFC 7386 ---------------------------------------------------------------------------------------
def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# --- RFC 6902 ---------------------------------------------------------------------------------------
def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts, path):
    cur = doc
    for part in parts:
        if isinstance(cur, dict):
            if part not in cur:
                raise PatchError("doc is missing path: \"%s\"" % path)
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                idx = int(part)
            except ValueError:
                raise PatchError("invalid index %r in path %s" % (part, path))
            if not 0 <= idx < len(cur):
                raise PatchError("doc is missing path: \"%s\": index out of range" % path)
            cur = cur[idx]
        else:
            raise PatchError("doc is missing path: \"%s\"" % path)
    return cur


def _get(doc, path):
    return _walk(doc, _pointer(path), path)


def _add(doc, path, value):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                idx = int(last)
            except ValueError:
                raise PatchError("invalid index %r in path %s" % (last, path))
            if not 0 <= idx <= len(parent):
                raise PatchError("add operation does not apply: doc is missing path: \"%s\"" % path)
            parent.insert(idx, value)
    else:
        raise PatchError("add operation does not apply: doc is missing path: \"%s\"" % path)
    return doc


def _remove(doc, path):
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("remove operation does not apply: doc is missing path: \"%s\"" % path)
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            idx = int(last)
        except ValueError:
            raise PatchError("invalid index %r in path %s" % (last, path))
        if not 0 <= idx < len(parent):
            raise PatchError("remove operation does not apply: doc is missing path: \"%s\"" % path)
        return parent.pop(idx)
    raise PatchError("remove operation does not apply: doc is missing path: \"%s\"" % path)


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("invalid json patch operation %r" % (op,))
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError("missing value for %s operation at %s" % (kind, path))
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            if _pointer(path):
                _get(doc, path)  # must exist
                _remove(doc, path)
                doc = _add(doc, path, copy.deepcopy(op["value"]))
            else:
                doc = copy.deepcopy(op["value"])
        elif kind == "move":
            value = _get(doc, op["from"])
            _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError("testing value %s failed" % path)
        else:
            raise PatchError("Unexpected kind: %s" % kind)
    return doc


# --- strategic merge ----------------------------------------------------------------------------------
# Field name -> merge key (patchMergeKey in the Kubernetes API types). Lists not named here are replaced.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "conditions": "type", "ownerReferences": "uid", "hostAliases": "ip", "containerStatuses": "name",
    "initContainerStatuses": "name", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
    "ports": None,  # containerPort for containers, port for services: decided by the items
}
PRIMITIVE_MERGE = ("finalizers",)


def _merge_key(field, items):
    key = MERGE_KEYS.get(field, "")
    if key is None:
        sample = next((i for i in items if isinstance(i, dict)), {})
        key = "containerPort" if "containerPort" in sample else "port"
    return key


def strategic_merge(target, patch):
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    return _sm_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch)


def _sm_map(out, patch):
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [v for v in out[field] if v not in (value or [])]
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            merged = _sm_map(copy.deepcopy(out[key]) if isinstance(out.get(key), dict) else {}, value)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list):
            out[key] = _sm_list(key, out.get(key), value)
        else:
            out[key] = value
    if "$retainKeys" in patch and isinstance(patch["$retainKeys"], list):
        keep = set(patch["$retainKeys"])
        for key in list(out):
            if key not in keep:
                out.pop(key)
    return out


def _sm_list(field, current, patch_list):
    current = current if isinstance(current, list) else []
    if field in PRIMITIVE_MERGE:
        out = list(current)
        for v in patch_list:
            if v not in out:
                out.append(v)
        return out
    if field not in MERGE_KEYS or not all(isinstance(i, dict) for i in patch_list):
        return copy.deepcopy([i for i in patch_list if not (isinstance(i, dict) and i.get("$patch"))])
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch_list):
        return copy.deepcopy([i for i in patch_list if i.get("$patch") != "replace"])
    key = _merge_key(field, current + patch_list)
    out = copy.deepcopy(current)
    for item in patch_list:
        if key not in item:
            raise PatchError("map: %s does not contain declared merge key: %s" % (item, key))
        idx = next((n for n, cur in enumerate(out) if isinstance(cur, dict) and cur.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append({k: copy.deepcopy(v) for k, v in item.items() if k != "$patch"})
        else:
            out[idx] = _sm_map(out[idx], item)
    return out


def apply(content_type, target, body):
    """Apply a decoded patch ``body`` of ``content_type`` to ``target``; returns the new object."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype == JSON_PATCH:
        return json_patch(target, body)
    if ctype == MERGE_PATCH:
        if not isinstance(body, dict):
            raise PatchError("merge patch must be a JSON object")
        return merge_patch(target, body)
    if ctype in (STRATEGIC, APPLY):
        return strategic_merge(target, body)
    raise PatchError("unsupported patch type %s" % ctype)
