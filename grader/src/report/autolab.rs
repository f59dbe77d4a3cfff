//! Autolab: the readable report for the student, then on the last line of stdout the
//! JSON Autolab parses, `{"scores": {"<task>": points, ...}}` (one key per task id, the
//! problem names to configure in Autolab), plus a `scoreboard` with the total.

use super::Report;
use serde_json::{json, Map, Value};

/// The last line: scores per task kind (instances of one kind add up).
pub fn scores_line(report: &Report) -> String {
    let mut scores = Map::new();
    for kind in crate::tasks::ALL {
        let points: f64 = report
            .tasks
            .iter()
            .filter(|t| t.kind == kind.id())
            .map(|t| t.score)
            .sum();
        scores.insert(kind.id().to_string(), json!(points + 0.0));
    }
    super::json::compact(&json!({"scores": Value::Object(scores), "scoreboard": [report.score]}))
}

/// The human report followed by the scores line.
pub fn render(report: &Report, human: &str) -> String {
    format!("{human}\n{}\n", scores_line(report))
}
