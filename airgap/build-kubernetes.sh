#!/usr/bin/env bash
# Compile the Kubernetes components a kind node needs from source, through the
# Go module proxy, for hosts that reach no release download.
#
#   airgap/build-kubernetes.sh            # version from versions.env
#
# Output: $CACHE/kubernetes/<version>/bin, reused when complete. The version is
# stamped through ldflags, or kubeadm and the kubelet report a meaningless one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

version=$KUBERNETES_VERSION
out="$CACHE/kubernetes/$version/bin"
if [[ -f "$out/.complete" ]]; then
  log "kubernetes $version: cached in $out"
  exit 0
fi

minor=$(cut -d. -f2 <<<"$version")
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
packages=()
for cmd in kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  packages+=("k8s.io/kubernetes/cmd/$cmd")
done

log "kubernetes $version: building ${#packages[@]} components (tens of minutes when cold)"
# Staging modules (k8s.io/api, client-go, ...) are published as v0.<minor>.<patch>.
python3 "$here/../scripts/gobuild.py" --module k8s.io/kubernetes --version "$version" \
  --local-version "v0.${version#v1.}" --ldflags "$ldflags" --out "$out" "${packages[@]}"
"$out/kubeadm" version -o short
touch "$out/.complete"
