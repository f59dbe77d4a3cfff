//! Judging what was printed against what was sent: every character of the input printed
//! exactly once (by any consumer), and every consumer saying `I'm done!`. The messages
//! name the character, its line and the threads involved, so a student can find the race.

use super::parse::Print;
use std::collections::BTreeMap;

/// Most problems listed in one message.
const SHOWN: usize = 3;

/// How the printed characters differ from the input's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Mismatch {
    /// What differs, e.g. "character 'q' of line 2 was printed twice (by Thread-3 and
    /// Thread-5)".
    pub what: String,
    /// Some character was printed more often than sent (two consumers took the same job).
    pub duplicated: bool,
    /// Some character was printed less often than sent (a job was lost).
    pub lost: bool,
    /// Every character printed too rarely was printed once per line it is in: the repeats
    /// within a line were dropped (a producer that puts `set(line)` or
    /// `dict.fromkeys(line)`).
    pub collapsed: bool,
}

impl Mismatch {
    /// What the usual cause of this kind of mismatch is, and its fix.
    pub(super) fn hint(&self) -> &'static str {
        match (self.duplicated, self.lost) {
            (false, true) if self.collapsed => "a character that occurs several times in a line was printed once per line: each occurrence is a job of its own, so put every character of the line, in order (not set(line) or dict.fromkeys(line), which keep each character once)",
            (true, _) => "two consumers took the same character: check and take a job in one step while holding the buffer's lock (or use queue.Queue)",
            (false, true) => "characters were lost: the producer must wait until the consumers have taken every character before it puts the next line (or the end marker) into the buffer (or use queue.Queue)",
            (false, false) => "the program printed characters that were not sent",
        }
    }
}

