//! What `grader check` accepts (issue 11): a `.zip` unpacked as a batch unpacks it, with a
//! reproduce line that names the zip; programs one folder down (`judy/judy/counter.py`)
//! found as in a batch; a `--check` that matches no check of the selected tasks refused
//! with the valid ids; `--check X` reporting only the tasks that have X; `--output` that
//! creates its folders, and fails before any grading when it cannot write.

use crate::common::{fixtures, grader, seed};
use serde_json::Value;
use std::io::Write;
use std::time::{Duration, Instant};

fn counter() -> Vec<u8> {
    std::fs::read(fixtures().join("good/lecture/counter.py")).unwrap()
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_zip_is_graded_as_a_batch_unpacks_it_and_its_reproduce_line_names_the_zip() {
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("ivan.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
    w.start_file("ivan/counter.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"print('Obtained value: 1')\n").unwrap();
    w.finish().unwrap();
    let out = grader()
        .arg("check")
        .arg(&zip)
        .args(["--task", "counter", "--check", "total", "--format", "json"])
        .args(["--seed", &seed()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a failing program in a zip");
    let report = json(&out);
    assert_eq!(report["submission"], zip.display().to_string());
    let check = &report["tasks"][0]["checks"][0];
    assert_eq!(check["status"], "fail");
    let reproduce = check["reproduce"].as_str().unwrap();
    assert!(
        reproduce.starts_with(&format!("grader check {} ", zip.display())),
        "{reproduce}"
    );
    // The reproduce line works as printed.
    let words: Vec<&str> = reproduce.split_whitespace().collect();
    grader().args(&words[1..]).assert().code(1);
    std::fs::write(work.path().join("broken.zip"), b"PK not a zip").unwrap();
    grader()
        .arg("check")
        .arg(work.path().join("broken.zip"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a readable zip"));
}

#[test]
fn programs_one_folder_down_are_found_as_in_a_batch() {
    let work = tempfile::tempdir().unwrap();
    let judy = work.path().join("judy");
    std::fs::create_dir_all(judy.join("judy")).unwrap();
    std::fs::write(judy.join("judy/counter.py"), counter()).unwrap();
    std::fs::create_dir_all(judy.join("__MACOSX")).unwrap();
    let out = grader()
        .arg("check")
        .arg(&judy)
        .args(["--task", "counter", "--check", "total", "--format", "json"])
        .args(["--seed", &seed()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["tasks"][0]["status"], "pass");
}

#[test]
fn a_check_no_selected_task_has_is_a_usage_error_that_lists_the_valid_ids() {
    let lecture = fixtures().join("good/lecture");
    grader()
        .arg("check")
        .arg(&lecture)
        .args(["--task", "counter", "--check", "large"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("\"large\""))
        .stderr(predicates::str::contains("race-free, total, uses-threads"));
    grader()
        .arg("batch")
        .arg(&lecture)
        .args(["--out", "/nonexistent/never-written"])
        .args(["--task", "counter", "--check", "large"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("total"));
}

#[test]
fn a_check_alone_reports_only_the_tasks_that_have_it() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("counter.py"), counter()).unwrap();
    std::fs::write(
        work.path().join("server1.py"),
        std::fs::read(fixtures().join("good/lecture/server1.py")).unwrap(),
    )
    .unwrap();
    let out = grader()
        .arg("check")
        .arg(work.path())
        .args(["--check", "total", "--format", "json", "--seed", &seed()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    let tasks: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["counter"], "only counter has `total`");
    assert_eq!(
        (report["score"].as_f64(), report["max_score"].as_f64()),
        (Some(1.0), Some(1.0))
    );
}

#[test]
fn output_creates_its_folders_and_fails_before_grading_when_it_cannot_write() {
    let work = tempfile::tempdir().unwrap();
    let lecture = fixtures().join("good/lecture");
    let file = work.path().join("grade/results/results.json");
    grader()
        .arg("check")
        .arg(&lecture)
        .args(["--task", "counter", "--check", "total"])
        .args(["--format", "prairielearn", "--seed", &seed(), "--output"])
        .arg(&file)
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["score"], 1.0);
    // A file where a folder should be: refused at once, before any check ran (a whole
    // submission takes far longer than this).
    std::fs::write(work.path().join("plain"), "").unwrap();
    let start = Instant::now();
    grader()
        .arg("check")
        .arg(&lecture)
        .args(["--format", "json", "--output"])
        .arg(work.path().join("plain/results.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--output"));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(!work.path().join("plain/results.json").exists());
}
