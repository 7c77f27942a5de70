#!/usr/bin/env bash
# `make demo [SCENARIO=name]`: bring the lab up with an incident, show what an SRE would see with kubectl and
# the runbook's own SQL, run the runbook playbook for the scenario's section, and show its report.
# The lab stays up afterwards for poking around (`source .work/demo-lab/env.sh`); `make lab-down STATE=...`
# or `python -m fleet_lab --state-dir .work/demo-lab down` stops it.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "${KAS_ROOT}"
scenario="${1:-kafka_provisioning_stuck_strimzi}"
state="${KAS_WORK}/demo-lab"

python -m fleet_lab --state-dir "${state}" down >/dev/null 2>&1 || true
python -m fleet_lab --state-dir "${state}" up --scenario "${scenario}"
# shellcheck source=/dev/null
source "${state}/env.sh"

echo
echo "### kubectl get deploy,pods -n ${KAS_LAB_NAMESPACE}"
kubectl get deploy,pods -n "${KAS_LAB_NAMESPACE}"
echo
echo "### oc logs <pod> | grep 'Running as the leader.*ClusterManager\|KafkaManager' (runbook)"
for pod in $(kubectl get pods -n "${KAS_LAB_NAMESPACE}" -o name); do
  kubectl logs -n "${KAS_LAB_NAMESPACE}" "${pod}" -c service 2>/dev/null \
    | grep -E 'Running as the leader.*(ClusterManager|KafkaManager) ' | sed "s|^|${pod#pod/}: |" || true
done
echo
echo "### the runbook's SQL (as the read-only kas_runbook login)"
psql -X -q -c "select status, to_char(now() - updated_at,'HH24:MI') idle_time, count(1) from clusters group by status, to_char(now() - updated_at,'HH24:MI');" \
     -c "select status, to_char(now() - updated_at,'HH24:MI'), count(1) from kafka_requests group by status, to_char(now() - updated_at,'HH24:MI');"

playbook="$(python - "${scenario}" <<'PY'
import sys
from fleet_lab import scenario
section = scenario.load(sys.argv[1])["section"]
print("sop_triage" if section == "none" else "sop_" + section.replace("kafka_provisioning_latency", "kafka_latency"))
PY
)"
scripts/sync_collection.sh
echo
echo "### ansible-playbook kas.fleet_manager.${playbook} -i ${state}/inventory.yml"
# rc 0 also when the decision is an escalation: the decision is in the report, not in the exit code. A non-zero rc
# (a page no route took, evidence that could not be gathered) still has a report: show it, then exit with that rc.
rc=0
ansible-playbook -i "${state}/inventory.yml" "kas.fleet_manager.${playbook}" \
  -e kas_fleet_report_dir="${KAS_WORK}/reports" || rc=$?
latest="$(find "${KAS_WORK}/reports" -maxdepth 1 -name '*.md' -printf '%T@ %p\n' 2>/dev/null | sort -nr | head -n 1 | cut -d' ' -f2- || true)"
if [ -n "${latest}" ]; then
  echo
  echo "### report: ${latest} (also .json and .html beside it)"
  cat "${latest}"
fi
echo
echo "The lab is still up: source ${state}/env.sh; stop it with: python -m fleet_lab --state-dir ${state} down"
if [ "${rc}" -ne 0 ]; then
  echo "ansible-playbook failed (rc ${rc}): a page was not delivered or evidence could not be gathered; the report says which" >&2
fi
exit "${rc}"
