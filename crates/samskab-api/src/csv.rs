//! CSV as RFC 4180 has it, for the reports: CRLF line ends, a field quoted when it holds a
//! comma, a quote or a line break, quotes doubled. A text field that a spreadsheet would take
//! for a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading
//! `'`, so opening a report cannot run anything (OWASP's "CSV injection"); numbers are written
//! as they are.

/// One field of a row.
pub enum Field<'a> {
    Text(&'a str),
    Number(u64),
}

/// Appends one row.
pub fn write_row(out: &mut String, fields: &[Field<'_>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match field {
            Field::Number(n) => out.push_str(&n.to_string()),
            Field::Text(text) => write_text(out, text),
        }
    }
    out.push_str("\r\n");
}

fn write_text(out: &mut String, text: &str) {
    let guarded = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = guarded || text.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_they_must_be_and_formulas_are_defused() {
        let mut out = String::new();
        write_row(&mut out, &[Field::Text("lektiehjælp"), Field::Number(12)]);
        write_row(
            &mut out,
            &[Field::Text("a, b"), Field::Text("sagt \"hej\"")],
        );
        write_row(
            &mut out,
            &[Field::Text("=HYPERLINK(\"x\")"), Field::Text("-1")],
        );
        assert_eq!(
            out,
            "lektiehjælp,12\r\n\"a, b\",\"sagt \"\"hej\"\"\"\r\n\"'=HYPERLINK(\"\"x\"\")\",\"'-1\"\r\n"
        );
    }
}
