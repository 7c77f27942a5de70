"""The lab's state dir: ``lab.json`` records what ``up`` started (ports, PIDs, credentials) for the other
commands; files are written atomically so a reader never sees half a file."""
import json
import os
import socket

STATE_FILE = "lab.json"


def write_json(path, data, mode=0o600):
    tmp = "%s.tmp%d" % (path, os.getpid())  # per process: two writers never share a temporary file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def read_json(path):
    """The JSON document at ``path``, or None when it is missing or unreadable (a component not started yet)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def read(state_dir):
    with open(os.path.join(state_dir, STATE_FILE)) as handle:
        return json.load(handle)


def write(state_dir, data):
    write_json(os.path.join(state_dir, STATE_FILE), data)


def exists(state_dir):
    return os.path.isfile(os.path.join(state_dir, STATE_FILE))


def alive(pid):
    """True if ``pid`` runs. A zombie does not count: PID 1 here may never reap the lab's stopped servers."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def free_port(host="127.0.0.1"):
    """A TCP port free on ``host`` (loopback) right now, for a lab server to listen on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
