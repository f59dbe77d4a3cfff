//! Every fixture folder graded by the real binary, its verdicts compared with its row of
//! `fixtures/expected.toml`: each listed check fails, every other check of the row's tasks
//! passes, and the row names exactly the tasks present. A folder without a row fails, so
//! the table cannot fall behind the fixtures. The rules live in `grader::expected`, which
//! `grader selftest` uses too.

use crate::common::{fixtures, grade};
use grader::expected::{exit_code, judge};
use grader::report::Report;
use rstest::rstest;
use std::path::PathBuf;

#[rstest]
fn fixture_verdicts_match_the_table(
    #[files("../fixtures/good/*")]
    #[files("../fixtures/bad/*")]
    #[files("../fixtures/reference")]
    #[files("../fixtures/hostile/shell-escapee")]
    #[files("../fixtures/hostile/neighbour-attack")]
    dir: PathBuf,
) {
    let rel = dir
        .strip_prefix(fixtures())
        .expect("under fixtures/")
        .to_string_lossy()
        .replace('\\', "/");
    let rows =
        grader::expected::load(&fixtures().join("expected.toml")).expect("fixtures/expected.toml");
    let row = rows
        .get(&rel)
        .unwrap_or_else(|| panic!("fixture {rel} has no row in fixtures/expected.toml"));
    let (report, code) = grade(&dir, &[]);
    let report: Report = serde_json::from_value(report).expect("a grader report");
    let mut problems = judge(row, &report);
    let want = exit_code(row, &report);
    if code != want {
        problems.push(format!("exit code {code}, expected {want}"));
    }
    assert!(
        problems.is_empty(),
        "fixture {rel} (seed {}):\n  {}",
        report.seed,
        problems.join("\n  ")
    );
}
