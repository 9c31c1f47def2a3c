#!/bin/sh
set -e
# Flags alone mean "run traefik with these flags", as in the official image.
if [ "${1#-}" != "$1" ]; then
  set -- traefik "$@"
fi
exec "$@"
