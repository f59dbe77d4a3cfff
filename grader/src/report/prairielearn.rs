//! PrairieLearn's external-grader `results.json`: `gradable`, `score` as a fraction in
//! 0..1, a `message`, and one test per check (`name`, `description`, `points`,
//! `max_points`, `message`, `output`). `gradable` is false when nothing could be judged
//! (no program found, or every check errored): PrairieLearn then does not count the
//! attempt against the student.

use super::Report;
use crate::check::Status;
use serde_json::{json, Value};

/// True when at least one check gave a verdict on the program (pass or fail).
pub fn gradable(report: &Report) -> bool {
    report
        .tasks
        .iter()
        .flat_map(|t| &t.checks)
        .any(|c| matches!(c.status, Status::Pass | Status::Fail))
}

/// The `results.json` value.
pub fn results(report: &Report) -> Value {
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
    let message = if gradable {
        format!(
            "score {}/{} (seed {})",
            report.score, report.max_score, report.seed
        )
    } else {
        "nothing could be graded: no program was found or every check could not run".into()
    };
    json!({
        "gradable": gradable,
        "score": score,
        "message": message,
        "tests": tests,
    })
}

/// `results.json` as text.
pub fn render(report: &Report) -> String {
    let mut s = super::json::pretty(&results(report));
    s.push('\n');
    s
}
