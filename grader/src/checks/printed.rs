//! Reading what a client printed (SPEC section 3): each answer is a line `Output: <answer>`.
//! A prompt such as the lecture's `Input: ` may come first, several of them on one line
//! and never followed by a newline (input is piped, so nothing echoes the typed line), so
//! whatever precedes `Output: ` on a line is the prompt and ignored. An upper-cased answer
//! cannot contain `Output: ` (it has lower-case letters), so the first one on a line is
//! where the answer starts. Only complete lines are read: the line being printed may
//! still be arriving.

/// The word that starts an answer.
pub(crate) const OUTPUT: &[u8] = b"Output: ";
/// The lecture's prompt.
pub(crate) const PROMPT: &[u8] = b"Input:";

/// One complete line of a client's stdout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Printed {
    /// `Output: <answer>`: the answer, without the line ending or what came before.
    Answer(Vec<u8>),
    /// A line without `Output: ` that holds more than prompts and blanks.
    Other(Vec<u8>),
}

/// Parses the complete lines of `buf` (up to its last newline). Returns them, lines of
/// nothing but prompts and blanks left out, and how many bytes of `buf` they took.
pub(crate) fn parse(buf: &[u8]) -> (Vec<Printed>, usize) {
    let Some(last) = buf.iter().rposition(|&b| b == b'\n') else {
        return (Vec::new(), 0);
    };
    let lines = buf[..last]
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter_map(|line| match find(line, OUTPUT) {
            Some(at) => Some(Printed::Answer(line[at + OUTPUT.len()..].to_vec())),
            None if only_prompts(line) => None,
            None => Some(Printed::Other(line.to_vec())),
        })
        .collect();
    (lines, last + 1)
}

/// True for a line of prompts (`Input:`), spaces and tabs only.
fn only_prompts(mut line: &[u8]) -> bool {
    loop {
        line = line.trim_ascii_start();
        match line.strip_prefix(PROMPT) {
            Some(rest) => line = rest,
            None => return line.is_empty(),
        }
    }
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(s: &str) -> Printed {
        Printed::Answer(s.as_bytes().to_vec())
    }

    #[test]
    fn prompts_before_an_answer_are_ignored_however_many() {
        let (lines, used) =
            parse(b"Input: Output: HELLO\nInput: Input: Output: \tA B \nOutput: X\nInput: ");
        assert_eq!(lines, vec![answer("HELLO"), answer("\tA B "), answer("X")]);
        assert_eq!(used, 59);
    }

    #[test]
    fn an_unfinished_line_waits() {
        assert_eq!(parse(b"Input: Output: HEL"), (vec![], 0));
        let (lines, used) = parse(b"Output: A\nOutput: B");
        assert_eq!((lines, used), (vec![answer("A")], 10));
    }

    #[test]
    fn other_prompts_and_windows_line_endings_are_tolerated() {
        let (lines, _) = parse(b"Enter a line> Output: HI\r\n");
        assert_eq!(lines, vec![answer("HI")]);
    }

    #[test]
    fn lines_without_an_answer_are_kept_unless_only_prompts() {
        let (lines, _) =
            parse(b"Input:\n\n  \nconnected to server\nOutput:HI\nInput: Output: b'HI'\n");
        assert_eq!(
            lines,
            vec![
                Printed::Other(b"connected to server".to_vec()),
                Printed::Other(b"Output:HI".to_vec()),
                answer("b'HI'"),
            ]
        );
    }

    #[test]
    fn the_first_output_marks_the_answer() {
        let (lines, _) = parse(b"Output: Output: X\n");
        assert_eq!(lines, vec![answer("Output: X")]);
    }
}
