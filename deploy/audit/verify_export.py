#!/usr/bin/env python3
"""Checks an audit export of samskab (a grant case or a pool-year) without samskab.

Usage:
    python3 verify_export.py EXPORT.json [--public-key BASE64]
    python3 verify_export.py --self-test

What it checks, with the Python standard library only:
  1. every exported record's hash: SHA-256 (hex) of the canonical JSON (RFC 8785) of the
     record without its "hash" member;
  2. the links: contiguous numbers from the first exported record to the head, each link's
     prev_hash the hash of the link before, each record at its link;
  3. the head: the last link is the head, and the head's Ed25519 signature (RFC 8032) over
     the canonical JSON of the head verifies with the export's public key, or with the one
     given by --public-key (pin it to know the export came from your municipality's system).

Exit status 0 and "ok: N records, head seq S", or 1 and what failed first (naming the record).
--self-test checks this script's Ed25519 against RFC 8032's test vector 1 and its canonical
JSON against RFC 8785's examples.
"""

import argparse
import base64
import hashlib
import json
import math
import sys
from decimal import Decimal

FORMAT = "samskab.audit.export.v1"
GENESIS = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1


# --- Canonical JSON, RFC 8785 -----------------------------------------------------------------


def canonical(value):
    """The canonical JSON text of a value read by json.loads."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        # A double cannot hold these exactly; samskab refuses them too.
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is beyond 2^53 - 1")
        return str(value)
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        # Sorted by UTF-16 code units: UTF-16BE bytes compare the same way.
        names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(quote(n) + ":" + canonical(value[n]) for n in names) + "}"
    raise ValueError(f"not a JSON value: {value!r}")


ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def quote(text):
    out = []
    for c in text:
        if c in ESCAPES:
            out.append(ESCAPES[c])
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def es_number(x):
    """ECMAScript's Number.prototype.toString, as RFC 8785 section 3.2.2.3 prescribes."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError("not a finite number")
    if x == 0:
        return "0"
    # repr gives the shortest digits that read back as x; Decimal splits them exactly.
    _, digit_tuple, exponent = Decimal(repr(abs(x))).as_tuple()
    all_digits = "".join(map(str, digit_tuple))
    digits = all_digits.rstrip("0")
    exponent += len(all_digits) - len(digits)
    k = len(digits)
    n = exponent + k  # x = 0.digits * 10^n
    prefix = "-" if x < 0 else ""
    if k <= n <= 21:
        return prefix + digits + "0" * (n - k)
    if 0 < n <= 21:
        return prefix + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return prefix + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return prefix + mantissa + "e" + ("-" if e < 0 else "+") + str(abs(e))


# --- Ed25519 verification, RFC 8032 section 6 ---------------------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493  # the group order


def inv(x):
    return pow(x, P - 2, P)


D = -121665 * inv(121666) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(a, b):
    # Extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z.
    pa = (a[1] - a[0]) * (b[1] - b[0]) % P
    pb = (a[1] + a[0]) * (b[1] + b[0]) % P
    pc = 2 * a[3] * b[3] * D % P
    pd = 2 * a[2] * b[2] % P
    e, f, g, h = pb - pa, pd - pc, pd + pc, pb + pa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(s, point):
    result = (0, 1, 1, 0)  # the neutral element
    while s > 0:
        if s & 1:
            result = point_add(result, point)
        point = point_add(point, point)
        s >>= 1
    return result


def point_equal(a, b):
    # x1/z1 == x2/z2 and y1/z1 == y2/z2
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


G_Y = 4 * inv(5) % P
G_X = recover_x(G_Y, 0)
G = (G_X, G_Y, 1, G_X * G_Y % P)


def point_compress(point):
    zinv = inv(point[2])
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def point_decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def secret_to_public(secret):
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return point_compress(point_mul(a, G))


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = point_decompress(public)
    if a is None:
        return False
    r = point_decompress(signature[:32])
    if r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return point_equal(point_mul(s, G), point_add(r, point_mul(h, a)))


# --- The export -----------------------------------------------------------------------------------


class Failure(Exception):
    pass


def record_hash(record):
    content = {name: value for name, value in record.items() if name != "hash"}
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


