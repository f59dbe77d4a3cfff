//! The board of `grader watch`: one line per task (its score, or what is running), under
//! it each failing check with the first line of its message, and the reproduce command of
//! the first failure. It is a reporter: it keeps the latest verdict of every check, fed by
//! the runner's events and reports, and renders text; the watch loop decides when to draw.

use super::{CheckReport, Report, TaskStatus};
use crate::check::Status;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the board knows of one task.
#[derive(Clone, Debug, Default)]
struct Line {
    /// Latest verdict per check, in the task's order of checks.
    checks: Vec<CheckReport>,
    /// Checks still to come in the current pass.
    pending: usize,
    /// Why it is missing, when it is.
    missing: Option<String>,
}

/// The latest verdicts of a watched submission.
#[derive(Debug, Default)]
pub(crate) struct Board {
    tasks: BTreeMap<String, Line>,
    /// Task order as the report gives it.
    order: Vec<String>,
}

impl Board {
    /// Marks `tasks` as being graded again: `checks` each.
    pub(crate) fn started(&mut self, tasks: &[(String, usize)]) {
        for (task, checks) in tasks {
            self.line(task).pending = *checks;
        }
    }

    /// One check finished: its verdict replaces the last one.
    pub(crate) fn finished(&mut self, task: &str, check: &CheckReport) {
        let line = self.line(task);
        line.pending = line.pending.saturating_sub(1);
        line.missing = None;
        match line.checks.iter_mut().find(|c| c.id == check.id) {
            Some(old) => *old = check.clone(),
            None => line.checks.push(check.clone()),
        }
    }

    /// A pass ended with `report`: missing tasks and the checks' order come from it.
    pub(crate) fn merge(&mut self, report: &Report) {
        for task in &report.tasks {
            let line = self.line(&task.id);
            line.pending = 0;
            if task.status == TaskStatus::Missing {
                line.missing = task.message.clone();
                line.checks.clear();
                continue;
            }
            line.missing = None;
            for check in &task.checks {
                match line.checks.iter_mut().find(|c| c.id == check.id) {
                    Some(old) => *old = check.clone(),
                    None => line.checks.push(check.clone()),
                }
            }
        }
    }

    /// Ids of the checks of `task` whose latest verdict is not a pass.
    pub(crate) fn failing(&self, task: &str) -> Vec<String> {
        self.tasks
            .get(task)
            .map(|l| {
                l.checks
                    .iter()
                    .filter(|c| c.status != Status::Pass && c.status != Status::Skip)
                    .map(|c| c.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn line(&mut self, task: &str) -> &mut Line {
        if !self.order.iter().any(|t| t == task) {
            self.order.push(task.to_string());
        }
        self.tasks.entry(task.to_string()).or_default()
    }

    /// The board as text; `color` paints PASS green and FAIL red.
    pub(crate) fn render(&self, color: bool) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_string()
            }
        };
        let width = self.order.iter().map(String::len).max().unwrap_or(0);
        let mut out = String::new();
        let mut reproduce: Option<&str> = None;
        let mut missing = Vec::new();
        for id in &self.order {
            let line = &self.tasks[id];
            if line.missing.is_some() {
                missing.push(id.as_str());
                continue;
            }
            let passed = line
                .checks
                .iter()
                .filter(|c| c.status == Status::Pass)
                .count();
            let failing: Vec<&CheckReport> = line
                .checks
                .iter()
                .filter(|c| matches!(c.status, Status::Fail | Status::Error))
                .collect();
            let verdict = if line.pending > 0 {
                paint("33", &format!("grading ({} to go)", line.pending))
            } else if failing.is_empty() {
                paint("32", "PASS")
            } else {
                paint("31", "FAIL")
            };
            let _ = writeln!(
                out,
                "{id:width$}  {passed}/{}  {verdict}",
                line.checks.len().max(passed)
            );
            for check in failing {
                let first = check.message.lines().next().unwrap_or_default();
                let first: String = first.chars().take(160).collect();
                let status = if check.status == Status::Error {
                    "ERROR"
                } else {
                    "FAIL"
                };
                let _ = writeln!(
                    out,
                    "  {} {}: {}",
                    paint("31", status),
                    check.id,
                    crate::escape::text(first.as_bytes())
                );
                if reproduce.is_none() {
                    reproduce = check.reproduce.as_deref();
                }
            }
        }
        if !missing.is_empty() {
            let _ = writeln!(out, "missing: {}", missing.join(", "));
        }
        if let Some(command) = reproduce {
            let _ = writeln!(out, "first failure: {command}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, status: Status, message: &str) -> CheckReport {
        CheckReport {
            id: id.into(),
            status,
            score: 0.0,
            max_score: 1.0,
            message: message.into(),
            counterexample: None,
            seed: 1,
            duration_ms: 1,
            summary: String::new(),
            reproduce: Some(format!(
                "grader check . --task tcp-upper --check {id} --seed 1"
            )),
            hidden: false,
        }
    }

    #[test]
    fn a_failing_check_shows_its_first_line_and_the_first_reproduce_command() {
        let mut board = Board::default();
        board.started(&[("tcp-upper".into(), 2)]);
        board.finished("tcp-upper", &check("echo", Status::Pass, ""));
        assert!(board.render(false).contains("grading (1 to go)"));
        board.finished(
            "tcp-upper",
            &check("large", Status::Fail, "lost bytes\nmore"),
        );
        let text = board.render(false);
        assert_eq!(
            text,
            "tcp-upper  1/2  FAIL\n  FAIL large: lost bytes\nfirst failure: grader check . --task tcp-upper --check large --seed 1\n"
        );
        assert_eq!(board.failing("tcp-upper"), ["large"]);
        board.finished("tcp-upper", &check("large", Status::Pass, ""));
        assert_eq!(board.render(false), "tcp-upper  2/2  PASS\n");
        assert!(!board.render(true).is_empty());
    }
}
