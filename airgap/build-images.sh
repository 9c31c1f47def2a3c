#!/usr/bin/env bash
# Build every image a kind cluster and the chart need, where no registry is
# reachable, under the exact names the manifests ask for.
#
#   airgap/build-images.sh node       # kindest/node:<KUBERNETES_VERSION> stand-in
#   airgap/build-images.sh traefik    # docker.io/library/traefik:<TRAEFIK_VERSION>
#   POSTGRES_IMAGE=docker.io/library/postgres:18.6 airgap/build-images.sh postgres
#   POSTGRES_IMAGE=... airgap/build-images.sh all
#
# The PostgreSQL image is the chart's default (values.yaml), which the harness
# passes in, so its tag is pinned in one place.
#
# These build unconditionally (when their recipe changed); the harness calls
# them only where the published image cannot be pulled. An image is rebuilt only
# when its recipe changed: each carries a label with a hash of its build inputs
# (Dockerfile folder, these scripts, the pins it uses).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

KIND_SRC=
kind_src() {
  [[ -n "$KIND_SRC" ]] || KIND_SRC=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  echo "$KIND_SRC"
}

# recipe_hash IMAGE-FOLDER PIN...: a hash of everything that decides what an
# image contains: its Dockerfile folder, the scripts that build it and the
# values of the pins it uses (not all of versions.env, so bumping an unrelated
# tool rebuilds nothing).
recipe_hash() {
  local folder=$1 pin
  shift
  (
    cd "$here"
    cat lib.sh build-images.sh build-kubernetes.sh ../scripts/gobuild.py
    find "images/$folder" -type f | sort | xargs cat
    for pin in "$@"; do echo "$pin=${!pin}"; done
  ) | sha256sum | cut -c1-16
}

up_to_date() {
  local image=$1 hash=$2
  [[ "$(docker image inspect -f '{{ index .Config.Labels "fullstack.recipe" }}' "$image" 2>/dev/null)" == "$hash" ]]
}

# docker_build IMAGE CONTEXT [docker build args...]
docker_build() {
  local image=$1 context=$2
  shift 2
  log "docker build $image"
  # Output only matters when the build fails (the newer client also warns on
  # every build that the engine's classic builder is deprecated).
  local out
  out=$(docker build -q --label "fullstack.recipe=${RECIPE}" -t "$image" "$@" "$context" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "docker build of $image failed"; }
}

# gobin NAME MODULE VERSION PACKAGE [gobuild args...]: a cached Go binary path.
gobin() {
  local name=$1 module=$2 version=$3 pkg=$4
  shift 4
  local dir="$CACHE/bin/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    # Build beside the final folder and rename, so an interrupted or
    # concurrent build never leaves a half-written binary in the cache.
    local tmp
    mkdir -p "$(dirname "$dir")"
    tmp=$(mktemp -d "$dir.XXXXXX")
    python3 "$here/../scripts/gobuild.py" --module "$module" --version "$version" \
      --out "$tmp" "$@" "$name=$pkg"
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  fi
  echo "$dir/$name"
}

# The image names kubeadm asks for, at this Kubernetes version.
kubeadm_image() {
  "$CACHE/kubernetes/$KUBERNETES_VERSION/bin/kubeadm" config images list \
    --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | grep "/$1:"
}

# A Go string constant of kind's node image builder (the add-on image names).
kind_const() {
  sed -nE "s/^const $1 = \"(.*)\"$/\1/p" "$(kind_src)/pkg/build/nodeimage/$2"
}

