# kas.fleet_manager: every target sets itself up (venv, system tools, collection copy) on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SCENARIO ?= kafka_provisioning_stuck_strimzi
BENCH_ARGS ?=
RUN := source scripts/env.sh &&

.PHONY: help bootstrap demo test sanity units integration lab-tests playbook-tests compat-tests molecule lint changelog-lint bench build lab-up lab-down clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

bootstrap: ## Create .venv and install the system tools (idempotent, fast when nothing changed)
	@scripts/bootstrap.sh

demo: bootstrap ## Bring the lab up with an incident (SCENARIO=name), run the runbook against it, show the report
	@$(RUN) scripts/demo.sh "$(SCENARIO)"

test: bootstrap ## Run every test: sanity, units, lab, integration, playbooks, molecule, ansible-lint, changelog lint
	@$(RUN) scripts/test.sh all

sanity: bootstrap ## ansible-test sanity
	@$(RUN) scripts/test.sh sanity

units: bootstrap ## ansible-test units
	@$(RUN) scripts/test.sh units

lab-tests: bootstrap ## pytest of the lab itself
	@$(RUN) scripts/test.sh lab

integration: bootstrap ## ansible-test integration against a lab
	@$(RUN) scripts/test.sh integration

playbook-tests: bootstrap ## The runbook playbooks, ansible-runner and ansible-rulebook against labs
	@$(RUN) scripts/test.sh playbooks

compat-tests: bootstrap ## The Kubernetes modules with the oldest kubernetes client requirements.txt allows
	@$(RUN) scripts/test.sh compat

molecule: bootstrap ## molecule test of the kas_fleet role against a lab
	@$(RUN) scripts/test.sh molecule

lint: bootstrap ## ansible-lint (production profile, offline) and shellcheck of the scripts
	@$(RUN) scripts/test.sh lint

changelog-lint: bootstrap ## antsibull-changelog lint
	@$(RUN) scripts/test.sh changelog

bench: bootstrap ## The benchmarks against their baselines, in the same run (BENCH_ARGS="--quick" or "--only db")
	@$(RUN) scripts/sync_collection.sh && python bench/all.py $(BENCH_ARGS)

build: bootstrap ## Build the collection tarball into .work/dist
	@$(RUN) scripts/sync_collection.sh && mkdir -p .work/dist && ansible-galaxy collection build --force --output-path .work/dist "$${KAS_COLLECTION_DIR}"

lab-up: bootstrap ## Start the lab in the background (SCENARIO=name), state in .work/lab
	@$(RUN) python -m fleet_lab --state-dir .work/lab up --scenario "$(SCENARIO)"

lab-down: ## Stop the lab started by lab-up
	@$(RUN) python -m fleet_lab --state-dir .work/lab down; python -m fleet_lab --state-dir .work/demo-lab down 2>/dev/null || true

clean: ## Remove generated files (keeps .venv)
	rm -rf .work tests/output
