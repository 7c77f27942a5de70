"""Shared by the benchmarks in bench/: run a command and measure it (wall time, CPU of its whole process tree, peak
RSS), medians, goal verdicts, the lab, and the two plain collections taken from PyPI's ``ansible`` package.

Numbers to read, never assertions: a goal missed prints MISS and the script still exits 0.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("KAS_WORK") or os.path.join(ROOT, ".work")
BENCH_WORK = os.path.join(WORK, "bench")
sys.path.insert(0, os.path.join(ROOT, "lab"))

# PyPI's ansible package (never Galaxy): 12.3.0 is the last release for Python 3.11 and its kubernetes.core 6.2.0 and
# community.postgresql 4.2.0 run on ansible-core 2.19 (requires_ansible >=2.16.0 and >=2.9.10).
ANSIBLE_PACKAGE = "ansible==12.3.0"
PLAIN_COLLECTIONS = ("ansible_collections/kubernetes/core/", "ansible_collections/community/postgresql/")


class Sample(object):
    """One measured run: wall seconds, CPU seconds (user + system of the process and every descendant it waited
    for), peak RSS of the largest process in the tree (MB), exit status and output."""

    def __init__(self, wall, cpu, rss_mb, returncode, output):
        self.wall, self.cpu, self.rss_mb, self.returncode, self.output = wall, cpu, rss_mb, returncode, output


# Runs the measured command as its child and reports its wall time and rusage (os.wait4: the child and every
# descendant it reaped). Why a separate small process: on Linux a child's ru_maxrss starts from the RSS of the process
# it was forked from (the kernel keeps the larger of the two at exec), so a command started straight from this
# script would show this script's RSS as its peak whenever it is the larger. Started from this ~10 MB interpreter, a
# peak RSS below ~10 MB shows as ~10 MB; anything above is the command's own.
TRAMPOLINE = r"""
import json, os, sys, time
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
with open(sys.argv[1], "w") as handle:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
               "rc": os.waitstatus_to_exitcode(status)}, handle)
"""


def measure(cmd, env=None, check=True, cwd=None):
    """Run ``cmd`` to its end; a Sample of its wall time, CPU (its whole process tree: ansible-playbook's workers and
    their modules, a shell's pipelines) and peak RSS, taken by TRAMPOLINE."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        subprocess.run([sys.executable, "-S", "-c", TRAMPOLINE, report.name] + list(cmd), stdin=subprocess.DEVNULL,
                       stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, check=False)
        out.seek(0)
        output = out.read().decode(errors="replace")
        figures = json.load(report)
    sample = Sample(figures["wall"], figures["cpu"], figures["rss_kb"] / 1024.0, figures["rc"], output)
    if check and sample.returncode != 0:
        raise SystemExit("failed (rc %d): %s\n%s" % (sample.returncode, " ".join(cmd), output[-3000:]))
    return sample


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values):
    """``min-max`` of the runs, to show how noisy the machine was."""
    return "%.2f-%.2f" % (min(values), max(values)) if values else "-"


def verdict(value, goal, at_most=True):
    """PASS or MISS for ``value`` against ``goal`` (at most, or at least)."""
    ok = value <= goal if at_most else value >= goal
    return "PASS" if ok else "MISS"


def goal_line(name, value, goal, at_most=True, unit="x"):
    """``  goal <name>: <value> (goal at most|least <goal>) PASS|MISS`` (all.py collects these lines)."""
    return "  goal %-44s %7.2f%s  (goal: at %s %.2f%s)  %s" % (
        name + ":", value, unit, "most" if at_most else "least", goal, unit, verdict(value, goal, at_most))


def plain_collections():
    """A directory with kubernetes.core and community.postgresql from PyPI's ``ansible`` package (``pip download``,
    then only those two collections unpacked), cached under .work/bench. Never Galaxy."""
    dest = os.path.join(BENCH_WORK, "collections")
    stamp = os.path.join(dest, ".from-" + ANSIBLE_PACKAGE.replace("==", "-"))
    if os.path.exists(stamp):
        return dest
    wheels = os.path.join(BENCH_WORK, "wheels")
    name, version = ANSIBLE_PACKAGE.split("==")
    wheel = os.path.join(wheels, "%s-%s-py3-none-any.whl" % (name, version))
    if not os.path.exists(wheel):
        print("downloading %s from PyPI (pip download --no-deps) for kubernetes.core and community.postgresql"
              % ANSIBLE_PACKAGE, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "-d", wheels, ANSIBLE_PACKAGE], check=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [n for n in archive.namelist() if n.startswith(PLAIN_COLLECTIONS)]
        archive.extractall(dest, members)
    with open(stamp, "w") as handle:
        handle.write("unpacked %d files of %s\n" % (len(members), os.path.basename(wheel)))
    return dest


def lab_up(name, scenario, volume=None):
    """A lab in a fresh state dir under .work/tmp; call ``lab_down(lab)`` when done."""
    from fleet_lab.lab import Lab

    work = tempfile.mkdtemp(prefix="bench-%s-" % name, dir=os.environ.get("TMPDIR"))
    return Lab.up(os.path.join(work, "lab"), scenario, volume=volume), work


def lab_down(lab, work):
    import shutil
    from fleet_lab.lab import remove_state

    lab.down(quiet=True)
    remove_state(lab.state_dir)
    shutil.rmtree(work, ignore_errors=True)
