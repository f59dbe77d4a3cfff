//! The table of expected verdicts, `fixtures/expected.toml`: per fixture folder, which
//! checks of which task must fail (every other check of a listed task must pass). Both
//! `grader selftest` and the integration tests read it through this module, so they judge
//! the fixtures by the same rules.

use crate::check::Status;
use crate::report::{Report, TaskStatus};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One fixture folder's expectations (rows with the same path merged).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Row {
    /// Folder, relative to `fixtures/`.
    pub path: String,
    /// The bug (or the kind of correct program), in words.
    pub why: String,
    /// Task instance id -> checks that must fail; every other check of the task must pass.
    pub fail: BTreeMap<String, Vec<String>>,
    /// The programs hard-code the lecture's port (4444), so the row holds only when checks
    /// run in private network namespaces. Graded without them (`--isolate none`, or a
    /// machine that cannot make them), every check of the row's tasks must instead fail
    /// with a message that names `PORT` (SPEC section 2: the clear advice).
    #[serde(default)]
    pub needs_namespace: bool,
    /// `task/check` -> words its message must contain: a fixture whose bug has a
    /// misleading shape is told the cause its evidence shows.
    #[serde(default)]
    pub says: BTreeMap<String, Vec<String>>,
    /// `task/check` -> words its message must not contain (the cause it does not have).
    #[serde(default)]
    pub never_says: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct File {
    fixture: Vec<Row>,
}

/// Why the table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The table's path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid table.
    #[error("{path}: {source}")]
    Parse {
        /// The table's path.
        path: String,
        /// The cause.
        source: toml::de::Error,
    },
    /// Two rows of one folder name the same task.
    #[error("{path}: fixture {fixture}: task {task} is listed twice")]
    Duplicate {
        /// The table's path.
        path: String,
        /// The folder.
        fixture: String,
        /// The task.
        task: String,
    },
}

/// The expected verdicts, by folder (sorted by path).
pub type Table = BTreeMap<String, Row>;

/// Reads and merges `expected.toml`.
pub fn load(path: &Path) -> Result<Table, TableError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TableError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text).map_err(|e| match e {
        TableError::Parse { source, .. } => TableError::Parse {
            path: shown.clone(),
            source,
        },
        TableError::Duplicate { fixture, task, .. } => TableError::Duplicate {
            path: shown.clone(),
            fixture,
            task,
        },
        other => other,
    })
}

/// Parses a table's text, merging rows with the same path.
pub fn parse(text: &str) -> Result<Table, TableError> {
    let file: File = toml::from_str(text).map_err(|source| TableError::Parse {
        path: String::new(),
        source,
    })?;
    let mut rows = Table::new();
    for row in file.fixture {
        match rows.get_mut(&row.path) {
            Some(have) => {
                have.says.extend(row.says);
                have.never_says.extend(row.never_says);
                for (task, checks) in row.fail {
                    if have.fail.insert(task.clone(), checks).is_some() {
                        return Err(TableError::Duplicate {
                            path: String::new(),
                            fixture: row.path,
                            task,
                        });
                    }
                }
            }
            None => {
                rows.insert(row.path.clone(), row);
            }
        }
    }
    Ok(rows)
}

/// The exit code a fixture must give: 1 when the row expects a failure, else 0.
/// A row that needs namespaces, graded without them, fails (see [`Row::needs_namespace`]).
pub fn exit_code(row: &Row, report: &Report) -> i32 {
    let namespaces = report.isolation.iter().any(|l| l == "network-namespace");
    if row.fail.values().any(|f| !f.is_empty()) || (row.needs_namespace && !namespaces) {
        crate::exit::FAIL
    } else {
        crate::exit::PASS
    }
}

/// Every way `report` departs from `row`, in words; empty when it matches. Tasks present
/// in the folder must be in the row and the other way round; a listed check must fail,
/// every other check of a listed task must pass, and a row may name only real checks.
pub fn judge(row: &Row, report: &Report) -> Vec<String> {
    if row.needs_namespace && !report.isolation.iter().any(|l| l == "network-namespace") {
        return judge_without_namespace(row, report);
    }
    let mut problems = Vec::new();
    let present: Vec<_> = report
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Missing)
        .collect();
    for t in &present {
        if !row.fail.contains_key(&t.id) {
            problems.push(format!("task {} is in the folder but not in the row", t.id));
        }
    }
    for (task, failing) in &row.fail {
        let Some(t) = present.iter().find(|t| t.id == *task) else {
            problems.push(format!("task {task} is in the row but not in the folder"));
            continue;
        };
        if let Some(msg) = t.message.as_ref().filter(|_| t.checks.is_empty()) {
            problems.push(format!("{task}: could not run: {msg}"));
        }
        for check in &t.checks {
            let want = if failing.contains(&check.id) {
                Status::Fail
            } else {
                Status::Pass
            };
            if check.status != want {
                problems.push(format!(
                    "{task}/{}: expected {}, got {}: {}",
                    check.id,
                    word(want),
                    word(check.status),
                    check.message
                ));
            }
        }
        for f in failing {
            if !t.checks.iter().any(|c| c.id == *f) {
                problems.push(format!(
                    "{task}: the row names check {f}, which the task does not have"
                ));
            }
        }
    }
    problems.extend(judge_messages(row, report));
    problems
}

