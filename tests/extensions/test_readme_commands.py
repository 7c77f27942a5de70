"""Every command of the README, run as printed: the shell code blocks and the commands quoted inline in the text.

Each README section that has commands has a test below, and the test first checks that the section's commands are
exactly the ones it knows (so a new or changed command fails here until it is run too), then runs them one after
the other as a reader would in one terminal (a `cd` or `source` stays in force for the commands after it).

Substituted, only where the README tells the reader to put their own value:
- `inventory.yml` -> the lab's inventory (README: "`inventory.yml` is yours"), except in "First run", where the
  reader copies the example to `inventory.yml` and edits it: the test makes that edit (the lab's URLs, CA and
  routes);
- the git URL of `ansible-galaxy collection install git+...` -> a file:// clone of this checkout (README: the
  URL in galaxy.yml is a placeholder, use the one you clone from);
- the rulebook's listen address and port (README: set them to where Alertmanager reaches it) -> 127.0.0.1 and a
  free port: tests use loopback only;
- `<name>` of `ansible-doc kas.fleet_manager.<name>` -> each module and filter the README lists (filters with
  `-t filter`, as it says).
What the reader has or types is given as the environment, not by changing a command: HOME (where the collection
installs), KUBECONFIG (an admin context of the lab for the RBAC step), EDITOR (types the vault's variables) and a
terminal for ansible-vault (script(1)), the vault password file, KAS_FLEET_REPORT_DIR.

Checked another way, each named where it is handled, because it needs what this machine does not have or must not
do: `make test` (runs every test, this one included), the bootstrap step of `make build` / `make demo` (installs
the venv with pip and system packages), `pip install` (installs packages), `podman build` (no container
runtime), `awx import` (no AWX), `make bench` (a benchmark: minutes of timed runs; speed is not asserted in
tests), and `kubectl apply` against the lab, which serves no OpenAPI document: a `kubectl` first on PATH adds
`--validate=false` to `apply` and changes nothing else.
"""
import base64
import glob
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request

import pytest
import yaml

from fleet_lab.kube.testing import KUBECTL
from fleet_lab.state import free_port

pytestmark = pytest.mark.lab_scenario("kafka_provisioning_stuck_strimzi")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = open(os.path.join(ROOT, "README.md")).read()
GALAXY = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
TARBALL = "kas-fleet_manager-%s.tar.gz" % GALAXY["version"]
INSTALLED = os.path.join(".ansible", "collections", "ansible_collections", "kas", "fleet_manager")
# A code span in the text is a command to run when it starts with one of these (the project's and its tools'
# commands; `kubectl logs | grep` describing what a benchmark compares with is not one).
COMMAND_WORDS = {"make", "ansible-playbook", "ansible-galaxy", "ansible-doc", "ansible-rulebook", "ansible-builder",
                 "ansible-vault", "ansible-lint", "ansible-test", "antsibull-changelog", "awx", "podman", "docker",
                 "pip", "python", "python3", "source"}
GIT_PLACEHOLDER = "https://example.invalid/kas/fleet_manager.git"


