"""Extension tests: the shipped extras (AWX templates, EDA rulebooks, inventories, RBAC manifests); the RBAC test
runs the modules against a lab of its own (fleet_lab.pytest_plugin)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

pytest_plugins = ["fleet_lab.pytest_plugin"]
