//! The command line's contract (SPEC section 5): exit codes, usage errors, `list`, and
//! JSON alone on stdout.

use crate::common::{fixtures, grader};
use predicates::prelude::*;

#[test]
fn a_folder_without_programs_is_a_usage_error() {
    let empty = tempfile::tempdir().unwrap();
    grader()
        .arg("check")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no recognised program"));
}

#[test]
fn a_missing_folder_is_a_usage_error() {
    grader()
        .args(["check", "/nonexistent/submission"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a folder"));
}

#[test]
fn unknown_task_and_check_ids_are_usage_errors() {
    let dir = fixtures().join("good/lecture");
    grader()
        .arg("check")
        .arg(&dir)
        .args(["--task", "tcp-uper"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown task"));
    grader()
        .arg("check")
        .arg(&dir)
        .args(["--check", "ehco"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown check"));
    grader()
        .arg("check")
        .arg(&dir)
        .args(["--format", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn a_broken_manifest_is_a_usage_error_that_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("grader.toml"),
        "[tasks.tcp-upper]\nrun = \"python3 s.py\"\n",
    )
    .unwrap();
    grader()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("grader.toml"));
}

#[test]
fn list_names_every_task_and_check() {
    grader()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("tcp-upper").and(predicate::str::contains("reuse-addr")))
        .stdout(
            predicate::str::contains("multiprint").and(predicate::str::contains("no-busy-wait")),
        );
}

#[test]
fn a_passing_submission_exits_0_and_a_failing_one_1() {
    let good = fixtures().join("good/lecture");
    grader()
        .arg("check")
        .arg(&good)
        .args(["--task", "udp-upper", "--seed", "3"])
        .assert()
        .code(0);
    let bad = fixtures().join("bad/udp-no-upper");
    grader()
        .arg("check")
        .arg(&bad)
        .args(["--task", "udp-upper", "--check", "echo", "--seed", "3"])
        .assert()
        .code(1);
}

#[test]
fn human_report_explains_a_failure_with_a_reproduce_line() {
    let bad = fixtures().join("bad/udp-no-upper");
    grader()
        .arg("check")
        .arg(&bad)
        .args(["--check", "datagrams", "--seed", "11"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  datagrams"))
        .stdout(predicate::str::contains("smallest failing case: datagrams"))
        .stdout(predicate::str::contains(
            "--task udp-upper --check datagrams --seed 11",
        ));
}

#[test]
fn json_format_writes_only_json_to_stdout_and_output_writes_a_file() {
    let good = fixtures().join("good/lecture");
    let out = grader()
        .arg("check")
        .arg(&good)
        .args(["--task", "udp-upper", "--check", "echo", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(report["tasks"].as_array().unwrap().len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    grader()
        .arg("check")
        .arg(&good)
        .args([
            "--task",
            "udp-upper",
            "--check",
            "echo",
            "--format",
            "json",
            "-o",
        ])
        .arg(&file)
        .assert()
        .code(0)
        .stdout("");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["tasks"][0]["checks"][0]["status"], "pass");
}

/// Issue 13.6: the reproduce line shows the same smallest case every time it is run,
/// even with the three runs loading the machine at once (shrinking is bounded by a
/// number of runs, not by a time).
#[test]
fn the_reproduce_line_shows_the_same_smallest_case_every_time() {
    let dir = fixtures().join("bad/tcp-decode-encode");
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let out = grader()
                    .arg("check")
                    .arg(&dir)
                    .args(["--task", "tcp-upper", "--check", "binary", "--seed", "13"])
                    .args(["--format", "json"])
                    .timeout(std::time::Duration::from_secs(300))
                    .output()
                    .unwrap();
                let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let check = &report["tasks"][0]["checks"][0];
                assert_eq!(check["status"], "fail", "{check}");
                check["counterexample"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let cases: Vec<String> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(cases.iter().all(|c| *c == cases[0]), "{cases:#?}");
}

/// SPEC 6 (issue 10.5): a task that cannot run at all (here: no interpreter) still lists
/// every one of its checks, each `error` with the reason, never `"checks": []`.
#[test]
fn a_task_that_cannot_run_lists_every_check_with_the_reason() {
    let (report, _) = crate::common::grade(
        &fixtures().join("good/lecture"),
        &["--task", "tcp-upper", "--python", "/nonexistent/python3"],
    );
    let task = &report["tasks"][0];
    assert_eq!(task["status"], "error", "{task}");
    let checks = task["checks"].as_array().unwrap();
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["echo", "fragmented", "binary", "large", "eof", "reuse-addr"]
    );
    for c in checks {
        assert_eq!(c["status"], "error", "{c}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("/nonexistent/python3"),
            "{c}"
        );
    }
}
