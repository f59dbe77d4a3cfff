//! Every fixture folder graded by the real binary, its verdicts compared with its row of
//! `fixtures/expected.toml`: each listed check fails, every other check of the row's tasks
//! passes, and the row names exactly the tasks present. A folder without a row fails, so
//! the table cannot fall behind the fixtures.

use crate::common::{fixtures, grade, table};
use rstest::rstest;
use std::path::PathBuf;

#[rstest]
fn fixture_verdicts_match_the_table(
    #[files("../fixtures/good/*")]
    #[files("../fixtures/bad/*")]
    #[files("../fixtures/reference")]
    dir: PathBuf,
) {
    let rel = dir
        .strip_prefix(fixtures())
        .expect("under fixtures/")
        .to_string_lossy()
        .replace('\\', "/");
    let rows = table();
    let row = rows
        .get(&rel)
        .unwrap_or_else(|| panic!("fixture {rel} has no row in fixtures/expected.toml"));
    let (report, code) = grade(&dir, &[]);
    let mut problems = Vec::new();
    let present: Vec<&serde_json::Value> = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["status"] != "missing")
        .collect();
    for t in &present {
        let id = t["id"].as_str().expect("task id");
        if !row.fail.contains_key(id) {
            problems.push(format!("task {id} is in the folder but not in the row"));
        }
    }
    for (task, failing) in &row.fail {
        let Some(t) = present.iter().find(|t| t["id"] == task.as_str()) else {
            problems.push(format!("task {task} is in the row but not in the folder"));
            continue;
        };
        for check in t["checks"].as_array().expect("checks") {
            let id = check["id"].as_str().expect("check id");
            let want = if failing.iter().any(|f| f == id) {
                "fail"
            } else {
                "pass"
            };
            if check["status"] != want {
                problems.push(format!(
                    "{task}/{id}: expected {want}, got {}: {}",
                    check["status"],
                    check["message"].as_str().unwrap_or_default()
                ));
            }
        }
        for f in failing {
            if !t["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .any(|c| c["id"] == f.as_str())
            {
                problems.push(format!(
                    "{task}: the row names check {f}, which the task does not have"
                ));
            }
        }
    }
    let expected_code = if row.fail.values().any(|f| !f.is_empty()) {
        1
    } else {
        0
    };
    if code != expected_code {
        problems.push(format!("exit code {code}, expected {expected_code}"));
    }
    assert!(
        problems.is_empty(),
        "fixture {rel} (seed {}):\n  {}",
        report["seed"],
        problems.join("\n  ")
    );
}
