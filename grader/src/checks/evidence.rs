//! Evidence for hints. A message states what was observed; it names a likely cause only
//! when the observation points to it. Each function here tests one such piece of evidence
//! on what a check saw, so a hint is given for a reason and never as a guess.

/// What to tell a student whose server dropped whitespace at the edges of its chunks.
pub(crate) const STRIP_HINT: &str = "the bytes missing are exactly the whitespace at the start or end of what the server received in one piece: do not strip() (or rstrip()) the data, answer every byte, spaces, tabs and newlines included";

/// True when `got` is `expected` with some whitespace removed and nothing else changed,
/// and every removed run of whitespace touches the start or end of a piece the stream was
/// written in (`edges`: the offsets where pieces end, the last one at `expected.len()`).
/// That is what `data.strip()` on each `recv()` chunk does.
pub(crate) fn stripped(expected: &[u8], edges: &[usize], got: &[u8]) -> bool {
    if got.len() >= expected.len() {
        return false;
    }
    let mut removed = vec![false; expected.len()];
    let mut j = 0;
    for (i, &b) in expected.iter().enumerate() {
        if j < got.len() && got[j] == b {
            j += 1;
        } else if b.is_ascii_whitespace() {
            removed[i] = true;
        } else {
            return false;
        }
    }
    if j != got.len() {
        return false;
    }
    let at_edge = |k: usize| k == 0 || k == expected.len() || edges.contains(&k);
    // Each removed byte lies in a maximal whitespace run of `expected` that reaches a
    // piece's edge (a run across an edge is the end of one piece and the start of the next).
    let mut i = 0;
    while i < expected.len() {
        if !expected[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < expected.len() && expected[i].is_ascii_whitespace() {
            i += 1;
        }
        if removed[start..i].contains(&true) && !(start..=i).any(at_edge) {
            return false;
        }
    }
    true
}

/// The offsets where pieces of the given lengths end.
pub(crate) fn edges<'a>(lengths: impl IntoIterator<Item = &'a [u8]>) -> Vec<usize> {
    let mut end = 0;
    lengths
        .into_iter()
        .map(|piece| {
            end += piece.len();
            end
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_lost_at_chunk_edges_is_strip() {
        assert!(stripped(b"\tL\nEDSAP2QB\t>", &[13], b"L\nEDSAP2QB\t>"));
        assert!(stripped(b"HELLO 42\n", &[9], b"HELLO 42"));
        // Two chunks, each stripped: "AB " + " CD" -> "AB" + "CD".
        assert!(stripped(b"AB  CD", &[3, 6], b"ABCD"));
    }

    #[test]
    fn other_losses_are_not_strip() {
        // Whitespace inside a chunk.
        assert!(!stripped(b"AB CD", &[5], b"ABCD"));
        // Letters missing (a server that read once and closed).
        assert!(!stripped(b"ABCDEF", &[6], b"ABC"));
        // Nothing missing, or something changed.
        assert!(!stripped(b"AB", &[2], b"AB"));
        assert!(!stripped(b" AB", &[3], b"ab"));
    }

    #[test]
    fn edges_are_running_sums() {
        let pieces: [&[u8]; 3] = [b"ab", b"", b"cde"];
        assert_eq!(edges(pieces), [2, 2, 5]);
    }
}
