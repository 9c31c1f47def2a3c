#!/usr/bin/env bash
# Make sure a Docker engine answers, starting one when none runs.
#
#   airgap/docker.sh
#
# Uses the running engine when `docker info` works. Otherwise installs Debian's
# docker.io (when dockerd is missing) and starts dockerd in the background (for
# hosts without systemd). When the host's capability bounding set lacks
# capabilities that Docker 20.10 requests for --privileged containers (kind's
# nodes), it registers runc-capfilter as the default runtime (see its main.go).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

if docker info >/dev/null 2>&1; then
  log "docker: engine answers"
  exit 0
fi
((EUID == 0)) || die "no Docker engine answers; start one (or run this as root to have it started)"

command -v dockerd >/dev/null || { log "docker: installing docker.io from Debian"; apt_install docker.io; }

# CapBnd of a full set is 0x1ffffffffff (41 capabilities); anything less means
# runc cannot grant what --privileged asks for.
bounding=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if [[ $((16#$bounding)) -ne $((16#1ffffffffff)) ]]; then
  log "docker: capability bounding set is $bounding; registering runc-capfilter as the"
  log "docker: default runtime in /etc/docker/daemon.json (undo: see airgap/README.md)"
  (cd "$here/runc-capfilter" && CGO_ENABLED=0 go build -o /usr/local/bin/runc-capfilter .)
  mkdir -p /etc/docker
  python3 - <<'EOF'
import json, pathlib
path = pathlib.Path("/etc/docker/daemon.json")
config = json.loads(path.read_text()) if path.exists() else {}
config.setdefault("runtimes", {})["capfilter"] = {"path": "/usr/local/bin/runc-capfilter"}
config["default-runtime"] = "capfilter"
path.write_text(json.dumps(config, indent=2) + "\n")
EOF
fi

logfile="$CACHE/dockerd.log"
log "docker: starting dockerd (log: $logfile)"
nohup dockerd >"$logfile" 2>&1 &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && { log "docker: engine ready"; exit 0; }
  sleep 1
done
tail -20 "$logfile" >&2
die "dockerd did not answer within 60s"
