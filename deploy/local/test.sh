#!/usr/bin/env bash
# Runs every test against a real NATS (our pinned 2.15.1, one server per test) and a real
# PostgreSQL (.data/pg, or the server named by DATABASE_URL). This is the README's second
# command, and exactly what CI runs (.ci/run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash deploy/local/services.sh up-pg
# shellcheck disable=SC1091
source .data/env
export SAMSKAB_NATS_SERVER="${SAMSKAB_NATS_SERVER:-$root/.data/bin/nats-server}"

# Each test makes its own database; drop what earlier runs left behind.
psql "$DATABASE_URL" -qAt -c "SELECT datname FROM pg_database WHERE datname LIKE 'samskab\_test\_%'" |
  while read -r db; do psql "$DATABASE_URL" -q -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done

# The disk this build writes to: a full disk shows up as a linker's "Bus error" (SIGBUS on its
# memory-mapped output), far from its cause, so say how much room there was, before and after.
disk() { echo "== disk free for target/: $(df -h --output=avail "${CARGO_TARGET_DIR:-$root}" | tail -1 | tr -d ' ') ($1)" >&2; }
disk "before the build"
trap 'disk "at the end"' EXIT

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests" >&2
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
echo "== API contract (OpenAPI validator, schemathesis --checks all per role, generated client)" >&2
bash deploy/local/contract.sh
