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

    # For the modules that change the deployment and can wait for the outcome.
    WAIT = r"""
options:
  wait:
    description:
      - Wait until the deployment's rollout is healthy after the change (every replica updated, ready and
        available).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout before failing, saying what was seen.
    type: int
    default: 180
  wait_sleep:
    description:
      - Seconds between two looks at the deployment while waiting.
    type: int
    default: 2
"""