build_node() {
  local node_image="kindest/node:$KUBERNETES_VERSION"
  RECIPE=$(recipe_hash node KUBERNETES_VERSION KIND_VERSION CRI_TOOLS_VERSION \
    LOCAL_PATH_PROVISIONER_VERSION DEBIAN_IMAGE)
  if up_to_date "$node_image" "$RECIPE"; then
    log "$node_image: up to date"
    return
  fi
  bash "$here/build-kubernetes.sh"
  local kbin="$CACHE/kubernetes/$KUBERNETES_VERSION/bin" ctx images=() img
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN

  # Control plane images: one compiled binary each.
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    img=$(kubeadm_image "$c")
    mkdir -p "$ctx/$c" && cp "$kbin/$c" "$ctx/$c/"
    local packages=""
    [[ $c == kube-proxy ]] && packages="iptables nftables conntrack"
    docker_build "$img" "$ctx/$c" -f "$here/images/kubernetes/Dockerfile" \
      --build-arg COMPONENT="$c" --build-arg PACKAGES="$packages"
    images+=("$img")
  done

  # etcd at the version kubeadm pins (3.7.0-0 -> v3.7.0).
  img=$(kubeadm_image etcd)
  local etcd_version="v${img##*:}"
  etcd_version=${etcd_version%-*}
  mkdir -p "$ctx/etcd"
  cp "$(gobin etcd go.etcd.io/etcd/server/v3 "$etcd_version" go.etcd.io/etcd/server/v3 \
    --local-version "$etcd_version")" "$ctx/etcd/"
  cp "$(gobin etcdctl go.etcd.io/etcd/etcdctl/v3 "$etcd_version" go.etcd.io/etcd/etcdctl/v3 \
    --local-version "$etcd_version")" "$ctx/etcd/"
  docker_build "$img" "$ctx/etcd" -f "$here/images/etcd/Dockerfile"
  images+=("$img")

  img=$(kubeadm_image coredns)
  mkdir -p "$ctx/coredns"
  cp "$(gobin coredns github.com/coredns/coredns "${img##*:}" github.com/coredns/coredns)" "$ctx/coredns/"
  docker_build "$img" "$ctx/coredns" -f "$here/images/coredns/Dockerfile"
  images+=("$img")

  # pause: kubeadm's version, also tagged with the sandbox image that kind's
  # containerd config names.
  img=$(kubeadm_image pause)
  local sandbox
  sandbox=$(sed -nE 's/^\s*sandbox_image = "(.*)"/\1/p' "$(kind_src)/images/base/files/etc/containerd/config.toml")
  mkdir -p "$ctx/pause"
  cp "$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/build/pause/linux/pause.c" "$ctx/pause/"
  docker_build "$img" "$ctx/pause" -f "$here/images/pause/Dockerfile" --build-arg VERSION="${img##*:}"
  docker tag "$img" "$sandbox"
  images+=("$img" "$sandbox")

  # kind's storage add-on: rancher's local-path-provisioner and a helper image
  # that only needs a shell.
  local provisioner helper
  provisioner=$(kind_const storageProvisionerImage const_storage.go)
  helper=$(kind_const storageHelperImage const_storage.go)
  mkdir -p "$ctx/local-path"
  cp "$(gobin local-path-provisioner github.com/rancher/local-path-provisioner \
    "$LOCAL_PATH_PROVISIONER_VERSION" github.com/rancher/local-path-provisioner)" "$ctx/local-path/"
  docker_build "$provisioner" "$ctx/local-path" -f "$here/images/local-path-provisioner/Dockerfile"
  docker tag "$DEBIAN_IMAGE" "$helper"
  images+=("$provisioner" "$helper")

  # The node itself: kind's base files, the node binaries, the manifests kind
  # applies at cluster creation.
  local node="$ctx/node"
  mkdir -p "$node/kind" "$node/bin" "$node/manifests"
  cp -r "$(kind_src)/images/base/files/." "$node/kind/"
  chmod -R u+w "$node/kind"
  cp "$kbin/kubeadm" "$kbin/kubelet" "$kbin/kubectl" "$node/bin/"
  cp "$(gobin crictl sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl)" "$node/bin/"
  cp "$here/images/node/10-ptp.conflist" "$node/"
  echo -n "$KUBERNETES_VERSION" >"$node/version"
  # kind's own storage manifest, read from its source at KIND_VERSION.
  python3 - "$(kind_src)/pkg/build/nodeimage/const_storage.go" "$provisioner" "$helper" \
    >"$node/manifests/default-storage.yaml" <<'EOF'
import re, sys
src, provisioner, helper = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
src = src.replace("` + storageProvisionerImage + `", provisioner)
src = src.replace("` + storageHelperImage + `", helper)
sys.stdout.write(re.search(r"const defaultStorageManifest = `(.*?)`\n", src, re.S).group(1))
EOF
  grep -q "$provisioner" "$node/manifests/default-storage.yaml" || die "could not read kind's storage manifest"
  local base="fullstack.invalid/kind-node-base:$KUBERNETES_VERSION"
  docker_build "$base" "$node" -f "$here/images/node/Dockerfile"

  # Import the images into the node's containerd, as `kind build node-image`
  # does, minus the registry pulls that fail without a registry; then commit.
  log "$node_image: importing ${#images[@]} images into the node's containerd"
  local cid
  cid=$(docker run -d --entrypoint sleep --security-opt seccomp=unconfined "$base" infinity)
  docker exec "$cid" bash -c 'nohup containerd >/dev/null 2>&1 &
    for i in $(seq 50); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
    ctr version >/dev/null'
  docker save "${images[@]}" | docker exec -i "$cid" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  docker exec "$cid" ctr --namespace=k8s.io images list -q | sort >"$ctx/imported"
  docker exec "$cid" pkill containerd || true
  for img in "${images[@]}"; do
    grep -qE "^(docker\.io/(library/)?)?${img//./\\.}$" "$ctx/imported" ||
      { docker rm -f "$cid" >/dev/null; die "image $img missing in the node's containerd"; }
  done
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change "LABEL fullstack.recipe=$RECIPE" "$cid" "$node_image" >/dev/null
  docker rm -f "$cid" >/dev/null
  log "$node_image: built"
}

build_postgres() {
  local image=${POSTGRES_IMAGE:?set POSTGRES_IMAGE to the PostgreSQL image of the chart}
  local tag=${image##*:}
  RECIPE=$(recipe_hash postgres DEBIAN_IMAGE POSTGRES_IMAGE)
  up_to_date "$image" "$RECIPE" && { log "$image: up to date"; return; }
  docker_build "$image" "$here/images/postgres" --build-arg PG_MAJOR="${tag%%.*}"
  # Debian's package may lag the tag's minor release; say what is inside.
  log "$image: stand-in runs $(docker run --rm --entrypoint postgres "$image" --version)"
}

build_traefik() {
  local image="docker.io/library/traefik:$TRAEFIK_VERSION"
  RECIPE=$(recipe_hash traefik DEBIAN_IMAGE TRAEFIK_VERSION)
  up_to_date "$image" "$RECIPE" && { log "$image: up to date"; return; }
  local ctx
  ctx=$(mktemp -d)
  cp "$here/images/traefik/"* "$ctx/"
  cp "$(gobin traefik github.com/traefik/traefik/v3 "$TRAEFIK_VERSION" \
    github.com/traefik/traefik/v3/cmd/traefik \
    --ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION")" "$ctx/"
  docker_build "$image" "$ctx"
  rm -rf "$ctx"
}

(($#)) || set -- all
for what in "$@"; do
  case $what in
    node) build_node ;;
    postgres) build_postgres ;;
    traefik) build_traefik ;;
    all) build_postgres; build_traefik; build_node ;;
    *) die "unknown image set: $what (node, postgres, traefik, all)" ;;
  esac
done
