//! Making student bytes safe to show. Nothing a student program produced reaches a
//! terminal, a report or a CSV cell unescaped: control characters (C0, C1, ESC), bidi
//! overrides and invisible characters are written as escapes, so output cannot move the
//! cursor, recolour the terminal or hide text. A path put in a reproduce command is quoted
//! as a shell word ([`shell_word`]).

use std::fmt::Write;

/// Bytes as a quoted literal: printable ASCII as is, `\n` `\t` `\r` `\"` `\\` escaped,
/// everything else as `\xNN`.
pub(crate) fn bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() + 2);
    out.push('"');
    for &b in data {
        push_byte(&mut out, b);
    }
    out.push('"');
    out
}

fn push_byte(out: &mut String, b: u8) {
    match b {
        b'\n' => out.push_str("\\n"),
        b'\t' => out.push_str("\\t"),
        b'\r' => out.push_str("\\r"),
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        0x20..=0x7e => out.push(b as char),
        _ => {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// Like [`bytes`], but long data is cut to about `max` bytes with the cut said in words.
pub(crate) fn bytes_short(data: &[u8], max: usize) -> String {
    if data.len() <= max {
        return bytes(data);
    }
    let head = max * 2 / 3;
    let tail = max - head;
    format!(
        "{}…({} bytes omitted)…{}",
        bytes(&data[..head]),
        data.len() - head - tail,
        bytes(&data[data.len() - tail..])
    )
}

/// Where `got` first departs from `expected`, shown around that place:
/// `at byte 5 of 10: expected …"LO W"…, got …"Lo w"…`. `None` when they are equal.
pub(crate) fn first_difference(expected: &[u8], got: &[u8]) -> Option<String> {
    if expected == got {
        return None;
    }
    let at = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let window = |data: &[u8]| {
        let start = at.saturating_sub(12);
        let end = (at + 20).min(data.len());
        let pre = if start > 0 { "…" } else { "" };
        let post = if end < data.len() { "…" } else { "" };
        format!("{pre}{}{post}", bytes(&data[start.min(data.len())..end]))
    };
    Some(format!(
        "first difference at byte {at} (expected {} bytes, got {}): expected {}, got {}",
        expected.len(),
        got.len(),
        window(expected),
        window(got)
    ))
}

/// Free text from a program (a stderr tail, say), kept readable: newlines stay, tabs
/// become spaces, every other control, bidi or invisible character becomes `\u{..}`.
pub(crate) fn text(raw: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(lossy.len());
    for c in lossy.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Like [`text`], for a place that must stay one line (a progress line, a summary row, a
/// name): a newline becomes `\n` too.
pub(crate) fn line(raw: &[u8]) -> String {
    text(raw).replace('\n', "\\n")
}

/// Like [`line`], cut to about `max` characters with `…` at the cut: what an error may
/// quote of a file or a name it refuses.
pub(crate) fn line_short(raw: &[u8], max: usize) -> String {
    let shown = line(raw);
    match shown.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &shown[..at]),
        None => shown,
    }
}

/// JSON text with every unsafe character (bidi, zero-width, C1 and other controls, line
/// separators) written as a `\uXXXX` escape. Such characters can only stand inside JSON
/// strings, where the escape means the same character, so the JSON parses back to the
/// same value; a reader (a TA's terminal, a web page) never gets them raw.
pub(crate) fn json(serialized: &str) -> String {
    let mut out = String::with_capacity(serialized.len());
    for c in serialized.chars() {
        if !matches!(c, '\n' | '\t' | '\r')
            && (is_unsafe(c) || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that must never reach a terminal as they are.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
            | '\u{061c}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// The last `lines` lines of a program's output, escaped, each indented for a report.
pub(crate) fn tail(raw: &[u8], lines: usize) -> String {
    let text = text(raw);
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A CSV cell that a spreadsheet will not run as a formula, quoted when needed.
pub(crate) fn csv_cell(value: &str) -> String {
    let mut v = text(value.as_bytes()).replace('\n', " ");
    if v.starts_with(['=', '+', '-', '@']) && v.parse::<f64>().is_err() {
        v.insert(0, '\'');
    }
    if v.contains([',', '"']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// A word safe to paste into a POSIX shell: quoted unless it is plainly safe.
pub(crate) fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", text(word.as_bytes()).replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invalid_bytes_are_escaped() {
        assert_eq!(bytes(b"a\x1b[31m\n\xff\""), r#""a\x1b[31m\n\xff\"""#);
    }

    #[test]
    fn text_escapes_escape_sequences_and_bidi() {
        let shown = text("ok\x1b[2J\u{202e}evil\n".as_bytes());
        assert!(!shown.contains('\x1b') && !shown.contains('\u{202e}'));
        assert!(shown.contains("\\u{1b}") && shown.contains("\\u{202e}"));
    }

    #[test]
    fn a_line_stays_one_line_and_is_cut() {
        assert_eq!(line("a\nb\u{202e}".as_bytes()), "a\\nb\\u{202e}");
        assert_eq!(line_short(b"abcdef", 3), "abc…");
        assert_eq!(line_short(b"abc", 3), "abc");
    }

    #[test]
    fn json_escapes_parse_back_to_the_same_string() {
        let name = "x\u{202e}y\u{200b}z\u{85}\u{e0041}\nok é";
        let raw = serde_json::to_string(&serde_json::json!({ "name": name })).unwrap();
        let safe = json(&raw);
        assert!(safe.contains("\\u202e") && safe.contains("\\u200b") && safe.contains("\\u0085"));
        assert!(
            safe.contains("\\udb40\\udc41") && safe.contains('é'),
            "{safe}"
        );
        assert!(!safe.contains(['\u{202e}', '\u{200b}', '\u{85}', '\u{e0041}']));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], name);
    }

    #[test]
    fn difference_is_located() {
        let d = first_difference(b"HELLO WORLD", b"HELLO World").unwrap();
        assert!(d.contains("at byte 7"), "{d}");
        assert!(first_difference(b"A", b"A").is_none());
        assert!(first_difference(b"AB", b"A").unwrap().contains("at byte 1"));
    }

    #[test]
    fn csv_cells_cannot_be_formulas() {
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("-3.5"), "-3.5");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }
}
