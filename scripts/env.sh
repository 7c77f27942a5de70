# shellcheck shell=bash
# Sourced by every make target: keeps all tool state (HOME, TMPDIR, ansible temp dirs, the collection
# copy ansible-test needs, lab state) under .work/ inside the project, never in the user's home.
KAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAS_WORK="${KAS_ROOT}/.work"
KAS_VENV="${KAS_ROOT}/.venv"
# ansible-test needs a real (not symlinked) .../ansible_collections/kas/fleet_manager directory.
KAS_COLLECTIONS="${KAS_WORK}/collections"
KAS_COLLECTION_DIR="${KAS_COLLECTIONS}/ansible_collections/kas/fleet_manager"
export KAS_ROOT KAS_WORK KAS_VENV KAS_COLLECTIONS KAS_COLLECTION_DIR
export HOME="${KAS_WORK}/home"
export TMPDIR="${KAS_WORK}/tmp"
# connection=local expands '~' from passwd, not $HOME: pin the temp dirs explicitly.
export ANSIBLE_REMOTE_TMP="${KAS_WORK}/tmp/ansible-remote"
export ANSIBLE_LOCAL_TEMP="${KAS_WORK}/tmp/ansible-local"
export ANSIBLE_COLLECTIONS_PATH="${KAS_COLLECTIONS}"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export PY_COLORS=0
export XDG_RUNTIME_DIR="${KAS_WORK}/run"
# ansible-rulebook needs Java 17; a newer JDK is installed too.
if [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
export JAVA_TOOL_OPTIONS=-XX:-UsePerfData
export PYTHONPATH="${KAS_ROOT}/lab${PYTHONPATH:+:${PYTHONPATH}}"
export PATH="${KAS_VENV}/bin:${PATH}"
export VIRTUAL_ENV="${KAS_VENV}"
mkdir -p "${HOME}" "${TMPDIR}" "${ANSIBLE_REMOTE_TMP}" "${ANSIBLE_LOCAL_TEMP}" "${KAS_COLLECTIONS}"
mkdir -p "${XDG_RUNTIME_DIR}" && chmod 0700 "${XDG_RUNTIME_DIR}"
