#!/usr/bin/env bash
# Provide the Debian base image every Dockerfile of the project starts FROM.
#
#   airgap/base-image.sh        # ensures $DEBIAN_IMAGE exists in the local engine
#
# When the image can be pulled, it is pulled. Otherwise a stand-in is built with
# debootstrap from Debian's mirror and imported under the official name, so the
# project's Dockerfiles build unchanged. The stand-in mirrors what the slim image
# provides: a minbase system, deb822 sources for the suite, no apt lists, no docs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

image=$DEBIAN_IMAGE
suite=${image#debian:}
suite=${suite%-slim}

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image: present"
  exit 0
fi
if timeout 60 docker pull "$image" >/dev/null 2>&1; then
  log "$image: pulled"
  exit 0
fi

command -v debootstrap >/dev/null || apt_install debootstrap
root="$CACHE/rootfs/$suite"
rm -rf "$root"
mkdir -p "$root"
log "$image: not pullable, building a stand-in with debootstrap ($suite, minbase)"
debootstrap --variant=minbase "$suite" "$root" "$DEBIAN_MIRROR" >"$CACHE/rootfs/$suite.log" 2>&1 ||
  die "debootstrap failed, see $CACHE/rootfs/$suite.log"

cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -f "$root/etc/apt/sources.list"
# Same trimming as the slim images: no docs or manuals, apt cleans after itself.
cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
EOF
echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/90slim"
# Like the official image, apt removes downloaded packages after each run.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

tar -C "$root" --numeric-owner -c . |
  docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$image" >/dev/null
rm -rf "$root"
docker tag "$image" "$image-standin"
log "$image: stand-in imported"