def check_export(export, pinned_key=None):
    """The number of records and the head's seq, or Failure naming what failed first."""
    if export.get("format") != FORMAT:
        raise Failure(f"not a {FORMAT} export")
    head, links, records = export["head"], export["links"], export["records"]

    for record in records:
        name = f"record seq {record.get('seq')} (event {record.get('event_id')})"
        try:
            computed = record_hash(record)
        except ValueError as error:
            raise Failure(f"{name}: no canonical form: {error}") from None
        if computed != record.get("hash"):
            raise Failure(f"{name}: its hash does not match its content")
        if record.get("tenant") != head["tenant"]:
            raise Failure(f"{name}: of another municipality than the head")

    by_seq = {}
    for before, link in zip([None] + links[:-1], links):
        if before is not None and (link["seq"] != before["seq"] + 1 or link["prev_hash"] != before["hash"]):
            raise Failure(f"link seq {link['seq']}: does not follow link seq {before['seq']}")
        by_seq[link["seq"]] = link
    for record in records:
        link = by_seq.get(record["seq"])
        if link is None or link["hash"] != record["hash"] or link["prev_hash"] != record["prev_hash"]:
            raise Failure(
                f"record seq {record['seq']} (event {record['event_id']}): not at its place in the links"
            )
    if records and links[0]["seq"] != min(r["seq"] for r in records):
        raise Failure(f"the links start at seq {links[0]['seq']}, not at the first record")
    if links and (links[-1]["seq"] != head["seq"] or links[-1]["hash"] != head["hash"]):
        raise Failure(f"the links end at seq {links[-1]['seq']}, not at the head (seq {head['seq']})")
    if not links and head["seq"] == 0 and head["hash"] != GENESIS:
        raise Failure("an empty chain's head must be the genesis hash")

    signature = export["signature"]
    if signature.get("algorithm") != "Ed25519":
        raise Failure(f"unknown signature algorithm {signature.get('algorithm')!r}")
    public_key = signature["public_key"]
    if pinned_key is not None and pinned_key != public_key:
        raise Failure("the export is signed with another key than the one given")
    try:
        key = base64.b64decode(public_key, validate=True)
        value = base64.b64decode(signature["value"], validate=True)
    except ValueError:
        raise Failure("the public key or the signature is not base64") from None
    if not ed25519_verify(key, canonical(head).encode("utf-8"), value):
        raise Failure(f"the head's signature (seq {head['seq']}) does not verify")
    return len(records), head["seq"]


def self_test():
    # RFC 8032 section 7.1, test 1 (the empty message).
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert secret_to_public(secret) == public, "RFC 8032 test 1: public key"
    assert ed25519_verify(public, b"", signature), "RFC 8032 test 1: signature"
    assert not ed25519_verify(public, b"x", signature), "RFC 8032 test 1: another message"
    tampered = signature[:63] + bytes([signature[63] ^ 1])
    assert not ed25519_verify(public, b"", tampered), "RFC 8032 test 1: a changed signature"
    # RFC 8785 section 3.2.3 (sorting) and 3.2.2 (strings, numbers, literals).
    sample = json.loads(
        '{"\\u20ac":1,"\\r":2,"\\ufb33":3,"1":4,"\\ud83d\\ude00":5,"\\u0080":6,"\\u00f6":7}'
    )
    assert canonical(sample) == '{"\\r":2,"1":4,"\u0080":6,"\u00f6":7,"\u20ac":1,"\U0001f600":5,"\ufb33":3}'
    sample = json.loads(
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(sample) == expected, canonical(sample)
    for number, text in [(5e-324, "5e-324"), (1e21, "1e+21"), (1e23, "1e+23"), (0.000001, "0.000001"),
                         (9.999999999999997e-7, "9.999999999999997e-7"), (295147905179352830000.0, "295147905179352830000"),
                         (-0.0000033333333333333333, "-0.0000033333333333333333"), (-0.0, "0")]:
        assert es_number(number) == text, (number, es_number(number), text)
    print("ok: self-test (RFC 8032 test 1, RFC 8785 examples)")


def main(argv):
    parser = argparse.ArgumentParser(description="Checks a samskab audit export.")
    parser.add_argument("export", nargs="?", help="the export's JSON file")
    parser.add_argument("--public-key", help="the public key (base64) the head must be signed with")
    parser.add_argument("--self-test", action="store_true", help="check this script against the RFCs' test vectors")
    args = parser.parse_args(argv)
    if args.self_test:
        try:
            self_test()
        except AssertionError as error:
            print(f"FAIL: self-test: {error}")
            return 1
        return 0
    if args.export is None:
        parser.error("name the export file")
    try:
        with open(args.export, encoding="utf-8") as file:
            export = json.load(file)
        records, head_seq = check_export(export, args.public_key)
    except Failure as failure:
        print(f"FAIL: {failure}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"FAIL: the export does not read: {error!r}")
        return 1
    print(f"ok: {records} records, head seq {head_seq}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
