# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""kas.fleet_manager.sentry_issues_info in the controller's process when the task runs on the controller (plugin_utils.in_process);
its documentation, argument spec and service are the module's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kas.fleet_manager.plugins.modules import sentry_issues_info as module
from ansible_collections.kas.fleet_manager.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    MODULE = module  # the standard library's HTTP client is all it needs
