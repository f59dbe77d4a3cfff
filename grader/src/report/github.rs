//! GitHub Actions and GitHub Classroom: an `::error` annotation per failing check (on the
//! task's file, so it shows in the pull request and the run summary), a `::warning` per
//! missing task, and a plain `grader: score X/Y` log line (no `Points` notice: Classroom's
//! reporter prints that one, and two would show); [`step_summary`], the Markdown job
//! summary for `$GITHUB_STEP_SUMMARY`; and [`classroom_result`], the base64 JSON a
//! Classroom runner step hands to `autograding-grading-reporter` (`{"version": 1,
//! "status", "max_score", "tests"}`). Points are rounded to hundredths everywhere, so a
//! rubric's 1.6 + 3.2 never shows as `4.800000000000001`.
//! Workflow-command values are escaped (`%`, CR, LF; and `:` `,` in properties), so a
//! message cannot end its command early or inject another one.

use super::{Report, TaskReport, TaskStatus};
use crate::check::Status;
use serde_json::json;
use std::fmt::Write;

/// Escapes the message part of a workflow command.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Points as GitHub Classroom prints them: whole numbers without a fraction, else at most
/// two decimals (`4.8`, `3.33`).
pub(crate) fn points(v: f64) -> String {
    super::csv::points(v)
}

/// Points rounded to hundredths, for JSON numbers.
pub(crate) fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0 + 0.0
}

/// The file a task's annotations point at: its program, relative to the repository root.
fn file(report: &Report, task: &TaskReport) -> String {
    let program = task
        .command
        .iter()
        .find(|a| a.ends_with(".py"))
        .or(task.command.first())
        .cloned()
        .unwrap_or_default();
    let dir = report.submission.trim_end_matches('/');
    let joined = if dir.is_empty() || dir == "." || program.starts_with('/') {
        program
    } else {
        format!("{dir}/{program}")
    };
    joined.trim_start_matches("./").to_string()
}

/// The workflow commands for a run.
pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    for task in &report.tasks {
        if task.status == TaskStatus::Missing {
            let _ = writeln!(
                out,
                "::warning title={}::{}",
                escape_property(&task.id),
                escape_data(task.message.as_deref().unwrap_or("missing"))
            );
            continue;
        }
        let file = escape_property(&file(report, task));
        if task.checks.is_empty() {
            let _ = writeln!(
                out,
                "::error file={file},title={}::{}",
                escape_property(&task.id),
                escape_data(task.message.as_deref().unwrap_or("not graded"))
            );
        }
        for c in &task.checks {
            let level = match c.status {
                Status::Pass | Status::Skip => continue,
                Status::Fail => "error",
                Status::Error => "warning",
            };
            let mut msg = super::gradescope::describe(&c.summary, &c.message);
            if let Some(case) = &c.counterexample {
                let _ = write!(msg, "\nsmallest failing case: {case}");
            }
            if let Some(cmd) = c.reproduce.as_ref().filter(|_| c.status == Status::Fail) {
                let _ = write!(msg, "\nreproduce: {cmd}");
            }
            let _ = writeln!(
                out,
                "::{level} file={file},title={}::{}",
                escape_property(&format!("{} {}", task.id, c.id)),
                escape_data(&msg)
            );
        }
    }
    if let Some(p) = &report.problem {
        let _ = writeln!(out, "::error title=not graded::{}", escape_data(&p.message));
    }
    let _ = writeln!(
        out,
        "grader: score {}/{} (seed {})",
        points(report.score),
        points(report.max_score),
        report.seed
    );
    out
}

/// A Markdown table cell: one line, no `|`, no markup from a program's output.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('`', "'")
}

/// The job summary (Markdown) for `$GITHUB_STEP_SUMMARY`: the score, a row per task, and
/// the failing checks with their explanation.
pub(crate) fn step_summary(report: &Report) -> String {
    let mut out = format!(
        "### grader: {}/{} points\n\n",
        points(report.score),
        points(report.max_score)
    );
    if let Some(p) = &report.problem {
        let _ = writeln!(out, "Not graded: {}\n", cell(&p.message));
    }
    out.push_str("| task | points | status |\n|---|---|---|\n");
    for t in &report.tasks {
        let status = match t.status {
            TaskStatus::Pass => "pass",
            TaskStatus::Fail => "fail",
            TaskStatus::Error => "grader error",
            TaskStatus::Missing => "missing",
        };
        let _ = writeln!(
            out,
            "| {} | {}/{} | {status} |",
            cell(&t.id),
            points(t.score),
            points(t.max_score)
        );
    }
    let failed: Vec<String> = report
        .tasks
        .iter()
        .flat_map(|t| {
            t.checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(move |c| {
                    format!(
                        "- **{} {}**: {}",
                        cell(&t.id),
                        cell(&c.id),
                        cell(&c.message)
                    )
                })
        })
        .collect();
    if !failed.is_empty() {
        out.push_str("\nFailing checks:\n\n");
        out.push_str(&failed.join("\n"));
        out.push('\n');
    }
    out
}

/// The runner result GitHub Classroom's reporter reads (an environment variable
/// `<RUNNER>_RESULTS` set from a step output): base64 of its JSON.
pub(crate) fn classroom_result(report: &Report) -> String {
    let mut tests = Vec::new();
    for task in &report.tasks {
        if task.checks.is_empty() {
            tests.push(json!({
                "name": task.id,
                "status": "fail",
                "message": task.message.clone().unwrap_or_default(),
                "line_no": 0,
                "execution_time": "0.00s",
                "score": 0.0,
            }));
        }
        for c in &task.checks {
            tests.push(json!({
                "name": format!("{}: {}", task.id, c.id),
                "status": match c.status {
                    Status::Pass | Status::Skip => "pass",
                    Status::Fail => "fail",
                    Status::Error => "error",
                },
                "message": c.message,
                "line_no": 0,
                "execution_time": format!("{:.2}s", c.duration_ms as f64 / 1000.0),
                "score": round(c.score),
            }));
        }
    }
    let has = |s: Status| {
        report
            .tasks
            .iter()
            .flat_map(|t| &t.checks)
            .any(|c| c.status == s)
    };
    let status =
        if has(Status::Fail) || report.tasks.iter().any(|t| t.status == TaskStatus::Missing) {
            "fail"
        } else if has(Status::Error) {
            "error"
        } else {
            "pass"
        };
    let value = json!({
        "version": 1,
        "status": status,
        "max_score": round(report.max_score),
        "tests": tests,
    });
    base64(super::json::compact(&value).as_bytes())
}

/// Standard base64 with padding (RFC 4648).
pub(crate) fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_values_cannot_break_out() {
        assert_eq!(escape_data("50%\r\n::x"), "50%25%0D%0A::x");
        assert_eq!(escape_property("a:b,c\n"), "a%3Ab%2Cc%0A");
    }

    #[test]
    fn points_are_rounded_and_a_table_cell_stays_one_cell() {
        assert_eq!(points(1.6 + 3.2), "4.8");
        assert_eq!(round(1.6 + 3.2), 4.8);
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }
}
