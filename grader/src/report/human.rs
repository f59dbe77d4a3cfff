//! The report for people: per task a header with its score, per check a mark, the check
//! id and what it means; under a failure the explanation, the smallest failing case and
//! the command that reproduces it. Colour only when asked (a terminal without `NO_COLOR`).
//! Every text passes through [`crate::escape::text`] once more, so nothing a program
//! printed can reach the terminal raw.

use super::{CheckReport, Report, TaskReport, TaskStatus};
use crate::check::Status;
use crate::escape;
use std::fmt::Write;

/// How to draw the report.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Style {
    /// Use ANSI colours.
    pub color: bool,
    /// Also explain passing checks and list every check of passing tasks.
    pub verbose: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn mark(style: &Style, status: Status) -> String {
    match status {
        Status::Pass => style.paint("32", "PASS "),
        Status::Fail => style.paint("1;31", "FAIL "),
        Status::Error => style.paint("33", "ERROR"),
        Status::Skip => style.paint("2", "SKIP "),
    }
}

fn points(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The whole report as text.
pub(crate) fn render(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "grader: {} (seed {})",
        escape::line(report.submission.as_bytes()),
        report.seed
    );
    if let Some(signal) = &report.interrupted {
        let _ = writeln!(
            out,
            "interrupted by {signal}: checks that had not finished are marked ERROR"
        );
    }
    for task in report
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Missing)
    {
        out.push('\n');
        render_task(&mut out, task, style);
    }
    // A missing task's message is "missing: ... not found", then a line per suggestion.
    let (missing, hints): (Vec<String>, Vec<&str>) = report
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Missing)
        .map(|t| {
            let message = t.message.as_deref().unwrap_or("");
            let (first, hint) = message.split_once('\n').unwrap_or((message, ""));
            (
                format!("{} ({})", t.id, first.trim_start_matches("missing: ")),
                hint,
            )
        })
        .unzip();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            style.paint("2", &format!("missing: {}", missing.join(", ")))
        );
    }
    for hint in hints.iter().flat_map(|h| h.lines()) {
        let _ = writeln!(out, "  {}", escape::text(hint.as_bytes()));
    }
    let failed: usize = report
        .tasks
        .iter()
        .flat_map(|t| &t.checks)
        .filter(|c| c.status == Status::Fail)
        .count();
    let missing = report
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Missing)
        .count();
    let _ = write!(
        out,
        "\nscore {}/{}",
        points(report.score),
        points(report.max_score)
    );
    let mut notes = Vec::new();
    if failed > 0 {
        notes.push(format!(
            "{failed} check{} failed",
            if failed == 1 { "" } else { "s" }
        ));
    }
    if missing > 0 {
        notes.push(format!(
            "{missing} task{} missing",
            if missing == 1 { "" } else { "s" }
        ));
    }
    // A task that could not run at all (its file refused, say) has no checks to fail.
    let not_run = report
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Error && t.checks.is_empty())
        .count();
    if not_run > 0 {
        notes.push(format!(
            "{not_run} task{} could not run",
            if not_run == 1 { "" } else { "s" }
        ));
    }
    if notes.is_empty() {
        notes.push("every check passed".into());
    }
    let _ = writeln!(out, " - {}", notes.join(", "));
    out
}

fn render_task(out: &mut String, task: &TaskReport, style: &Style) {
    let command = escape::line(task.command.join(" ").as_bytes());
    let head = style.paint("1", &escape::line(task.id.as_bytes()));
    let _ = writeln!(
        out,
        "{head}  {command}  {}/{}",
        points(task.score),
        points(task.max_score)
    );
    if let Some(msg) = &task.message {
        let _ = writeln!(out, "  {}", escape::text(msg.as_bytes()));
    }
    let width = task.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for check in &task.checks {
        render_check(out, check, width, style);
    }
}

fn render_check(out: &mut String, check: &CheckReport, width: usize, style: &Style) {
    let _ = writeln!(
        out,
        "  {} {:width$}  {}",
        mark(style, check.status),
        check.id,
        check.summary
    );
    let explain = check.status != Status::Pass || style.verbose;
    if !explain {
        return;
    }
    let pad = " ".repeat(9);
    for line in escape::text(check.message.as_bytes()).lines() {
        let _ = writeln!(out, "{pad}{line}");
    }
    if let Some(case) = &check.counterexample {
        let _ = writeln!(
            out,
            "{pad}smallest failing case: {}",
            escape::text(case.as_bytes())
        );
    }
    if let Some(cmd) = check
        .reproduce
        .as_ref()
        .filter(|_| check.status == Status::Fail)
    {
        let _ = writeln!(out, "{pad}reproduce: {}", escape::text(cmd.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: Status, message: &str) -> CheckReport {
        CheckReport {
            id: "fragmented".into(),
            status,
            score: if status == Status::Pass { 1.0 } else { 0.0 },
            max_score: 1.0,
            message: message.into(),
            counterexample: Some("sent \"hel\" +2.0ms \"lo\"".into()),
            seed: 7,
            duration_ms: 3,
            summary: "a stream in fragments comes back whole".into(),
            reproduce: Some("grader check sub --task tcp-upper --check fragmented --seed 7".into()),
            hidden: false,
        }
    }

    #[test]
    fn a_failure_shows_its_case_and_reproduce_line_without_raw_controls() {
        let mut task = TaskReport {
            id: "tcp-upper".into(),
            kind: "tcp-upper".into(),
            command: vec!["python3".into(), "server1.py".into()],
            status: TaskStatus::Fail,
            score: 0.0,
            max_score: 0.0,
            message: None,
            checks: vec![check(Status::Fail, "got \x1b[2J garbage")],
        };
        task.settle();
        let report = Report {
            submission: "sub".into(),
            seed: 7,
            score: 0.0,
            max_score: 1.0,
            tasks: vec![task],
            run_id: String::new(),
            isolation: vec![],
            interrupted: None,
            problem: None,
            fingerprint: String::new(),
        };
        let text = render(&report, &Style::default());
        assert!(text.contains("FAIL  fragmented"), "{text}");
        assert!(
            text.contains("smallest failing case: sent \"hel\" +2.0ms \"lo\""),
            "{text}"
        );
        assert!(
            text.contains(
                "reproduce: grader check sub --task tcp-upper --check fragmented --seed 7"
            ),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("score 0/1 - 1 check failed"), "{text}");
    }
}
