"""The execution environment: `ansible-builder create` succeeds offline on execution-environment.yml with the
collection tarball `make build` makes, and builder's own introspection, run on that tarball installed, finds the
collection's Python and system dependencies (what the EE image would install)."""
import os
import shutil
import subprocess
import tarfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GALAXY = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
TARBALL = "kas-fleet_manager-%s.tar.gz" % GALAXY["version"]


def requirement_names(path):
    lines = (line.split("#")[0].strip() for line in open(path))
    return sorted(line.split(">")[0].split("=")[0].split("<")[0] for line in lines if line)


def test_ansible_builder_creates_the_context_with_the_collection(tmp_path):
    for name in ("execution-environment.yml",):
        shutil.copy(os.path.join(ROOT, name), tmp_path / name)
    dist = tmp_path / ".work" / "dist"
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(dist),
                    os.environ["KAS_COLLECTION_DIR"]], check=True, capture_output=True)
    assert (dist / TARBALL).is_file(), "galaxy.yml's version and execution-environment.yml disagree"
    done = subprocess.run(["ansible-builder", "create", "-f", "execution-environment.yml", "-c", "context"],
                          cwd=str(tmp_path), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    context = tmp_path / "context"
    containerfile = [p for p in ("Containerfile", "Dockerfile") if (context / p).is_file()]
    assert containerfile, os.listdir(context)
    text = (context / containerfile[0]).read_text()
    assert "ansible-galaxy collection install" in text and "introspect.py introspect" in text
    # The galaxy requirement names the very file copied into the build context.
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    (collection,) = galaxy["collections"]
    assert (context / "_build" / collection["name"]).is_file(), collection["name"]
    with tarfile.open(context / "_build" / collection["name"]) as tar:
        names = set(tar.getnames())
    for module in ("fleet_pods_info", "leader_check", "request_status_info", "fleet_restart", "escalate"):
        assert "plugins/modules/%s.py" % module in names
    assert "meta/execution-environment.yml" in names and "requirements.txt" in names
    assert not [n for n in names if n.startswith(("lab/", "bench/", ".work/"))]

    # What the image's introspection step would install, from the collection as shipped.
    installed = tmp_path / "collections"
    subprocess.run(["ansible-galaxy", "collection", "install", "--force", "-p", str(installed),
                    str(context / "_build" / collection["name"])], check=True, capture_output=True)
    done = subprocess.run(["python", str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                           str(installed)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    found = yaml.safe_load(done.stdout[done.stdout.index("---"):])
    python = [line for line in found["python"] if "from collection kas.fleet_manager" in line]
    assert sorted(line.split(">")[0] for line in python) == requirement_names(os.path.join(ROOT, "requirements.txt"))
    assert any(line.startswith("python3.11 ") for line in found["system"])
