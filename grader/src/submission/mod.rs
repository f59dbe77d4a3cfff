//! What a submission holds: for every task kind, the programs that implement it, found by
//! default file name or named by the optional `grader.toml` manifest (SPEC section 1).
//! Discovery only reads the folder; nothing runs here.

pub mod copy;
pub mod hints;
pub mod interpreter;
pub mod manifest;

use crate::tasks::{Kind, ALL};
use std::path::{Path, PathBuf};

/// A submission folder and its task instances, in the SPEC's task order.
#[derive(Clone, Debug)]
pub struct Submission {
    /// The folder, as given on the command line.
    pub dir: PathBuf,
    /// One entry per instance (or per missing task).
    pub tasks: Vec<TaskEntry>,
}

/// One task instance of a submission.
#[derive(Clone, Debug)]
pub struct TaskEntry {
    /// Instance id: the task id, or the manifest key / file stem for extra instances.
    pub id: String,
    /// Kind of program.
    pub kind: Kind,
    /// How to run it, or what was looked for.
    pub found: Found,
}

/// Whether a task's program is there.
#[derive(Clone, Debug)]
pub enum Found {
    /// The command to run (placeholders and interpreter name as given).
    Program(Vec<String>),
    /// None of these files exist.
    Missing(Vec<String>),
}

/// Why a folder cannot be graded at all.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
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
    pub fn discover(dir: &Path, python: &str) -> Result<Submission, DiscoverError> {
        if !dir.is_dir() {
            return Err(DiscoverError::NotAFolder(dir.to_path_buf()));
        }
        let manifest = manifest::Manifest::read(dir)?;
        let mut tasks = Vec::new();
        for kind in ALL {
            let named: Vec<TaskEntry> = manifest
                .entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| TaskEntry {
                    id: e.id.clone(),
                    kind,
                    found: Found::Program(e.run.clone()),
                })
                .collect();
            if !named.is_empty() {
                tasks.extend(named);
                continue;
            }
            let present: Vec<&str> = kind
                .default_files()
                .iter()
                .copied()
                .filter(|f| dir.join(f).is_file())
                .collect();
            if present.is_empty() {
                let looked_for = kind.default_files().iter().map(|f| f.to_string()).collect();
                tasks.push(TaskEntry {
                    id: kind.id().to_string(),
                    kind,
                    found: Found::Missing(looked_for),
                });
            }
            for file in present {
                let stem = file.trim_end_matches(".py");
                // `multiprint2.py` is its own instance `multiprint2`; default names are the task id.
                let id = if stem.starts_with(kind.id()) && stem != kind.id() {
                    stem.to_string()
                } else {
                    kind.id().to_string()
                };
                tasks.push(TaskEntry {
                    id,
                    kind,
                    found: Found::Program(vec![python.to_string(), file.to_string()]),
                });
            }
        }
        Ok(Submission {
            dir: dir.to_path_buf(),
            tasks,
        })
    }

    /// True when at least one task's program is present.
    pub fn has_programs(&self) -> bool {
        self.tasks
            .iter()
            .any(|t| matches!(t.found, Found::Program(_)))
    }
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
    fn manifest_entries_replace_default_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server1.py"), "").unwrap();
        std::fs::write(
            dir.path().join("grader.toml"),
            "[tasks.tcp-upper]\nrun = [\"./srv\", \"--port\", \"{port}\"]\n[tasks.mp2]\nkind = \"multiprint\"\nrun = [\"python3\", \"mp.py\"]\n",
        )
        .unwrap();
        let s = Submission::discover(dir.path(), "python3").unwrap();
        let tcp = s.tasks.iter().find(|t| t.kind == Kind::TcpUpper).unwrap();
        assert!(matches!(&tcp.found, Found::Program(argv) if argv[0] == "./srv"));
        assert!(s
            .tasks
            .iter()
            .any(|t| t.id == "mp2" && t.kind == Kind::Multiprint));
    }
}
