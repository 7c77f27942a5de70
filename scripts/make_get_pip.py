"""Write a stand-in for ansible-test's get-pip script, which it would download from an unreachable host.

The stand-in embeds the pip wheel that ansible-test pins and runs ``pip install <args>`` from it, which is
all ansible-test asks of get-pip when it bootstraps the virtual environments of its sanity tests.

Usage: python make_get_pip.py PIP_WHEEL OUTPUT_SCRIPT
"""
import base64
import pathlib
import sys

TEMPLATE = '''\
"""Stand-in for get-pip.py built by kas.fleet_manager's scripts/make_get_pip.py from {wheel}."""
import base64
import os
import shutil
import sys
import tempfile

DATA = "{data}"

# Flags only the real get-pip understands.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel", "--no-pip")]
tmp = tempfile.mkdtemp(prefix="get-pip-")
try:
    whl = os.path.join(tmp, "{wheel}")
    with open(whl, "wb") as handle:
        handle.write(base64.b64decode(DATA))
    sys.path.insert(0, whl)
    from pip._internal.cli.main import main as pip_main
    rc = pip_main(["install"] + args)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(rc)
'''


def main():
    wheel, output = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    data = base64.b64encode(wheel.read_bytes()).decode("ascii")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(TEMPLATE.format(wheel=wheel.name, data=data))


if __name__ == "__main__":
    main()
