//! Finding the real Python interpreter once per run. `python3` on a machine may be a
//! wrapper script (pyenv's shim costs ~50 ms per start); asking the interpreter for
//! `sys.executable` once and starting that directly saves it on every program start.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;

/// Resolved interpreter names of this run: name -> executable path or why it failed.
static CACHE: Mutex<Option<HashMap<String, Result<String, String>>>> = Mutex::new(None);

/// Whether `argv0` names a Python interpreter (`python`, `python3`, `python3.11`, a path to one).
pub fn is_python(argv0: &str, configured: &str) -> bool {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    argv0 == configured
        || name == "python"
        || name.starts_with("python3")
        || name.starts_with("pypy")
}

/// The executable behind `name`, asked of the interpreter itself (cached).
pub fn resolve(name: &str) -> Result<String, String> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .get_or_insert_with(HashMap::new)
        .entry(name.to_string())
        .or_insert_with(|| ask(name))
        .clone()
}

fn ask(name: &str) -> Result<String, String> {
    let out = Command::new(name)
        // -S: no site import (sys.executable does not need it), so the question does not
        // pay for the machine's .pth files (~60 ms here); programs still start with them.
        .args(["-S", "-c", "import sys; print(sys.executable); sys.exit(0 if sys.version_info >= (3, 6) else 3)"])
        .output()
        .map_err(|e| format!("the Python interpreter {name:?} could not be started ({e}): install Python 3 or pass --python PATH"))?;
    if !out.status.success() {
        return Err(format!(
            "{name:?} is not a Python 3.6+ interpreter: pass --python PATH"
        ));
    }
    let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(if exe.is_empty() {
        name.to_string()
    } else {
        exe
    })
}
