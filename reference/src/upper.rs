//! The service every server offers: the lecture's `data.upper()` on bytes, and the
//! blocking per-connection loop `recv` / upper-case / `sendall` until the client's EOF.
//!
//! Written once here and used by `tcp-upper`, `fork-server`, `thread-server` and
//! `pool-server`; `udp-upper` and `select-server` reuse [`upper_in_place`].

use std::io::{self, ErrorKind, Read, Write};

/// Bytes read per `recv`. The lecture reads 1024; a larger buffer only saves system calls,
/// the answer is the same whatever the fragmentation.
pub const CHUNK: usize = 16 * 1024;

/// Upper-cases in place: ASCII `a`-`z` become `A`-`Z`, every other byte (non-ASCII, NUL,
/// invalid UTF-8) is unchanged, exactly like Python's `bytes.upper()`.
pub fn upper_in_place(bytes: &mut [u8]) {
    bytes.make_ascii_uppercase();
}

/// Returns the upper-case of `bytes` (see [`upper_in_place`]).
pub fn upper(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_uppercase()
}

/// Answers everything read from `stream` with its upper-case until the client closes its
/// sending side, then returns the number of bytes answered. The caller closes the
/// connection by dropping the stream.
///
/// Every byte received is answered, in order: `write_all` retries short writes (the
/// `sendall` of the lecture's fixed programs). The buffer lives on the stack and nothing is
/// allocated, so a freshly forked child of a multi-threaded process may call this too.
pub fn echo_upper<S: Read + Write>(stream: &mut S) -> io::Result<u64> {
    let mut buf = [0u8; CHUNK];
    let mut answered = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(answered),
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        upper_in_place(&mut buf[..n]);
        stream.write_all(&buf[..n])?;
        answered += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ascii_lowercase_letters_change() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: Vec<u8> = all
            .iter()
            .map(|&b| if b.is_ascii_lowercase() { b - 32 } else { b })
            .collect();
        assert_eq!(upper(&all), expected);
        assert_eq!(upper("héllo\0wörld".as_bytes()), "HéLLO\0WöRLD".as_bytes());
    }

    /// An in-memory connection: reads come from `input` in fragments of `fragment` bytes,
    /// writes are accepted at most `short` bytes at a time (a loaded network's short writes).
    struct Fake {
        input: Vec<u8>,
        pos: usize,
        fragment: usize,
        short: usize,
        output: Vec<u8>,
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self
                .fragment
                .min(buf.len())
                .min(self.input.len() - self.pos);
            buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = self.short.min(buf.len());
            self.output.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn echo_answers_every_byte_despite_fragments_and_short_writes() {
        let input: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut conn = Fake {
            input: input.clone(),
            pos: 0,
            fragment: 777,
            short: 5,
            output: Vec::new(),
        };
        assert_eq!(echo_upper(&mut conn).unwrap(), input.len() as u64);
        assert_eq!(conn.output, upper(&input));
    }
}
