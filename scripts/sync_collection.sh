#!/usr/bin/env bash
# Copies the collection (the files git tracks or would track) to a real
# .../ansible_collections/kas/fleet_manager directory: ansible-test and FQCN imports need one, and a
# symlink breaks ansible-test. Files that are no longer in the repository are removed from the copy, so no
# stale file is ever tested; ansible-test's own output (tests/output) is kept.
# The lab, benchmarks and build scripts are not part of the collection and stay out of the copy.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "${KAS_ROOT}"
stage="$(mktemp -d "${TMPDIR}/collection-XXXXXX")"
trap 'rm -rf "${stage}"' EXIT
git ls-files -z --cached --others --exclude-standard \
  | grep -zvE '^(lab|bench|\.ci|scripts)/' \
  | rsync -a --from0 --files-from=- --ignore-missing-args ./ "${stage}/"
mkdir -p "${KAS_COLLECTION_DIR}"
rsync -a --delete --exclude=/tests/output --exclude=/tests/integration/integration_config.yml \
  "${stage}/" "${KAS_COLLECTION_DIR}/"
# The copy lives inside this checkout's ignored .work/, where ansible-test would ask the outer git for the
# file list and find nothing: give the copy a repository of its own that tracks exactly the copied files.
cd "${KAS_COLLECTION_DIR}"
[ -d .git ] || git init -q .
git add -A .
