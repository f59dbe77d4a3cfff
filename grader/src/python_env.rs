//! The environment Python programs start in: a virtual environment of the grader's own
//! (a `pyvenv.cfg` and a link to the interpreter, in the run's instrumentation folder),
//! so that `site` does not read the machine's site-packages at start-up; the grader's
//! `sitecustomize` then puts back every folder a normal start would have put on
//! `sys.path` (asked once, [`crate::submission::interpreter`]). A program imports what it
//! would import started as `python3 prog.py`; what it does not get is the `import` lines
//! of the machine's `.pth` files and the machine's `sitecustomize`/`usercustomize`
//! (start-up hooks of the machine, not of the program: the grader's `sitecustomize`
//! already takes the place of the second). Why: a grade must not depend on what a
//! machine's Python runs at every start, and those hooks can be costly (on the machine
//! this was measured on, a `.pth` file importing `certifi` made every start cost 65 ms of
//! CPU instead of 17 ms; docs/performance.md).
//!
//! Made once per interpreter and run, and tried once: if the environment does not start
//! (an interpreter laid out unlike CPython's), programs start the interpreter itself.

use crate::submission::interpreter::Python;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The file of the environment listing the import path to restore, one folder a line
/// (read by `assets/python/sitecustomize.py`).
pub(crate) const PATH_FILE: &str = "grader-sys-path";

/// Makes the environment for `python` in `dir` and returns the executable to start, or
/// `None` when the environment cannot be made or does not start.
pub(crate) fn make(dir: &Path, python: &Python) -> Option<PathBuf> {
    let base = Path::new(&python.base);
    let home = base.parent()?;
    let name = Path::new(&python.exe).file_name()?;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).ok()?;
    let exe = bin.join(name);
    std::os::unix::fs::symlink(base, &exe).ok()?;
    std::fs::write(
        dir.join("pyvenv.cfg"),
        format!(
            "home = {}\ninclude-system-site-packages = false\n",
            home.display()
        ),
    )
    .ok()?;
    let mut lines = python.path.join("\n");
    lines.push('\n');
    std::fs::write(dir.join(PATH_FILE), lines).ok()?;
    starts(&exe).then_some(exe)
}

/// True when `exe` starts and finds its standard library (without `site`: cheap).
fn starts(exe: &Path) -> bool {
    Command::new(exe)
        .args(["-S", "-c", "import os, socket, threading"])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `code` with the environment's executable and the grader's instrumentation, as
/// a program would be started; returns its stdout (tests).
#[cfg(test)]
pub(crate) fn run_instrumented(exe: &Path, instrument: &Path, code: &str) -> String {
    let out = Command::new(exe)
        .args(["-c", code])
        .env_clear()
        .env("PYTHONPATH", instrument)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submission::interpreter;

    #[test]
    fn a_program_gets_a_normal_start_s_import_path_and_builtins() {
        let Ok(python) = interpreter::interpreter("python3") else {
            return;
        };
        let instrument = crate::instrument::Instrument::install().unwrap();
        let exe = make(&instrument.dir().join("env"), &python).expect("the environment starts");
        let shown = run_instrumented(
            &exe,
            instrument.dir(),
            "import sys; print(sys.prefix != sys.base_prefix); print('\\n'.join(sys.path[1:])); exit(0)",
        );
        let mut lines = shown.lines();
        assert_eq!(lines.next(), Some("True"), "not started in the environment");
        let path: Vec<&str> = lines.collect();
        // The instrumentation first (PYTHONPATH), then exactly a normal start's folders.
        assert_eq!(path[0], instrument.dir().display().to_string());
        let normal: Vec<&str> = python.path.iter().map(String::as_str).collect();
        let restored: Vec<&str> = path[1..]
            .iter()
            .copied()
            .filter(|p| !p.starts_with(&instrument.dir().display().to_string()))
            .collect();
        assert_eq!(restored, normal);
    }

    #[test]
    fn an_interpreter_that_does_not_start_gets_no_environment() {
        let dir = tempfile::tempdir().unwrap();
        let broken = Python {
            exe: "/nonexistent/bin/python3".into(),
            base: "/nonexistent/bin/python3.11".into(),
            path: vec![],
        };
        assert_eq!(make(&dir.path().join("env"), &broken), None);
    }
}
