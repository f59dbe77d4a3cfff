//! The report as students may see it: a hidden check (rubric `hidden`) keeps its verdict
//! and points, but its name, meaning, message, failing case and reproduce command are
//! replaced, so a student-facing format cannot leak what it tests. Every free text also
//! passes through [`crate::escape::text`] here, once for all student-facing formats, so no
//! control, bidi or invisible character a program produced reaches a CI log, a browser or
//! a terminal. The TA-facing files (the JSON report, the CSV, the summary) keep the full
//! report.

use super::Report;
use crate::check::Status;
use crate::escape;

/// A copy of `report` with every hidden check made anonymous (`hidden-1`, `hidden-2`, ...
/// per task, in order).
pub(crate) fn redact(report: &Report) -> Report {
    let mut out = report.clone();
    let clean = |s: &mut String| *s = escape::text(s.as_bytes());
    clean(&mut out.submission);
    for task in &mut out.tasks {
        task.command.iter_mut().for_each(clean);
        if let Some(m) = &mut task.message {
            clean(m);
        }
        for check in &mut task.checks {
            clean(&mut check.message);
            clean(&mut check.summary);
            check.counterexample.iter_mut().for_each(clean);
            check.reproduce.iter_mut().for_each(clean);
        }
        let mut n = 0;
        for check in task.checks.iter_mut().filter(|c| c.hidden) {
            n += 1;
            check.id = format!("hidden-{n}");
            check.summary = "a hidden check".into();
            check.message = match check.status {
                Status::Pass => "passed".into(),
                Status::Fail => "failed (the details of hidden checks are not shown)".into(),
                Status::Error => "the grader could not judge this hidden check".into(),
                Status::Skip => "skipped".into(),
            };
            check.counterexample = None;
            check.reproduce = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckReport, TaskReport, TaskStatus};

    #[test]
    fn hidden_checks_lose_their_name_and_details_but_keep_points() {
        let secret = CheckReport {
            id: "reuse-addr".into(),
            status: Status::Fail,
            score: 0.0,
            max_score: 3.0,
            message: "bind failed: SO_REUSEADDR".into(),
            counterexample: Some("x".into()),
            seed: 1,
            duration_ms: 1,
            summary: "restarts on the same port".into(),
            reproduce: Some("grader check . --check reuse-addr".into()),
            hidden: true,
        };
        let report = Report {
            submission: "s".into(),
            run_id: String::new(),
            isolation: vec![],
            interrupted: None,
            problem: None,
            fingerprint: String::new(),
            seed: 1,
            score: 0.0,
            max_score: 3.0,
            tasks: vec![TaskReport {
                id: "tcp-upper".into(),
                kind: "tcp-upper".into(),
                command: vec![],
                status: TaskStatus::Fail,
                score: 0.0,
                max_score: 3.0,
                message: None,
                checks: vec![secret],
            }],
        };
        let shown = serde_json::to_string(&redact(&report)).unwrap();
        assert!(
            !shown.contains("reuse") && !shown.contains("REUSE"),
            "{shown}"
        );
        assert!(shown.contains("hidden-1") && shown.contains("\"max_score\":3.0"));
    }
}
