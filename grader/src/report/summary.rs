//! The summary a batch prints when it ends: how many students were graded, the score
//! histogram, the checks the class failed most, and the students who could not be graded.

use super::class::{stats, Graded, Stats};
use std::fmt::Write;

/// The summary text.
pub fn render(students: &[Graded]) -> String {
    let st = stats(students);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} students: {} graded, {} could not be graded; mean score {:.1}%",
        students.len(),
        st.graded,
        st.errors,
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
    let broken: Vec<&Graded> = students.iter().filter(|s| s.result.is_err()).collect();
    if !broken.is_empty() {
        out.push_str("\ncould not be graded\n");
        for s in broken {
            let _ = writeln!(
                out,
                "  {}: {}",
                crate::escape::line(s.student.as_bytes()),
                crate::escape::text(s.result.as_ref().err().map_or("", |e| e).as_bytes())
                    .replace('\n', " ")
            );
        }
    }
    out
}