# -- the README's commands -----------------------------------------------------------------------------------------
def sections():
    """{heading of a "## " section: its text}."""
    parts = re.split(r"^## (.+)$", README, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def block_commands(block):
    """The commands of a shell block as printed: comment lines dropped, continuation lines and heredoc bodies kept
    with their command."""
    lines, commands, i = block.splitlines(), [], 0
    while i < len(lines):
        command = lines[i]
        i += 1
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        while command.endswith("\\"):
            command += "\n" + lines[i]
            i += 1
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", command)
        if heredoc:
            while lines[i].strip() != heredoc.group(1):
                command += "\n" + lines[i]
                i += 1
            command += "\n" + lines[i]
            i += 1
        commands.append(command)
    return commands


def key(command):
    """A command without its trailing comment (`   # ...`), for comparing with the expected lists below."""
    return "\n".join(re.sub(r"\s{2,}#\s.*$", "", line).rstrip() for line in command.splitlines())


def commands_of(section):
    """[(key, command as printed)] of a section: its shell blocks and the commands quoted inline in its text (a
    code span of two words or more starting with a command), in order, each once."""
    text = sections()[section]
    found = []
    pattern = re.compile(r"^```(\w*)\n(.*?)^```|`([^`\n]+)`", re.M | re.S)
    for match in pattern.finditer(text):
        if match.group(3) is not None:
            words = match.group(3).split()
            if len(words) >= 2 and words[0] in COMMAND_WORDS:
                found.append(match.group(3))
        elif match.group(1) in ("bash", "sh", "shell", "console"):
            found.extend(block_commands(match.group(2)))
        else:
            for line in match.group(2).splitlines():
                assert line.split()[:1] != ["$"], "a %s block of %s holds a shell command" % (match.group(1), section)
    out, seen = [], set()
    for command in found:
        if key(command) not in seen:
            seen.add(key(command))
            out.append((key(command), command))
    return out


def expect(section, keys):
    """The section's commands, checked to be exactly `keys`: {key: command as printed}."""
    found = commands_of(section)
    assert [k for k, _command in found] == keys, "the README's commands of %r changed: run the new ones here" % section
    return dict(found)


# Every section with commands, and the test that runs them.
TESTED_SECTIONS = {
    "Install": "test_install", "First run against your own cluster": "test_first_run_against_a_cluster",
    "Two commands": "test_two_commands", "Modules": "test_modules", "Runbook playbooks": "test_runbook_playbooks",
    "Run it from AWX": "test_run_it_from_awx", "Run it on alerts": "test_run_it_on_alerts", "Speed": "test_speed",
    "Changelog": "test_changelog",
}


def test_every_section_with_commands_has_its_test():
    with_commands = {name for name in sections() if commands_of(name)}
    assert with_commands == set(TESTED_SECTIONS), "README sections with commands and no test here (or gone)"
    for test in TESTED_SECTIONS.values():
        assert callable(globals()[test])


def test_parsing_of_blocks():
    assert block_commands("# c\na \\\n  b\ncat > f <<'EOF'\nx: 1\nEOF\nc   # d\n") == [
        "a \\\n  b", "cat > f <<'EOF'\nx: 1\nEOF", "c   # d"]
    assert key("c   # d") == "c" and key("sed 's/#/x/'") == "sed 's/#/x/'"


# -- running them --------------------------------------------------------------------------------------------------
class Shell(object):
    """One terminal: commands run with bash (-e, pipefail) in order; `cd`, `source` and variable assignments stay
    in force for the commands after them (replayed before each)."""

    def __init__(self, cwd, **env):
        self.cwd = str(cwd)
        self.env = dict(os.environ)
        for name, value in env.items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = str(value)
        self.state = []

    def script(self, command):
        return "\n".join(["set -eo pipefail"] + self.state + [command])

    def run(self, command, ok=True, timeout=600, tty=False):
        """Run a command; tty: on a terminal, as the reader's (script(1) gives it a pseudo-terminal)."""
        argv = ["bash", "-c", self.script(command)]
        if tty:
            argv = ["script", "-q", "-e", "-c", " ".join(shlex.quote(a) for a in argv), "/dev/null"]
        done = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True, stdin=subprocess.DEVNULL,
                              text=True, timeout=timeout, check=False)
        if ok:
            assert done.returncode == 0, "%s\n--- rc %d\n%s\n%s" % (
                command, done.returncode, done.stdout[-3000:], done.stderr[-3000:])
        words = command.split()
        if words and (words[0] in ("cd", "source", ".", "export") or re.match(r"^[A-Za-z_]\w*=\S*$", command)):
            self.state.append(command)
        return done

    def start(self, command, log_path):
        """A command that keeps running (a server), in its own process group: stop() ends it and its children."""
        log = open(log_path, "w")
        proc = subprocess.Popen(["bash", "-c", self.script(command)], cwd=self.cwd, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return proc


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def make_recipe(command):
    """What `make` runs for a README make command (`make -n`), without the bootstrap step: scripts/bootstrap.sh
    installs the venv (pip) and system packages when missing, which the tests must not do (make test runs it before
    any test). Every other line is run as make would, from the checkout."""
    words = shlex.split(command, comments=True)
    assert words[0] == "make"
    # As a reader's shell runs it: not as a sub-make of `make test` (MAKELEVEL would add "Entering directory").
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    done = subprocess.run(["make", "-n", "--no-print-directory"] + words[1:], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines[0] == "scripts/bootstrap.sh", lines
    return lines[1:]


def run_make(command, timeout=900):
    outputs = []
    for line in make_recipe(command):
        done = subprocess.run(["bash", "-c", line], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              check=False)
        assert done.returncode == 0, "%s: %s\n%s\n%s" % (command, line, done.stdout[-3000:], done.stderr[-3000:])
        outputs.append(done.stdout + done.stderr)
    return "\n".join(outputs)


_BUILT = {}


def make_build():
    """`make build`, once per session (Install and the execution environment both start with it)."""
    if "output" not in _BUILT:
        _BUILT["output"] = run_make("make build")
        assert os.path.isfile(os.path.join(ROOT, ".work", "dist", TARBALL))
    return os.path.join(ROOT, ".work", "dist", TARBALL)


def json_reports(directory):
    paths = sorted(glob.glob(os.path.join(str(directory), "*.json")), key=os.path.getmtime)
    return [json.load(open(path)) for path in paths]


def wait_until(predicate, proc, log_path, limit=300):
    """Poll until predicate() holds or the process exits; the limit only ends a hung run (no timing is checked)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not predicate():
        assert proc.poll() is None, open(log_path).read()[-4000:]
        time.sleep(1)


# -- Install -------------------------------------------------------------------------------------------------------
INSTALL = [
    "make build",
    "ansible-galaxy collection install .work/dist/%s" % TARBALL,
    "ansible-galaxy collection install git+%s" % GIT_PLACEHOLDER,
    "python3 -m pip install -r ~/%s/requirements.txt" % INSTALLED,
    # The execution environment (test_execution_environment); make build is the same command as above.
    "ansible-builder create -f execution-environment.yml -c .work/ee",
    "podman build -t kas-fleet-manager-ee .work/ee",
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The Install section run: {"home": the HOME the tarball installed into, "git_home": the git install's}."""
    commands = list(expect("Install", INSTALL).values())
    base = tmp_path_factory.mktemp("install")

    # make build: its recipe without the bootstrap step (see make_recipe).
    make_build()

    # The tarball, as printed, from the checkout, into a HOME of its own (the default collections path).
    home = base / "home"
    home.mkdir()
    Shell(ROOT, HOME=home, ANSIBLE_COLLECTIONS_PATH=None).run(commands[1])
    manifest = json.load(open(home / INSTALLED / "MANIFEST.json"))
    assert manifest["collection_info"]["version"] == GALAXY["version"]

    # From git: the README says the URL in galaxy.yml is a placeholder and to use the one you clone from; here a
    # file:// repository of this checkout's files (what sync_collection.sh copies: tracked and new ones).
    assert GALAXY["repository"] + ".git" == GIT_PLACEHOLDER
    repo = base / "fleet_manager.git"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    subprocess.run(["rsync", "-a", "--from0", "--files-from=-", "--ignore-missing-args", "./", str(repo)], cwd=ROOT,
                   input=files, check=True)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git"] + args, cwd=str(repo), check=True, capture_output=True)
    git_home = base / "git-home"
    git_home.mkdir()
    Shell(ROOT, HOME=git_home, ANSIBLE_COLLECTIONS_PATH=None).run(
        commands[2].replace(GIT_PLACEHOLDER, "file://%s" % repo))
    return {"home": home, "git_home": git_home, "pip": commands[3]}


def installed_files(home):
    return sorted(f["name"] for f in json.load(open(home / INSTALLED / "FILES.json"))["files"])


def test_install(installed):
    # Both installs hold the same collection: build_ignore applies to the git install too (no lab/, bench/, ...).
    assert installed_files(installed["git_home"]) == installed_files(installed["home"])
    names = installed_files(installed["home"])
    assert "roles/kas_fleet/files/rbac/recommend/role.yml" in names and "extensions/eda/rulebooks/fleet_alerts.yml" in names
    assert not [n for n in names if n.startswith(("lab/", "bench/", "scripts/", ".work/"))]

    # pip install: not run (the tests install nothing). Checked: the file it names exists in the installed collection,
    # is the repository's requirements.txt, and every requirement is met by what is installed here, as pip would
    # find it ("Requirement already satisfied").
    from importlib.metadata import version
    from packaging.requirements import Requirement
    words = shlex.split(installed["pip"])
    assert words[:5] == ["python3", "-m", "pip", "install", "-r"] and words[5].startswith("~/")
    path = installed["home"] / words[5][2:]
    assert path.read_text() == open(os.path.join(ROOT, "requirements.txt")).read()
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    for requirement in (Requirement(line) for line in lines if line):
        assert requirement.specifier.contains(version(requirement.name), prereleases=True), str(requirement)


def test_execution_environment():
    """The execution-environment block of Install: make build, ansible-builder create, podman build."""
    text = sections()["Install"]
    (block,) = [b for b in re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S) if "ansible-builder" in b]
    assert [key(c) for c in block_commands(block)] == ["make build"] + INSTALL[4:]
    found = expect("Install", INSTALL)
    tarball = make_build()
    shutil.rmtree(os.path.join(ROOT, ".work", "ee"), ignore_errors=True)
    Shell(ROOT).run(found[INSTALL[4]])
    context = os.path.join(ROOT, ".work", "ee")
    # podman build: no container runtime here (nor the base image). Checked: the context it would build is complete,
    # Containerfile from the base image execution-environment.yml names, the tarball make build wrote inside it.
    words = shlex.split(found[INSTALL[5]])
    assert words[:2] == ["podman", "build"] and words[-1] == ".work/ee"
    # ansible-builder names it after the runtime it finds (Containerfile for podman, Dockerfile when only docker is
    # installed, as here); podman build reads either.
    (name,) = [n for n in ("Containerfile", "Dockerfile") if os.path.isfile(os.path.join(context, n))]
    containerfile = open(os.path.join(context, name)).read()
    base = yaml.safe_load(open(os.path.join(ROOT, "execution-environment.yml")))["images"]["base_image"]["name"]
    assert "ARG EE_BASE_IMAGE=\"%s\"" % base in containerfile or base in containerfile
    (collection,) = yaml.safe_load(open(os.path.join(context, "_build", "requirements.yml")))["collections"]
    assert open(os.path.join(context, "_build", collection["name"]), "rb").read() == open(tarball, "rb").read()


# -- Requirements (no commands: the versions it names agree with what is tested) -----------------------------------
def test_requirements_agree_with_what_is_tested():
    from packaging.specifiers import SpecifierSet
    from importlib.metadata import version
    text = sections()["Requirements"]
    readme_core = SpecifierSet(re.search(r"\| ansible-core \| `([^`]+)`", text).group(1))
    runtime = yaml.safe_load(open(os.path.join(ROOT, "meta", "runtime.yml")))
    dev = [line.strip() for line in open(os.path.join(ROOT, "requirements-dev.txt")) if line.startswith("ansible-core")]
    ee = yaml.safe_load(open(os.path.join(ROOT, "execution-environment.yml")))["dependencies"]["ansible_core"]
    for other in (runtime["requires_ansible"], dev[0][len("ansible-core"):], ee["package_pip"][len("ansible-core"):]):
        assert SpecifierSet(other) == readme_core, other
    assert version("ansible-core") in readme_core
    assert "| 3.%d " % sys.version_info[1] in text and sys.version_info[0] == 3
    requirements = [line.split("#")[0].strip() for line in open(os.path.join(ROOT, "requirements.txt"))]
    for requirement in filter(None, requirements):
        assert "`%s`" % requirement in text, requirement
    tested = re.search(r"kubernetes>=\S+` \(([\d.]+) and ([\d.]+) tested\)", text).groups()
    assert tested[0] == re.search(r"kubernetes>=([\d.]+)", " ".join(requirements)).group(1)
    assert tested[1] == version("kubernetes")
    compat = open(os.path.join(ROOT, "tests", "compat", "test_kubernetes_minimum.py")).read()
    assert "kubernetes==%s" in compat
    rulebook = re.search(r"ansible-rulebook \(([\d.]+) tested\)", text).group(1)
    assert rulebook == version("ansible-rulebook")


# -- First run against your own cluster ----------------------------------------------------------------------------
KUBECTL_WRAPPER = """#!/bin/sh
# The lab's Kubernetes API serves no OpenAPI document, which kubectl apply's client-side validation downloads.
if [ "$1" = apply ]; then shift; exec %s apply --validate=false "$@"; fi
exec %s "$@"
""" % (KUBECTL, KUBECTL)

EDITOR = """#!/bin/sh
# The reader typing the vault's variables into the editor ansible-vault create opens.
cp "%s" "$1"
"""


def lab_admin_kubeconfig(lab, path):
    """The reader's kubectl, as someone allowed to create Roles: the lab's kubeconfig on its admin context."""
    config = yaml.safe_load(open(lab.kubeconfig))
    config["current-context"] = "lab-admin"
    with open(path, "w") as handle:
        yaml.safe_dump(config, handle)
    os.chmod(path, 0o600)
    return path


def edit_inventory(path, lab, ca_file):
    """What the reader does to the copied example: their cluster (here the lab's API, CA, Prometheus, Sentry and
    the sink as every team's route). Secrets stay the example's vault_* variables."""
    inventory = yaml.safe_load(open(path))
    hosts = inventory["all"]["children"]["fleet_environments"]["hosts"]
    info, daemon = lab.info, lab.info["daemon"]
    stage = hosts["stage"]
    assert stage["kas_fleet_namespace"] == lab.namespace == "kas-fleet-manager-stage"
    assert stage["kas_fleet_k8s_auth"]["api_key"] == "{{ vault_kas_sre_stage_token }}"
    stage["kas_fleet_k8s_auth"].update(host=daemon["kube"]["url"], ca_cert=str(ca_file))
    stage["kas_fleet_prometheus_url"] = lab.prometheus_url()
    stage["kas_fleet_sentry_url"] = daemon["sentry_url"]
    stage["kas_fleet_sentry_org"] = info["sentry"]["org"]
    routes = stage["kas_fleet_escalation_routes"]
    routes["ocm_support"]["url"] = routes["control_plane"]["url"] = daemon["sink_url"] + "/v2/enqueue"
    with open(path, "w") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)


