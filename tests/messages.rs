//! Messages name the cause their evidence shows, and no other (issue 13). Most fixtures with
//! a misleading shape (a concurrent server that strips, a server that exits early, prints
//! in pieces) have their words in `fixtures/expected.toml` (`says`, `never_says`), checked
//! where tests/fixtures.rs grades them anyway; here are the ones that need more: a crash on
//! binary data in every seed, a serial server sent only whitespace (a seed of its own),
//! misnamed files (task messages and the human report), `list`.

use crate::common::{fixtures, grade, grader};
use rstest::rstest;
use serde_json::Value;

/// The message of `check` of `task` in a JSON report.
fn message(report: &Value, task: &str, check: &str) -> String {
    let task = report["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["id"] == task))
        .unwrap_or_else(|| panic!("no task {task} in {report}"));
    let check = task["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == check))
        .unwrap_or_else(|| panic!("no check {check} in {task}"));
    assert_eq!(check["status"], "fail", "{check}");
    check["message"].as_str().unwrap_or_default().to_string()
}

fn graded(fixture: &str, args: &[&str]) -> Value {
    grade(&fixtures().join(fixture), args).0
}

/// A serial server sent a message of whitespace alone gives no answer, as a server that
/// strips would: the client still waiting to be accepted says which (seed 874280 draws such
/// a message; `grader selftest` once found the strip() hint there).
#[test]
fn a_serial_server_sent_only_whitespace_is_not_told_to_stop_stripping() {
    let out = grader()
        .arg("check")
        .arg(fixtures().join("bad/fork-waits-for-child"))
        .args([
            "--format",
            "json",
            "--seed",
            "874280",
            "--check",
            "isolation",
        ])
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .expect("grader runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let text = message(&report, "fork-server", "isolation");
    assert!(text.contains("one client at a time"), "{text}");
    assert!(!text.contains("strip()"), "{text}");
}

/// Four seeds per fixture, one test each, so that the eight gradings (shrinking a crash
/// restarts the server many times) run side by side instead of one after another.
#[rstest]
#[case::udp("bad/udp-decode-encode", "udp-upper")]
#[case::tcp("bad/tcp-decode-encode", "tcp-upper")]
fn a_crash_on_binary_data_shows_its_traceback_for_every_seed(
    #[case] fixture: &str,
    #[case] task: &str,
    #[values("1", "2", "3", "4")] seed: &str,
) {
    let out = grader()
        .arg("check")
        .arg(fixtures().join(fixture))
        .args(["--format", "json", "--seed", seed, "--check", "binary"])
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .expect("grader runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let text = message(&report, task, "binary");
    assert!(
        text.contains("UnicodeDecodeError") && text.contains("exited with status 1"),
        "{fixture} seed {seed}: {text}"
    );
}

#[test]
fn misnamed_files_get_the_likely_task_and_the_fix() {
    // No --check: a --check reports only the tasks that have it (and the missing tasks
    // named here have no `echo`).
    let report = graded("bad/misnamed-files", &[]);
    let missing = |task: &str| {
        report["tasks"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["id"] == task))
            .and_then(|t| t["message"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let counter = missing("counter");
    assert!(
        counter.contains("thread1.py looks like counter"),
        "{counter}"
    );
    assert!(counter.contains("rename it counter.py"), "{counter}");
    assert!(counter.contains("grader.toml"), "{counter}");
    assert!(missing("udp-upper").contains("Server2.py looks like udp-upper"));
    assert!(missing("tcp-client").contains("lab/client1.py looks like tcp-client"));
    assert!(!missing("select-server").contains("looks like"));
    // And the human report shows them under "missing:" (rendered from the same report:
    // `check` and `render` share the human reporter, and the folder is graded once).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    std::fs::write(&file, report.to_string()).unwrap();
    grader()
        .arg("render")
        .arg(&file)
        .args(["--format", "human"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "\n  thread1.py looks like counter (the lecture's thread1.py",
        ));
}

#[test]
fn list_starts_every_summary_in_one_column() {
    let out = grader().arg("list").output().expect("grader list");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let columns: std::collections::BTreeSet<usize> = text
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| {
            let id_end = 2 + l[2..].find(' ').expect("an id and a summary");
            id_end + l[id_end..].len() - l[id_end..].trim_start().len()
        })
        .collect();
    assert_eq!(columns.len(), 1, "{text}");
    assert!(
        text.contains("  empty-datagram-on-exit  an empty line"),
        "{text}"
    );
}
