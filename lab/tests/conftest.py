"""Make ``lab/`` importable (``fleet_lab``) however pytest is started; env.sh sets PYTHONPATH=lab too."""
import os
import sys

LAB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if LAB not in sys.path:
    sys.path.insert(0, LAB)
