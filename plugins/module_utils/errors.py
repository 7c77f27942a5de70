# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""The collection's one exception type, and the wrapper that turns it into fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FleetError(Exception):
    """A failure the user can act on: ``msg`` says what was tried and how to fix it; never a secret.

    ``details`` are extra, secret-free keys returned alongside ``msg`` by ``fail_json`` (for example the
    HTTP status the API answered), so a playbook can branch on them.
    """

    def __init__(self, msg, **details):
        super(FleetError, self).__init__(msg)
        self.msg = msg
        self.details = details


def run_module(module, service, require=None):
    """Every module's ``main()``: call ``service(module)`` and exit with its result dict, or fail with a FleetError's
    message; first, with ``require`` (such as k8s.require_k8s), fail plainly when a library the module needs is
    missing.

    User errors (FleetError) end in ``fail_json`` without a traceback; anything else is a bug and keeps its
    traceback for ``-vvv``. A module's action plugin runs the same service with the same argument spec in the
    controller's process (plugin_utils.in_process), without ``require``: it runs there only when the libraries
    import.
    """
    if require is not None:
        require(module)
    try:
        result = service(module)
    except FleetError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    result.setdefault("changed", False)
    module.exit_json(**result)


def check_minimums(params, minimums, unit=None, **details):
    """FleetError for the first option below its minimum (``{name: minimum}``; unset options pass): every
    module checks its numbers here, in its service, so a module run and an in-process run say the same."""
    check_bounds(params, dict((name, (minimum, None)) for name, minimum in minimums.items()), unit, **details)


def check_bounds(params, bounds, unit=None, **details):
    """FleetError for the first option out of its bounds (``{name: (minimum, maximum)}``, None for no bound; unset
    options pass). ``unit`` names the numbers' unit in the message (``at least 1 second``); ``details`` are the
    error's (a ``reason`` for playbooks)."""
    for name, (low, high) in bounds.items():
        value = params.get(name)
        if value is None:
            continue
        if low is not None and high is not None:
            if not low <= value <= high:
                raise FleetError("%s must be between %s and %s, got %s" % (name, low, high, value), **details)
        elif low is not None and value < low:
            raise FleetError("%s must be at least %s%s, got %s" % (name, low, " " + unit if unit else "", value),
                             **details)
        elif high is not None and value > high:
            raise FleetError("%s must be at most %s%s, got %s" % (name, high, " " + unit if unit else "", value),
                             **details)
