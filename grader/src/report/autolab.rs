//! Autolab: the readable report for the student, then on the last line of stdout the
//! JSON Autolab parses, `{"scores": {"<task>": points, ...}}` (one key per task id, the
//! problem names to configure in Autolab), plus a `scoreboard` with the total.

use super::Report;
use serde_json::{json, Map, Value};

/// The last line: scores per task kind (instances of one kind count their mean, as in the
/// total).
pub(crate) fn scores_line(report: &Report) -> String {
    let mut scores = Map::new();
    let kinds = crate::rubric::per_kind(report);
    for kind in crate::tasks::ALL {
        let points = kinds.iter().find(|k| k.0 == kind.id).map_or(0.0, |k| k.1);
        scores.insert(kind.id.to_string(), json!(super::github::round(points)));
    }
    super::json::compact(
        &json!({"scores": Value::Object(scores), "scoreboard": [super::github::round(report.score)]}),
    )
}

/// The human report followed by the scores line.
pub(crate) fn render(report: &Report, human: &str) -> String {
    format!("{human}\n{}\n", scores_line(report))
}
