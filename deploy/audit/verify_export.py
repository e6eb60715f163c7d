#!/usr/bin/env python3
"""Checks an audit export of samskab (a grant case or a pool-year) without samskab.

Usage:
    python3 verify_export.py EXPORT.json [--public-key BASE64]
    python3 verify_export.py --self-test

What it checks, with the Python standard library only (format samskab.audit.export.v2):
  1. every exported record's hash: SHA-256 (hex) of the canonical JSON (RFC 8785) of the
     record without its "hash" member;
  2. the links: contiguous numbers from the first exported record to the head, each link's
     prev_hash the hash of the link before, each record at its link;
  3. the head: the last link is the head;
  4. the signature: Ed25519 (RFC 8032), with the export's public key or the one given by
     --public-key (pin it to know the export came from your municipality's system), over the
     UTF-8 bytes of the canonical JSON of the signed statement

         {"as_of": head.as_of, "format": "samskab.audit.export.v2", "hash": head.hash,
          "links_digest": D, "scope": the export's scope, "seq": head.seq,
          "tenant": head.tenant}

     where D is the lower-case hex SHA-256 of the UTF-8 bytes of the canonical JSON of the
     export's "links" array exactly as it is in the file (every link, in its order, each
     {"hash", "prev_hash", "seq"}; no links: the digest of "[]"). So the links of records not
     exported, whose hashes nobody can recompute here, are signed too, and so is what the
     export is of.

A samskab.audit.export.v1 file is refused: v1 signed the head alone, so the links of records
it did not export were unchecked claims (a record could be changed, its hash recomputed and
its links patched). Ask for the export again: it is v2.

Exit status 0 and "ok: N records, head seq S", or 1 and what failed first (naming the record).
--self-test checks this script's Ed25519 against RFC 8032's test vector 1, its canonical
JSON against RFC 8785's examples, its fast canonical JSON against the exact one, and the
links' digest.

Speed: a pool-year of 10,000 cases is some 40,000 records. The exact canonical JSON below
(canonical()) is plain Python; for most records the C-accelerated json.dumps with sorted keys
gives the very same text (fast_canonical(), and why: there), so it is used wherever the
export shows, cheaply and from its raw text, that the conditions for that hold; a record for
which they may not hold is canonicalised with canonical().
"""

import argparse
import base64
import gc
import hashlib
import json
import math
import re
import sys
from decimal import Decimal

FORMAT = "samskab.audit.export.v2"
V1 = "samskab.audit.export.v1"
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


# --- The fast path: json.dumps where it equals RFC 8785 -----------------------------------------

# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes exactly
# what canonical() writes when:
#   - the value holds no float (JSON numbers with a fraction or an exponent, NaN, Infinity):
#     Python's repr of a float is not ECMAScript's Number.prototype.toString;
#   - every integer is within +-(2^53 - 1): canonical() refuses the others, dumps would not;
#   - no member name holds a character above U+FFFF: dumps sorts names by code points,
#     RFC 8785 by UTF-16 code units, and the two orders differ only for a character above
#     U+FFFF (a surrogate pair, D800..DBFF first) against one in U+E000..U+FFFF.
# Strings are then the same: both escape '"' and '\' with a backslash, U+0008, U+0009, U+000A,
# U+000C, U+000D as \b \t \n \f \r, every other character below U+0020 as \u00xx in lower-case
# hex, and write everything else as itself (the self-test compares the two on such text).
# null, true, false and the integers are written alike, and so is the lack of whitespace.
FAST_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)


def fast_canonical(value):
    """canonical(value), for a value that meets the conditions above (fast_safe says)."""
    return FAST_ENCODER.encode(value)


def fast_safe(value):
    """Whether fast_canonical(value) is canonical(value): the conditions above, exactly."""
    kind = type(value)
    if kind is dict:
        for name, item in value.items():
            if not name.isascii() and max(name) > "\uffff":
                return False
            if not fast_safe(item):
                return False
        return True
    if kind is list:
        return all(fast_safe(item) for item in value)
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return kind is str or value is None or kind is bool


# In fast_canonical's text (no whitespace) a number follows ":", "," or "[", and its "-".
SIXTEEN_DIGIT_NUMBER = re.compile(r"[:,\[]-?[0-9]{16}")


def fast_text_safe(text):
    """For the fast_canonical() text of a value that holds no float: True only if the value
    meets the other two conditions (no character above U+FFFF in the text at all, so in no
    name; no number of 16 digits or more, so none beyond 2^53 - 1). False: maybe not."""
    return (text.isascii() or max(text) <= "\uffff") and SIXTEEN_DIGIT_NUMBER.search(text) is None


def _classes():
    # Every byte as its class: a digit as "0", a byte a number may follow ("[ , :", JSON's
    # whitespace, and "-") as "#", the first byte of a character above U+FFFF as "!", others "x".
    table = bytearray(b"x" * 256)
    for byte in b"0123456789":
        table[byte] = ord("0")
    for byte in b"-:,[ \t\n\r":
        table[byte] = ord("#")
    for byte in range(0xF0, 0x100):
        table[byte] = ord("!")
    return bytes(table)