/// `Ok` when the multiset of printed job characters equals the input's; otherwise what
/// differs.
pub(super) fn every_char_once(lines: &[String], prints: &[Print]) -> Result<(), Mismatch> {
    // For each character: the lines it is in (1-based, once per occurrence) and who printed it.
    let mut sent: BTreeMap<char, Vec<usize>> = BTreeMap::new();
    for (n, line) in lines.iter().enumerate() {
        for c in line.chars() {
            sent.entry(c).or_default().push(n + 1);
        }
    }
    let mut printed: BTreeMap<char, Vec<&str>> = BTreeMap::new();
    for p in prints {
        if let Some(c) = p.job() {
            printed.entry(c).or_default().push(&p.name);
        }
    }
    // In input order, then characters that were never sent.
    let mut order: Vec<char> = lines.iter().flat_map(|l| l.chars()).collect();
    let mut seen = std::collections::HashSet::new();
    order.retain(|c| seen.insert(*c));
    order.extend(printed.keys().filter(|c| !sent.contains_key(c)));

    let (mut problems, mut duplicated, mut lost) = (Vec::new(), false, false);
    let mut collapsed = true;
    let (mut never, mut never_lines) = (0, Vec::new());
    for c in order {
        let want = sent.get(&c).map(Vec::as_slice).unwrap_or_default();
        let got = printed.get(&c).map(Vec::as_slice).unwrap_or_default();
        if want.len() == got.len() {
            continue;
        }
        duplicated |= got.len() > want.len();
        lost |= got.len() < want.len();
        if got.len() < want.len() {
            let mut in_lines = want.to_vec();
            in_lines.dedup();
            collapsed &= got.len() == in_lines.len();
        }
        if got.is_empty() {
            never += 1;
            never_lines.extend_from_slice(want);
        }
        let what = if want.is_empty() {
            format!("'{c}', which is not in the input,")
        } else {
            format!("character '{c}' of {}", line_list(want))
        };
        let printed_times = if got.is_empty() {
            "never printed".to_string()
        } else {
            format!("printed {} ({})", times(got.len()), printers(got))
        };
        let sent_times = if want.len() > 1 {
            format!(", but sent {}", times(want.len()))
        } else {
            String::new()
        };
        problems.push(format!("{what} was {printed_times}{sent_times}"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let total_sent: usize = sent.values().map(Vec::len).sum();
    let total_printed: usize = printed.values().map(Vec::len).sum();
    let what = if problems.len() > SHOWN && never * 2 > problems.len() {
        // Mostly lost characters: say how many and where rather than list them.
        never_lines.sort_unstable();
        let other = problems.len() - never;
        let how_many = if never == total_sent {
            format!("none of the {total_sent} characters sent was printed")
        } else {
            format!("{never} of the {total_sent} characters sent were never printed")
        };
        format!(
            "{how_many} (from {}){}",
            line_list(&never_lines),
            if other > 0 {
                format!(", and {other} other character(s) were printed a wrong number of times")
            } else {
                String::new()
            }
        )
    } else {
        let more = problems.len().saturating_sub(SHOWN);
        problems.truncate(SHOWN);
        let mut listed = problems.join("; ");
        if more > 0 {
            listed.push_str(&format!("; and {more} more"));
        }
        format!("{listed} ({total_printed} characters printed for {total_sent} sent)")
    };
    Err(Mismatch {
        what,
        duplicated,
        lost,
        collapsed: lost && collapsed,
    })
}

/// The distinct thread names that printed `I'm done!`, in order of first appearance.
pub(super) fn done_names(prints: &[Print]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in prints.iter().filter(|p| p.is_done()) {
        if !names.contains(&p.name) {
            names.push(p.name.clone());
        }
    }
    names
}

/// All input characters have been printed at least as often as sent (the program may
/// still print more).
pub(super) fn all_printed(lines: &[String], prints: &[Print]) -> bool {
    let mut need: BTreeMap<char, isize> = BTreeMap::new();
    for c in lines.iter().flat_map(|l| l.chars()) {
        *need.entry(c).or_default() += 1;
    }
    for c in prints.iter().filter_map(Print::job) {
        *need.entry(c).or_default() -= 1;
    }
    need.values().all(|&n| n <= 0)
}

fn times(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// "by Thread-3 and Thread-5", "both by Thread-3", "by Thread-1 and Thread-3 twice".
fn printers(names: &[&str]) -> String {
    let mut distinct: Vec<(&str, usize)> = Vec::new();
    for &name in names {
        match distinct.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => distinct.push((name, 1)),
        }
    }
    let shown: Vec<String> = distinct
        .iter()
        .map(|&(name, count)| {
            let name = crate::escape::text(name.as_bytes());
            match count {
                1 => name,
                n => format!("{name} {}", times(n)),
            }
        })
        .collect();
    match distinct[..] {
        [(name, 2)] => format!("both by {}", crate::escape::text(name.as_bytes())),
        [(name, n)] if n > 2 => format!("all by {}", crate::escape::text(name.as_bytes())),
        _ => format!("by {}", and_list(&shown)),
    }
}

/// "line 2", "lines 1 and 3"
fn line_list(lines: &[usize]) -> String {
    let mut lines = lines.to_vec();
    lines.dedup();
    if lines.len() == 1 {
        format!("line {}", lines[0])
    } else {
        let shown: Vec<String> = lines.iter().map(usize::to_string).collect();
        format!("lines {}", and_list(&shown))
    }
}

/// "a", "a and b", "a, b and c" (names escaped: they come from the program).
fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| crate::escape::text(s.as_ref().as_bytes()))
        .collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(name: &str, text: &str) -> Print {
        Print {
            name: name.into(),
            text: text.into(),
        }
    }

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_same_characters_in_any_order_pass() {
        let input = lines(&["ab", "c"]);
        let out = [
            print("T-1", "c"),
            print("T-2", "a"),
            print("T-1", "waiting"),
            print("T-2", "b"),
        ];
        assert_eq!(every_char_once(&input, &out), Ok(()));
        assert!(all_printed(&input, &out));
        assert!(!all_printed(&input, &out[..2]));
    }

    #[test]
    fn a_duplicate_names_its_line_and_printers() {
        let input = lines(&["ab", "xqz"]);
        let out = [
            print("Thread-1", "a"),
            print("Thread-2", "b"),
            print("Thread-3", "q"),
            print("Thread-5", "q"),
            print("Thread-1", "x"),
            print("Thread-2", "z"),
        ];
        let mismatch = every_char_once(&input, &out).unwrap_err();
        assert_eq!(
            mismatch.what,
            "character 'q' of line 2 was printed twice (by Thread-3 and Thread-5) (6 characters printed for 5 sent)"
        );
        assert!(mismatch.duplicated && !mismatch.lost);
        assert!(mismatch.hint().contains("same character"));
    }

    #[test]
    fn missing_and_foreign_characters() {
        let input = lines(&["aa", "b"]);
        let out = [print("T-1", "a"), print("T-2", "Z")];
        let mismatch = every_char_once(&input, &out).unwrap_err();
        assert_eq!(
            mismatch.what,
            "character 'a' of line 1 was printed once (by T-1), but sent twice; character 'b' of line 2 was never printed; 'Z', which is not in the input, was printed once (by T-2) (2 characters printed for 3 sent)"
        );
        assert!(mismatch.lost && mismatch.duplicated);
    }

    #[test]
    fn repeats_kept_once_per_line_are_told_apart_from_lost_jobs() {
        // The input of a producer that puts dict.fromkeys(line): each character once.
        let input = lines(&["aab", "a", "cc"]);
        let out = [
            print("T-1", "a"),
            print("T-2", "b"),
            print("T-1", "a"),
            print("T-2", "c"),
        ];
        let mismatch = every_char_once(&input, &out).unwrap_err();
        assert!(mismatch.lost && mismatch.collapsed, "{mismatch:?}");
        assert!(mismatch.hint().contains("set(line)"));
        assert!(mismatch.what.starts_with(
            "character 'a' of lines 1 and 2 was printed twice (both by T-1), but sent 3 times"
        ));
        // A job lost outright is not a collapsed repeat.
        let lost = every_char_once(&input, &out[..3]).unwrap_err();
        assert!(lost.lost && !lost.collapsed, "{lost:?}");
        assert!(lost.hint().contains("wait until"));
    }

    #[test]
    fn long_lists_are_cut() {
        let input = lines(&["abc", "def"]);
        let out = [
            print("T-1", "a"),
            print("T-1", "a"),
            print("T-1", "b"),
            print("T-2", "b"),
        ];
        let out = [
            &out[..],
            &[print("T-1", "c"), print("T-1", "c"), print("T-2", "d")],
        ]
        .concat();
        let mismatch = every_char_once(&input, &out).unwrap_err();
        assert!(
            mismatch
                .what
                .ends_with("; and 2 more (7 characters printed for 6 sent)"),
            "{}",
            mismatch.what
        );
    }

    #[test]
    fn mostly_lost_is_summed_up() {
        let input = lines(&["abc", "def", "gh"]);
        let out = [print("T-1", "g"), print("T-2", "h")];
        let mismatch = every_char_once(&input, &out).unwrap_err();
        assert_eq!(
            mismatch.what,
            "6 of the 8 characters sent were never printed (from lines 1 and 2)"
        );
        assert!(mismatch.lost && !mismatch.duplicated);
        assert!(mismatch.hint().contains("wait until"));
    }

    #[test]
    fn one_thread_printing_twice_is_said_once() {
        let input = lines(&["jk"]);
        let out = [print("T-3", "j"), print("T-1", "k"), print("T-3", "j")];
        assert_eq!(
            every_char_once(&input, &out).unwrap_err().what,
            "character 'j' of line 1 was printed twice (both by T-3) (3 characters printed for 2 sent)"
        );
        assert_eq!(printers(&["a", "b", "a"]), "by a twice and b");
        assert_eq!(printers(&["a", "a", "a"]), "all by a");
    }

    #[test]
    fn nothing_printed_says_so() {
        let input = lines(&["abcd", "ef"]);
        assert_eq!(
            every_char_once(&input, &[]).unwrap_err().what,
            "none of the 6 characters sent was printed (from lines 1 and 2)"
        );
    }

    #[test]
    fn done_names_are_distinct() {
        let out = [
            print("T-2", DONE_TEXT),
            print("T-1", "a"),
            print("T-2", DONE_TEXT),
            print("T-1", DONE_TEXT),
        ];
        assert_eq!(done_names(&out), ["T-2", "T-1"]);
    }

    const DONE_TEXT: &str = super::super::parse::DONE;
}
