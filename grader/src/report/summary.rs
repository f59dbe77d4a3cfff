//! The summary a batch prints when it ends: how many students were graded, the score
//! histogram, the checks the class failed most, and the students who are not plainly
//! graded (no program, invalid, or `grader-error`: grade those again).

use super::class::{stats, Graded, Stats};
use super::standing::Standing;
use std::fmt::Write;

/// The summary text.
pub(crate) fn render(students: &[Graded]) -> String {
    let st = stats(students);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}; mean score {:.1}%",
        headline(students, &st),
        st.mean_percent
    );
    let top = st.histogram.iter().copied().max().unwrap_or(0).max(1);
    out.push_str("\nscores\n");
    for (i, n) in st.histogram.iter().enumerate().rev() {
        let _ = writeln!(
            out,
            "  {:>7}  {:>4}  {}",
            Stats::bin_label(i),
            n,
            "#".repeat((n * 40).div_ceil(top))
        );
    }
    let worst = st.most_failed(5);
    if !worst.is_empty() {
        out.push_str("\nchecks failed most\n");
        for c in worst {
            let _ = writeln!(
                out,
                "  {:>4} of {:<4} {}/{}",
                c.failed,
                c.total(),
                c.task,
                c.check
            );
        }
    }
    let flagged: Vec<&Graded> = students
        .iter()
        .filter(|s| s.standing() != Standing::Graded)
        .collect();
    if !flagged.is_empty() {
        out.push_str("\nnot graded (score 0), or the grader could not judge (grade them again)\n");
        for s in flagged {
            let _ = writeln!(
                out,
                "  {}: {}: {}",
                crate::escape::line(s.student.as_bytes()),
                s.standing().as_str(),
                crate::escape::text(s.note().as_bytes()).replace('\n', " ")
            );
        }
    }
    out
}

/// `5 students: 3 graded, 1 no-program, 1 grader-error` (only the standings present).
pub(crate) fn headline(students: &[Graded], st: &Stats) -> String {
    let mut parts = vec![format!("{} graded", st.graded)];
    for (n, what) in [
        (st.no_program, Standing::NoProgram),
        (st.invalid, Standing::Invalid),
        (st.errors, Standing::GraderError),
    ] {
        if n > 0 {
            parts.push(format!("{n} {}", what.as_str()));
        }
    }
    format!("{} students: {}", students.len(), parts.join(", "))
}
