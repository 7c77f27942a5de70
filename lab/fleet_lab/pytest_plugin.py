"""pytest fixtures: each test module gets a lab of its own on free ports, torn down after it.

Use with ``pytest_plugins = ["fleet_lab.pytest_plugin"]``. Mark a module with
``pytestmark = pytest.mark.lab_scenario("osd_no_leader")`` to start it on another scenario; tests switch with
``fleet_lab.switch(name)``. ``lab_factory(name, environments=N)`` starts a lab of N fleet environments (an
inventory host each). Faults: ``fleet_lab.fault(component, kind, ...)``; clear them after each test
(``fleet_lab.clear_faults()``) as they outlive it (a scenario switch also replaces them).
"""
import os
import tempfile

import pytest

from fleet_lab.lab import Lab, remove_state


def _state_root():
    root = os.environ.get("FLEET_LAB_TEST_ROOT") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".work", "tmp", "labs")
    os.makedirs(root, exist_ok=True)
    return root


def pytest_configure(config):
    config.addinivalue_line("markers", "lab_scenario(name): scenario the module's lab starts with")


@pytest.fixture(scope="module")
def lab_factory():
    """Start labs (``lab_factory(scenario, volume=None, environments=1)``); every one is stopped and removed
    afterwards. ``environments=N`` serves N fleet environments (an inventory host each)."""
    labs = []

    def start(scenario="healthy", volume=None, environments=1):
        state_dir = tempfile.mkdtemp(prefix="lab-", dir=_state_root())
        lab = Lab.up(state_dir, scenario, volume=volume, environments=environments)
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.down(quiet=True)
        remove_state(lab.state_dir)


@pytest.fixture(scope="module")
def fleet_lab(request, lab_factory):
    marker = request.node.get_closest_marker("lab_scenario")
    return lab_factory(marker.args[0] if marker else "healthy")
