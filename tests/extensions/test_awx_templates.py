"""The AWX job templates as code: each points at a playbook of the collection, and every survey variable is an
option of the role those playbooks run (meta/argument_specs.yml) or the playbooks' own host pattern; every template
is sliced (job_slice_count) as the README says, and slicing is safe for the playbooks."""
import glob
import os
import re
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = yaml.safe_load(open(os.path.join(ROOT, "extensions", "awx", "job_templates.yml")))
SPEC = yaml.safe_load(open(os.path.join(ROOT, "roles", "kas_fleet", "meta", "argument_specs.yml")))
ROLE_OPTIONS = SPEC["argument_specs"]["main"]["options"]
PLAYBOOK_VARS = {"kas_fleet_hosts"}  # the playbooks' `hosts:` pattern


@pytest.mark.parametrize("template", TEMPLATES["job_templates"], ids=lambda t: t["name"])
def test_template_runs_an_existing_playbook_of_the_role(template):
    path = os.path.join(ROOT, template["playbook"])
    assert os.path.isfile(path), template["playbook"]
    plays = yaml.safe_load(open(path))
    roles = [r["role"] for play in plays for r in play.get("roles", [])]
    assert roles == ["kas.fleet_manager.kas_fleet"]
    assert plays[0]["hosts"] == "{{ kas_fleet_hosts | default('fleet_environments') }}"


@pytest.mark.parametrize("template", TEMPLATES["job_templates"], ids=lambda t: t["name"])
def test_survey_variables_match_the_role_argument_specs(template):
    for question in template["related"]["survey_spec"]["spec"]:
        var = question["variable"]
        assert var in ROLE_OPTIONS or var in PLAYBOOK_VARS, var
        if var in ROLE_OPTIONS and "choices" in ROLE_OPTIONS[var]:
            assert set(question["choices"].split("\n")) <= set(ROLE_OPTIONS[var]["choices"]), var
            assert question["default"] in ROLE_OPTIONS[var]["choices"]


def test_every_section_playbook_has_a_template():
    playbooks = {t["playbook"] for t in TEMPLATES["job_templates"]}
    shipped = {"playbooks/" + f for f in os.listdir(os.path.join(ROOT, "playbooks")) if f.startswith("sop_")}
    assert shipped == playbooks


def test_workflow_puts_an_approval_between_triage_and_apply():
    (workflow,) = TEMPLATES["workflow_job_templates"]
    nodes = {n["identifier"]: n for n in workflow["related"]["workflow_nodes"]}
    names = {t["name"]: t for t in TEMPLATES["job_templates"]}
    triage, approve, apply = nodes["triage"], nodes["approve"], nodes["apply"]
    assert names[triage["unified_job_template"]["name"]]["playbook"] == "playbooks/sop_triage.yml"
    assert triage["success_nodes"] == [{"identifier": "approve"}]
    assert approve["unified_job_template"]["type"] == "workflow_approval"
    assert approve["success_nodes"] == [{"identifier": "apply"}]
    applied = names[apply["unified_job_template"]["name"]]
    assert yaml.safe_load(applied["extra_vars"]) == {"kas_fleet_remediation": "apply"}


# -- job slicing ---------------------------------------------------------------------------------------------------
EXAMPLE_INVENTORY = yaml.safe_load(open(os.path.join(ROOT, "inventories", "stage-production.example.yml")))
ENVIRONMENTS = sorted(EXAMPLE_INVENTORY["all"]["children"]["fleet_environments"]["hosts"])
# What would make a slice's run depend on hosts outside its slice (AWX: "jobs that orchestrate across hosts should
# not be sliced").
CROSS_HOST = re.compile(r"\b(run_once|serial|delegate_to|delegate_facts|hostvars\s*\[|groups\s*\[|ansible_play_hosts"
                        r"|ansible_play_batch|play_hosts)\b")


@pytest.mark.parametrize("template", TEMPLATES["job_templates"], ids=lambda t: t["name"])
def test_every_template_is_sliced_one_slice_per_environment(template):
    # The documented default: one slice per environment of the example inventory; AWX makes at most one slice per
    # host, and the launcher may change the count.
    assert template["job_slice_count"] == len(ENVIRONMENTS) == 2
    assert template["ask_job_slice_count_on_launch"] is True
    # A limit that leaves a slice without hosts fails that slice (AWX known issue); the environment is chosen with
    # the kas_fleet_hosts survey variable instead.
    assert template.get("ask_limit_on_launch", False) is False
    assert "kas_fleet_hosts" in [q["variable"] for q in template["related"]["survey_spec"]["spec"]]


def test_readme_documents_the_slicing_default():
    readme = open(os.path.join(ROOT, "README.md")).read()
    section = readme[readme.index("## Run it from AWX"):]
    section = section[:section.index("\n## ", 1)]
    assert "`job_slice_count: %d`" % len(ENVIRONMENTS) in section
    assert "ask_job_slice_count_on_launch" in section


def test_playbooks_and_role_run_each_host_on_its_own():
    """Slicing is only safe when a host's run reads and writes nothing of another host."""
    paths = glob.glob(os.path.join(ROOT, "playbooks", "*.yml")) + \
        glob.glob(os.path.join(ROOT, "roles", "kas_fleet", "**", "*.yml"), recursive=True) + \
        glob.glob(os.path.join(ROOT, "roles", "kas_fleet", "templates", "*"))
    found = {}
    for path in paths:
        for number, line in enumerate(open(path), 1):
            code = line.split("#", 1)[0] if path.endswith(".yml") else line
            if CROSS_HOST.search(code):
                found.setdefault(os.path.relpath(path, ROOT), []).append(number)
    assert not found, found


def test_a_slice_without_the_chosen_environment_runs_nothing_and_succeeds(tmp_path):
    """What a slice of a sliced launch gets: the inventory cut to its share (here: production only) and the survey's
    kas_fleet_hosts (stage). Every playbook of the templates must then match no host and exit 0."""
    slice_inventory = tmp_path / "slice.yml"
    slice_inventory.write_text(yaml.safe_dump({"all": {"children": {"fleet_environments": {"hosts": {
        "production": {"ansible_connection": "local"}}}, "production": {"hosts": {"production": None}}}}}))
    playbooks = sorted({t["playbook"] for t in TEMPLATES["job_templates"]})
    done = subprocess.run(["ansible-playbook", "-i", str(slice_inventory), "-e", "kas_fleet_hosts=stage"]
                          + [os.path.join(ROOT, p) for p in playbooks],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("skipping: no hosts matched") == len(playbooks), done.stdout[-3000:]
