//! The class view: every student's result (a report, or why grading broke) and what the
//! CSV, the HTML index and the summary derive from it: the score histogram and each
//! check's pass rate, and each student's standing (`graded`, `no-program`, `invalid`,
//! `grader-error`): a student the grader could not judge is flagged, never a silent 0.

use super::standing::Standing;
use super::Report;
use crate::check::Status;

/// One student's result.
#[derive(Clone, Debug)]
pub(crate) struct Graded {
    /// The student's name (folder or zip name).
    pub student: String,
    /// The report, or why grading broke (an `error.txt` of an older batch).
    pub result: Result<Report, String>,
}

impl Graded {
    /// The student's standing; a result without a report is `grader-error`.
    pub(crate) fn standing(&self) -> Standing {
        self.result
            .as_ref()
            .map_or(Standing::GraderError, Report::standing)
    }

    /// Why the student is not plainly `graded` (empty when they are).
    pub(crate) fn note(&self) -> String {
        match &self.result {
            Ok(r) => r.note(),
            Err(e) => e.clone(),
        }
    }
}

/// The class's maximum, the same for every student: the largest maximum of a report (a
/// report of a submission that could not be graded has the full maximum too).
pub(crate) fn class_max(students: &[Graded]) -> f64 {
    students
        .iter()
        .filter_map(|s| s.result.as_ref().ok())
        .map(|r| r.max_score)
        .fold(0.0, f64::max)
}

/// How one check went across the class (students who had the task).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CheckRate {
    /// Task instance id.
    pub task: String,
    /// Check id.
    pub check: String,
    /// Students whose program passed.
    pub passed: usize,
    /// Students whose program failed.
    pub failed: usize,
    /// Students for whom the check errored or was skipped.
    pub other: usize,
}

impl CheckRate {
    /// Students with a verdict or an error on this check.
    pub(crate) fn total(&self) -> usize {
        self.passed + self.failed + self.other
    }
}

/// Bins of the histogram: 0-9 %, 10-19 %, ..., 90-100 %.
pub(crate) const BINS: usize = 10;

/// Class statistics.
#[derive(Clone, Debug)]
pub(crate) struct Stats {
    /// Students graded (standing `graded`).
    pub graded: usize,
    /// Students without a recognised program.
    pub no_program: usize,
    /// Students whose submission is invalid (broken `grader.toml`, refused zip).
    pub invalid: usize,
    /// Students the grader could not judge (`grader-error`): grade them again.
    pub errors: usize,
    /// Graded students per score bin (percent of the maximum).
    pub histogram: [usize; BINS],
    /// Every check seen, in report order.
    pub checks: Vec<CheckRate>,
    /// Mean score in percent of the maximum.
    pub mean_percent: f64,
}

/// A report's score in percent of its maximum (0 when the maximum is 0).
pub(crate) fn percent(report: &Report) -> f64 {
    if report.max_score > 0.0 {
        100.0 * report.score / report.max_score
    } else {
        0.0
    }
}

/// The statistics of a class.
pub(crate) fn stats(students: &[Graded]) -> Stats {
    let mut histogram = [0; BINS];
    let mut checks: Vec<CheckRate> = Vec::new();
    let mut sum = 0.0;
    let reports: Vec<&Report> = students
        .iter()
        .filter_map(|s| s.result.as_ref().ok())
        .collect();
    for report in &reports {
        let p = percent(report);
        sum += p;
        histogram[((p / 100.0 * BINS as f64) as usize).min(BINS - 1)] += 1;
        for task in &report.tasks {
            for c in &task.checks {
                let i = match checks
                    .iter()
                    .position(|r| r.task == task.id && r.check == c.id)
                {
                    Some(i) => i,
                    None => {
                        checks.push(CheckRate {
                            task: task.id.clone(),
                            check: c.id.clone(),
                            passed: 0,
                            failed: 0,
                            other: 0,
                        });
                        checks.len() - 1
                    }
                };
                match c.status {
                    Status::Pass => checks[i].passed += 1,
                    Status::Fail => checks[i].failed += 1,
                    Status::Error | Status::Skip => checks[i].other += 1,
                }
            }
        }
    }
    let count = |st: Standing| students.iter().filter(|s| s.standing() == st).count();
    Stats {
        graded: count(Standing::Graded),
        no_program: count(Standing::NoProgram),
        invalid: count(Standing::Invalid),
        errors: count(Standing::GraderError),
        histogram,
        checks,
        mean_percent: if reports.is_empty() {
            0.0
        } else {
            sum / reports.len() as f64
        },
    }
}

impl Stats {
    /// The `n` checks failed by most students (those failed by nobody left out).
    pub(crate) fn most_failed(&self, n: usize) -> Vec<&CheckRate> {
        let mut v: Vec<&CheckRate> = self.checks.iter().filter(|c| c.failed > 0).collect();
        v.sort_by_key(|c| std::cmp::Reverse(c.failed));
        v.truncate(n);
        v
    }

    /// The label of histogram bin `i`.
    pub(crate) fn bin_label(i: usize) -> String {
        let lo = i * 100 / BINS;
        let hi = if i + 1 == BINS {
            100
        } else {
            (i + 1) * 100 / BINS - 1
        };
        format!("{lo}-{hi}%")
    }
}
