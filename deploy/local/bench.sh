#!/usr/bin/env bash
# Runs the benchmark: builds the release `samskab` and `samskab-bench`, then runs the bench,
# which starts its own nats-server per section (samskab-testkit) and fresh PostgreSQL
# databases on the local server (dropped again at the end), and prints one line per figure and a table at the end.
#   bash deploy/local/bench.sh                 # everything (about 7-8 minutes; section 8 alone 4-5)
#   bash deploy/local/bench.sh --sections 1,2  # some sections; see --help for durations and sizes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash deploy/local/services.sh up
# Section 12 loads the dashboards in Debian's chromium.
bash deploy/local/install-browser.sh
# shellcheck disable=SC1091
source .data/env
export SAMSKAB_NATS_SERVER="${SAMSKAB_NATS_SERVER:-$root/.data/bin/nats-server}"

echo "== cargo build --release -p samskab -p samskab-bench" >&2
cargo build --release -p samskab -p samskab-bench
target="${CARGO_TARGET_DIR:-$root/target}"

echo "== samskab-bench $*" >&2
exec "$target/release/samskab-bench" --samskab-bin "$target/release/samskab" "$@"
