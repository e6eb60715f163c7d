#!/usr/bin/env bash
# Brings up (or down) the local NATS and PostgreSQL that samskab uses on one machine.
#   services.sh up    start what is not given by NATS_URL / DATABASE_URL; write .data/env
#   services.sh up-pg install the NATS binary and start PostgreSQL only (what tests need)
#   services.sh down  stop what `up` started
# Data lives under .data/ at the repository root. Ports: NATS 14222, PostgreSQL 15432
# (override with SAMSKAB_NATS_PORT / SAMSKAB_PG_PORT), away from the machine's own services;
# a port already taken (another checkout's stack) is replaced by a free one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="$root/.data"
nats_port="${SAMSKAB_NATS_PORT:-14222}"
pg_port="${SAMSKAB_PG_PORT:-15432}"
mkdir -p "$data"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return; }; done
  dirname "$(command -v pg_ctl)"
}

# PostgreSQL refuses to run as root; on CI the scripts run as root, so the cluster belongs to `postgres`.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

nats_up() {
  if [ -n "${NATS_URL:-}" ]; then echo "using NATS at $NATS_URL" >&2; return; fi
  bash "$root/deploy/local/install-nats.sh"
  if [ -f "$data/nats.pid" ] && kill -0 "$(cat "$data/nats.pid")" 2>/dev/null && [ -f "$data/nats.port" ]; then
    nats_port="$(cat "$data/nats.port")"
  else
    # Another checkout's (or another program's) server may hold the port: take a free one.
    if port_in_use "$nats_port"; then
      echo "port $nats_port is taken; NATS gets a free port" >&2
      nats_port="$(free_port)"
    fi
    echo "$nats_port" > "$data/nats.port"
    mkdir -p "$data/nats"
    "$data/bin/nats-server" -c "$root/deploy/local/nats.conf" -a 127.0.0.1 -p "$nats_port" \
      -sd "$data/nats" -P "$data/nats.pid" -l "$data/nats.log" </dev/null >/dev/null 2>&1 &
    disown || true
  fi
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  NATS_URL="nats://127.0.0.1:$nats_port"
  echo "NATS ready at $NATS_URL (log: .data/nats.log)" >&2
}

# Where the cluster lives: .data/pg, unless we run as root and the postgres user cannot reach
# it (a checkout under /root): then a folder of its own under /var/tmp, named for this checkout.
pg_dir() {
  if [ "$(id -u)" = 0 ]; then
    chmod o+x "$root" "$data" 2>/dev/null || true
    if ! runuser -u postgres -- test -x "$data"; then
      echo "/var/tmp/samskab-$(echo "$root" | sha256sum | cut -c1-12)/pg"
      return
    fi
  fi
  echo "$data/pg"
}

pg_up() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "using PostgreSQL at $DATABASE_URL" >&2; return; fi
  local bin dir; bin="$(pg_bin)"; dir="$(pg_dir)"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    # Already running: its port is line 4 of postmaster.pid.
    pg_port="$(sed -n 4p "$dir/postmaster.pid")"
  else
    if port_in_use "$pg_port"; then
      echo "port $pg_port is taken; PostgreSQL gets a free port" >&2
      pg_port="$(free_port)"
    fi
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=400" start >/dev/null
  fi
  DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/samskab"
  # The admin database for tests that create a fresh database each.
  as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'samskab'" | grep -q 1 ||
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres samskab
  echo "PostgreSQL ready at $DATABASE_URL (data: $dir)" >&2
}

write_env() {
    {
      echo "export NATS_URL=$NATS_URL"
      echo "export DATABASE_URL=$DATABASE_URL"
      [ -x "$data/bin/nats-server" ] && echo "export SAMSKAB_NATS_SERVER=$data/bin/nats-server"
    } > "$data/env"
}

case "${1:-up}" in
  up)
    nats_up
    pg_up
    write_env
    ;;
  up-pg)
    # Tests start a NATS server and an SMTP server of their own per test; they need the
    # binaries and PostgreSQL, and the dashboard's test a browser (chromium, playwright-core).
    bash "$root/deploy/local/install-nats.sh"
    bash "$root/deploy/local/install-smtp.sh"
    bash "$root/deploy/local/install-browser.sh"
    NATS_URL="${NATS_URL:-nats://127.0.0.1:$nats_port}"
    pg_up
    write_env
    ;;
  down)
    if [ -f "$data/nats.pid" ]; then kill "$(cat "$data/nats.pid")" 2>/dev/null || true; rm -f "$data/nats.pid" "$data/nats.port"; fi
    dir="$(pg_dir)"
    if [ -f "$dir/PG_VERSION" ]; then as_pg "$(pg_bin)/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true; fi
    ;;
  *) echo "usage: services.sh up|up-pg|down" >&2; exit 2 ;;
esac
