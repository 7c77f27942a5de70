# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.kas.fleet_manager.plugins.action.report_files import octal_mode, safe_name, write_atomically


@pytest.mark.parametrize("given, mode", [("0640", 0o640), ("750", 0o750), (416, 0o640), (0o750, 0o750)])
def test_modes_as_the_file_module_takes_them(given, mode):
    assert octal_mode(given, "mode") == mode


@pytest.mark.parametrize("given", ["rw-r-----", "0999", "01777", -1])
def test_a_mode_that_is_no_permission_is_refused_by_name(given):
    with pytest.raises(ValueError, match="directory_mode must be an octal permission"):
        octal_mode(given, "directory_mode")


def test_writes_the_file_and_its_directory_with_their_modes(tmp_path):
    path = str(tmp_path / "reports" / "stage" / "run.md")
    write_atomically(path, u"# Décision\n", 0o640, 0o750)
    assert open(path, "rb").read() == u"# Décision\n".encode("utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) & 0o027 == 0  # umask may only remove bits
    assert os.listdir(os.path.dirname(path)) == ["run.md"]  # no temporary file left


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / "run.json")
    write_atomically(path, "{}\n", 0o640, 0o750)

    def refuse(_src, _dst):  # the rename fails, as on a full or read-only filesystem
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomically(path, '{"decision": "healthy"}\n', 0o640, 0o750)
    assert open(path).read() == "{}\n"
    assert os.listdir(str(tmp_path)) == ["run.json"]


def test_a_directory_that_cannot_be_made_is_an_os_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        write_atomically(str(blocker / "run.md"), "x", 0o640, 0o750)


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = str(tmp_path / "stage-latency.json")
    write_atomically(path, "{}\n", 0o640, 0o750, overwrite=False)
    with pytest.raises(FileExistsError):
        write_atomically(path, '{"decision": "healthy"}\n', 0o640, 0o750, overwrite=False)
    assert open(path).read() == "{}\n"
    assert os.listdir(str(tmp_path)) == ["stage-latency.json"]


@pytest.mark.parametrize("name", ["../x.json", "a/b.json", "..", ".hidden.json", "", "/etc/passwd"])
def test_only_plain_file_names(name):
    with pytest.raises(ValueError, match="is not a plain file name"):
        safe_name(name)


def test_templates_render_with_the_core_filters_and_data_stays_text(tmp_path):
    from ansible_collections.kas.fleet_manager.plugins.action.report_files import plain, renderer
    (tmp_path / "t.j2").write_text(u"{% for k, v in r | dictsort %}{{ k }}={{ v | to_json }}\n{% endfor %}"
                                   u"{{ r.name | regex_replace('a', 'A') }}\n")
    out = renderer([str(tmp_path)]).get_template("t.j2").render(r=plain({"name": "{{ 7 * 6 }} and <b>", "n": 2}))
    assert out == u'n=2\nname="{{ 7 * 6 }} and <b>"\n{{ 7 * 6 }} And <b>\n'  # the value is never templated


def test_compiled_templates_are_kept_in_the_bytecode_cache(tmp_path):
    from ansible_collections.kas.fleet_manager.plugins.action.report_files import bytecode_cache
    import jinja2
    (tmp_path / "t.j2").write_text(u"{{ x * 2 }}")
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)),
                             bytecode_cache=bytecode_cache(str(cache_dir)))
    assert env.get_template("t.j2").render(x=21) == u"42"
    assert len(os.listdir(str(cache_dir))) == 1  # written on the first compile
    again = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)),
                               bytecode_cache=bytecode_cache(str(cache_dir)))
    compiled = []
    again.compile = lambda *a, **kw: compiled.append(a) or jinja2.Environment.compile(again, *a, **kw)
    assert again.get_template("t.j2").render(x=2) == u"4"
    assert compiled == []  # loaded from the cache, not compiled again


def test_a_cache_that_cannot_be_used_only_costs_the_compile(tmp_path):
    from ansible_collections.kas.fleet_manager.plugins.action.report_files import bytecode_cache
    import jinja2
    (tmp_path / "t.j2").write_text(u"{{ x }}")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text(u"x")  # neither readable nor writable as a cache directory, even for root
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)),
                             bytecode_cache=bytecode_cache(str(blocker)))
    assert env.get_template("t.j2").render(x="ok") == u"ok"


def test_plain_leaves_what_is_not_json_to_ansibles_encoder():
    # Tagged values come out with exact types (tests/unit/plugins/plugin_utils/test_plain.py); what the copy does not
    # know goes through Ansible's encoder, as the report's files would: a date as ISO text, a vaulted value as its
    # ciphertext (never decrypted into a report), a key that is not a string as JSON writes it.
    import datetime
    import json

    from ansible.parsing.ajson import AnsibleJSONEncoder
    from ansible.parsing.vault import EncryptedString

    from ansible_collections.kas.fleet_manager.plugins.action.report_files import plain

    vaulted = EncryptedString(ciphertext="$ANSIBLE_VAULT;1.1;AES256\n3132")
    odd = {"when": datetime.date(2026, 12, 6), "token": vaulted, "n": 1}
    assert plain(odd) == json.loads(json.dumps(odd, cls=AnsibleJSONEncoder))
    assert plain(odd)["when"] == "2026-12-06" and "3132" in json.dumps(plain(odd)["token"])
    assert plain({1: "a", "b": [True]}) == {"1": "a", "b": [True]}


def test_to_nice_json_writes_what_ansibles_filter_writes():
    import datetime

    from ansible.plugins.filter.core import to_nice_json

    from ansible_collections.kas.fleet_manager.plugins.action.report_files import plain_to_nice_json, renderer

    report = {"b": [1, 2.5, None, True, "{{ x }}", u"caf\u00e9 <b>"], "a": {"z": [], "y": {}, "x": [[1795575600, 0.82]]},
              "n": -0.0001, "big": 10 ** 20}
    assert plain_to_nice_json(report) == to_nice_json(report)
    assert plain_to_nice_json(report, indent=2, sort_keys=False) == to_nice_json(report, indent=2, sort_keys=False)
    # Through the templates' own filter name, and with a value only Ansible's encoder can write.
    odd = {"when": datetime.datetime(2026, 12, 6, 14, 0)}
    assert plain_to_nice_json(odd) == to_nice_json(odd)
    env_filter = renderer([os.path.dirname(__file__)]).filters["to_nice_json"]
    assert env_filter(report) == to_nice_json(report)