BYTE_CLASSES = _classes()


def may_be_unsafe(data):
    """From the export's raw bytes (UTF-8): whether any value in it may break a condition of
    the fast path other than floats (which the parser reports). False means none does, for
    certain; True only "maybe" (then each record is checked on its own).

    - An integer beyond 2^53 - 1 has 16 digits or more, and a number in JSON text starts
      right after "[", ",", ":", whitespace or its "-". So: no 16 digits in a row after one of
      those bytes (digits in strings, the hashes' hex among them, mostly follow a letter or a
      quote).
    - A character above U+FFFF is 4 bytes in UTF-8, the first F0..F4, or an escaped
      surrogate pair, whose first is \\uD800..\\uDBFF.
    """
    classes = data.translate(BYTE_CLASSES)
    if b"!" in classes or b"#0000000000000000" in classes:
        return True
    at = data.find(b"\\u")
    while at != -1:
        if data[at + 2 : at + 4].lower() in (b"d8", b"d9", b"da", b"db"):
            return True
        at = data.find(b"\\u", at + 2)
    return False


# What is known of an export's records, from load_export, for check_export.
ALL_FAST = "every record meets the fast path's conditions"
NO_FLOATS = "no record holds a float; each record's fast text is checked (fast_text_safe)"
NOTHING = "each record is checked on its own (fast_safe)"


def load_export(data):
    """The export read from its bytes (UTF-8), and what is known of its records: ALL_FAST,
    NO_FLOATS or NOTHING."""
    numbers = []

    def parse_float(text):
        numbers.append(text)
        return float(text)

    def parse_constant(name):
        numbers.append(name)
        return float(name)

    # UTF-8 strictly, as the raw checks read it (json.loads would take UTF-16 and UTF-32 too).
    # The cyclic garbage collector off while the parser builds a million objects, none of them
    # in a cycle: it would walk them over and over (a tenth of the time); then they are frozen,
    # so that it does not walk them later either.
    gc.disable()
    try:
        export = json.loads(data.decode("utf-8"), parse_float=parse_float, parse_constant=parse_constant)
    finally:
        gc.freeze()
        gc.enable()
    if numbers:
        return export, NOTHING
    return export, NO_FLOATS if may_be_unsafe(data) else ALL_FAST


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


def record_hash(record, known=NOTHING):
    """The hash of a record's content, the record without its "hash" member: of its canonical
    JSON, written by fast_canonical() where that is canonical(), else by canonical()."""
    content = dict(record)
    content.pop("hash", None)
    if known == ALL_FAST:
        text = fast_canonical(content)
    elif known == NO_FLOATS:
        text = fast_canonical(content)
        if not fast_text_safe(text) and not fast_safe(content):
            text = canonical(content)
    else:
        text = fast_canonical(content) if fast_safe(content) else canonical(content)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def links_digest(links, known=NOTHING):
    """The links_digest of the signed statement: SHA-256 (hex) of the canonical JSON of the
    links array as it is."""
    text = fast_canonical(links) if known == ALL_FAST or fast_safe(links) else canonical(links)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signed_statement(export, known=NOTHING):
    """What the signature is over: the head, the format, the scope and the links' digest."""
    head = export["head"]
    return {
        "as_of": head["as_of"],
        "format": export["format"],
        "hash": head["hash"],
        "links_digest": links_digest(export["links"], known),
        "scope": export["scope"],
        "seq": head["seq"],
        "tenant": head["tenant"],
    }


