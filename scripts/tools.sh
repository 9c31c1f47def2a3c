#!/usr/bin/env bash
# Provide the pinned command-line tools (versions from versions.env).
#
#   scripts/tools.sh install [TOOL...]   build what is missing (all when no TOOL)
#   scripts/tools.sh path                print the PATH entries, for eval/export
#
# Each tool is built from source through the Go module proxy into
# $CACHE/tools/<tool>-<version>, which works where no registry and no GitHub
# download is reachable as well as on a laptop. A second run finds the cached
# build and does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../airgap/lib.sh
source "$root/airgap/lib.sh"

TOOLS=(helm helm3 kind kubectl ct helm-docs actionlint oras registry)

tool_version() {
  case $1 in
    helm) echo "$HELM_VERSION" ;;
    helm3) echo "$HELM3_VERSION" ;;
    kind) echo "$KIND_VERSION" ;;
    kubectl) echo "$KUBERNETES_VERSION" ;;
    ct) echo "$CHART_TESTING_VERSION" ;;
    helm-docs) echo "$HELM_DOCS_VERSION" ;;
    actionlint) echo "$ACTIONLINT_VERSION" ;;
    oras) echo "$ORAS_VERSION" ;;
    registry) echo "$DISTRIBUTION_VERSION" ;;
    *) die "unknown tool: $1 (known: ${TOOLS[*]})" ;;
  esac
}

tool_dir() { echo "$CACHE/tools/$1-$(tool_version "$1")"; }

gobuild() { python3 "$here/gobuild.py" "$@"; }

# module_dir MODULE VERSION: the module's source folder in the Go module cache.
module_dir() {
  go mod download -json "$1@$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

build_tool() {
  local tool=$1 version dir
  version=$(tool_version "$tool")
  dir=$(tool_dir "$tool")
  [[ -f "$dir/.complete" ]] && return 0
  log "building $tool $version into $dir"
  rm -rf "$dir"
  case $tool in
    helm)
      gobuild --module helm.sh/helm/v4 --version "$version" --out "$dir" \
        --ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
        helm.sh/helm/v4/cmd/helm
      ;;
    helm3)
      # As Helm 3's Makefile does: stamp the Kubernetes version of its
      # client-go, which offline renders (helm template) report as the
      # cluster's; without it they claim 1.20 and fail kubeVersion checks.
      local kminor pkg flags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
      kminor=$(sed -nE 's#^\s*k8s\.io/client-go v0\.([0-9]+)\..*#\1#p' \
        "$(module_dir helm.sh/helm/v3 "$version")/go.mod")
      [[ -n "$kminor" ]] || die "cannot read helm $version's client-go version"
      for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kminor"
      done
      gobuild --module helm.sh/helm/v3 --version "$version" --out "$dir" \
        --ldflags "$flags" helm.sh/helm/v3/cmd/helm
      mv "$dir/helm" "$dir/helm3"
      ;;
    kind)
      gobuild --module sigs.k8s.io/kind --version "$version" --out "$dir" sigs.k8s.io/kind
      ;;
    kubectl)
      local pkg=k8s.io/client-go/pkg/version minor
      minor=$(cut -d. -f2 <<<"$version")
      gobuild --module k8s.io/kubernetes --version "$version" \
        --local-version "v0.${version#v1.}" --out "$dir" \
        --ldflags "-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor" \
        k8s.io/kubernetes/cmd/kubectl
      ;;
    ct)
      gobuild --module github.com/helm/chart-testing/v3 --version "$version" --out "$dir" \
        --ldflags "-s -w -X github.com/helm/chart-testing/v3/ct/cmd.Version=$version" \
        github.com/helm/chart-testing/v3/ct
      # ct lint needs its Chart.yaml schema and yamllint config; they ship in
      # the module under etc/ and are passed with --chart-yaml-schema/--lint-conf.
      local src
      src=$(module_dir github.com/helm/chart-testing/v3 "$version")
      mkdir -p "$dir/etc"
      cp "$src/etc/chart_schema.yaml" "$src/etc/lintconf.yaml" "$dir/etc/"
      chmod -R u+w "$dir/etc"
      ;;
    helm-docs)
      gobuild --module github.com/norwoodj/helm-docs --version "$version" --out "$dir" \
        github.com/norwoodj/helm-docs/cmd/helm-docs
      ;;
    actionlint)
      gobuild --module github.com/rhysd/actionlint --version "$version" --out "$dir" \
        github.com/rhysd/actionlint/cmd/actionlint
      ;;
    oras)
      # The module's own version.go carries the release number.
      gobuild --module oras.land/oras --version "$version" --out "$dir" oras.land/oras/cmd/oras
      ;;
    registry)
      # The CNCF distribution registry, for the chart's OCI round trip test.
      gobuild --module github.com/distribution/distribution/v3 --version "$version" \
        --out "$dir" --ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=$version" \
        github.com/distribution/distribution/v3/cmd/registry
      ;;
  esac
  touch "$dir/.complete"
}

cmd=${1:-}
shift || true
case $cmd in
  install)
    command -v go >/dev/null || die "Go is needed to build the tools (https://go.dev/dl/)"
    (($#)) || set -- "${TOOLS[@]}"
    for tool in "$@"; do build_tool "$tool"; done
    ;;
  path)
    entries=()
    for tool in "${TOOLS[@]}"; do entries+=("$(tool_dir "$tool")"); done
    (IFS=:; echo "${entries[*]}")
    ;;
  dir)
    tool_dir "${1:?usage: tools.sh dir TOOL}"
    ;;
  *)
    echo "usage: $0 install [TOOL...] | path | dir TOOL" >&2
    exit 2
    ;;
esac
