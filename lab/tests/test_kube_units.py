"""Pieces of the lab Kubernetes API that need no server: selectors, patches, the log generator, tables."""
import datetime
import re

import pytest

from fleet_lab import logformat
from fleet_lab.kube import logs, patch, selectors, tables

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
END = logs.to_us(NOW)
START = END - 6 * 3600 * logs.US
PROFILE = {"leads": ["ClusterManager", "KafkaManager"], "lost": ["KafkaManager"], "worker_prefix": "current",
           "errors": {"manager_api": 5, "ocm": 4}, "log_lines": ["LAST ONE", "REALLY LAST"]}


# --- selectors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("selector,expected", [
    ("app=kas", True), ("app==kas", True), ("app!=kas", False), ("app in (x,kas)", True),
    ("app notin (x, kas)", False), ("tier", True), ("!tier", False), ("!missing", True), ("missing", False),
    ("app=kas,tier in (web)", True), ("app=kas,tier in (db)", False), ("app notin (x),tier!=db", True),
    ("", True),
])
def test_label_selectors(selector, expected):
    labels = {"app": "kas", "tier": "web"}
    assert selectors.match_labels(selectors.parse_labels(selector), labels) is expected


@pytest.mark.parametrize("bad", ["app in (x", "app in x)", "a b c", "=x"])
def test_bad_label_selectors_raise(bad):
    with pytest.raises(selectors.SelectorError):
        selectors.parse_labels(bad)


def test_field_selectors():
    event = {"metadata": {"name": "e1", "namespace": "ns"}, "type": "Warning", "reason": "BackOff",
             "involvedObject": {"kind": "Pod", "name": "p1", "namespace": "ns"}}
    assert selectors.match_fields(selectors.parse_fields("involvedObject.name=p1,type=Warning", "events"), event)
    assert not selectors.match_fields(selectors.parse_fields("involvedObject.kind!=Pod", "events"), event)
    assert selectors.match_fields(selectors.parse_fields("metadata.namespace==ns", "events"), event)
    with pytest.raises(selectors.SelectorError, match="field label not supported: status.phase"):
        selectors.parse_fields("status.phase=Running", "events")
    pod = {"metadata": {"name": "p"}, "status": {"phase": "Running"}}
    assert selectors.match_fields(selectors.parse_fields("status.phase=Running", "pods"), pod)


# --- patches ---------------------------------------------------------------------------------------------
DEPLOY = {"metadata": {"name": "d", "annotations": {"a": "1", "b": "2"}, "finalizers": ["x"]},
          "spec": {"replicas": 3, "template": {"spec": {"containers": [
              {"name": "service", "image": "img:1", "env": [{"name": "A", "value": "1"}]},
              {"name": "envoy-sidecar", "image": "envoy:1"}]}}}}


def test_strategic_merge_merges_containers_by_name():
    out = patch.strategic_merge(DEPLOY, {"metadata": {"annotations": {"a": None, "c": "3"}, "finalizers": ["y"]},
                                         "spec": {"template": {"spec": {"containers": [
                                             {"name": "service", "env": [{"name": "B", "value": "2"}]},
                                             {"name": "new", "image": "n:1"}]}}}})
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["service", "envoy-sidecar", "new"]
    assert containers[0]["image"] == "img:1"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert out["metadata"]["annotations"] == {"b": "2", "c": "3"}
    assert out["metadata"]["finalizers"] == ["x", "y"]
    assert DEPLOY["metadata"]["annotations"] == {"a": "1", "b": "2"}  # input untouched


def test_strategic_merge_directives():
    out = patch.strategic_merge(DEPLOY, {"spec": {"template": {"spec": {
        "containers": [{"name": "envoy-sidecar", "$patch": "delete"}],
        "$setElementOrder/containers": [{"name": "service"}]}}}})
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["service"]
    out = patch.strategic_merge(DEPLOY, {"metadata": {"annotations": {"$patch": "replace", "z": "9"}}})
    assert out["metadata"]["annotations"] == {"z": "9"}


def test_merge_patch_rfc7386():
    out = patch.merge_patch(DEPLOY, {"spec": {"replicas": 5, "template": {"spec": {"containers": [
        {"name": "only"}]}}}, "metadata": {"annotations": {"a": None}}})
    assert out["spec"]["replicas"] == 5
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "only"}]  # lists are replaced
    assert out["metadata"]["annotations"] == {"b": "2"}


def test_json_patch_rfc6902():
    out = patch.json_patch(DEPLOY, [
        {"op": "replace", "path": "/spec/replicas", "value": 1},
        {"op": "add", "path": "/metadata/annotations/k8s.io~1x", "value": "y"},
        {"op": "remove", "path": "/metadata/annotations/a"},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "c3"}},
        {"op": "copy", "from": "/spec/replicas", "path": "/spec/copied"},
        {"op": "move", "from": "/spec/copied", "path": "/spec/moved"},
        {"op": "test", "path": "/spec/moved", "value": 1},
    ])
    assert out["spec"]["replicas"] == 1 and out["spec"]["moved"] == 1 and "copied" not in out["spec"]
    assert out["metadata"]["annotations"] == {"b": "2", "k8s.io/x": "y"}
    assert out["spec"]["template"]["spec"]["containers"][-1] == {"name": "c3"}
    with pytest.raises(patch.PatchError):
        patch.json_patch(DEPLOY, [{"op": "test", "path": "/spec/replicas", "value": 7}])
    with pytest.raises(patch.PatchError):
        patch.json_patch(DEPLOY, [{"op": "replace", "path": "/spec/nope/x", "value": 1}])


