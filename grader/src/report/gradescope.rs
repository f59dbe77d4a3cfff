//! Gradescope's `results.json` (the autograder specification): the total `score`, and one
//! test per check with `name` ("task: check"), `score`, `max_score`, `status`
//! ("passed"/"failed"), `output` and `visibility`. Hidden checks are `"hidden"` to
//! students (and anonymous in the redacted report this is given); a task that is missing
//! or could not run is one failed test worth the task's points, saying why.

use super::{Report, TaskReport};
use crate::check::Status;
use serde::Serialize;

/// The top level of `results.json`.
#[derive(Serialize)]
pub(crate) struct Results {
    /// Points obtained (overrides the sum of the tests' scores).
    pub score: f64,
    /// Wall time of the run, in seconds (the longest check).
    pub execution_time: u64,
    /// Shown above the tests.
    pub output: String,
    /// `"text"`: outputs are plain text.
    pub output_format: &'static str,
    /// Every check.
    pub tests: Vec<Test>,
}

/// One entry of `tests`.
#[derive(Serialize)]
pub(crate) struct Test {
    /// "task: check".
    pub name: String,
    /// Points obtained.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// "passed" or "failed".
    pub status: &'static str,
    /// What happened.
    pub output: String,
    /// "visible" or "hidden".
    pub visibility: &'static str,
}

/// "what the check means - what happened" (without a dangling dash when nothing happened).
pub(crate) fn describe(summary: &str, message: &str) -> String {
    match (summary.is_empty(), message.is_empty()) {
        (_, true) => summary.to_string(),
        (true, false) => message.to_string(),
        (false, false) => format!("{summary} - {message}"),
    }
}

fn output(message: &str, case: Option<&String>, reproduce: Option<&String>) -> String {
    let mut out = message.to_string();
    if let Some(case) = case {
        out.push_str(&format!("\nsmallest failing case: {case}"));
    }
    if let Some(cmd) = reproduce {
        out.push_str(&format!("\nreproduce: {cmd}"));
    }
    out
}

fn tests(task: &TaskReport) -> Vec<Test> {
    if task.checks.is_empty() {
        return vec![Test {
            name: task.id.clone(),
            score: 0.0,
            max_score: task.max_score,
            status: "failed",
            output: task.message.clone().unwrap_or_else(|| "not graded".into()),
            visibility: "visible",
        }];
    }
    task.checks
        .iter()
        .map(|c| Test {
            name: format!("{}: {}", task.id, c.id),
            score: c.score,
            max_score: c.max_score,
            status: if matches!(c.status, Status::Pass | Status::Skip) {
                "passed"
            } else {
                "failed"
            },
            output: output(
                &describe(&c.summary, &c.message),
                c.counterexample.as_ref(),
                c.reproduce.as_ref().filter(|_| c.status == Status::Fail),
            ),
            // Gradescope's `hidden` is for tests worth nothing: a hidden test with points
            // would still count in the total students see, so it waits for publication.
            visibility: match (c.hidden, c.max_score > 0.0) {
                (false, _) => "visible",
                (true, true) => "after_published",
                (true, false) => "hidden",
            },
        })
        .collect()
}

/// The `results.json` model of a report.
pub(crate) fn results(report: &Report) -> Results {
    Results {
        score: report.score,
        execution_time: report
            .tasks
            .iter()
            .flat_map(|t| &t.checks)
            .map(|c| c.duration_ms)
            .max()
            .unwrap_or(0)
            .div_ceil(1000),
        output: match &report.problem {
            Some(p) => format!(
                "The submission could not be graded: {} (score 0/{})",
                p.message,
                super::csv::points(report.max_score)
            ),
            None => format!(
                "score {}/{} (seed {}; reproduce a failure locally with the command shown under it)",
                super::csv::points(report.score),
                super::csv::points(report.max_score),
                report.seed
            ),
        },
        output_format: "text",
        tests: report.tasks.iter().flat_map(tests).collect(),
    }
}

/// `results.json` as text.
pub(crate) fn render(report: &Report) -> String {
    let mut s = super::json::pretty(&results(report));
    s.push('\n');
    s
}
