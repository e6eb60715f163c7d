#!/usr/bin/env bash
# The API contract, checked from outside (tests/contract/contract.py): the OpenAPI document is
# valid, schemathesis with all checks finds nothing as any role, and a generated client works.
# Part of the README's test command (test.sh runs it after the Rust tests). Needs PostgreSQL
# (DATABASE_URL, from `services.sh up-pg`) and the pinned NATS; installs its Python tools into
# .data/contract-venv, pinned by tests/contract/requirements.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if [ -z "${DATABASE_URL:-}" ]; then
  bash deploy/local/services.sh up-pg
  # shellcheck disable=SC1091
  source .data/env
fi
export SAMSKAB_NATS_SERVER="${SAMSKAB_NATS_SERVER:-$root/.data/bin/nats-server}"

venv="$root/.data/contract-venv"
stamp="$venv/requirements.sha256"
want="$(sha256sum tests/contract/requirements.txt | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing the contract test's tools into .data/contract-venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/contract/requirements.txt
  echo "$want" > "$stamp"
fi

# The binary as the Rust tests built it (`cargo test` resolves features for the whole workspace
# and its dev-dependencies): after test.sh's tests this compiles nothing. `cargo build -p
# samskab` would resolve features for that one package and build most dependencies a second
# time, twice the disk and minutes.
cargo test --workspace --locked --no-run
export SAMSKAB_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/samskab"
exec "$venv/bin/python" tests/contract/contract.py
