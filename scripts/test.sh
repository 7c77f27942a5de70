#!/usr/bin/env bash
# The one test command: `make test` (and so .ci/run) calls `scripts/test.sh all`.
# Each step runs from the real ansible_collections/kas/fleet_manager copy where the tool needs it,
# prints its runner's own summary, and the script ends with one line: "steps: N passed, N failed".
set -uo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "${KAS_ROOT}" || exit 1

PY="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
JOBS="${KAS_TEST_JOBS:-2}"
passed=0
failed=0
failed_steps=()
declare -A seconds

step() {
  local name="$1"; shift
  local start=$SECONDS
  echo "=== ${name}"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== ${name}: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failed_steps+=("${name}")
    echo "=== ${name}: FAILED ($((SECONDS - start)) s)"
  fi
  seconds[${name}]=$((SECONDS - start))
}

prepare() {
  scripts/sync_collection.sh && scripts/seed_get_pip.sh
}

run_sanity() {
  (cd "${KAS_COLLECTION_DIR}" && ansible-test sanity --local --python "${PY}" --color no)
}

run_units() {
  (cd "${KAS_COLLECTION_DIR}" && ansible-test units --local --python "${PY}" --requirements --color no)
}

run_lab_tests() {
  python -m pytest -q -p no:cacheprovider -n "${JOBS}" lab/tests
}

# One lab serves every integration target; targets switch scenarios with `fleet-lab scenario NAME`.
run_integration() {
  local state="${KAS_WORK}/lab-integration" rc=0
  python -m fleet_lab down --state-dir "${state}" >/dev/null 2>&1 || true
  python -m fleet_lab up --scenario healthy --state-dir "${state}" || return 1
  python -m fleet_lab integration-config --state-dir "${state}" > "${KAS_COLLECTION_DIR}/tests/integration/integration_config.yml" || rc=1
  if [ "${rc}" = 0 ]; then
    (cd "${KAS_COLLECTION_DIR}" && ansible-test integration --local --python "${PY}" --color no) || rc=1
  fi
  python -m fleet_lab down --state-dir "${state}" || rc=1
  return "${rc}"
}

run_extension_tests() {
  python -m pytest -q -p no:cacheprovider tests/extensions
}

# The Kubernetes modules with the oldest kubernetes client requirements.txt allows (pip-installed into .work/compat).
run_compat_tests() {
  python -m pytest -q -p no:cacheprovider tests/compat
}

run_playbook_tests() {
  python -m pytest -q -p no:cacheprovider -n "${JOBS}" tests/playbooks
}

# molecule: the kas_fleet role's converge, idempotence and verify against a lab of its own.
run_molecule() {
  local state="${KAS_WORK}/lab-molecule" rc=0
  python -m fleet_lab down --state-dir "${state}" >/dev/null 2>&1 || true
  python -m fleet_lab up --scenario osd_no_leader --state-dir "${state}" || return 1
  (cd "${KAS_COLLECTION_DIR}" && KAS_MOLECULE_INVENTORY="${state}/inventory.yml" molecule test) || rc=1
  python -m fleet_lab down --state-dir "${state}" || rc=1
  return "${rc}"
}

run_lint() {
  (cd "${KAS_COLLECTION_DIR}" && ansible-lint --offline) && shellcheck -x scripts/*.sh .ci/run
}

run_changelog() {
  antsibull-changelog lint
}

what="${1:-all}"
step prepare prepare || true
case "${what}" in
  sanity) step sanity run_sanity ;;
  units) step units run_units ;;
  lab) step lab run_lab_tests ;;
  integration) step integration run_integration ;;
  playbooks) step playbooks run_playbook_tests ;;
  extensions) step extensions run_extension_tests ;;
  compat) step compat run_compat_tests ;;
  molecule) step molecule run_molecule ;;
  lint) step lint run_lint ;;
  changelog) step changelog run_changelog ;;
  all)
    step sanity run_sanity
    step units run_units
    step lab run_lab_tests
    step integration run_integration
    step extensions run_extension_tests
    step compat run_compat_tests
    step playbooks run_playbook_tests
    step molecule run_molecule
    step lint run_lint
    step changelog run_changelog
    ;;
  *) echo "usage: $0 [all|sanity|units|lab|integration|extensions|compat|playbooks|molecule|lint|changelog]" >&2; exit 2 ;;
esac

echo "=== summary"
for name in "${!seconds[@]}"; do printf '  %-12s %5s s\n' "${name}" "${seconds[${name}]}"; done
[ "${failed}" -gt 0 ] && echo "failed steps: ${failed_steps[*]}"
echo "steps: ${passed} passed, ${failed} failed"
[ "${failed}" -eq 0 ]