def check_export(export, pinned_key=None, known=NOTHING):
    """The number of records and the head's seq, or Failure naming what failed first. known:
    what load_export knows of the records (NOTHING for an export read otherwise)."""
    if not isinstance(export, dict):
        raise Failure("not an export (not a JSON object)")
    if export.get("format") == V1:
        raise Failure(
            f"a {V1} export: v1 signed the head alone, so the links of records it does not "
            f"export are unchecked; this script checks {FORMAT} only (export it again)"
        )
    if export.get("format") != FORMAT:
        raise Failure(f"not a {FORMAT} export")
    if not isinstance(export.get("links"), list) or not isinstance(export.get("scope"), dict):
        raise Failure("the export's links or scope are missing")
    head, links, records = export["head"], export["links"], export["records"]

    tenant = head["tenant"]
    for record in records:
        try:
            computed = record_hash(record, known)
        except ValueError as error:
            name = f"record seq {record.get('seq')} (event {record.get('event_id')})"
            raise Failure(f"{name}: no canonical form: {error}") from None
        if computed != record.get("hash") or record.get("tenant") != tenant:
            name = f"record seq {record.get('seq')} (event {record.get('event_id')})"
            if computed != record.get("hash"):
                raise Failure(f"{name}: its hash does not match its content")
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
    try:
        message = canonical(signed_statement(export, known)).encode("utf-8")
    except ValueError as error:
        raise Failure(f"the signed statement has no canonical form: {error}") from None
    if not ed25519_verify(key, message, value):
        raise Failure(
            f"the signature (head seq {head['seq']}) does not verify over the head, scope and links"
        )
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
    # The fast path writes what canonical() writes, on every condition it is used under: a
    # record-like sample with Danish letters, escapes, every control character, DEL, U+2028,
    # names in and around the BMP's upper range, and integers up to the limit.
    record = {
        "tenant": "rodovre", "seq": 7, "position": 9007199254740991, "had_personal": True,
        "application_id": None, "actor": "user:sagsbehandler", "prev_hash": GENESIS,
        "event_id": "0195f3a2-7c1e-7000-8000-000000000001", "occurred_at": "2026-12-01T17:05:00.000000Z",
        "payload": {
            "title": "Ældre Sagen i Rødovre: \"Hjælp\" til Åbne Hænder \\ møde kl. 18/19",
            "controls": "".join(chr(c) for c in range(0x20)) + "\x7f\u2028\u2029\u00e6\ufffd",
            "amount": -9007199254740991, "nested": [{"z": [], "\u00f8": {}, "a": [1, True, False, None]}],
            "sort": {"\u00e5": 1, "\u00e6": 2, "\u00f8": 3, "z": 4, "\u20ac": 5, "\ufb33": 6, "\r": 7, "": 8},
            "emoji in a value": "\U0001f600",
        },
    }
    assert fast_safe(record), "the sample meets the fast path's conditions"
    assert fast_canonical(record) == canonical(record), (fast_canonical(record), canonical(record))
    data = json.dumps(record, ensure_ascii=False).encode("utf-8")
    loaded, known = load_export(data)
    assert loaded == record and known == NO_FLOATS, "an emoji anywhere: each record is checked"
    assert fast_canonical(loaded) == canonical(loaded)
    assert not fast_text_safe(fast_canonical(loaded)), "an emoji, a number of 16 digits"
    for text in ['{"a":[1,"x"]}', '{"a":"\\u00e6","h":"0123456789abcdef0123456789012345"}',
                 '{"a":"1234567890123456x"}', '{"a":123456789012345}']:
        value, known = load_export(text.encode("utf-8"))
        assert known == ALL_FAST and fast_safe(value) and fast_text_safe(fast_canonical(value)), text
        assert fast_canonical(value) == canonical(value), text
    # And it is not used where it would differ, or where canonical() refuses.
    for text in ['{"a":1.5}', '{"a":1e3}', '{"a":NaN}', '{"a":[9007199254740992]}', '{"a":-9007199254740992}',
                 '{"a":1234567890123456}', '{"\\ud83d\\ude00":1,"\\ufb33":2}', '{"\U0001f600":1,"\ufb33":2}',
                 '{"a":"\\uD83D\\uDE00"}', '{"a":"\U0001f600"}']:
        value, known = load_export(text.encode("utf-8"))
        assert known != ALL_FAST, text
        assert known == NOTHING or not fast_text_safe(fast_canonical(value)), text
    for value in [{"a": 1.5}, {"a": 2**53}, {"a": -(2**53)}, {"\U0001f600": 1, "\ufb33": 2}, [{"x": [0.0]}]]:
        assert not fast_safe(value), value
    for value in [{"a": 2**53}, {"a": [-(2**53)]}, {"\U0001f600": 1, "\ufb33": 2}]:
        assert not fast_text_safe(fast_canonical(value)), value
    # Each way of checking an export's records hashes a record alike.
    for known in (ALL_FAST, NO_FLOATS, NOTHING):
        assert record_hash(record, known) == hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()
    names = {"\U0001f600": 1, "\ufb33": 2}
    assert fast_canonical(names) != canonical(names), "the case the fast path must leave alone"
    # The links' digest: of "[]" for none; the fast and the exact canonical JSON alike.
    assert links_digest([]) == hashlib.sha256(b"[]").hexdigest()
    assert links_digest([]) == "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    links = [{"seq": 7, "prev_hash": GENESIS, "hash": "ab" * 32}, {"seq": 8, "prev_hash": "ab" * 32, "hash": "cd" * 32}]
    expected = '[{"hash":"' + "ab" * 32 + '","prev_hash":"' + GENESIS + '","seq":7},{"hash":"' + "cd" * 32
    expected += '","prev_hash":"' + "ab" * 32 + '","seq":8}]'
    assert canonical(links) == fast_canonical(links) == expected
    for known in (ALL_FAST, NO_FLOATS, NOTHING):
        assert links_digest(links, known) == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    print("ok: self-test (RFC 8032 test 1, RFC 8785 examples, the fast path against canonical(), the links digest)")


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
        with open(args.export, "rb") as file:
            export, known = load_export(file.read())
        records, head_seq = check_export(export, args.public_key, known)
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
