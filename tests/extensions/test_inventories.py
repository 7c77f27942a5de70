"""The shipped stage/production inventory is one the role accepts: every kas_fleet_* variable it sets is an
option of the role (meta/argument_specs.yml), every escalation route is for a team a decision can page, and no
secret is written in it (secrets come from Vault variables)."""
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = yaml.safe_load(open(os.path.join(ROOT, "roles", "kas_fleet", "meta", "argument_specs.yml")))
ROLE_OPTIONS = SPEC["argument_specs"]["main"]["options"]
TEAMS = set(yaml.safe_load(open(os.path.join(ROOT, "roles", "kas_fleet", "vars", "main.yml")))
            ["kas_fleet_decision_teams"].values())
INVENTORY = yaml.safe_load(open(os.path.join(ROOT, "inventories", "stage-production.example.yml")))


def host_vars():
    group = INVENTORY["all"]["children"]["fleet_environments"]
    for name, own in group["hosts"].items():
        merged = dict(group.get("vars", {}))
        merged.update(own)
        yield name, merged


def test_every_variable_is_a_role_option_and_every_route_a_team():
    hosts = dict(host_vars())
    assert set(hosts) == {"stage", "production"}
    for name, variables in hosts.items():
        unknown = [v for v in variables if v.startswith("kas_fleet_") and v not in ROLE_OPTIONS]
        assert unknown == [], (name, unknown)
        for option in ("kas_fleet_namespace", "kas_fleet_environment", "kas_fleet_escalation_routes"):
            assert option in variables, (name, option)
        assert set(variables["kas_fleet_escalation_routes"]) == TEAMS, name
        for team, route in variables["kas_fleet_escalation_routes"].items():
            assert route["type"] in ("pagerduty", "slack", "webhook"), (name, team)


def test_secrets_are_vault_variables_never_literals():
    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + [key])
        elif path and path[-1] in ("api_key", "token", "routing_key", "password", "kas_fleet_sentry_token"):
            assert str(value).startswith("{{ vault_"), ".".join(map(str, path))
    for name, variables in host_vars():
        walk(variables, [name])
