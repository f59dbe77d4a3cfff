//! The JSON report's shape (SPEC section 6) and the safety of what it shows: every check of
//! a present task appears with its id, missing tasks say so, and a program's raw control
//! characters never reach the human report.

use crate::common::{fixtures, grade, grader};

#[test]
fn json_report_has_the_spec_fields_and_every_check() {
    let (report, _) = grade(&fixtures().join("good/lecture"), &["--task", "tcp-upper"]);
    for key in ["submission", "seed", "score", "max_score", "tasks"] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    let task = &report["tasks"][0];
    for key in [
        "id",
        "kind",
        "command",
        "status",
        "score",
        "max_score",
        "checks",
    ] {
        assert!(task.get(key).is_some(), "task misses {key}");
    }
    let ids: Vec<&str> = task["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["echo", "fragmented", "binary", "large", "eof", "reuse-addr"]
    );
    for key in [
        "id",
        "status",
        "score",
        "max_score",
        "message",
        "seed",
        "duration_ms",
    ] {
        assert!(task["checks"][0].get(key).is_some(), "check misses {key}");
    }
}

#[test]
fn missing_tasks_are_reported_as_missing_and_do_not_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("good/lecture/server2.py"),
        dir.path().join("server2.py"),
    )
    .unwrap();
    let (report, code) = grade(dir.path(), &["--check", "echo"]);
    assert_eq!(code, 0);
    let tcp = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "tcp-upper")
        .unwrap();
    assert_eq!(tcp["status"], "missing");
    assert!(tcp["message"].as_str().unwrap().contains("server1.py"));
}

/// A server that writes terminal escapes and bidi overrides to stderr, then crashes.
#[test]
fn program_output_is_escaped_in_the_human_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server1.py"),
        "import sys\nsys.stderr.write('\\x1b[2J\\x1b]0;pwned\\x07\\u202egnp.exe\\n')\nraise SystemExit(3)\n",
    )
    .unwrap();
    let out = grader()
        .arg("check")
        .arg(dir.path())
        .args(["--check", "echo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("exited with status 3"), "{text}");
    assert!(
        !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'),
        "{text}"
    );
    assert!(text.contains("\\u{1b}[2J"), "{text}");
}
