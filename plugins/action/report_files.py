# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Write a run's report files on the controller, in-process: no module is sent anywhere, so writing the three
reports costs no module round trips (each would be about 0.3 s of a run that should take a few seconds).

Templates are rendered here with Jinja2 and Ansible's core filters and tests, trim_blocks as the template lookup
does, from plain data: the same output as ``lookup('template')`` for the report's templates, at a sixth of the CPU
(Ansible's templar tracks every value it touches; a report with charts touches tens of thousands). The data is never
itself templated: text from logs, Sentry or the database stays text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.action import ActionBase

from ansible_collections.kas.fleet_manager.plugins.plugin_utils.plain import NotPlain, plain_copy

ARGUMENT_SPEC = dict(
    directory=dict(type="str", required=True),
    files=dict(type="dict", default={}),
    templates=dict(type="dict", default={}),
    texts=dict(type="dict", default={}),
    json=dict(type="dict", default={}),
    variables=dict(type="dict", default={}),
    mode=dict(type="raw", default="0640"),
    directory_mode=dict(type="raw", default="0750"),
)


def octal_mode(value, name):
    """A permission given as an octal string ('0640') or as a number (YAML reads an unquoted 0640 as 416), the
    way the file module takes it."""
    try:
        mode = value if isinstance(value, int) else int(str(value), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise ValueError("%s must be an octal permission such as '0640', got %r" % (name, value))
    return mode


def safe_name(name):
    """``name`` if it is a plain file name (no directory part, no '..', no hidden or empty name), else ValueError:
    a report lands in its directory and nowhere else, whatever an inventory variable holds."""
    text = to_native(name)
    if not text or text != os.path.basename(text) or text in (".", "..") or text.startswith(".") or "\0" in text:
        raise ValueError("files: %r is not a plain file name (no '/', no '..', not hidden)" % (text,))
    return text


def write_atomically(path, content, mode, directory_mode, overwrite=True):
    """Write ``content`` to ``path`` through a temporary file in the same directory, so a reader never sees half
    a report and a failed write leaves the previous file (if any) as it was. Without ``overwrite`` an existing
    file is an error (FileExistsError) and is left untouched: the file is linked into place, which fails if the
    name is taken, even by a run that wrote it a microsecond earlier."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, directory_mode)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(content, errors="surrogate_or_strict"))
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def plain(data):
    """``data`` as plain JSON types (Ansible hands actions its own str/dict/list subclasses); anything else (a
    vaulted value, a date, a key that is not a string) goes through Ansible's JSON encoder, as it would to a file."""
    # An exact copy by a walk of the report (60 KB, a thousand containers): the JSON round trip took four times as long.
    try:
        return plain_copy(data, strict=True)
    except NotPlain:
        return json.loads(json.dumps(data, cls=AnsibleJSONEncoder))


_RENDERERS = {}


def renderer(search_path):
    """A Jinja2 environment over ``search_path`` with Ansible's core filters and tests, as the template lookup has;
    one per search path, so a template is compiled once per process (see warm())."""
    key = tuple(os.path.realpath(p) for p in search_path)
    if key not in _RENDERERS:
        _RENDERERS[key] = _new_renderer(list(key))
    return _RENDERERS[key]


def warm(templates_dir):
    """Compile the templates of ``templates_dir`` now. Called when this plugin is imported, which the strategy does in
    ansible-playbook's main process: every worker it forks then renders the reports without compiling them again
    (0.2 s of CPU each, per host of a fleet). Never fails the import: a template error shows when it is rendered."""
    try:
        env = renderer([templates_dir])
        for name in sorted(os.listdir(templates_dir)):
            if name.endswith(".j2"):
                env.get_template(name)
    except Exception:  # pylint: disable=broad-except
        pass


def bytecode_cache(directory=None):
    """Jinja2's own cache of compiled templates (by default a directory of the temp dir that only this user can
    write): the report's templates take 0.1-0.4 s of CPU to compile and a few ms to load from it. A cache that
    cannot be read or written (a read-only temp dir) only costs that compile again; None when not even its
    directory can be made."""
    import jinja2

    class ForgivingCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket):
            try:
                super(ForgivingCache, self).load_bytecode(bucket)
            except OSError:
                pass

        def dump_bytecode(self, bucket):
            try:
                super(ForgivingCache, self).dump_bytecode(bucket)
            except OSError:
                pass

    try:
        return ForgivingCache(directory)
    except Exception:  # pylint: disable=broad-except
        return None


def plain_to_nice_json(data, indent=4, sort_keys=True, **kwargs):
    """Ansible's to_nice_json for the plain data these templates get (see plain()): the standard library's encoder
    writes the same text without Ansible's pass over every value first (5 against 19 ms for a report). A value
    only Ansible's encoder knows (a date a template made) goes to Ansible's filter, as before."""
    from ansible.plugins.filter.core import to_nice_json

    kwargs.pop("separators", None)
    try:
        return json.dumps(data, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kwargs)
    except TypeError:
        return to_nice_json(data, indent=indent, sort_keys=sort_keys, **kwargs)


def _new_renderer(search_path):
    import jinja2
    from ansible.plugins.filter.core import FilterModule as CoreFilters
    from ansible.plugins.filter.mathstuff import FilterModule as MathFilters
    from ansible.plugins.test.core import TestModule as CoreTests
    from ansible.plugins.test.mathstuff import TestModule as MathTests

    class Undefined(jinja2.ChainableUndefined, jinja2.StrictUndefined):
        """As Ansible's: ``a.b.c | default(x)`` works when ``a.b`` is missing; printing or testing one fails."""

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(search_path), trim_blocks=True,
                             keep_trailing_newline=True, undefined=Undefined, bytecode_cache=bytecode_cache())
    # Ansible's own default, d and map are written for its templar's undefined values: Jinja's serve here.
    builtin = dict((name, env.filters[name]) for name in ("default", "d", "map"))
    env.filters.update(CoreFilters().filters())
    env.filters.update(MathFilters().filters())
    env.filters.update(builtin)
    env.filters["to_nice_json"] = plain_to_nice_json
    env.tests.update(CoreTests().tests())
    env.tests.update(MathTests().tests())
    return env


