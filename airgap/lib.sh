# Shared setup for the airgap scripts; sourced, not run.
# shellcheck shell=bash
# A failure inside $(...) stops the command substitution too, not only the
# script's own commands (bash leaves errexit off there by default).
shopt -s inherit_errexit
_airgap_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
set -a
# shellcheck source=../versions.env
source "$_airgap_root/versions.env"
set +a
# Built artefacts live outside the clone so a second run (and CI on the same
# machine) reuses them; everything under it is keyed by version.
CACHE=${FULLSTACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fullstack}
mkdir -p "$CACHE"

log() { printf '[airgap %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Install Debian packages on this machine (CI runs as root on a fresh machine).
apt_install() {
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@"; }
}
