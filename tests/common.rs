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

/// The `grader` binary, with a clean colour setting and `python3` found directly.
pub fn grader() -> Command {
    Command::from_std(grader_process())
}

/// [`grader`] as a plain `std::process::Command`, for tests that hold the child.
pub fn grader_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("grader"));
    cmd.env("NO_COLOR", "1");
    if let Some(path) = path_to_python() {
        cmd.env("PATH", path);
    }
    cmd
}

/// `PATH` with the folder of the real `python3` first, so that each grader the tests run
/// asks it directly instead of through a wrapper script on the way (pyenv's shim is
/// bash: about 50 ms of CPU per grader, 20 s over the suite). The folder is asked once
/// and kept in the build's temporary folder for the next test processes (delete
/// `target/tmp/python3-folder` after changing Python versions). `None`: keep `PATH`.
fn path_to_python() -> Option<String> {
    static PATH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var("PATH").ok()?;
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python3-folder");
        let known = std::fs::read_to_string(&kept)
            .ok()
            .filter(|dir| Path::new(dir).join("python3").exists());
        let dir = match known {
            Some(dir) => dir,
            None => {
                let out = std::process::Command::new("python3")
                    .args([
                        "-S",
                        "-c",
                        "import os, sys; print(os.path.dirname(sys.executable))",
                    ])
                    .output()
                    .ok()?;
                let dir = String::from_utf8(out.stdout).ok()?.trim().to_string();
                if !Path::new(&dir).join("python3").exists() {
                    return None;
                }
                let mine = kept.with_extension(std::process::id().to_string());
                if std::fs::write(&mine, &dir).is_ok() {
                    let _ = std::fs::rename(&mine, &kept);
                }
                dir
            }
        };
        Some(format!("{dir}:{path}"))
    })
    .clone()
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
