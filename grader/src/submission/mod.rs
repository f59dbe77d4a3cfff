//! What a submission holds: for every task kind, the programs that implement it, found by
//! default file name or named by the optional `grader.toml` manifest (SPEC section 1).
//! Discovery only reads the folder; nothing runs here.

pub(crate) mod copy;
pub(crate) mod hints;
pub mod interpreter;
pub(crate) mod manifest;
pub(crate) mod open;
pub(crate) mod root;

use crate::task::Kind;
use std::path::{Path, PathBuf};

/// A submission folder and its task instances, in the SPEC's task order.
#[derive(Clone, Debug)]
pub(crate) struct Submission {
    /// The folder, as given on the command line.
    pub dir: PathBuf,
    /// One entry per instance (or per missing task).
    pub tasks: Vec<TaskEntry>,
}

/// One task instance of a submission.
#[derive(Clone, Debug)]
pub(crate) struct TaskEntry {
    /// Instance id: the task id, or the manifest key / file stem for extra instances.
    pub id: String,
    /// Kind of program.
    pub kind: Kind,
    /// How to run it, or what was looked for.
    pub found: Found,
}

/// Whether a task's program is there.
#[derive(Clone, Debug)]
pub(crate) enum Found {
    /// The command to run (placeholders and interpreter name as given).
    Program(Vec<String>),
    /// None of these files exist.
    Missing(Vec<String>),
    /// The program's file is there but the grader does not run it (a link out of the
    /// submission, a FIFO, ...); the text says which file and why.
    Refused(String),
}

/// Why a folder cannot be graded at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DiscoverError {
    /// The path is not a readable folder.
    #[error("{0}: not a folder")]
    NotAFolder(PathBuf),
    /// `grader.toml` is malformed.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
}

impl Submission {
    /// Finds the task instances of the folder `dir`; `python` is the interpreter for
    /// `.py` files found by default name.
    pub(crate) fn discover(dir: &Path, python: &str) -> Result<Submission, DiscoverError> {
        Submission::discover_among(dir, python, crate::tasks::ALL)
    }

    /// [`Submission::discover`] for the tasks of `table` (in its order).
    pub(crate) fn discover_among(
        dir: &Path,
        python: &str,
        table: &[Kind],
    ) -> Result<Submission, DiscoverError> {
        if !dir.is_dir() {
            return Err(DiscoverError::NotAFolder(dir.to_path_buf()));
        }
        let manifest = manifest::Manifest::read(dir, table)?;
        let mut tasks = Vec::new();
        for &kind in table {
            let named: Vec<TaskEntry> = manifest
                .entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| TaskEntry {
                    id: e.id.clone(),
                    kind,
                    found: match refused_word(dir, &e.run) {
                        Some(why) => Found::Refused(why),
                        None => Found::Program(e.run.clone()),
                    },
                })
                .collect();
            if !named.is_empty() {
                tasks.extend(named);
                continue;
            }
            // A default file is taken only as a regular file inside the submission
            // (`open`); one that is there but refused (a link out, a FIFO) is an instance
            // whose report says why, not a missing task.
            let mut found = Vec::new();
            for file in kind.files.iter().copied() {
                let program = match open::open(dir, Path::new(file)) {
                    Ok(_) => Found::Program(vec![python.to_string(), file.to_string()]),
                    Err(open::Refused::Missing) => continue,
                    Err(why) => Found::Refused(format!("{file} {why}")),
                };
                let stem = file.trim_end_matches(".py");
                // `multiprint2.py` is its own instance `multiprint2`; default names are the task id.
                let id = if stem.starts_with(kind.id) && stem != kind.id {
                    stem.to_string()
                } else {
                    kind.id.to_string()
                };
                found.push(TaskEntry {
                    id,
                    kind,
                    found: program,
                });
            }
            if found.is_empty() {
                let looked_for = kind.files.iter().map(|f| f.to_string()).collect();
                found.push(TaskEntry {
                    id: kind.id.to_string(),
                    kind,
                    found: Found::Missing(looked_for),
                });
            }
            tasks.append(&mut found);
        }
        Ok(Submission {
            dir: dir.to_path_buf(),
            tasks,
        })
    }

    /// True when at least one task's program is present (or present and refused, which
    /// the report then explains).
    pub(crate) fn has_programs(&self) -> bool {
        self.tasks
            .iter()
            .any(|t| matches!(t.found, Found::Program(_) | Found::Refused(_)))
    }
}

/// Why a manifest command cannot run as given: a word of it that names something in the
/// submission which the working copy leaves out (a link out, a FIFO; see `copy.rs`).
fn refused_word(dir: &Path, run: &[String]) -> Option<String> {
    run.iter().find_map(|word| {
        let rel = Path::new(word);
        if rel.is_absolute() || std::fs::symlink_metadata(dir.join(rel)).is_err() {
            return None;
        }
        match open::open(dir, rel) {
            Ok(_) | Err(open::Refused::Missing) | Err(open::Refused::NotRegular("folder")) => None,
            Err(why) => Some(format!(
                "{} {why}",
                crate::escape::line_short(word.as_bytes(), 60)
            )),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_default_files_and_multiprint_instances() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["server1.py", "multiprint1.py", "multiprint3.py"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let s = Submission::discover(dir.path(), "python3").unwrap();
        let present: Vec<&str> = s
            .tasks
            .iter()
            .filter(|t| matches!(t.found, Found::Program(_)))
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(present, ["tcp-upper", "multiprint1", "multiprint3"]);
        assert_eq!(
            s.tasks
                .iter()
                .filter(|t| matches!(t.found, Found::Missing(_)))
                .count(),
            8
        );
    }

    #[test]
    fn a_program_linked_out_is_refused_whether_found_or_named() {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("sub");
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(top.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink("../secret", dir.join("server1.py")).unwrap();
        std::os::unix::fs::symlink("../secret", dir.join("srv.py")).unwrap();
        std::fs::write(
            dir.join("grader.toml"),
            "[tasks.udp-upper]\nrun = [\"python3\", \"srv.py\", \"{port}\"]\n[tasks.counter]\nrun = [\"python3\", \"-m\", \"pkg\"]\n",
        )
        .unwrap();
        let s = Submission::discover(&dir, "python3").unwrap();
        let found = |k: Kind| &s.tasks.iter().find(|t| t.kind == k).unwrap().found;
        assert!(
            matches!(found(&crate::tasks::tcp_upper::TASK), Found::Refused(w) if w.starts_with("server1.py is a link out"))
        );
        assert!(
            matches!(found(&crate::tasks::udp_upper::TASK), Found::Refused(w) if w.starts_with("srv.py is a link out"))
        );
        assert!(matches!(
            found(&crate::tasks::counter::TASK),
            Found::Program(_)
        ));
    }

    #[test]
    fn manifest_entries_replace_default_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server1.py"), "").unwrap();
        std::fs::write(
            dir.path().join("grader.toml"),
            "[tasks.tcp-upper]\nrun = [\"./srv\", \"--port\", \"{port}\"]\n[tasks.mp2]\nkind = \"multiprint\"\nrun = [\"python3\", \"mp.py\"]\n",
        )
        .unwrap();
        let s = Submission::discover(dir.path(), "python3").unwrap();
        let tcp = s
            .tasks
            .iter()
            .find(|t| t.kind == &crate::tasks::tcp_upper::TASK)
            .unwrap();
        assert!(matches!(&tcp.found, Found::Program(argv) if argv[0] == "./srv"));
        assert!(s
            .tasks
            .iter()
            .any(|t| t.id == "mp2" && t.kind == &crate::tasks::multiprint::TASK));
    }
}
