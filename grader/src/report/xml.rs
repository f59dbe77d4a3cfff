//! XML escaping for the JUnit writer: the five markup characters become entities, and
//! characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) become visible `\u{..}`
//! escapes, so any text a program produced still yields a well-formed document.

/// Text for an element body.
pub(crate) fn text(s: &str) -> String {
    escape(s, false)
}

/// Text for a double- or single-quoted attribute value (line breaks kept as references).
pub(crate) fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if allowed(c) => out.push(c),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out
}

/// XML 1.0's `Char` production (tab, newline and carriage return handled before).
fn allowed(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_forbidden_characters_are_escaped() {
        assert_eq!(text("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
        assert_eq!(text("x\u{1b}\u{0}y\n"), "x\\u{1b}\\u{0}y\n");
        assert_eq!(attr("a\"b\nc"), "a&quot;b&#10;c");
        assert_eq!(text("\u{fffe}"), "\\u{fffe}");
    }
}
