//! The result model of a run (SPEC section 6) and the formats it is written in. One
//! model, several writers: [`human`] for people, [`json`] for machines, and one file per
//! platform (JUnit, Gradescope, GitHub, PrairieLearn, Autolab) and per class view (CSV,
//! HTML); every writer reads the same [`Report`], after the rubric was applied to it.

pub(crate) mod autolab;
pub(crate) mod board;
pub(crate) mod class;
pub(crate) mod csv;
pub(crate) mod format;
pub(crate) mod github;
pub(crate) mod gradescope;
pub(crate) mod html;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod prairielearn;
pub mod standing;
pub(crate) mod students;
pub(crate) mod summary;
pub(crate) mod xml;

use crate::check::Status;
use serde::{Deserialize, Serialize};

/// A whole submission's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The submission path as given.
    pub submission: String,
    /// The run seed: `--seed` reproduces the run.
    pub seed: u64,
    /// Points obtained.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// One entry per task instance, in the SPEC's task order.
    pub tasks: Vec<TaskReport>,
    /// The run's cookie: every program of the run had `GRADER_RUN=<run_id>-<n>` in its
    /// environment (extra field).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run_id: String,
    /// The containment layers in force, e.g. `["process-group", ..., "network-namespace"]`
    /// (extra field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isolation: Vec<String>,
    /// Set when SIGINT or SIGTERM stopped the run: its checks are `error` (extra field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// Set when the submission could not be graded at all (no program, invalid, the
    /// grader failed); its tasks are then all missing (extra field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<standing::Problem>,
    /// What the report was graded from (files, seed, rubric, options, grader version):
    /// a batch reuses the report only when it still matches (extra field).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
}

/// Status of a task (SPEC section 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Every check passed (or was skipped).
    Pass,
    /// At least one check failed.
    Fail,
    /// The grader could not judge (and nothing failed).
    Error,
    /// The program is not in the submission.
    Missing,
}

/// One task instance's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskReport {
    /// Instance id.
    pub id: String,
    /// Task kind id.
    pub kind: String,
    /// The command as given (empty when missing).
    pub command: Vec<String>,
    /// Overall status.
    pub status: TaskStatus,
    /// Points obtained.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// Why the task is missing or could not run (extra field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Every check, in the SPEC's order.
    pub checks: Vec<CheckReport>,
}

/// One check's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    /// Check id (SPEC section 4).
    pub id: String,
    /// Verdict.
    pub status: Status,
    /// Points obtained.
    pub score: f64,
    /// Points possible (0 for a skipped check).
    pub max_score: f64,
    /// What happened.
    pub message: String,
    /// The smallest failing case, escaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<String>,
    /// The run seed.
    pub seed: u64,
    /// Wall time of the check.
    pub duration_ms: u64,
    /// What passing means (extra field).
    #[serde(default)]
    pub summary: String,
    /// A command that runs this check again (extra field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    /// Graded but not named to students (rubric `hidden`; extra field).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

impl Report {
    /// True when no check of a present task failed or errored.
    pub fn passed(&self) -> bool {
        self.tasks
            .iter()
            .all(|t| matches!(t.status, TaskStatus::Pass | TaskStatus::Missing))
    }
}

impl TaskReport {
    /// Derives status and score from the checks.
    pub fn settle(&mut self) {
        self.score = self.checks.iter().map(|c| c.score).sum();
        self.max_score = self.checks.iter().map(|c| c.max_score).sum();
        let has = |s: Status| self.checks.iter().any(|c| c.status == s);
        self.status = if has(Status::Fail) {
            TaskStatus::Fail
        } else if has(Status::Error) || self.message.is_some() {
            TaskStatus::Error
        } else {
            TaskStatus::Pass
        };
    }
}
