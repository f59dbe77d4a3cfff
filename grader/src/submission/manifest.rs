//! The optional `grader.toml` of a submission (SPEC section 1): per task instance, the
//! command to run and, for extra instances, the kind of task it is.
//!
//! ```toml
//! [tasks.tcp-upper]
//! run = ["python3", "my_server.py"]   # {port}, {host} and {grader} are replaced at start
//! [tasks.multiprint2]
//! kind = "multiprint"
//! run = ["python3", "mp2.py"]
//! ```

use crate::tasks::Kind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the manifest inside a submission.
pub const FILE: &str = "grader.toml";

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct ManifestError {
    /// The manifest's path.
    pub path: PathBuf,
    /// What is wrong.
    pub kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    tasks: BTreeMap<String, RawTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    run: Vec<String>,
    kind: Option<String>,
}

/// One `[tasks.ID]` table.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The table's key: the instance id.
    pub id: String,
    /// Its kind (`kind`, or the key itself).
    pub kind: Kind,
    /// The command.
    pub run: Vec<String>,
}

/// The parsed manifest; empty when the submission has none.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// Entries in key order.
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// Reads `dir/grader.toml` if there is one.
    pub fn read(dir: &Path) -> Result<Manifest, ManifestError> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => {
                return Err(ManifestError {
                    path,
                    kind: e.to_string(),
                })
            }
        };
        let fail = |kind: String| ManifestError {
            path: path.clone(),
            kind,
        };
        let raw: Raw = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let mut entries = Vec::new();
        for (id, task) in raw.tasks {
            let kind_id = task.kind.as_deref().unwrap_or(&id);
            let kind = Kind::from_id(kind_id).ok_or_else(|| {
                fail(format!("[tasks.{id}]: unknown task kind {kind_id:?} (see `grader list`); add kind = \"...\" for an extra instance"))
            })?;
            if task.run.is_empty() {
                return Err(fail(format!("[tasks.{id}]: run is empty")));
            }
            entries.push(Entry {
                id,
                kind,
                run: task.run,
            });
        }
        Ok(Manifest { entries })
    }
}
