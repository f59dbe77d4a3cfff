//! Reading what a `multiprint` program printed (SPEC section 3). Each consumer print is
//! `<thread name>: <char>` or `<thread name>: I'm done!`; the producer may print the prompt
//! `Input: ` before each read; a thread name has no `: ` and no newline in it. Python's
//! `print` writes the text and its newline separately, so prints of different threads
//! interleave (`Thread-1: aThread-2: b` and the two newlines later), and the prompt can
//! land anywhere between them.
//!
//! The parser removes every prompt, then reads each line as `name: text: text: ...`, where
//! every piece between two `: ` is the end of one print followed by the next print's thread
//! name. It splits such a piece after `I'm done!`, or before the longest thread name known
//! from the starts of lines (so `waiting for buffer to emptyThread-3` splits well), or
//! takes it whole as a name when it is shaped like a known one (`Thread-2` when `Thread-1`
//! is known: a print cut off right after its name), or else splits after its first
//! character (a job is one character).

use std::collections::HashSet;

/// The prompt the lecture prints before each read.
pub(super) const PROMPT: &str = "Input: ";

/// What a consumer prints when it stops.
pub(super) const DONE: &str = "I'm done!";

/// One print of one thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Print {
    /// The thread name before `: `.
    pub name: String,
    /// What followed: one character, `I'm done!`, or anything else the program says.
    pub text: String,
}

impl Print {
    /// The job character, when this print is one (one ASCII letter or digit).
    pub(super) fn job(&self) -> Option<char> {
        let mut chars = self.text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        }
    }

    /// True for `I'm done!`.
    pub(super) fn is_done(&self) -> bool {
        self.text == DONE
    }
}

/// Every print found in `output`, in order. Lines without `: ` (blank lines, other
/// messages) yield nothing.
pub(super) fn parse(output: &str) -> Vec<Print> {
    let cleaned = output.replace(PROMPT, "");
    let lines: Vec<Vec<&str>> = cleaned
        .split('\n')
        .map(|line| line.trim_end().split(": ").collect())
        .collect();
    let known: HashSet<&str> = lines
        .iter()
        .filter(|pieces| pieces.len() > 1 && !pieces[0].is_empty())
        .map(|pieces| pieces[0])
        .collect();
    let mut prints = Vec::new();
    for pieces in &lines {
        let Some((last, middle)) = pieces.split_last() else {
            continue;
        };
        if middle.is_empty() {
            continue;
        }
        let mut name = middle[0];
        for piece in &middle[1..] {
            let (text, next) = split_piece(piece, &known);
            prints.push(Print {
                name: name.to_string(),
                text: text.to_string(),
            });
            name = next;
        }
        prints.push(Print {
            name: name.to_string(),
            text: last.to_string(),
        });
    }
    prints
}

/// Splits the text between two `: ` into the end of one print and the next thread's name.
fn split_piece<'a>(piece: &'a str, known: &HashSet<&str>) -> (&'a str, &'a str) {
    if let Some(next) = piece.strip_prefix(DONE) {
        return (DONE, next);
    }
    if let Some(name) = known
        .iter()
        .filter(|name| piece.len() > name.len() && piece.ends_with(**name))
        .max_by_key(|name| name.len())
    {
        return piece.split_at(piece.len() - name.len());
    }
    // A whole piece shaped like a known name ("Thread-2" when "Thread-1" is known) is a
    // print cut off right after its name, before its text.
    if known
        .iter()
        .any(|name| shape(name) == shape(piece) && name.chars().next() == piece.chars().next())
    {
        return ("", piece);
    }
    match piece.chars().next() {
        Some(c) => piece.split_at(c.len_utf8()),
        None => ("", ""),
    }
}

