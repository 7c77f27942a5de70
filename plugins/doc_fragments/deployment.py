# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Which fleet manager deployment a module looks at or acts on."""

    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - Namespace of the fleet manager, for example C(kas-fleet-manager-stage).
    type: str
    required: true
  deployment:
    description:
      - Name of the fleet manager's deployment.
    type: str
    default: kas-fleet-manager
"""
