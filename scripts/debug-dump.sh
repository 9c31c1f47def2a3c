#!/usr/bin/env bash
# Show what a failed chart install left in the cluster, for the CI log.
#
#   scripts/debug-dump.sh [--cluster NAME] NAMESPACE...
#
# For each namespace: its objects, the description of its pods and workloads,
# its events and the logs of every container (and of the previous run of a
# restarted one); then the nodes and the pods of the whole cluster. With
# --cluster it talks to that kind cluster, otherwise to KUBECONFIG. Each part
# is a foldable group in a GitHub Actions log. It never fails: a broken dump
# must not hide the failure it is called for.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH="$(bash "$here/tools.sh" path):$PATH"

usage() { echo "usage: $0 [--cluster NAME] NAMESPACE..." >&2; exit 2; }

cluster=
if [[ ${1:-} == --cluster ]]; then
  cluster=${2:-}
  [[ -n $cluster ]] || usage
  shift 2
fi
(($#)) || usage

if [[ -n $cluster ]]; then
  KUBECONFIG=$(mktemp)
  export KUBECONFIG
  trap 'rm -f "$KUBECONFIG"' EXIT
  kind get kubeconfig --name "$cluster" >"$KUBECONFIG" ||
    echo "debug-dump: no kubeconfig for kind cluster $cluster" >&2
fi

begin() {
  if [[ -n ${GITHUB_ACTIONS:-} ]]; then echo "::group::$*"; else echo "===== $* ====="; fi
}
end() { [[ -z ${GITHUB_ACTIONS:-} ]] || echo "::endgroup::"; }

section() {
  local title=$1
  shift
  begin "$title"
  "$@" 2>&1
  end
}

dump_namespace() {
  local ns=$1 pod
  if ! kubectl get namespace "$ns" >/dev/null 2>&1; then
    echo "debug-dump: namespace $ns does not exist (never created, or already deleted)"
    return
  fi
  section "$ns: objects" kubectl get all,pvc,ingress,networkpolicy,configmap,secret,serviceaccount \
    --namespace "$ns" --output wide
  section "$ns: pods" kubectl describe pods --namespace "$ns"
  section "$ns: workloads" kubectl describe deployments,statefulsets,jobs,cronjobs,pvc --namespace "$ns"
  section "$ns: events" kubectl get events --namespace "$ns" --sort-by=.lastTimestamp
  for pod in $(kubectl get pods --namespace "$ns" --output name 2>/dev/null); do
    section "$ns: logs of $pod" kubectl logs "$pod" --namespace "$ns" --all-containers --prefix --tail=300
    if kubectl get "$pod" --namespace "$ns" \
      --output jsonpath='{.status.containerStatuses[*].restartCount}' 2>/dev/null | grep -q '[1-9]'; then
      section "$ns: logs of $pod before its last restart" \
        kubectl logs "$pod" --namespace "$ns" --all-containers --prefix --previous --tail=300
    fi
  done
}

for ns in "$@"; do
  dump_namespace "$ns"
done
section "cluster: nodes" kubectl get nodes --output wide
section "cluster: pods" kubectl get pods --all-namespaces --output wide
section "cluster: recent warnings" kubectl get events --all-namespaces --field-selector type=Warning \
  --sort-by=.lastTimestamp
exit 0