/// Where the messages depart from the row's `says` and `never_says`.
fn judge_messages(row: &Row, report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    for (wanted, key) in [(true, &row.says), (false, &row.never_says)] {
        for (at, words) in key {
            let check = at.split_once('/').and_then(|(task, check)| {
                report
                    .tasks
                    .iter()
                    .find(|t| t.id == task)?
                    .checks
                    .iter()
                    .find(|c| c.id == check)
            });
            let Some(check) = check else {
                problems.push(format!(
                    "the row names the message of {at}, which is not in the report"
                ));
                continue;
            };
            for w in words {
                if check.message.contains(w.as_str()) != wanted {
                    let how = if wanted { "does not say" } else { "says" };
                    problems.push(format!("{at}: the message {how} {w:?}: {}", check.message));
                }
            }
        }
    }
    problems
}

/// A row of hard-coded ports graded without private namespaces: each check of its tasks
/// fails and tells the student to read `PORT`.
fn judge_without_namespace(row: &Row, report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    for task in row.fail.keys() {
        let Some(t) = report.tasks.iter().find(|t| t.id == *task) else {
            problems.push(format!("task {task} is in the row but not in the report"));
            continue;
        };
        if t.checks.is_empty() {
            problems.push(format!("{task}: no check ran"));
        }
        for check in &t.checks {
            if check.status != Status::Fail || !check.message.contains("PORT") {
                problems.push(format!(
                    "{task}/{}: without network namespaces expected a fail that names PORT, got {}: {}",
                    check.id,
                    word(check.status),
                    check.message
                ));
            }
        }
    }
    problems
}

/// The lower-case word of a status, as in the JSON report.
pub fn word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Error => "error",
        Status::Skip => "skip",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = r#"
[[fixture]]
path = "good/lecture"
why = "ports"
[fixture.fail]
tcp-upper = []

[[fixture]]
path = "bad/x"
why = "bug"
[fixture.fail]
udp-upper = ["echo"]

[[fixture]]
path = "good/lecture"
why = "ports"
[fixture.fail]
udp-upper = []
"#;

    #[test]
    fn rows_of_one_folder_merge() {
        let t = parse(TABLE).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t["good/lecture"].fail.keys().collect::<Vec<_>>(),
            ["tcp-upper", "udp-upper"]
        );
        let report = |layers: &[&str]| Report {
            submission: String::new(),
            seed: 1,
            score: 0.0,
            max_score: 0.0,
            tasks: vec![],
            run_id: String::new(),
            isolation: layers.iter().map(|s| s.to_string()).collect(),
            interrupted: None,
            problem: None,
            fingerprint: String::new(),
        };
        let none = report(&[]);
        assert_eq!(exit_code(&t["good/lecture"], &none), 0);
        assert_eq!(exit_code(&t["bad/x"], &none), 1);
        let mut verbatim = t["good/lecture"].clone();
        verbatim.needs_namespace = true;
        assert_eq!(exit_code(&verbatim, &none), 1);
        assert_eq!(exit_code(&verbatim, &report(&["network-namespace"])), 0);
    }

    #[test]
    fn messages_must_say_what_the_row_says_and_not_what_it_never_says() {
        let t = parse(
            "[[fixture]]\npath = \"bad/x\"\nwhy = \"bug\"\n[fixture.fail]\nudp-upper = [\"echo\"]\n[fixture.says]\n\"udp-upper/echo\" = [\"exited\"]\n[fixture.never_says]\n\"udp-upper/echo\" = [\"first client\"]\n",
        )
        .unwrap();
        let row = &t["bad/x"];
        let report = |message: &str| -> Report {
            serde_json::from_value(serde_json::json!({
                "submission": "x", "seed": 1, "score": 0.0, "max_score": 1.0, "run_id": "r",
                "isolation": [],
                "tasks": [{"id": "udp-upper", "kind": "udp-upper", "command": [], "status": "fail",
                    "score": 0.0, "max_score": 1.0, "checks": [{"id": "echo", "status": "fail",
                    "score": 0.0, "max_score": 1.0, "message": message, "seed": 1,
                    "duration_ms": 1}]}]
            }))
            .unwrap()
        };
        assert_eq!(
            judge(row, &report("the server exited")),
            Vec::<String>::new()
        );
        let wrong = judge(row, &report("the server answered the first client only"));
        assert_eq!(wrong.len(), 2, "{wrong:?}");
        assert!(wrong[0].contains("does not say \"exited\""), "{wrong:?}");
        assert!(wrong[1].contains("says \"first client\""), "{wrong:?}");
    }

    #[test]
    fn a_task_listed_twice_is_an_error() {
        let twice = format!("{TABLE}\n[[fixture]]\npath = \"bad/x\"\nwhy = \"again\"\n[fixture.fail]\nudp-upper = []\n");
        assert!(matches!(
            parse(&twice),
            Err(TableError::Duplicate { task, .. }) if task == "udp-upper"
        ));
    }
}