/// A name without its digits: "Thread-12 (consumer)" -> "Thread- (consumer)".
fn shape(name: &str) -> String {
    name.chars().filter(|c| !c.is_ascii_digit()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(output: &str) -> Vec<(String, char)> {
        parse(output)
            .iter()
            .filter_map(|p| Some((p.name.clone(), p.job()?)))
            .collect()
    }

    fn done(output: &str) -> Vec<String> {
        parse(output)
            .into_iter()
            .filter(Print::is_done)
            .map(|p| p.name)
            .collect()
    }

    fn pairs(list: &[(&str, char)]) -> Vec<(String, char)> {
        list.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    #[test]
    fn plain_lines_and_prompts() {
        let out = "Input: Thread-1: a\nThread-2: b\nInput: Input: Thread-1: I'm done!\nThread-2: I'm done!\n";
        assert_eq!(jobs(out), pairs(&[("Thread-1", 'a'), ("Thread-2", 'b')]));
        assert_eq!(done(out), ["Thread-1", "Thread-2"]);
    }

    #[test]
    fn interleaved_prints_with_late_newlines() {
        let out =
            "Thread-1: aThread-2: bThread-10: c\n\n\nThread-2: I'm done!Thread-1: I'm done!\n\n";
        assert_eq!(
            jobs(out),
            pairs(&[("Thread-1", 'a'), ("Thread-2", 'b'), ("Thread-10", 'c')])
        );
        assert_eq!(done(out), ["Thread-2", "Thread-1"]);
    }

    #[test]
    fn a_prompt_in_the_middle_of_a_print() {
        let out = "Input: Thread-3: xInput: \nThread-3: yThread-4: Input: z\n";
        assert_eq!(
            jobs(out),
            pairs(&[("Thread-3", 'x'), ("Thread-3", 'y'), ("Thread-4", 'z')])
        );
    }

    #[test]
    fn names_with_spaces_and_parentheses() {
        let out =
            "Thread-3 (consumer): QThread-4 (consumer): 7\n\nThread-4 (consumer): I'm done!\n";
        assert_eq!(
            jobs(out),
            pairs(&[("Thread-3 (consumer)", 'Q'), ("Thread-4 (consumer)", '7')])
        );
        assert_eq!(done(out), ["Thread-4 (consumer)"]);
    }

    #[test]
    fn other_messages_are_not_jobs() {
        // The lecture's multiprint1.py producer says it waits; here its print is cut into
        // by a consumer's before its newline.
        let out = "Thread-11: waiting for buffer to emptyThread-3: a\n\nThread-3: b\nStarting 3 threads\n";
        let prints = parse(out);
        assert_eq!(prints[0].name, "Thread-11");
        assert_eq!(prints[0].text, "waiting for buffer to empty");
        assert_eq!(prints[0].job(), None);
        assert_eq!(jobs(out), pairs(&[("Thread-3", 'a'), ("Thread-3", 'b')]));
    }

    #[test]
    fn an_unknown_name_mid_line_still_splits_after_one_character() {
        assert_eq!(
            jobs("Thread-1: aWorker-9: b\n"),
            pairs(&[("Thread-1", 'a'), ("Worker-9", 'b')])
        );
    }

    #[test]
    fn a_print_cut_after_its_name_leaves_the_next_print_whole() {
        let out = "Thread-1: a\nThread-3: Thread-2: I'm done!\nb\n";
        assert_eq!(jobs(out), pairs(&[("Thread-1", 'a')]));
        assert_eq!(done(out), ["Thread-2"]);
        assert_eq!(
            parse(out)[1],
            Print {
                name: "Thread-3".into(),
                text: String::new()
            }
        );
        // A digit job before a name is still a job.
        assert_eq!(
            jobs("Thread-1: 7Thread-2: b\n"),
            pairs(&[("Thread-1", '7'), ("Thread-2", 'b')])
        );
    }

    #[test]
    fn windows_line_endings_and_noise() {
        let out = "Thread-1: a\r\n\r\n: \nno colon here\nThread-1: ab\n";
        assert_eq!(jobs(out), pairs(&[("Thread-1", 'a')]));
        assert_eq!(parse("").len(), 0);
    }
}
