//! Generators of test inputs (proptest strategies), each a named function with the shapes
//! it draws. Text is printable ASCII with spaces, tabs and newlines anywhere, also making
//! up whole fragments; short and edge values (one byte, exactly 1024 bytes, all
//! whitespace) are drawn often (SPEC section 4). Everything shrinks towards fewer, shorter
//! and simpler pieces, so a failure is reported on the smallest case found.

use crate::probe::tcp::Fragment;
use proptest::collection::vec;
use proptest::prelude::*;
use std::time::Duration;

/// One byte of text: mostly letters and digits, often space, tab and newline.
pub(crate) fn text_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => prop::sample::select(b"abcdefghijklmnopqrstuvwxyz".to_vec()),
        3 => 0x20u8..=0x7e,
        1 => prop::sample::select(vec![b' ', b'\t', b'\n']),
    ]
}

/// Whitespace only.
fn blank_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b' ', b'\t', b'\n'])
}

/// A message of text: usually short, sometimes a single byte, all whitespace, or exactly
/// `edge` bytes long (the lecture's `recv(1024)` buffer).
pub(crate) fn text(max: usize, edge: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => vec(text_byte(), 1..=max),
        1 => vec(text_byte(), 1..=1),
        1 => vec(blank_byte(), 1..=8),
        1 => vec(text_byte(), edge..=edge),
    ]
}

/// One byte of a client's input line: text without the newline (mostly letters and
/// digits, often space and tab).
pub(crate) fn line_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => prop::sample::select(b"abcdefghijklmnopqrstuvwxyz".to_vec()),
        3 => 0x20u8..=0x7e,
        1 => prop::sample::select(vec![b' ', b'\t']),
    ]
}

/// A client's input line: never empty (an empty line means "stop"); usually short,
/// sometimes one byte, all spaces and tabs, or exactly `edge` bytes long.
pub(crate) fn line(max: usize, edge: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => vec(line_byte(), 1..=max),
        1 => vec(line_byte(), 1..=1),
        1 => vec(prop::sample::select(vec![b' ', b'\t']), 1..=8),
        1 => vec(line_byte(), edge..=edge),
    ]
}

/// Lines as a reader sees them: `"hello", " \t"`.
pub(crate) fn show_lines(lines: &[Vec<u8>]) -> String {
    let shown: Vec<String> = lines
        .iter()
        .map(|l| crate::escape::bytes_short(l, 80))
        .collect();
    shown.join(", ")
}

/// One byte of binary data: anything, with invalid UTF-8 (lone continuation bytes, cut
/// multi-byte sequences, 0xff) and NUL drawn often.
pub(crate) fn binary_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        2 => 0x80u8..=0xbf,
        1 => prop::sample::select(vec![0x00, 0xc3, 0xe2, 0xf0, 0xff, b'a', b'z']),
    ]
}

/// A pause between fragments: 0.1-5 ms, long enough that the peer's `recv` sees the
/// fragments apart, short enough that many cases run in a second.
pub(crate) fn pause() -> impl Strategy<Value = Duration> {
    (100u64..=5000).prop_map(Duration::from_micros)
}

/// A stream written as 1-`max_fragments` fragments of bytes drawn from `byte`.
pub(crate) fn fragments<B: Strategy<Value = u8>>(
    byte: B,
    max_fragments: usize,
    max_len: usize,
) -> impl Strategy<Value = Vec<Fragment>> {
    vec((pause(), vec(byte, 1..=max_len)), 1..=max_fragments).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(pause, data)| Fragment { pause, data })
            .collect()
    })
}

/// Fragments of text, whole fragments of whitespace included.
pub(crate) fn text_fragments() -> impl Strategy<Value = Vec<Fragment>> {
    let piece = prop_oneof![
        5 => vec(text_byte(), 1..=40),
        1 => vec(blank_byte(), 1..=4),
        1 => vec(text_byte(), 1..=1),
    ];
    vec((pause(), piece), 1..=12).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(pause, data)| Fragment { pause, data })
            .collect()
    })
}

