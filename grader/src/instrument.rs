//! The grader's Python instrumentation: a `sitecustomize.py` (and its helper modules)
//! written once per run into a private directory that goes on `PYTHONPATH`, never into the
//! student's folder. It does nothing unless a check turns a feature on through the
//! environment, so every other check judges the program as it is. The same directory
//! holds the environments Python programs start in ([`crate::python_env`]), so that a
//! box, which binds it read-only, sees them too.

use crate::submission::interpreter::Python;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SITECUSTOMIZE: &str = include_str!("../assets/python/sitecustomize.py");
const PREEMPT: &str = include_str!("../assets/python/grader_preempt.py");

/// The directory holding the instrumentation; removed when the last handle goes.
#[derive(Clone, Debug)]
pub struct Instrument {
    dir: Arc<tempfile::TempDir>,
    /// The environments made so far ([`crate::python_env`]): interpreter -> executable
    /// to start (`None`: the environment did not start; the interpreter itself).
    envs: Arc<Mutex<HashMap<String, Option<PathBuf>>>>,
}

impl Instrument {
    /// Writes the instrumentation files into a new private directory.
    pub fn install() -> std::io::Result<Instrument> {
        let dir = tempfile::Builder::new().prefix("grader-py-").tempdir()?;
        std::fs::write(dir.path().join("sitecustomize.py"), SITECUSTOMIZE)?;
        std::fs::write(dir.path().join("grader_preempt.py"), PREEMPT)?;
        Ok(Instrument {
            dir: Arc::new(dir),
            envs: Arc::default(),
        })
    }

    /// The executable to start Python programs of `python` with: the grader's own
    /// environment for it, in this folder ([`crate::python_env`]), made on first use;
    /// the interpreter itself where that environment does not start.
    pub(crate) fn interpreter(&self, python: &Python) -> String {
        let mut envs = self.envs.lock().unwrap_or_else(|e| e.into_inner());
        let n = envs.len();
        envs.entry(python.exe.clone())
            .or_insert_with(|| {
                crate::python_env::make(&self.dir().join(format!("env-{n}")), python)
            })
            .as_ref()
            .map_or_else(|| python.exe.clone(), |p| p.display().to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A forked child of a program freezes what it inherited for the cycle collector (its
    /// exit then copies no page of the parent's heap), the parent is left alone, and the
    /// child's own garbage is still collected.
    #[test]
    fn a_forked_child_freezes_what_it_inherited_and_collects_its_own() {
        let Ok(python) = crate::submission::interpreter::interpreter("python3") else {
            return;
        };
        let instrument = Instrument::install().unwrap();
        let code = r#"
import gc, os
assert gc.get_freeze_count() == 0, "the parent was frozen"
pid = os.fork()
if pid == 0:
    cycle = []
    cycle.append(cycle)
    del cycle
    print(gc.get_freeze_count() > 1000, gc.collect() > 0, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print(gc.get_freeze_count())
"#;
        let exe = std::path::PathBuf::from(instrument.interpreter(&python));
        let shown = crate::python_env::run_instrumented(&exe, instrument.dir(), code);
        assert_eq!(shown, "True True\n0\n");
    }
}
