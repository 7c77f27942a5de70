"""Compatibility tests: the modules with the oldest dependency versions requirements.txt allows, against a lab."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

pytest_plugins = ["fleet_lab.pytest_plugin"]