# --- logs --------------------------------------------------------------------------------------------------
def _log(volume_kb=64, name="kas-fleet-manager-abc-x1"):
    return logs.service_log(name, PROFILE, START, END, volume_kb * 1024)


def test_log_is_deterministic_ordered_and_sized():
    a = _log().text()
    b = _log().text()
    assert a == b
    assert 48 * 1024 < len(a) < 80 * 1024
    lines = a.splitlines()
    assert lines[-2:] == ["LAST ONE", "REALLY LAST"]
    stamps = [logs.to_us(datetime.datetime.strptime("2026" + m.group(1), "%Y%m%d %H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc)) for m in (re.match(r"^[IEWF](\d{4} \d\d:\d\d:\d\d\.\d{6}) ", l)
                                                 for l in lines[:-2]) if m]
    assert stamps == sorted(stamps) and len(stamps) == len(lines) - 2
    assert START <= stamps[0] and stamps[-1] <= END


def test_log_leadership_and_errors():
    text = _log().text()
    wid = logformat.worker_uuid("kas-fleet-manager-abc-x1", "ClusterManager")
    assert "Running as the leader and starting worker *cluster_mgrs.ClusterManager [%s]" % wid in text
    kid = logformat.worker_uuid("kas-fleet-manager-abc-x1", "KafkaManager")
    start = text.index("Running as the leader and starting worker *kafka_mgrs.KafkaManager [%s]" % kid)
    assert text.index("No longer the leader and stopping worker *kafka_mgrs.KafkaManager [%s]" % kid) > start
    assert "No longer the leader and stopping worker *cluster_mgrs.ClusterManager" not in text
    assert "Starting LeaderElectionManager" in text
    errors = [l for l in text.splitlines() if l.startswith("E")]
    assert len(errors) == 9
    cutoff = NOW - datetime.timedelta(minutes=30)
    for line in errors:
        ts = datetime.datetime.strptime("2026" + line[1:21], "%Y%m%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        assert cutoff <= ts <= NOW
    assert sum("CLUSTERS-MGMT-503" in l or "api.openshift.com" in l or "addon installation" in l
               for l in errors) == 4
    assert all(re.search(r"\b[0-9a-v]{20}\b", l) for l in errors if "{id}" not in l and "kafka request" in l)


def test_log_tail_since_limit_are_exact():
    log = _log()
    full = log.text()
    lines = full.splitlines(True)
    assert log.text(tail=7) == "".join(lines[-7:])
    assert log.text(tail=0) == ""
    assert log.text(tail=10 ** 9) == full
    assert log.text(limit=1000) == full.encode()[:1000].decode()
    cutoff = END - 20 * 60 * logs.US
    since = log.text(since_us=cutoff, timestamps=True).splitlines()
    allts = log.text(timestamps=True).splitlines()
    assert since == allts[len(allts) - len(since):]
    assert all(_rfc(l.split(" ", 1)[0]) >= cutoff for l in since)
    assert _rfc(allts[len(allts) - len(since) - 1].split(" ", 1)[0]) < cutoff
    combined = log.text(tail=50, since_us=cutoff, limit=600)
    expected = "".join(l + "\n" for l in log.text(since_us=cutoff).splitlines()[-50:])
    assert combined == expected.encode()[:600].decode()
    # a line reached from the middle of the log is the same as when produced in sequence
    assert list(log.lines(123))[:5] == list(log.lines(0))[123:128]


def _rfc(stamp):
    dt = datetime.datetime.strptime(stamp.rstrip("Z").ljust(26, "0")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    return logs.to_us(dt.replace(tzinfo=datetime.timezone.utc))


def test_large_log_tail_and_header_matches_logformat():
    log = _log(volume_kb=50000)
    tail = log.text(tail=3)
    assert tail.splitlines()[-1] == "REALLY LAST"
    assert log.total > 250000
    clock = logs._Clock()
    ts = logs.to_us(datetime.datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=datetime.timezone.utc))
    assert clock.glog(ts, "E", "x.go:1") == logformat.header(logs.from_us(ts), "E", "x.go:1")


def test_previous_log_ends_with_fatal():
    prof = dict(PROFILE, previous_log_lines=["E1125 11:00:00.000000       1 x.go:1] previous line"],
                errors={"database": 1})
    text = logs.service_log("p", prof, END - 300 * logs.US, END - 200 * logs.US, 4096, previous=True).text()
    lines = text.splitlines()
    assert lines[-2] == "E1125 11:00:00.000000       1 x.go:1] previous line"
    assert lines[-1].startswith("F") and "main.go:" in lines[-1] and "connection refused" in lines[-1]


def test_human_duration_matches_kubectl():
    assert [tables.human_duration(s) for s in (5, 119, 120, 125, 600, 3 * 3600 - 1, 3 * 3600, 5 * 3600 + 60,
                                               30 * 3600, 3 * 86400 + 3600, 30 * 86400)] == [
        "5s", "119s", "2m", "2m5s", "10m", "179m", "3h", "5h1m", "30h", "3d1h", "30d"]
