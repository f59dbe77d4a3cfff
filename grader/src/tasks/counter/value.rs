//! The counter's answer: finding `Obtained value: N` among whatever else the program
//! prints, and saying in words what a wrong value suggests (an off-by-one, the lecture's
//! hard-coded defaults, lost updates).

/// The lecture's `THREADS` and `INCREMENTS` defaults, which a program that ignores the
/// environment uses.
const LECTURE_DEFAULTS: (u64, u64) = (10, 50_000);

/// The value of the last `Obtained value: N` line (case and spaces around the colon
/// tolerated, other lines and text before the label ignored).
pub(super) fn obtained(output: &str) -> Option<u64> {
    const LABEL: &str = "obtained value";
    output.lines().rev().find_map(|line| {
        let at = line.to_ascii_lowercase().find(LABEL)?;
        let rest = line[at + LABEL.len()..].trim_start();
        let rest = rest.strip_prefix(':')?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// A hint on why `threads` threads of `increments` increments gave `got`, or `None` when
/// nothing specific fits.
pub(super) fn explain(threads: u64, increments: u64, got: u64) -> Option<String> {
    let expected = threads * increments;
    let (lecture_threads, lecture_increments) = LECTURE_DEFAULTS;
    if got == lecture_threads * lecture_increments
        || got == lecture_threads * increments
        || got == threads * lecture_increments
    {
        return Some(format!(
            "that is what the lecture's defaults ({lecture_threads} threads x {lecture_increments}) give: read THREADS and INCREMENTS from the environment, e.g. THREADS = int(os.environ.get(\"THREADS\", 10))"
        ));
    }
    if got + threads == expected {
        return Some(format!(
            "{threads} less, one per thread - each thread adds one too few; an off-by-one in its loop? (range(0, n) runs n times)"
        ));
    }
    if got == expected + threads {
        return Some(format!(
            "{threads} more, one per thread - each thread adds one too many; an off-by-one in its loop? (range(0, n) runs n times)"
        ));
    }
    if got > 0 && got.checked_rem(increments) == Some(0) && got < expected {
        return Some(format!(
            "the work of {} thread(s), not {threads}: are all threads started and joined before printing?",
            got / increments
        ));
    }
    if got < expected {
        return Some(format!(
            "{} updates are missing: threads that read and write the counter at the same time lose updates; protect `a = a + 1` with a Lock",
            expected - got
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_value_among_other_lines() {
        let out = "Thread-1 starting processing\nExcepted value: 20\nObtained value: 20\n";
        assert_eq!(obtained(out), Some(20));
        assert_eq!(
            obtained("result -> Obtained Value :  42 (ok)\r\n"),
            Some(42)
        );
        assert_eq!(obtained("Obtained value: 1\nObtained value: 2"), Some(2));
        assert_eq!(obtained("Expected value: 20\n"), None);
        assert_eq!(obtained("Obtained value: \n"), None);
        assert_eq!(obtained("Obtained value 20\n"), None);
    }

    #[test]
    fn explains_typical_wrong_values() {
        assert!(explain(4, 1000, 3996).unwrap().contains("one too few"));
        assert!(explain(4, 1000, 4004).unwrap().contains("one too many"));
        assert!(explain(4, 1000, 500_000).unwrap().contains("defaults"));
        assert!(explain(4, 1000, 10_000).unwrap().contains("defaults"));
        assert!(explain(4, 1000, 1000)
            .unwrap()
            .contains("work of 1 thread(s)"));
        assert!(explain(4, 1000, 2345).unwrap().contains("1655 updates"));
        assert_eq!(explain(4, 1000, 4100), None);
    }
}
