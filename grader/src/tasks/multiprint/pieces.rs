//! Prints that came out in pieces. When the printed characters do not match the input,
//! the cause may be the output itself: a print that is not one write (`print(name + ":",
//! job)` writes the name, the separator, the character and the newline one by one) lets
//! other threads write in between, so a line holds two names, or a character stands on a
//! line of its own, and the parser cannot tell who printed it. This module finds such
//! lines, so the message shows them and names that cause only when they are there.

use super::parse::{self, PROMPT};
use crate::process::program::indent;

/// Lines shown in a message.
const SAMPLE: usize = 4;

/// Output lines no whole print accounts for.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unread {
    /// How many there were.
    pub count: usize,
    /// The first few, escaped.
    pub sample: Vec<String>,
    /// Some line shows prints cut apart: a name with nothing after it before the next
    /// name, or a job character alone on its line.
    pub cut: bool,
}

/// The lines of `output` that are not whole prints, or `None` when every line is one.
pub(super) fn unread(output: &str) -> Option<Unread> {
    let mut found = Unread {
        count: 0,
        sample: Vec::new(),
        cut: false,
    };
    let cleaned = output.replace(PROMPT, "");
    let names = parse::parse(&cleaned);
    for line in cleaned.split('\n').map(str::trim_end) {
        if line.trim().is_empty() {
            continue;
        }
        let lone_char = {
            let mut c = line.trim().chars();
            matches!((c.next(), c.next()), (Some(c), None) if c.is_ascii_alphanumeric())
        };
        let prints = parse::parse(line);
        let name_cut = prints.len() > 1 && prints.iter().any(|p| p.text.is_empty());
        let whole = !prints.is_empty() && !name_cut;
        if whole {
            continue;
        }
        found.cut |= lone_char || name_cut;
        found.count += 1;
        if found.sample.len() < SAMPLE {
            found.sample.push(crate::escape::text(line.as_bytes()));
        }
    }
    // Without a single whole print, nothing says the output was cut apart: it may be
    // another format altogether (the message then shows the output's start instead).
    (found.count > 0 && !names.is_empty()).then_some(found)
}

impl Unread {
    /// "2 lines of the output could not be read as ...:\n    Thread-1: Thread-2: a\n    b",
    /// then the cause when the lines show it.
    pub(super) fn explain(&self) -> String {
        let lines = if self.count == 1 {
            "1 line of the output could not be read as <thread name>: <character>".to_string()
        } else {
            format!(
                "{} lines of the output could not be read as <thread name>: <character>",
                self.count
            )
        };
        let such = if self.count > self.sample.len() {
            ", such as"
        } else {
            ""
        };
        let cause = if self.cut {
            "\nThe prints of different threads ran into each other: a print that is not one write (print(self.name + \":\", job) writes four pieces; a name written before the work and the character after it is two) lets another thread write in between. Print each job in one piece: print(\"%s: %s\" % (self.name, job))"
        } else {
            ""
        };
        format!("{lines}{such}:\n{}{cause}", indent(&self.sample.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_cut_apart_are_shown_and_named() {
        let out = "Input: Thread-1: Thread-2: a\nb\nThread-1: c\nThread-2: I'm done!\n";
        let unread = unread(out).unwrap();
        assert_eq!(unread.count, 2);
        assert_eq!(unread.sample, ["Thread-1: Thread-2: a", "b"]);
        assert!(unread.cut);
        let told = unread.explain();
        assert!(
            told.starts_with("2 lines of the output could not be read"),
            "{told}"
        );
        assert!(told.contains("    Thread-1: Thread-2: a\n    b"), "{told}");
        assert!(told.contains("not one write"), "{told}");
    }

    #[test]
    fn whole_prints_and_lecture_interleavings_are_read() {
        assert_eq!(
            unread("Input: Thread-1: aThread-2: b\n\nThread-1: I'm done!\n"),
            None
        );
    }

    #[test]
    fn other_lines_are_shown_without_a_cause() {
        let unread = unread("starting now\nThread-1: a\n").unwrap();
        assert_eq!(unread.sample, ["starting now"]);
        assert!(!unread.cut);
        assert!(!unread.explain().contains("not one write"));
    }

    #[test]
    fn output_of_another_format_is_not_judged_here() {
        assert_eq!(unread("a\nb\n"), None);
    }
}