warm(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                  "roles", "kas_fleet", "templates"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            mode = octal_mode(args["mode"], "mode")
            directory_mode = octal_mode(args["directory_mode"], "directory_mode")
        except ValueError as exc:
            return dict(result, failed=True, msg=to_native(exc))
        directory = os.path.abspath(os.path.expanduser(args["directory"]))
        contents = dict(args["files"])
        try:
            variables = plain(args["variables"])
            contents.update(self.render(args["templates"], variables))
            texts = self.render(args["texts"], variables)
        except AnsibleError as exc:
            return dict(result, failed=True, msg=to_native(exc))
        for name, data in args["json"].items():
            contents[name] = json.dumps(plain(data), indent=4, sort_keys=True) + "\n"
        written = []
        for name, content in sorted(contents.items()):
            try:
                name = safe_name(name)
            except ValueError as exc:
                return dict(result, failed=True, files=written, msg=to_native(exc))
            if not isinstance(content, str):
                return dict(result, failed=True, msg="files: the content of %s must be text, got %s"
                            % (name, type(content).__name__))
            path = os.path.join(directory, name)
            try:
                write_atomically(path, content, mode, directory_mode, overwrite=False)
            except FileExistsError:
                return dict(result, failed=True, files=written,
                            msg="the report file %s exists already: it is never overwritten (is another run using the "
                                "same name?)" % path)
            except OSError as exc:
                return dict(result, failed=True, files=written,
                            msg="cannot write the report file %s: %s" % (path, to_native(exc)))
            written.append(path)
        # A report is the run's output, not a change to the fleet: it never makes a run "changed".
        return dict(result, changed=False, files=written, texts=texts)

    def render(self, templates, variables):
        """File name -> text, each from its template (found as the template lookup finds it: the role's templates/
        first); a template error names the template."""
        out = {}
        for name, template in templates.items():
            path = self._find_needle("templates", template)
            env = renderer([os.path.dirname(path)])
            try:
                out[name] = env.get_template(os.path.basename(path)).render(**variables)
            except Exception as exc:  # a template bug: say which template and what, never a traceback
                raise AnsibleError("cannot render %s for %s: %s: %s" % (template, name, type(exc).__name__, exc))
        return out
