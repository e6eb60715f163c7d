//! Canonical JSON, RFC 8785 (JSON Canonicalization Scheme, JCS): the one byte string a JSON
//! value hashes and signs as, so that anyone can recompute a record's hash from its content
//! with any JCS implementation (`deploy/audit/verify_export.py` has one in Python).
//!
//! - Object members sorted by their names as UTF-16 code units (not as UTF-8 bytes or code
//!   points: the two differ for names with characters above U+FFFF against U+E000..U+FFFF).
//! - No whitespace between tokens.
//! - Strings: `"` and `\` escaped with a backslash; U+0008, U+0009, U+000A, U+000C, U+000D as
//!   `\b \t \n \f \r`; every other character below U+0020 as `\u00xx` (lower-case hex);
//!   everything else, non-ASCII included, as itself in UTF-8.
//! - Numbers as ECMAScript's `Number.prototype.toString` writes the IEEE 754 double: integers
//!   as themselves, others in the shortest form that reads back as the same double
//!   (`1e+30`, `0.002`, `333333333.3333333`).
//!
//! [`integers_only`] is what the audit records are held to (why: there).
//!
//! What no JCS producer can do is refused instead of rounded: NaN and infinities (JSON has
//! none), and integers beyond ±(2^53 − 1), which a double cannot hold exactly, so JCS would
//! write a different number than the one stored. No grant payload has either: amounts are øre
//! up to 10^12, scores, weights, versions and years are small integers, and no payload has a
//! fractional number at all (checked against `grant_pool.rs` and `grant_application.rs`).

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// The largest integer a double holds exactly, and so the largest JCS writes as itself.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("the integer {0} is beyond ±(2^53 − 1), which RFC 8785 cannot write exactly")]
    UnsafeInteger(String),
    #[error("the number {0} is not finite")]
    NotFinite(String),
    #[error("the number {0} is not an integer, which no record may hold")]
    NotInteger(String),
}

/// The canonical JSON text of `value`.
pub fn to_string(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

/// The canonical JSON of `value` as the bytes that are hashed and signed (UTF-8).
pub fn to_vec(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    to_string(value).map(String::into_bytes)
}

/// Refuses a value holding a number that is not an integer. What a record hashes is held to
/// integers: a fractional number could have been read a ULP off on its way here (serde_json's
/// default parser is not correctly rounded), and then its canonical text would not be the one
/// another JCS implementation computes from the same JSON text. No grant payload has one.
pub fn integers_only(value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Number(number) if !(number.is_i64() || number.is_u64()) => {
            Err(CanonicalError::NotInteger(number.to_string()))
        }
        Value::Array(items) => items.iter().try_for_each(integers_only),
        Value::Object(members) => members.values().try_for_each(integers_only),
        _ => Ok(()),
    }
}

pub(crate) fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(members) => write_object(out, members)?,
    }
    Ok(())
}

fn write_object(out: &mut String, members: &Map<String, Value>) -> Result<(), CanonicalError> {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    // By UTF-16 code units, compared as they are encoded (no allocation); the map's own order
    // (its names' bytes) is already this one unless a name holds a character above U+FFFF,
    // and an ordered input costs the sort one comparison a member.
    sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    out.push('{');
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        write_value(out, value)?;
    }
    out.push('}');
    Ok(())
}

/// `text` as a JSON string, escaped as RFC 8785 says (the module's docs). What is between
/// two characters to escape is copied as one slice.
pub(crate) fn write_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut from = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so at a character's boundary.
        out.push_str(&text[from..i]);
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escaped);
        }
        from = i + 1;
    }
    out.push_str(&text[from..]);
    out.push('"');
}

/// An integer as JCS writes it, refused beyond ±(2^53 − 1).
pub(crate) fn write_integer(out: &mut String, n: i64) -> Result<(), CanonicalError> {
    if n.unsigned_abs() > MAX_SAFE_INTEGER {
        return Err(CanonicalError::UnsafeInteger(n.to_string()));
    }
    let _ = write!(out, "{n}");
    Ok(())
}

fn write_number(out: &mut String, number: &Number) -> Result<(), CanonicalError> {
    if let Some(n) = number.as_u64() {
        if n > MAX_SAFE_INTEGER {
            return Err(CanonicalError::UnsafeInteger(n.to_string()));
        }
        let _ = write!(out, "{n}");
    } else if let Some(n) = number.as_i64() {
        write_integer(out, n)?;
    } else {
        // serde_json keeps every other number as a finite f64.
        let n = number
            .as_f64()
            .ok_or_else(|| CanonicalError::NotFinite(number.to_string()))?;
        out.push_str(&format_double(n)?);
    }
    Ok(())
}

