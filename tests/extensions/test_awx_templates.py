"""The AWX job templates as code: each points at a playbook of the collection, and every survey variable is an
option of the role those playbooks run (meta/argument_specs.yml) or the playbooks' own host pattern."""
import os

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
