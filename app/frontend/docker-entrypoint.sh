#!/bin/sh
# Render the nginx server configuration from its template, then run nginx in
# the foreground. Only ${BACKEND_URL} is substituted; the output goes to /tmp
# so the root filesystem can be read-only.
set -eu

template=/etc/nginx/templates/default.conf.template
rendered=/tmp/nginx-default.conf

die() {
    echo "fullstack-frontend: $*" >&2
    exit 1
}

if [ -z "${BACKEND_URL:-}" ]; then
    die "BACKEND_URL is not set; set it to the backend's base URL, e.g. http://my-release-fullstack-backend:8080"
fi

# Tolerate one trailing slash: with a URI part, proxy_pass would rewrite
# /api/items to /items.
BACKEND_URL=${BACKEND_URL%/}
case $BACKEND_URL in
    http://* | https://*) authority=${BACKEND_URL#*://} ;;
    *) die "BACKEND_URL must start with http:// or https://, got '$BACKEND_URL'" ;;
esac
# host[:port] only: no path, no whitespace, nothing nginx would parse as syntax.
case $authority in
    '' | *[!]A-Za-z0-9.:_[-]*)
        die "BACKEND_URL must be scheme://host[:port] with no path, spaces or special characters, got '$BACKEND_URL'"
        ;;
esac
export BACKEND_URL

# shellcheck disable=SC2016 # the literal name tells envsubst what to replace
envsubst '${BACKEND_URL}' <"$template" >"$rendered"

exec nginx -e stderr -g 'daemon off;'
