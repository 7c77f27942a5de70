#!/usr/bin/env bash
# Creates .venv from requirements-dev.txt and installs the system tools the tests and the lab need.
# Idempotent: when nothing changed it only compares a checksum (well under a second).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "${KAS_ROOT}"

# System tools: prometheus/promtool (lab metrics), shellcheck (sanity), rsync (collection copy), kubectl (lab tests),
# and a headless Chromium for the HTML report checks (tests/playbooks/browser.py; Playwright drives Debian's
# browser and never downloads one of its own).
missing=()
for tool in prometheus promtool shellcheck rsync; do
  command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
done
if ! command -v chromium-headless-shell >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing system packages for: ${missing[*]}"
    # The Debian package would like to start a system Prometheus; the lab only ever runs its own.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    pkgs=()
    for tool in "${missing[@]}"; do
      case "${tool}" in
        prometheus|promtool) pkgs+=(prometheus) ;;
        # The headless shell is the smaller package where the release has it; DejaVu for the charts' monospace text.
        chromium)
          if apt-cache policy chromium-headless-shell 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            pkgs+=(chromium-headless-shell fonts-dejavu-core)
          else
            pkgs+=(chromium fonts-dejavu-core)
          fi ;;
        *) pkgs+=("${tool}") ;;
      esac
    done
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  else
    echo "bootstrap: missing ${missing[*]} and cannot apt-get install them (need root and apt)." >&2
    echo "bootstrap: the lab marks metrics unavailable without prometheus; sanity needs shellcheck;" >&2
    echo "bootstrap: the HTML report checks need chromium-headless-shell or chromium (or KAS_CHROMIUM)." >&2
  fi
fi
command -v kubectl >/dev/null 2>&1 || echo "bootstrap: kubectl not found: lab tests that drive kubectl will fail." >&2

stamp="${KAS_VENV}/.kas-requirements.sha256"
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ -x "${KAS_VENV}/bin/python" ] && [ -f "${stamp}" ] && [ "$(cat "${stamp}")" = "${want}" ]; then
  exit 0
fi
echo "bootstrap: creating ${KAS_VENV} from requirements-dev.txt"
python3 -m venv "${KAS_VENV}"
"${KAS_VENV}/bin/python" -m pip install -q --disable-pip-version-check -U pip
"${KAS_VENV}/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
echo "${want}" > "${stamp}"
