#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and
# print the SQLAlchemy URL of an empty database in it.
#
# initdb and pg_ctl refuse to run as root, so when we are root they run as the
# `postgres` system user, in a fresh temporary directory. Usage:
#   url=$(.ci/start-postgres.sh DIR PORT)     # DIR is created; stop with:
#   pg_ctl -D DIR/data stop -m fast           # (as the same user)
set -euo pipefail
dir=${1:?directory}
port=${2:-54329}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "start-postgres: no PostgreSQL server installed (apt-get install postgresql)" >&2
  exit 1
fi
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres storemon_test
echo "postgresql+psycopg://postgres@127.0.0.1:$port/storemon_test"
