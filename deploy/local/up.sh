#!/usr/bin/env bash
# The README's first command: the whole stack on one machine.
#   1. NATS 2.15.1 (pinned, installed into .data/bin) and PostgreSQL with data under .data/,
#      unless NATS_URL / DATABASE_URL name servers to use;
#   2. builds the `samskab` binary, applies the migrations, loads the demo data;
#   3. runs the API and every worker in one process, printing the URL, a token per demo
#      municipality and role, and a curl line that registers a volunteer. Ctrl-C stops it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash deploy/local/services.sh up
# shellcheck disable=SC1091
source .data/env

# One JWT secret per checkout, kept so demo tokens stay valid across restarts.
if [ ! -f .data/jwt-secret ]; then
  head -c 48 /dev/urandom | base64 | tr -d '\n' > .data/jwt-secret
  chmod 600 .data/jwt-secret
fi
export SAMSKAB_JWT_SECRET="$(cat .data/jwt-secret)"
# One master key per checkout: it wraps every person's data key, so losing it loses their data.
if [ ! -f .data/master-keys ]; then
  echo "local-1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')" > .data/master-keys
  chmod 600 .data/master-keys
fi
export SAMSKAB_MASTER_KEYS="$(cat .data/master-keys)"
# One audit signing key per checkout (Ed25519 seed): it signs the head of every audit export.
if [ ! -f .data/audit-signing-key ]; then
  head -c 32 /dev/urandom | base64 | tr -d '\n' > .data/audit-signing-key
  chmod 600 .data/audit-signing-key
fi
export SAMSKAB_AUDIT_SIGNING_KEY="$(cat .data/audit-signing-key)"
export SAMSKAB_LISTEN="${SAMSKAB_LISTEN:-127.0.0.1:8080}"

cargo build --release --locked -p samskab
bin="${CARGO_TARGET_DIR:-$root/target}/release/samskab"
"$bin" migrate
"$bin" seed-demo
exec "$bin" all --print-demo-tokens
