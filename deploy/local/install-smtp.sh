#!/usr/bin/env bash
# Installs the tests' SMTP server (aiosmtpd 1.4.6, from PyPI, pinned with hashes) into
# .data/python. The tests start it per test (samskab-testkit's SmtpServer) with its Maildir
# handler and read what it received from the folder: a real SMTP conversation, nothing faked.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="$root/.data/python"
if PYTHONPATH="$target" python3 -c 'import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != "1.4.6")' 2>/dev/null; then
  exit 0
fi
echo "installing aiosmtpd 1.4.6 into .data/python" >&2
rm -rf "$target.tmp"
python3 -m pip install --quiet --no-deps --only-binary=:all: --require-hashes \
  --target "$target.tmp" -r "$root/deploy/local/requirements-smtp.txt"
rm -rf "$target"
mv "$target.tmp" "$target"
