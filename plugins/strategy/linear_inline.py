# -*- coding: utf-8 -*-
# Copyright: kas.fleet_manager contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: linear_inline
short_description: The linear strategy, running each task in ansible-playbook's own process when one runs at a time
version_added: 0.1.0
author:
  - kas.fleet_manager maintainers (@kas-fleet-manager)
description:
  - Runs a play exactly as ansible.builtin.linear does (same task order, results, callbacks, rescue, check mode),
    except where a task runs. Ansible forks a worker process for every task and host; when only one task can run at
    a time (a single environment in the play's batch, C(--forks 1) or a C(serial) of 1) and the host uses the local
    connection, this strategy runs the task in ansible-playbook's own process instead, as the worker would.
  - A runbook section run on one environment forks 25 workers, and each one copies the pages of ansible-playbook's
    memory it touches and loads again the filters its templates use; on the project's 2-core machine a section run
    took about 28 % less CPU with this strategy (1.84-1.94 s against 2.50-2.70 s in C(make bench)).
  - Everything else forks as usual, task by task - several environments at once (the fan-out keeps its parallelism),
    another connection than C(local), a delegated task - and so does every task when the ansible-core in use does
    not have what this strategy relies on (then a warning says so for each play).
  - Off unless configured; see the examples.
notes:
  - ansible-core 2.19 deprecates strategy plugins that are not in ansible.builtin (no removal version, no planned
    alternative) and warns so on every run that uses one. The collection's playbooks do not depend on this one;
    without the setting a run forks as before.
  - The task is copied before it runs, as a fork copies it, and its result travels through Ansible's result queue
    as a worker's does. What differs from a worker - an action or lookup plugin that changes a variable's value in
    place (rather than returning a new one) changes it for the tasks after it, where a worker's change ends with the
    worker (the plugins the collection's role uses, its own and ansible.builtin's, do not); a task that ends its
    process (C(sys.exit) in a plugin) fails as a task and the play goes on to its rescue, where a dead worker ends the
    run; the task runs with ansible-playbook's signal handlers, standard input and output (a task's own C(timeout)
    works as in a worker), so a library that prints to the standard output instead of returning its result prints to
    the console, where a worker's print is discarded with a warning.
"""

EXAMPLES = r"""
# For one run:
#   ANSIBLE_STRATEGY=kas.fleet_manager.linear_inline ansible-playbook kas.fleet_manager.sop_kafka_latency -i inventory.yml
#
# For every run of a project (ansible.cfg):
#   [defaults]
#   strategy = kas.fleet_manager.linear_inline
#
# For one play:
- name: "SOP: Kafka Cluster provisioning latency"
  hosts: fleet_environments
  gather_facts: false
  strategy: kas.fleet_manager.linear_inline
  roles:
    - role: kas.fleet_manager.kas_fleet
      kas_fleet_section: kafka_provisioning_latency
"""

from ansible.plugins import loader as plugin_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.utils.display import Display

try:
    # What a forked worker uses (ansible.executor.process.worker): ansible-core 2.19's own names.
    from ansible._internal._task import TaskContext
    from ansible.executor.task_executor import TaskExecutor
    from ansible.executor.task_result import _RawTaskResult
except ImportError as exc:  # another ansible-core than meta/runtime.yml's: fork every task, as linear does
    INLINE_IMPORT_ERROR = exc
else:
    INLINE_IMPORT_ERROR = None

display = Display()

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")


class StrategyModule(LinearStrategyModule):

    def __init__(self, tqm):
        super(StrategyModule, self).__init__(tqm)
        if INLINE_IMPORT_ERROR is not None:
            display.warning("kas.fleet_manager.linear_inline forks every task as linear does: this ansible-core "
                            "lacks what it runs a task with (%s)" % INLINE_IMPORT_ERROR)

    def _runs_inline(self, task, task_vars, play_context):
        """Whether this task can run here without changing what runs at the same time, or where."""
        if INLINE_IMPORT_ERROR is not None:
            return False
        # One worker slot: Ansible sizes it to min(forks, serial, hosts of the play), so one task runs at a time.
        if len(self._workers) != 1 or task.delegate_to:
            return False
        # The host's variable wins over the task's and the play's keyword, as in PlayContext; a template is not
        # resolved here, so it forks.
        connection = task_vars.get("ansible_connection") or task.connection or play_context.connection
        return isinstance(connection, str) and connection in LOCAL_CONNECTIONS

    def _queue_task(self, host, task, task_vars, play_context):
        if not self._runs_inline(task, task_vars, play_context):
            return super(StrategyModule, self)._queue_task(host, task, task_vars, play_context)
        # The bookkeeping linear's _queue_task does for a worker, then what the worker does (WorkerProcess._run),
        # here. The task and its parent blocks (not their other tasks) are copied, as a fork copies them: the executor
        # templates and validates them in place.
        self._queued_task_cache[(host.name, task._uuid)] = {
            "host": host, "task": task, "task_vars": task_vars, "play_context": play_context}
        self._tqm.send_callback("v2_runner_on_start", host, task)
        self._pending_results += 1
        running = task.copy(exclude_tasks=True)
        try:
            with TaskContext(running):
                result = TaskExecutor(host, running, task_vars, play_context, self._loader,
                                      plugin_loader.get_plugin_loader_namespace(), self._final_q,
                                      self._variable_manager).run()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # pylint: disable=broad-except
            # A worker that died this way would end the play with "a worker was found in a dead state"; here the
            # task fails and the play goes on to its rescue, as any other failed task.
            result = {"failed": True, "msg": "The task ended its process: %s: %s" % (type(exc).__name__, exc)}
        self._final_q.send_task_result(_RawTaskResult(host=host, task=task, return_data=result,
                                                      task_fields=running.dump_attrs()))
