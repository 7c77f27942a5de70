# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)
"""What importing the in-process action plugins does to ansible-playbook's main process: the role's filters are
loaded, OpenSSL has made a context, and the objects it holds are frozen out of the garbage collector's reach before
Ansible forks its workers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import os
import subprocess
import sys
import textwrap


def test_importing_an_in_process_action_freezes_the_main_process_objects():
    # A fresh interpreter: in this one, another test may have imported the plugin already.
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 7))  # .../ansible_collections/..
    code = textwrap.dedent("""
        import gc, sys
        from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
        _AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
        before = gc.get_freeze_count()
        from ansible_collections.kas.fleet_manager.plugins.action.fleet_pods_info import ActionModule
        from ansible.plugins.loader import filter_loader
        from ansible_collections.kas.fleet_manager.plugins.plugin_utils import in_process
        print(before, gc.get_freeze_count(), filter_loader.get("kas.fleet_manager.unavailable") is not None,
              type(in_process.WARM_TLS_CONTEXT).__name__)
    """)
    out = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, check=True).stdout.split()
    before, after, loaded, tls = int(out[0]), int(out[1]), out[2], out[3]
    assert before == 0
    # Ansible, the kubernetes client and the plugins: tens of thousands of objects, not a handful.
    assert after > 20000
    assert loaded == "True"
    # OpenSSL's caches filled before the fork: each worker's first TLS context is a cheap one.
    assert tls == "SSLContext"
    assert gc.isenabled()  # frozen objects aside, collection goes on as before
