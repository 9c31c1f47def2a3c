#!/usr/bin/env bash
# Entrypoint of the postgres stand-in image (see the Dockerfile). Written for
# this project; it implements the documented behaviour of the official image's
# entrypoint that charts rely on, not its code.
set -Eeuo pipefail

note() { printf '%s [entrypoint] %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# Arguments that start with "-" are server options.
if [[ "${1:-}" == -* ]]; then
  set -- postgres "$@"
fi
if [[ "${1:-}" != postgres ]]; then
  exec "$@"
fi

# VAR_FILE support: read VAR from the file named by VAR_FILE.
file_env() {
  local var=$1 file_var="${1}_FILE" default=${2:-}
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    note "error: both $var and $file_var are set; set only one"
    exit 1
  fi
  local value=$default
  if [[ -n "${!var:-}" ]]; then
    value=${!var}
  elif [[ -n "${!file_var:-}" ]]; then
    value=$(<"${!file_var}")
  fi
  export "$var"="$value"
  unset "$file_var"
}

prepare_dirs() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || true
  mkdir -p /var/run/postgresql
  chmod 03775 /var/run/postgresql 2>/dev/null || true
}

# Started as root: fix ownership, then run again as postgres.
if [[ "$(id -u)" == 0 ]]; then
  prepare_dirs
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi
prepare_dirs

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  auth_method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z "$POSTGRES_PASSWORD" && "$auth_method" != trust ]]; then
    note "error: the database is uninitialised and POSTGRES_PASSWORD is not set;"
    note "set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust"
    exit 1
  fi

  note "initialising a new cluster in $PGDATA"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    $POSTGRES_INITDB_ARGS
  printf '\nhost all all all %s\n' "$auth_method" >>"$PGDATA/pg_hba.conf"

  # A temporary server on the socket only, for the database and init scripts.
  PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD \
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
  psql_init=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER")
  if [[ "$POSTGRES_DB" != postgres ]]; then
    "${psql_init[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e "$f" ]] || continue
    case $f in
      *.sh)
        # shellcheck source=/dev/null
        if [[ -x "$f" ]]; then note "running $f"; "$f"; else note "sourcing $f"; . "$f"; fi ;;
      *.sql) note "running $f"; "${psql_init[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) note "running $f"; gunzip -c "$f" | "${psql_init[@]}" --dbname "$POSTGRES_DB" ;;
      *) note "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  note "initialisation complete"
fi

exec "$@"