/// Binary fragments, invalid UTF-8 split across fragment edges.
pub(crate) fn binary_fragments() -> impl Strategy<Value = Vec<Fragment>> {
    fragments(binary_byte(), 10, 64)
}

/// The stream the fragments make up.
pub(crate) fn joined(fragments: &[Fragment]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fragments.iter().map(|f| f.data.len()).sum());
    for f in fragments {
        out.extend_from_slice(&f.data);
    }
    out
}

/// `len` bytes of printable text (letters, digits, spaces, newlines) from a cheap
/// generator seeded with `seed`: megabytes for the large-stream checks, made in
/// milliseconds (a byte-at-a-time iterator took seconds in a debug build, the tests').
pub(crate) fn bulk_text(len: usize, seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8; 41] = b" abcdefghijklmnopqrstuvwxyzABC0123456789\n";
    // Eleven base-41 digits fit in 64 bits: one xorshift step makes eleven bytes.
    const PER_STEP: usize = 11;
    let mut out = vec![0u8; len];
    let mut x = seed | 1;
    for chunk in out.chunks_mut(PER_STEP) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut digits = x;
        for b in chunk {
            *b = ALPHABET[(digits % 41) as usize];
            digits /= 41;
        }
    }
    out
}

/// The fragments as a reader sees them: `"hel" +2.1ms "lo"`.
pub(crate) fn show_fragments(fragments: &[Fragment]) -> String {
    let mut out = String::new();
    for (i, f) in fragments.iter().enumerate() {
        if i > 0 {
            out.push_str(&format!(" +{:.1}ms ", f.pause.as_secs_f64() * 1000.0));
        }
        out.push_str(&crate::escape::bytes_short(&f.data, 80));
    }
    out
}

/// `bytes.upper()` of Python: ASCII a-z to A-Z, every other byte unchanged.
pub(crate) fn upper(data: &[u8]) -> Vec<u8> {
    data.to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn text_stays_printable_ascii() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..200 {
            let t = text(64, 1024).new_tree(&mut runner).unwrap().current();
            assert!(!t.is_empty());
            assert!(t
                .iter()
                .all(|&b| (0x20..=0x7e).contains(&b) || b == b'\t' || b == b'\n'));
        }
    }

    #[test]
    fn lines_are_never_empty_and_have_no_line_break() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..200 {
            let l = line(64, 1024).new_tree(&mut runner).unwrap().current();
            assert!(!l.is_empty());
            assert!(l.iter().all(|&b| (0x20..=0x7e).contains(&b) || b == b'\t'));
        }
    }

    #[test]
    fn fragments_show_their_pauses() {
        let f = vec![
            Fragment {
                pause: Duration::ZERO,
                data: b"hel".to_vec(),
            },
            Fragment {
                pause: Duration::from_micros(2100),
                data: b"lo".to_vec(),
            },
        ];
        assert_eq!(show_fragments(&f), "\"hel\" +2.1ms \"lo\"");
        assert_eq!(joined(&f), b"hello");
    }

    #[test]
    fn bulk_text_is_seeded_printable_and_varied() {
        let a = bulk_text(100_003, 7);
        assert_eq!(a.len(), 100_003);
        assert_eq!(a, bulk_text(100_003, 7));
        assert_ne!(a, bulk_text(100_003, 8));
        assert!(a.iter().all(|&b| b == b'\n' || (0x20..=0x7e).contains(&b)));
        let mut seen = [false; 256];
        for &b in &a {
            seen[b as usize] = true;
        }
        assert_eq!(
            seen.iter().filter(|&&s| s).count(),
            41,
            "every letter of the alphabet"
        );
        assert!(
            a.windows(11).take(1000).any(|w| w != &a[..11]),
            "not one word repeated"
        );
    }
}
