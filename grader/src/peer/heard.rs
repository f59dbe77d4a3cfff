//! Judging what the grader's server received from a client against the lines the client
//! was given: over TCP the stream must be the lines joined (each line without its newline,
//! SPEC section 3), over UDP one datagram per line. A client answers case after case, so
//! the first `skip` lines (earlier cases, already judged) are left out of the comparison
//! and the message speaks of the current case only. Pure functions, so the verdicts and
//! their messages are tested here.

use crate::escape;

/// How what arrived compares with what should arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Everything, exactly.
    All,
    /// A beginning of it; the rest may still come.
    Part,
    /// Something else arrived: what, in words.
    Wrong(String),
}

/// A TCP stream against `lines`, the first `skip` of them left out.
pub(crate) fn stream(received: &[u8], lines: &[Vec<u8>], skip: usize) -> Heard {
    let earlier = lines[..skip.min(lines.len())].concat();
    match received.strip_prefix(earlier.as_slice()) {
        Some(rest) => stream_all(rest, &lines[skip.min(lines.len())..]),
        None => stream_all(received, lines),
    }
}

fn stream_all(received: &[u8], lines: &[Vec<u8>]) -> Heard {
    let expected = lines.concat();
    if received == expected.as_slice() {
        return Heard::All;
    }
    if expected.starts_with(received) {
        return Heard::Part;
    }
    let hint = if received.contains(&b'\n') {
        ": send each line without its newline (input() already removed it)"
    } else {
        ""
    };
    Heard::Wrong(format!(
        "the server received {} where the lines given so far make {}; {}{hint}",
        escape::bytes_short(received, 80),
        escape::bytes_short(&expected, 80),
        escape::first_difference(&expected, received).unwrap_or_default()
    ))
}

/// UDP datagrams against the datagrams `expected` (one per line, then maybe the empty
/// one), the first `skip` of them left out.
pub(crate) fn datagrams(received: &[Vec<u8>], expected: &[Vec<u8>], skip: usize) -> Heard {
    let skip = skip.min(expected.len());
    if received.len() >= skip && received[..skip] == expected[..skip] {
        datagrams_all(&received[skip..], &expected[skip..])
    } else {
        datagrams_all(received, expected)
    }
}

fn datagrams_all(received: &[Vec<u8>], expected: &[Vec<u8>]) -> Heard {
    for (i, got) in received.iter().enumerate() {
        let n = i + 1;
        let Some(want) = expected.get(i) else {
            return Heard::Wrong(format!(
                "the server received an extra datagram {n}, {}, after the {} expected",
                escape::bytes_short(got, 60),
                expected.len()
            ));
        };
        if got != want {
            let hint = if got.is_empty() && want.iter().all(|b| matches!(b, b' ' | b'\t')) {
                ": a line of spaces or tabs is not empty; keep each line as read (do not strip it)"
            } else if got.is_empty() {
                ": an empty datagram means \"I am gone\" and belongs only at the end"
            } else if got.ends_with(b"\n") {
                ": send each line without its newline (input() already removed it)"
            } else {
                ""
            };
            return Heard::Wrong(format!(
                "datagram {n} should be {}, the server received {}{hint}",
                escape::bytes_short(want, 60),
                escape::bytes_short(got, 60)
            ));
        }
    }
    if received.len() == expected.len() {
        Heard::All
    } else {
        Heard::Part
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(ls: &[&str]) -> Vec<Vec<u8>> {
        ls.iter().map(|l| l.as_bytes().to_vec()).collect()
    }

    #[test]
    fn a_stream_is_all_part_or_wrong() {
        let ls = lines(&["hello", " x\t"]);
        assert_eq!(stream(b"hello x\t", &ls, 0), Heard::All);
        assert_eq!(stream(b"hel", &ls, 0), Heard::Part);
        let Heard::Wrong(why) = stream(b"hello\n x", &ls, 0) else {
            panic!()
        };
        assert!(
            why.contains("at byte 5") && why.contains("without its newline"),
            "{why}"
        );
    }

    #[test]
    fn earlier_cases_are_left_out_of_the_message() {
        let ls = lines(&["earlier", "now"]);
        assert_eq!(stream(b"earlierno", &ls, 1), Heard::Part);
        let Heard::Wrong(why) = stream(b"earlierNOW", &ls, 1) else {
            panic!()
        };
        assert!(
            why.contains("at byte 0") && !why.contains("earlier"),
            "{why}"
        );
        let Heard::Wrong(why) = datagrams(&lines(&["earlier", "x"]), &ls, 1) else {
            panic!()
        };
        assert!(why.contains("datagram 1 should be \"now\""), "{why}");
    }

    #[test]
    fn datagrams_are_compared_one_by_one() {
        let ls = lines(&["a b", "c"]);
        assert_eq!(datagrams(&lines(&["a b"]), &ls, 0), Heard::Part);
        assert_eq!(datagrams(&ls, &ls, 0), Heard::All);
        let Heard::Wrong(why) = datagrams(&lines(&["a b", ""]), &ls, 0) else {
            panic!()
        };
        assert!(
            why.contains("datagram 2") && why.contains("belongs only at the end"),
            "{why}"
        );
        let Heard::Wrong(why) = datagrams(&lines(&["a b", "c", "d"]), &ls, 0) else {
            panic!()
        };
        assert!(why.contains("extra datagram 3"), "{why}");
    }
}
