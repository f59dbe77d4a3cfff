//! The grader's Python instrumentation: a `sitecustomize.py` (and its helper modules)
//! written once per run into a private directory that goes on `PYTHONPATH`, never into the
//! student's folder. It does nothing unless a check turns a feature on through the
//! environment, so every other check judges the program as it is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

const SITECUSTOMIZE: &str = include_str!("../assets/python/sitecustomize.py");
const PREEMPT: &str = include_str!("../assets/python/grader_preempt.py");

/// The directory holding the instrumentation; removed when the last handle goes.
#[derive(Clone, Debug)]
pub struct Instrument {
    dir: Arc<tempfile::TempDir>,
}

impl Instrument {
    /// Writes the instrumentation files into a new private directory.
    pub fn install() -> std::io::Result<Instrument> {
        let dir = tempfile::Builder::new().prefix("grader-py-").tempdir()?;
        std::fs::write(dir.path().join("sitecustomize.py"), SITECUSTOMIZE)?;
        std::fs::write(dir.path().join("grader_preempt.py"), PREEMPT)?;
        Ok(Instrument { dir: Arc::new(dir) })
    }

    /// The directory to put on `PYTHONPATH`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// `socket.send` accepts only part of its buffer, as on a loaded network (check `large`);
/// the first time it cuts a send short, the program writes a line to `log` (the evidence
/// that short writes were injected).
pub(crate) fn short_send(log: &Path) -> (String, String) {
    ("GRADER_SHORT_SEND".into(), log.display().to_string())
}

/// Forced, seeded thread switches between bytecodes (checks `race-free`).
pub(crate) fn preempt(seed: u64) -> (String, String) {
    ("GRADER_PREEMPT".into(), seed.to_string())
}

/// Every thread started is recorded, one line each, in `path` (check `uses-threads`).
pub(crate) fn thread_log(path: &Path) -> (String, String) {
    (
        "GRADER_THREAD_LOG".into(),
        PathBuf::from(path).display().to_string(),
    )
}
