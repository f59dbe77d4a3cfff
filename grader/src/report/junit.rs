//! JUnit XML, as GitLab, Jenkins and most CI systems read it: one `<testsuite>` per task,
//! one `<testcase>` per check (`classname` = task id), a failure's explanation, smallest
//! failing case and reproduce command in the body of `<failure>`. A task that is missing
//! or could not run is one testcase named after the task (`<skipped>` / `<error>`), so no
//! check name of a hidden check leaks. Every text is XML-escaped.

use super::xml::{attr, text};
use super::{CheckReport, Report, TaskReport, TaskStatus};
use crate::check::Status;
use std::fmt::Write;

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    ms: u64,
}

fn counts(task: &TaskReport) -> Counts {
    if task.checks.is_empty() {
        // A missing task costs points: a failure, not a grey `skipped` (SPEC 6).
        return Counts {
            tests: 1,
            errors: usize::from(task.status != TaskStatus::Missing),
            failures: usize::from(task.status == TaskStatus::Missing),
            ..Counts::default()
        };
    }
    let n = |s: Status| task.checks.iter().filter(|c| c.status == s).count();
    Counts {
        tests: task.checks.len(),
        failures: n(Status::Fail),
        errors: n(Status::Error),
        skipped: n(Status::Skip),
        ms: task.checks.iter().map(|c| c.duration_ms).max().unwrap_or(0),
    }
}

/// The report as a JUnit XML document.
pub(crate) fn render(report: &Report) -> String {
    let all: Vec<Counts> = report.tasks.iter().map(counts).collect();
    let sum = |f: fn(&Counts) -> usize| all.iter().map(f).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"grader\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        sum(|c| c.tests),
        sum(|c| c.failures),
        sum(|c| c.errors),
        sum(|c| c.skipped),
        seconds(all.iter().map(|c| c.ms).sum())
    );
    for (task, c) in report.tasks.iter().zip(&all) {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            attr(&task.id),
            c.tests,
            c.failures,
            c.errors,
            c.skipped,
            seconds(c.ms)
        );
        if task.checks.is_empty() {
            let why = task.message.as_deref().unwrap_or("not graded");
            let element = if task.status == TaskStatus::Missing {
                "failure"
            } else {
                "error"
            };
            let _ = writeln!(
                out,
                "    <testcase name=\"{id}\" classname=\"{id}\" time=\"0.000\">\n      <{element} message=\"{}\"/>\n    </testcase>",
                attr(why),
                id = attr(&task.id)
            );
        }
        for check in &task.checks {
            testcase(&mut out, &task.id, check);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, task: &str, check: &CheckReport) {
    let head = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
        attr(&check.id),
        attr(task),
        seconds(check.duration_ms)
    );
    let first = check.message.lines().next().unwrap_or_default();
    match check.status {
        Status::Pass => {
            let _ = writeln!(out, "{head}/>");
        }
        Status::Skip => {
            let _ = writeln!(
                out,
                "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                attr(first)
            );
        }
        Status::Fail | Status::Error => {
            let element = if check.status == Status::Fail {
                "failure"
            } else {
                "error"
            };
            let mut body = check.message.clone();
            if let Some(case) = &check.counterexample {
                let _ = write!(body, "\nsmallest failing case: {case}");
            }
            if let Some(cmd) = check
                .reproduce
                .as_ref()
                .filter(|_| check.status == Status::Fail)
            {
                let _ = write!(body, "\nreproduce: {cmd}");
            }
            let _ = writeln!(
                out,
                "{head}>\n      <{element} message=\"{}\" type=\"{element}\">{}</{element}>\n    </testcase>",
                attr(first),
                text(&body)
            );
        }
    }
}
