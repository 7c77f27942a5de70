# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""Run a collection module's service in the controller's process when the task runs on the controller anyway.

The collection's modules only talk to remote APIs (Kubernetes, PostgreSQL, Prometheus, Sentry, paging routes), and
the runbook's inventories run them with the local connection: each call used to start a Python process and import
the kubernetes client, psycopg2 and ansible's module_utils again (about 0.8 s of a 1 s task). The action plugins
of the same names call the very same service function with the same argument spec, in the worker process Ansible
forks for the task; their modules' libraries are imported once, when the strategy first loads the action plugin in
the main process, so every worker inherits them.

The module runs as usual (``_execute_module``) whenever in-process would differ from it: another connection than
``local`` (a task delegated to a bastion), ``become``, a task ``environment``, or a library the controller lacks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.kas.fleet_manager.plugins.module_utils.errors import FleetError

CONSTRAINTS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")

# One filter or test of each plugin file the role's templates use from ansible.builtin (each loads its whole file).
BUILTIN_PLUGINS = (("filter", "ansible.builtin.combine"), ("filter", "ansible.builtin.intersect"),
                   ("test", "ansible.builtin.succeeded"), ("test", "ansible.builtin.subset"))


def preload_plugins():
    """Load the filter and test plugins the role's templates use (this collection's and ansible.builtin's) into the
    plugin loaders of ansible-playbook's main process. A plugin a forked worker loads is gone with the worker, so
    each task used to load (and compile, for a collection's) the ones it templates again: about 0.2 s of CPU a run,
    per host of a fleet. Called when the first of these action plugins is imported, which the strategy does in the
    main process. Never fails: a plugin that does not load here fails where a template uses it, as it would have."""
    from ansible.plugins.loader import filter_loader, test_loader

    loaders = {"filter": filter_loader, "test": test_loader}
    filter_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filter")
    own = [("filter", "kas.fleet_manager." + name[:-3]) for name in sorted(os.listdir(filter_dir))
           if name.endswith(".py") and not name.startswith("_")]
    for kind, name in list(BUILTIN_PLUGINS) + own:
        try:
            loaders[kind].get(name)
        except Exception:  # pylint: disable=broad-except
            pass


def freeze_main_process():
    """Move every object ansible-playbook's main process holds so far (Ansible, the kubernetes client, the plugins,
    the playbook) out of reach of the garbage collector, as prefork servers do before they fork (gc.freeze).

    Ansible forks a worker for each task and host. A collection in the worker walks every tracked object and writes
    to each one's header, so each worker copied most of the main process's memory page by page: about 0.4 s of CPU a
    run here (178 against 194 thousand page faults). These objects live as long as the process anyway; only a cycle
    that is garbage at this moment stays in memory. Called once, when the first of these action plugins is imported.
    """
    gc.freeze()


def warm_tls():
    """Make one TLS client context in ansible-playbook's main process. OpenSSL 3 fills its caches of providers and
    algorithms when a process makes its first context, and each forked worker made its first: 3.6 ms against 0.8 ms
    for a context once they are inherited, for each Kubernetes client and HTTP API of a run (twelve in a section run).
    Never fails: without a usable ssl module the tasks that need TLS fail where they need it, as they would have."""
    try:
        import ssl

        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except Exception:  # pylint: disable=broad-except
        return None


preload_plugins()
WARM_TLS_CONTEXT = warm_tls()
freeze_main_process()


class ModuleInProcess(object):
    """What a service sees of AnsibleModule: params, check mode, diff mode, warnings."""

    def __init__(self, params, check_mode, diff):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class InProcessAction(ActionBase):
    """Base of the action plugins named after a module: ``MODULE`` is the module's Python module, which has
    ``argument_spec()``, ``MODULE_OPTIONS`` (AnsibleModule's constraints) and ``SERVICE`` (``service(module)`` ->
    result dict, FleetError for a user error); ``AVAILABLE`` says whether its libraries import on the controller."""

    MODULE = None
    AVAILABLE = True
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def in_process(self):
        """Whether running here is the same as running the module on the task's host."""
        return (self.AVAILABLE and self._connection.transport in ("local", "ansible.builtin.local")
                and not self._play_context.become and not any(self._task.environment or []))

    def run(self, tmp=None, task_vars=None):
        if not self.in_process():
            return self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                        module_args=self._task.args, task_vars=task_vars)
        result = super(InProcessAction, self).run(tmp, task_vars)
        del tmp
        options = dict((k, v) for k, v in self.MODULE.MODULE_OPTIONS.items() if k in CONSTRAINTS)
        validation = ArgumentSpecValidator(self.MODULE.argument_spec(), **options).validate(self._task.args)
        no_log = validation._no_log_values
        errors = list(validation.errors)
        if errors:
            msg = validation.errors.msg
            if any(isinstance(e, UnsupportedError) for e in errors):
                msg = "Unsupported parameters for (%s) module: %s" % (self._task.action, msg)
            return remove_values(dict(result, failed=True, msg=msg), no_log)
        module = ModuleInProcess(validation.validated_parameters, self._play_context.check_mode, self._play_context.diff)
        try:
            out = self.MODULE.SERVICE(module)
        except FleetError as exc:
            out = dict(exc.details, failed=True, msg=exc.msg)
        out.setdefault("changed", False)
        out["invocation"] = {"module_args": validation.validated_parameters}
        if module.warnings:
            out["warnings"] = module.warnings
        result.update(out)
        # remove_values copies the whole result (30 ms for the metrics' series) even when no secret was given.
        return remove_values(result, no_log) if no_log else result
