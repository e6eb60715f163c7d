#!/usr/bin/env bash
# Installs what the dashboard end-to-end test drives: Debian's chromium (/usr/bin/chromium)
# and tests/dashboard's node_modules (playwright-core and axe-core, pinned by its
# package-lock.json). The test pipes a job into tests/dashboard/browse.mjs, which launches
# that chromium; no browser is downloaded (playwright's own download cannot work here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
harness="$root/tests/dashboard"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-browser: /usr/bin/chromium is missing and this is not root (no sudo);" \
      "run: apt-get install chromium" >&2
    exit 1
  fi
  echo "installing Debian's chromium" >&2
  "${as_root[@]}" apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium >&2
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-browser: npm is missing (Node 20 or later is needed)" >&2
  exit 1
fi
if [ ! -d "$harness/node_modules" ] || [ "$harness/package-lock.json" -nt "$harness/node_modules" ]; then
  echo "installing tests/dashboard/node_modules (npm ci)" >&2
  (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$harness/node_modules"
fi
