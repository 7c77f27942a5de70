#!/usr/bin/env bash
# Puts a stand-in get-pip script into ansible-test's cache so its sanity venvs bootstrap offline.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
pipv="$(python - <<'PY'
import pathlib, re
import ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text())[1])
PY
)"
cache="${HOME}/.ansible/test/cache/get_pip_${pipv//./_}.py"
[ -s "${cache}" ] && exit 0
wheels="${KAS_WORK}/wheels"
mkdir -p "${wheels}"
python -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "${wheels}" "pip==${pipv}"
python "${KAS_ROOT}/scripts/make_get_pip.py" "${wheels}/pip-${pipv}-py3-none-any.whl" "${cache}"
echo "seed_get_pip: wrote ${cache}"
