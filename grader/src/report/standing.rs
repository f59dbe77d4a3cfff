//! A submission's standing in a class (SPEC 5): `graded`, or why it scores 0 without a
//! verdict on its programs (`no-program`, `invalid`), or that the grader could not judge it
//! (`grader-error`: a TA runs it again rather than publishing the 0). A submission that
//! cannot be graded at all still gets a complete [`Report`] (every task of the run missing,
//! score 0 of the full maximum, the reason in [`Problem`]), so every format, the CSV and
//! the class views are written for it like for any other.

use super::{Report, TaskReport, TaskStatus};
use crate::check::Status;
use crate::task::Kind;
use serde::{Deserialize, Serialize};

/// The `status` column of `grades.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Graded: the score is a verdict on the programs.
    Graded,
    /// No recognised program (empty folder, misnamed files, a zip with only a README).
    NoProgram,
    /// The submission cannot be read as one (broken `grader.toml`, refused or corrupt zip,
    /// two submissions with one name).
    Invalid,
    /// The grader could not judge (a check in status `error`, or grading broke).
    GraderError,
}

impl Standing {
    /// The word in `grades.csv`, the HTML and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Graded => "graded",
            Standing::NoProgram => "no-program",
            Standing::Invalid => "invalid",
            Standing::GraderError => "grader-error",
        }
    }
}

/// Why a submission could not be graded at all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// `no-program`, `invalid` or `grader-error`.
    pub status: Standing,
    /// The reason, for the student and the TA.
    pub message: String,
}

impl Report {
    /// The standing: the problem's when there is one, `grader-error` when a check errored
    /// or a present task could not be run at all (no interpreter, no working copy), else
    /// `graded`.
    pub fn standing(&self) -> Standing {
        if let Some(p) = &self.problem {
            return p.status;
        }
        if self.errored().is_empty() {
            Standing::Graded
        } else {
            Standing::GraderError
        }
    }

    /// The checks (`task/check`) and tasks the grader could not judge.
    fn errored(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tasks {
            if t.checks.is_empty() && t.status == TaskStatus::Error {
                match &t.message {
                    Some(m) => out.push(format!("{} ({m})", t.id)),
                    None => out.push(t.id.clone()),
                }
            }
            for c in t.checks.iter().filter(|c| c.status == Status::Error) {
                out.push(format!("{}/{}", t.id, c.id));
            }
        }
        out
    }

    /// What the `note` column says: the problem, or what the grader could not judge.
    pub fn note(&self) -> String {
        if let Some(p) = &self.problem {
            return p.message.clone();
        }
        let errored = self.errored();
        if errored.is_empty() {
            String::new()
        } else {
            format!(
                "the grader could not judge {}; grade again",
                errored.join(", ")
            )
        }
    }

    /// A report for a submission that could not be graded: every task of `scope` missing
    /// (with the reason), score 0; apply the rubric to it for the points.
    pub fn unusable(submission: &str, seed: u64, scope: &[Kind], problem: Problem) -> Report {
        let tasks = scope
            .iter()
            .map(|kind| TaskReport {
                id: kind.id.to_string(),
                kind: kind.id.to_string(),
                command: vec![],
                status: TaskStatus::Missing,
                score: 0.0,
                max_score: kind.checks.len() as f64,
                message: Some(format!("not graded: {}", problem.message)),
                checks: vec![],
            })
            .collect();
        Report {
            submission: submission.to_string(),
            seed,
            score: 0.0,
            max_score: 0.0,
            tasks,
            run_id: String::new(),
            isolation: vec![],
            interrupted: None,
            problem: Some(problem),
            fingerprint: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckReport;
    use crate::rubric::Rubric;
    use crate::tasks::ALL;

    #[test]
    fn an_unusable_submission_scores_zero_of_the_full_maximum_and_says_why() {
        let problem = Problem {
            status: Standing::NoProgram,
            message: "no recognised program".into(),
        };
        let mut r = Report::unusable("s", 1, ALL, problem);
        Rubric::default().apply(&mut r);
        let full: usize = ALL.iter().map(|k| k.checks.len()).sum();
        assert_eq!((r.score, r.max_score), (0.0, full as f64));
        assert_eq!(r.standing(), Standing::NoProgram);
        assert_eq!(r.note(), "no recognised program");
        assert!(r.tasks.iter().all(|t| t.status == TaskStatus::Missing));
    }

    #[test]
    fn a_check_the_grader_could_not_judge_makes_a_grader_error() {
        let mut r = Report::unusable(
            "s",
            1,
            &[&crate::tasks::counter::TASK],
            Problem {
                status: Standing::Graded,
                message: String::new(),
            },
        );
        r.problem = None;
        assert_eq!(
            r.standing(),
            Standing::Graded,
            "a missing task is a verdict"
        );
        r.tasks[0].status = TaskStatus::Fail;
        r.tasks[0].checks.push(CheckReport {
            id: "total".into(),
            status: Status::Error,
            score: 0.0,
            max_score: 1.0,
            message: "no free port".into(),
            counterexample: None,
            seed: 1,
            duration_ms: 1,
            summary: String::new(),
            reproduce: None,
            hidden: false,
        });
        assert_eq!(r.standing(), Standing::GraderError);
        assert!(r.note().contains("counter/total"), "{}", r.note());
    }
}
