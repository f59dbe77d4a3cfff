//! Finding the real Python interpreter once per run, and what a normal start of it would
//! put on `sys.path`. `python3` on a machine may be a wrapper script (pyenv's shim costs
//! ~50 ms per start); asking the interpreter for `sys.executable` once and starting that
//! directly saves it on every program start. The same question records the import path
//! that `site` would build (site-packages and the path lines of their `.pth` files)
//! without running the `.pth` files' `import` lines, so that programs can be started
//! without those start-up hooks and still import what a normal start imports
//! ([`crate::instrument::Instrument::interpreter`]).

use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;

/// A Python interpreter as it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Python {
    /// `sys.executable`: the path to start.
    pub exe: String,
    /// The real executable behind it (links resolved; a virtual environment's base), for
    /// an environment of the grader's own.
    pub base: String,
    /// `sys.path` after `site` ran (the `-c` entry left out), its `.pth` hooks not run.
    pub path: Vec<String>,
}

/// Resolved interpreter names of this run: name -> the interpreter or why it failed.
static CACHE: Mutex<Option<HashMap<String, Result<Python, String>>>> = Mutex::new(None);

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
    interpreter(name).map(|p| p.exe)
}

/// The interpreter behind `name`, asked once per run (cached).
pub fn interpreter(name: &str) -> Result<Python, String> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .get_or_insert_with(HashMap::new)
        .entry(name.to_string())
        .or_insert_with(|| ask(name))
        .clone()
}

/// What the interpreter is asked: `-S` (no `site` at start) and `-s` (no user site:
/// programs run with a home of their own), then `site` run by hand with its `exec` (how
/// it runs a `.pth` file's `import` lines) shadowed by a no-op, and no `sitecustomize`.
/// Prints `sys.executable`, the real executable, then `sys.path` past the `-c` entry.
const QUESTION: &str = r#"import os, sys
import site
exe = sys.executable
base = os.path.realpath(getattr(sys, "_base_executable", None) or exe)
sys.modules["sitecustomize"] = None
sys.modules["usercustomize"] = None
site.exec = lambda *args, **kwargs: None
site.main()
print(exe)
print(base)
for p in sys.path[1:]:
    print(p)
sys.exit(0 if sys.version_info >= (3, 6) else 3)
"#;

fn ask(name: &str) -> Result<Python, String> {
    let mut cmd = Command::new(name);
    // The programs' environment has none of these (it is made afresh for them).
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PYTHON") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args(["-S", "-s", "-c", QUESTION])
        .output()
        .map_err(|e| format!("the Python interpreter {name:?} could not be started ({e}): install Python 3 or pass --python PATH"))?;
    if !out.status.success() {
        return Err(format!(
            "{name:?} is not a Python 3.6+ interpreter: pass --python PATH"
        ));
    }
    Ok(parse(name, &String::from_utf8_lossy(&out.stdout)))
}

/// The interpreter from the answer's lines (an empty answer: `name` itself).
fn parse(name: &str, answer: &str) -> Python {
    let mut lines = answer.lines();
    let exe = lines
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or(name)
        .to_string();
    let base = lines
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or(&exe)
        .to_string();
    Python {
        exe,
        base,
        path: lines.filter(|l| !l.is_empty()).map(String::from).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_gives_the_executable_its_base_and_the_import_path() {
        let p = parse("python3", "/v/bin/python3\n/usr/bin/python3.11\n/usr/lib/python3.11\n/usr/lib/python3/dist-packages\n");
        assert_eq!(p.exe, "/v/bin/python3");
        assert_eq!(p.base, "/usr/bin/python3.11");
        assert_eq!(
            p.path,
            ["/usr/lib/python3.11", "/usr/lib/python3/dist-packages"]
        );
        assert_eq!(parse("python3", "").exe, "python3");
    }

    #[test]
    fn the_import_path_is_site_s_without_running_a_pth_hook() {
        let Ok(real) = interpreter("python3") else {
            return;
        };
        // A site folder with a .pth file of one path line and one import line: the path
        // is kept, the import line is not run.
        let site = tempfile::tempdir().unwrap();
        let extra = site.path().join("extra");
        std::fs::create_dir(&extra).unwrap();
        let flag = site.path().join("hook-ran");
        std::fs::write(
            site.path().join("t.pth"),
            format!(
                "{}\nimport os; open({:?}, 'w').close()\n",
                extra.display(),
                flag.display()
            ),
        )
        .unwrap();
        // `site.addsitedir` on it, as `site.main()` does for site-packages.
        let question = QUESTION.replace(
            "site.main()\n",
            &format!(
                "site.main()\nsite.addsitedir({:?})\n",
                site.path().display()
            ),
        );
        assert_ne!(question, QUESTION);
        let out = Command::new(&real.exe)
            .args(["-S", "-s", "-c", &question])
            .output()
            .unwrap();
        let p = parse("python3", &String::from_utf8_lossy(&out.stdout));
        assert!(
            p.path.contains(&extra.display().to_string()),
            "{p:?} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!flag.exists(), "the .pth import line ran");
        assert!(p.path.iter().any(|d| d.ends_with("-packages")), "{p:?}");
        assert_eq!(p.exe, real.exe);
    }
}
