# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""A filter that ends the process it runs in (sys.exit), as a broken library could: test-only
(tests/playbooks/files/where_tasks_run.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys


def ends_the_process(code):
    sys.exit(int(code))


class FilterModule(object):
    def filters(self):
        return {"ends_the_process": ends_the_process}