def vault_values(lab, token):
    info, daemon = lab.info, lab.info["daemon"]
    return {"vault_kas_sre_stage_token": token, "vault_grafana_stage_token": "lab-needs-none",
            "vault_sentry_stage_token": info["sentry"]["token"], "vault_pd_ocm_key": info["pagerduty_routing_key"],
            "vault_pd_cp_key": info["pagerduty_routing_key"], "vault_slack_mk_sre_webhook": daemon["sink_url"] + "/slack/mk-sre"}


def test_first_run_against_a_cluster(fleet_lab, installed, tmp_path):
    found = expect("First run against your own cluster", [
        "cp ~/%s/inventories/stage-production.example.yml inventory.yml" % INSTALLED,
        "cd ~/%s/roles/kas_fleet/files/rbac" % INSTALLED,
        "sed 's/KAS_FLEET_NAMESPACE/kas-fleet-manager-stage/g' recommend/*.yml | kubectl apply -f -",
        "sed 's/KAS_FLEET_NAMESPACE/kas-fleet-manager-stage/g' apply/*.yml | kubectl apply -f -",
        "kubectl -n kas-fleet-manager-stage create token kas-fleet-runbook --duration=1h",
        "cd -",
        "mkdir -p group_vars/all",
        "ansible-vault create --vault-password-file ~/.kas-fleet-vault-pass group_vars/all/vault.yml",
        "ansible-playbook kas.fleet_manager.sop_triage -i inventory.yml --limit stage --check "
        "--vault-password-file ~/.kas-fleet-vault-pass",
    ])
    commands = list(found.values())
    work, bin_dir = tmp_path / "work", tmp_path / "bin"
    work.mkdir()
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(KUBECTL_WRAPPER)
    (bin_dir / "kubectl").chmod(0o755)
    vault_file = tmp_path / "typed.yml"
    (bin_dir / "editor").write_text(EDITOR % vault_file)
    (bin_dir / "editor").chmod(0o755)
    home = installed["home"]
    (home / ".kas-fleet-vault-pass").write_text("correct horse battery staple\n")
    (home / ".kas-fleet-vault-pass").chmod(0o600)
    shell = Shell(work, HOME=home, ANSIBLE_COLLECTIONS_PATH=None, PATH="%s:%s" % (bin_dir, os.environ["PATH"]),
                  KUBECONFIG=lab_admin_kubeconfig(fleet_lab, str(tmp_path / "admin.kubeconfig")), EDITOR=bin_dir / "editor",
                  KAS_FLEET_REPORT_DIR=None)

    # Inventory: copied as printed, then edited as the README says.
    shell.run(commands[0])
    example = os.path.join(ROOT, "inventories", "stage-production.example.yml")
    assert (work / "inventory.yml").read_text() == open(example).read()
    config = yaml.safe_load(open(fleet_lab.kubeconfig))
    ca_file = tmp_path / "cluster-ca.crt"
    ca_file.write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
    edit_inventory(work / "inventory.yml", fleet_lab, ca_file)

    # Access: the RBAC block as printed (kubectl apply through the wrapper, see the module's docstring).
    for command in commands[1:4]:
        shell.run(command)
    token = shell.run(commands[4]).stdout.strip()
    assert token and "\n" not in token
    shell.run(commands[5])
    assert shell.run("pwd").stdout.split()[-1] == str(work)

    # Secrets: the vault, its variables typed in the editor.
    vault_file.write_text(yaml.safe_dump(vault_values(fleet_lab, token)))
    shell.run(commands[6])
    shell.run(commands[7], tty=True)  # ansible-vault opens the editor only on a terminal
    assert (work / "group_vars" / "all" / "vault.yml").read_text().startswith("$ANSIBLE_VAULT;")

    # Run: triage in check mode, with the ServiceAccount's token; nothing sent.
    fleet_lab.sink_clear()
    done = shell.run(commands[8], ok=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    (report,) = json_reports(work / "kas-fleet-reports")
    assert (report["environment"], report["section"], report["remediation_mode"]) == ("stage", "triage", "check")
    assert report["access"]["denied"] == [] and report["blind"] == {}, report["access"]
    assert fleet_lab.sink_received() == []
    assert token not in done.stdout + done.stderr

    # Exit codes (README "Exit codes"), from the same command: 2 with the report for a rejected token ...
    vault_file.write_text(yaml.safe_dump(dict(vault_values(fleet_lab, token), vault_kas_sre_stage_token="rejected")))
    os.unlink(work / "group_vars" / "all" / "vault.yml")
    shell.run(commands[7], tty=True)
    done = shell.run(commands[8], ok=False)
    assert done.returncode == 2, done.stdout[-4000:]
    reports = json_reports(work / "kas-fleet-reports")
    assert len(reports) == 2 and (reports[-1]["blind"] or reports[-1]["access"]["denied"]), reports[-1]["access"]
    # ... and 2 without one for an invalid configuration, the allowed values in the message.
    done = shell.run(commands[8] + " -e kas_fleet_remediation=fix", ok=False)
    assert done.returncode == 2 and "must be one of: recommend, apply" in done.stdout, done.stdout[-3000:]
    assert len(json_reports(work / "kas-fleet-reports")) == 2


# -- Two commands ----------------------------------------------------------------------------------------------------
def demo_down():
    subprocess.run([sys.executable, "-m", "fleet_lab", "--state-dir", os.path.join(ROOT, ".work", "demo-lab"), "down"],
                   capture_output=True, check=False, timeout=120)


def test_two_commands():
    found = expect("Two commands", ["make demo", "make test", "make demo SCENARIO=osd_no_leader", "make help"])
    # make test: not run, it runs every test (this one too) for 8 to 9 minutes. Checked: make knows the target, and
    # it runs the test script's "all".
    assert make_recipe(found["make test"]) == ["source scripts/env.sh && scripts/test.sh all"]
    # make demo (both): run, without the bootstrap step (see make_recipe); the demo leaves its lab up: taken down.
    try:
        for command, section in (("make demo", "kafka_provisioning_latency"),
                                 ("make demo SCENARIO=osd_no_leader", "osd_provisioning_latency")):
            output = run_make(found[command])
            assert "### report: " in output and "The lab is still up" in output, output[-3000:]
            report = re.search(r"### report: (\S+)\.md", output).group(1) + ".json"
            assert json.load(open(report))["section"] == section
    finally:
        demo_down()
    done = Shell(ROOT).run(found["make help"])
    for target in ("demo", "test", "build", "bench", "help"):
        assert re.search(r"^\s+%s\s" % target, done.stdout, re.M), target


# -- Modules -------------------------------------------------------------------------------------------------------
def test_modules():
    found = expect("Modules", ["ansible-doc kas.fleet_manager.<name>"])
    text = sections()["Modules"]
    modules = re.findall(r"^\| `kas\.fleet_manager\.(\w+)` \|", text, re.M)
    filters = re.findall(r"`kas\.fleet_manager\.(\w+)`", text[text.index("Filters:"):text.index("`ansible-doc")])
    assert len(modules) == 9 and filters == ["jmes", "stuck", "report_evidence"]
    # <name>: each module of the table, and each filter "with -t filter" as the README says.
    failed = {}
    for name in modules + ["-t filter %s" % f for f in filters]:
        command = found["ansible-doc kas.fleet_manager.<name>"]
        if name.startswith("-t filter "):
            command = command.replace("ansible-doc ", "ansible-doc -t filter ")
            name = name[len("-t filter "):]
        done = Shell(ROOT).run(command.replace("<name>", name), ok=False)
        if done.returncode or "kas.fleet_manager.%s" % name not in done.stdout or "EXAMPLES" not in done.stdout:
            failed[name] = (done.stderr.strip() or done.stdout.strip())[:600]
    assert not failed, json.dumps(failed, indent=1)


# -- Runbook playbooks ---------------------------------------------------------------------------------------------
def test_runbook_playbooks(fleet_lab, tmp_path):
    found = expect("Runbook playbooks", [
        "ansible-playbook kas.fleet_manager.sop_kafka_latency -i inventory.yml --limit stage",
        "ansible-playbook kas.fleet_manager.sop_kafka_latency -i inventory.yml --limit stage --check --diff",
        "ansible-playbook kas.fleet_manager.sop_fleet_manager_down -i inventory.yml -e kas_fleet_remediation=apply",
        "ansible-playbook kas.fleet_manager.sop_triage -i inventory.yml",
        "ansible-doc -t role kas.fleet_manager.kas_fleet",
        "ansible-doc -t strategy kas.fleet_manager.linear_inline",
    ])
    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    shell = Shell(tmp_path, KAS_FLEET_REPORT_DIR=None)
    expected = [("kafka_provisioning_latency", "recommend"), ("kafka_provisioning_latency", "check"),
                ("fleet_manager_down", "apply"), ("triage", "recommend")]
    for (name, command), (section, mode) in zip(list(found.items())[:4], expected):
        done = shell.run(command.replace("inventory.yml", fleet_lab.inventory), ok=False)
        assert done.returncode == 0, name + "\n" + done.stdout[-3000:]
        report = json_reports(tmp_path / "kas-fleet-reports")[-1]
        assert (report["section"], report["remediation_mode"], report["environment"]) == (section, mode, "stage"), name
    assert len(json_reports(tmp_path / "kas-fleet-reports")) == 4
    done = shell.run(found["ansible-doc -t role kas.fleet_manager.kas_fleet"])
    assert "kas_fleet_remediation" in done.stdout and "kas_fleet_escalation_routes" in done.stdout
    done = shell.run(found["ansible-doc -t strategy kas.fleet_manager.linear_inline"])
    assert "kas.fleet_manager.linear_inline" in done.stdout and "EXAMPLES" in done.stdout
    assert "deprecates strategy plugins" in " ".join(done.stdout.split())  # the doc says so, as the README does


# -- Run it from AWX -----------------------------------------------------------------------------------------------
def test_run_it_from_awx():
    found = expect("Run it from AWX", ["awx import < extensions/awx/job_templates.yml"])
    # awx import: no AWX nor awx CLI here. Checked: the file it reads exists from the project's root, holds only
    # what awxkit's import takes, and passes the checks of test_awx_templates.py (each template runs a playbook of
    # the role, its survey variables are the role's options, sliced as the README says).
    words = shlex.split(found["awx import < extensions/awx/job_templates.yml"])
    assert words[:3] == ["awx", "import", "<"]
    data = yaml.safe_load(open(os.path.join(ROOT, words[3])))
    assert set(data) <= {"job_templates", "workflow_job_templates", "projects", "inventory", "credentials",
                         "organizations", "notification_templates", "schedules"}
    spec = importlib.util.spec_from_file_location(
        "awx_templates_checks", os.path.join(os.path.dirname(__file__), "test_awx_templates.py"))
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    for template in data["job_templates"]:
        checks.test_template_runs_an_existing_playbook_of_the_role(template)
        checks.test_survey_variables_match_the_role_argument_specs(template)
        checks.test_every_template_is_sliced_one_slice_per_environment(template)
    checks.test_workflow_puts_an_approval_between_triage_and_apply()
    checks.test_readme_documents_the_slicing_default()


# -- Run it on alerts ----------------------------------------------------------------------------------------------
def test_run_it_on_alerts(fleet_lab, tmp_path):
    found = expect("Run it on alerts", [
        "source scripts/env.sh",
        "cat > eda-vars.yml <<'EOF'\nkas_fleet_eda_host: 0.0.0.0\nkas_fleet_eda_port: 5050\nEOF",
        "ansible-rulebook --rulebook kas.fleet_manager.fleet_alerts -i inventory.yml --vars eda-vars.yml",
    ])
    # source scripts/env.sh: run from the checkout; it sets JAVA_HOME to a Java 17 JDK.
    shell = Shell(ROOT)
    shell.run(found["source scripts/env.sh"])
    done = shell.run('"$JAVA_HOME/bin/java" -version')
    assert re.search(r'version "17\.', done.stderr + done.stdout), done.stderr

    fleet_lab.switch("kafka_provisioning_stuck_strimzi")
    port = free_port()
    commands = list(found.values())
    shell = Shell(tmp_path, KAS_FLEET_REPORT_DIR=tmp_path / "reports")
    # The address and port are the reader's to set (README): loopback and a free port here.
    shell.run(commands[1].replace("0.0.0.0", "127.0.0.1").replace("5050", str(port)))
    assert yaml.safe_load((tmp_path / "eda-vars.yml").read_text()) == {"kas_fleet_eda_host": "127.0.0.1",
                                                                       "kas_fleet_eda_port": port}
    log_path = str(tmp_path / "rulebook.log")
    proc = shell.start(commands[2].replace("inventory.yml", fleet_lab.inventory), log_path)
    try:
        def listening():
            try:
                return urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1).status == 200
            except OSError:
                return False
        wait_until(listening, proc, log_path, limit=120)
        # What Alertmanager's webhook_configs sends: a known alert (its section) and one no route names (triage).
        payload = {"receiver": "kas-sre", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "KasFleetManagerKafkaOperationsLatency30mto6hP90BudgetBurn",
                                            "namespace": fleet_lab.namespace}},
            {"status": "firing", "labels": {"alertname": "KasFleetManagerBrandNewAlert",
                                            "namespace": fleet_lab.namespace}}]}
        req = urllib.request.Request("http://127.0.0.1:%d/alerts" % port, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        assert json.load(urllib.request.urlopen(req, timeout=5)) == {"queued": 2}
        wait_until(lambda: len(json_reports(tmp_path / "reports")) >= 2, proc, log_path)
        output = open(log_path).read()
        reports = json_reports(tmp_path / "reports")
        assert sorted((r["section"], r["alert"]) for r in reports) == [
            ("kafka_provisioning_latency", "KasFleetManagerKafkaOperationsLatency30mto6hP90BudgetBurn"),
            ("triage", "KasFleetManagerBrandNewAlert")], output[-4000:]
        assert "No runbook section for alert KasFleetManagerBrandNewAlert" in output
    finally:
        stop(proc)


# -- Speed ---------------------------------------------------------------------------------------------------------
def test_speed():
    found = expect("Speed", ["make bench"])
    # make bench: not run, a benchmark (five timed runs of the playbook and of the raw commands: minutes on two
    # cores; speed is not asserted in tests). Checked: make knows the target and it runs the benchmark the README
    # names.
    (line,) = make_recipe(found["make bench"])
    script = re.search(r"python (bench/\S+\.py)", line).group(1)
    assert os.path.isfile(os.path.join(ROOT, script)) and "`%s`" % script in sections()["Speed"]


# -- Changelog -----------------------------------------------------------------------------------------------------
def test_changelog(tmp_path):
    found = expect("Changelog", ["antsibull-changelog release", "antsibull-changelog lint"])
    Shell(ROOT).run(found["antsibull-changelog lint"])
    # release writes CHANGELOG.rst and changelogs/changelog.yaml and removes the fragments: run as printed in a
    # copy of the checkout's files, not in the checkout.
    copy = tmp_path / "copy"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    subprocess.run(["rsync", "-a", "--from0", "--files-from=-", "--ignore-missing-args", "./", str(copy)], cwd=ROOT,
                   input=files, check=True)
    Shell(copy).run(found["antsibull-changelog release"])
    changelog = (copy / "CHANGELOG.rst").read_text()
    assert "v%s" % GALAXY["version"] in changelog and "sop_triage" in changelog
    assert yaml.safe_load((copy / "changelogs" / "changelog.yaml").read_text())["releases"][GALAXY["version"]]
    assert not (copy / "changelogs" / "fragments").exists() or not os.listdir(copy / "changelogs" / "fragments")


# -- License -------------------------------------------------------------------------------------------------------
def test_license():
    assert "Apache-2.0" in sections()["License"] and GALAXY["license"] == ["Apache-2.0"]
    assert "Apache License" in open(os.path.join(ROOT, "LICENSE")).read()[:200]
    with tarfile.open(make_build()) as tar:
        assert "LICENSE" in tar.getnames()
