//! Shared helpers: the command under test, the fixtures folder, and running a grade.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// The `grader` binary, with a clean colour setting.
pub fn grader() -> Command {
    let mut cmd = Command::cargo_bin("grader").expect("grader binary");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// `grader batch CLASS --out OUT EXTRA...` with the test seed, unless `extra` gives one;
/// the caller sets its timeout and runs it.
pub fn batch(class: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = grader();
    cmd.arg("batch").arg(class).arg("--out").arg(out);
    if !extra.contains(&"--seed") {
        cmd.args(["--seed", &seed()]);
    }
    cmd.args(extra);
    cmd
}

/// A process's output as text (lossy: a student's bytes may be anything).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The seed of graded runs: fixed so a failure reproduces, overridable to explore
/// (`GRADER_TEST_SEED=7 cargo test`).
pub fn seed() -> String {
    std::env::var("GRADER_TEST_SEED").unwrap_or_else(|_| "20261126".into())
}

/// Grades `dir` as JSON with the test seed (and `extra` flags); returns the report and
/// the exit code.
pub fn grade(dir: &Path, extra: &[&str]) -> (serde_json::Value, i32) {
    grade_isolated(dir, extra, None)
}

/// [`grade`] with `GRADER_ISOLATE` set to `isolate` (`None`: as the environment says).
pub fn grade_isolated(
    dir: &Path,
    extra: &[&str],
    isolate: Option<&str>,
) -> (serde_json::Value, i32) {
    let mut cmd = grader();
    if let Some(isolate) = isolate {
        cmd.env("GRADER_ISOLATE", isolate);
    }
    let out = cmd
        .arg("check")
        .arg(dir)
        .args(["--format", "json", "--seed", &seed()])
        .args(extra)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .expect("grader runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.code().unwrap_or(-1))
}
