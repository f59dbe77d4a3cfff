//! PrairieLearn's external-grader `results.json`: `gradable`, `score` as a fraction in
//! 0..1, a `message`, and one test per check (`name`, `description`, `points`,
//! `max_points`, `message`, `output`). `gradable` is false only when the grader itself
//! could not work (every check errored, or grading broke): PrairieLearn then does not count
//! the attempt. A submission without a recognised program or with a broken `grader.toml`
//! is gradable: it scores 0 and the message says why (SPEC 6).

use super::csv::points;
use super::standing::Standing;
use super::Report;
use crate::check::Status;
use serde_json::{json, Value};

/// False when the grader could not work: a grading that broke, or checks that ran and
/// all errored (no verdict at all).
pub(crate) fn gradable(report: &Report) -> bool {
    if let Some(p) = &report.problem {
        return p.status != Standing::GraderError;
    }
    let checks: Vec<Status> = report
        .tasks
        .iter()
        .flat_map(|t| &t.checks)
        .map(|c| c.status)
        .collect();
    checks.is_empty()
        || checks
            .iter()
            .any(|s| matches!(s, Status::Pass | Status::Fail))
}

/// The `results.json` value.
pub(crate) fn results(report: &Report) -> Value {
    let mut tests = Vec::new();
    for task in &report.tasks {
        if task.checks.is_empty() {
            tests.push(json!({
                "name": task.id,
                "description": "the task's program",
                "points": 0.0,
                "max_points": task.max_score,
                "message": task.message.clone().unwrap_or_default(),
                "output": "",
            }));
        }
        for c in &task.checks {
            let mut output = String::new();
            if let Some(case) = &c.counterexample {
                output.push_str(&format!("smallest failing case: {case}\n"));
            }
            if let Some(cmd) = c.reproduce.as_ref().filter(|_| c.status == Status::Fail) {
                output.push_str(&format!("reproduce: {cmd}\n"));
            }
            tests.push(json!({
                "name": format!("{}: {}", task.id, c.id),
                "description": c.summary,
                "points": c.score,
                "max_points": c.max_score,
                "message": c.message,
                "output": output,
            }));
        }
    }
    let gradable = gradable(report);
    let score = if report.max_score > 0.0 {
        (report.score / report.max_score).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let message = match &report.problem {
        Some(p) if gradable => format!(
            "not graded, score 0: {} (score 0/{})",
            p.message,
            points(report.max_score)
        ),
        Some(p) => format!("the grader could not work: {}", p.message),
        None if gradable => format!(
            "score {}/{} (seed {})",
            points(report.score),
            points(report.max_score),
            report.seed
        ),
        None => "the grader could not judge any check; this attempt does not count".into(),
    };
    json!({
        "gradable": gradable,
        "score": score,
        "message": message,
        "tests": tests,
    })
}

/// `results.json` as text.
pub(crate) fn render(report: &Report) -> String {
    let mut s = super::json::pretty(&results(report));
    s.push('\n');
    s
}