/// ECMAScript's `Number.prototype.toString(n)` (ECMA-262, Number::toString, radix 10), which
/// RFC 8785 § 3.2.2.3 prescribes: the fewest digits that read back as `n`, and of those the
/// ones closest to `n`, the even ones on a tie. Rust's `{:e}` gives how many digits are
/// fewest, but on a tie not always the even ones (`1424953923781206.25` gives `…06.3`), so
/// the digits are then rounded exactly to that many places (`{:.*e}`, which rounds half to
/// even). Where the point goes and when an exponent is written is ECMAScript's own.
pub fn format_double(n: f64) -> Result<String, CanonicalError> {
    if !n.is_finite() {
        return Err(CanonicalError::NotFinite(n.to_string()));
    }
    if n == 0.0 {
        // Minus zero too.
        return Ok("0".to_owned());
    }
    let shortest = format!("{:e}", n.abs());
    let places = shortest
        .split_once('e')
        .map_or(0, |(mantissa, _)| mantissa.len().saturating_sub(2));
    let rounded = format!("{:.*e}", places, n.abs());
    // The closest of the fewest digits reads back as `n` whenever any of them does; the check
    // is cheap insurance for the edges of the rounding interval.
    let scientific = if rounded.parse::<f64>() == Ok(n.abs()) {
        rounded
    } else {
        shortest
    };
    // "d.ddde-7" or "de21": the digits and the exponent of the first digit.
    let (mantissa, exponent) = scientific
        .split_once('e')
        .ok_or_else(|| CanonicalError::NotFinite(scientific.clone()))?;
    let exponent: i32 = exponent
        .parse()
        .map_err(|_| CanonicalError::NotFinite(scientific.clone()))?;
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    // ECMAScript's n: the value is 0.digits × 10^n.
    let point = exponent + 1;
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    if k <= point && point <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(point - k).unwrap_or(0),
        ));
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = digits.split_at(usize::try_from(point).unwrap_or(0));
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(-point).unwrap_or(0),
        ));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if point - 1 < 0 { '-' } else { '+' });
        out.push_str(&(point - 1).abs().to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(text: &str) -> String {
        let value: Value = serde_json::from_str(text).expect("test JSON");
        to_string(&value).expect("canonical")
    }

    /// RFC 8785 § 3.2.3: members sorted by UTF-16 code units; the emoji (a surrogate pair,
    /// U+D83D U+DE00) sorts before U+FB33, though its code point is after it.
    #[test]
    fn sorts_members_by_utf16_code_units() {
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        assert_eq!(
            canonical(input),
            concat!(
                "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",",
                "\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",",
                "\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
            )
        );
    }

    /// RFC 8785 § 3.2.2.2 and Appendix A's sample: escapes, and what is not escaped.
    #[test]
    fn escapes_strings_as_jcs_says() {
        // The numbers as the doubles they denote: serde_json's default parser (without
        // `float_roundtrip`) reads 333333333.33333329 one ULP off, which is no matter of JCS.
        let input = r#"{
            "numbers": [],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let mut value: Value = serde_json::from_str(input).expect("test JSON");
        value["numbers"] = json!([f64::from_bits(0x41b3de4355555555), 1e30, 4.5, 2e-3, 1e-27]);
        assert_eq!(
            to_string(&value).expect("canonical"),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        assert_eq!(
            to_string(&json!("\u{1f}\u{7f}\u{2028}\t\u{8}\u{c}")).expect("canonical"),
            "\"\\u001f\u{7f}\u{2028}\\t\\b\\f\""
        );
    }

    #[test]
    fn writes_no_whitespace_and_nests() {
        let value = json!({"b": [1, {"z": null, "a": [true]}], "a": {}, "c": []});
        assert_eq!(
            to_string(&value).expect("canonical"),
            r#"{"a":{},"b":[1,{"a":[true],"z":null}],"c":[]}"#
        );
    }

    /// RFC 8785 Appendix B: IEEE 754 doubles and their canonical text.
    #[test]
    fn formats_numbers_as_ecmascript() {
        let cases: [(u64, &str); 24] = [
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, expected) in cases {
            assert_eq!(
                format_double(f64::from_bits(bits)).expect("finite"),
                expected,
                "{bits:#018x}"
            );
        }
        assert!(format_double(f64::NAN).is_err());
        assert!(format_double(f64::INFINITY).is_err());
    }

    #[test]
    fn records_hold_integers_only() {
        assert_eq!(integers_only(&json!({"a": [1, -2, {"b": 3}]})), Ok(()));
        assert!(matches!(
            integers_only(&json!({"a": [1, {"b": 0.5}]})),
            Err(CanonicalError::NotInteger(_))
        ));
    }

    #[test]
    fn integers_are_themselves_up_to_the_safe_limit() {
        assert_eq!(to_string(&json!(-42)).expect("canonical"), "-42");
        assert_eq!(
            to_string(&json!(MAX_SAFE_INTEGER)).expect("canonical"),
            "9007199254740991"
        );
        assert!(matches!(
            to_string(&json!(MAX_SAFE_INTEGER + 2)),
            Err(CanonicalError::UnsafeInteger(_))
        ));
        assert!(matches!(
            to_string(&json!(-(1i64 << 60))),
            Err(CanonicalError::UnsafeInteger(_))
        ));
    }
}
