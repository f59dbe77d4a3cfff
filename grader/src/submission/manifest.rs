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

use super::open::Refused;
use crate::escape::line_short;
use crate::task::Kind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the manifest inside a submission.
pub(crate) const FILE: &str = "grader.toml";

/// Largest manifest read: a real one is a few hundred bytes.
pub(crate) const MAX_BYTES: u64 = 64 * 1024;

/// Characters of the file (or of a name in it) an error may quote.
const EXCERPT: usize = 60;

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {kind}")]
pub(crate) struct ManifestError {
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
pub(crate) struct Entry {
    /// The table's key: the instance id.
    pub id: String,
    /// Its kind (`kind`, or the key itself).
    pub kind: Kind,
    /// The command.
    pub run: Vec<String>,
}

/// The parsed manifest; empty when the submission has none.
#[derive(Clone, Debug, Default)]
pub(crate) struct Manifest {
    /// Entries in key order.
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// Reads `dir/grader.toml` if there is one: a regular file inside `dir` of at most
    /// [`MAX_BYTES`] (see [`super::open`]). An error quotes at most a short, escaped
    /// excerpt of the file. Task kinds are those of `table`.
    pub(crate) fn read(dir: &Path, table: &[Kind]) -> Result<Manifest, ManifestError> {
        let path = dir.join(FILE);
        let fail = |kind: String| ManifestError {
            path: path.clone(),
            kind,
        };
        let data = match super::open::read(dir, Path::new(FILE), MAX_BYTES) {
            Ok(data) => data,
            Err(Refused::Missing) => return Ok(Manifest::default()),
            Err(e) => return Err(fail(e.to_string())),
        };
        let text = String::from_utf8(data).map_err(|e| {
            fail(format!(
                "not UTF-8 text (at byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let raw: Raw = toml::from_str(&text).map_err(|e| fail(syntax(&text, &e)))?;
        let mut entries = Vec::new();
        for (id, task) in raw.tasks {
            let kind_id = task.kind.as_deref().unwrap_or(&id);
            let shown = line_short(id.as_bytes(), EXCERPT);
            let kind = crate::task::find(table, kind_id).ok_or_else(|| {
                let kind_id = line_short(kind_id.as_bytes(), EXCERPT);
                fail(format!("[tasks.{shown}]: unknown task kind \"{kind_id}\" (see `grader list`); add kind = \"...\" for an extra instance"))
            })?;
            if task.run.is_empty() {
                return Err(fail(format!("[tasks.{shown}]: run is empty")));
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

/// A TOML error as a short line: where, what (cut), and an escaped excerpt of the line
/// around the place. The parser's own text is not used: it quotes the whole line and
/// values of any length.
fn syntax(text: &str, e: &toml::de::Error) -> String {
    let what = line_short(e.message().as_bytes(), EXCERPT);
    let Some(span) = e.span() else {
        return what;
    };
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line_no = text[..at].matches('\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    let from = text[line_start..at]
        .char_indices()
        .rev()
        .nth(EXCERPT / 3)
        .map_or(line_start, |(i, _)| line_start + i);
    let excerpt = line_short(&text.as_bytes()[from..line_end], EXCERPT);
    let pre = if from > line_start { "…" } else { "" };
    format!("line {line_no}, column {column}: {what}: {pre}{excerpt}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        Manifest::read(dir.path(), crate::tasks::ALL)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_quote_only_a_short_escaped_excerpt() {
        let long = "s3cret".repeat(2000);
        for text in [
            format!("[tasks.tcp-upper]\nrun = \"{long}\"\n"),
            format!("[tasks.tcp-upper]\nrun = [\"a\"] {long}\n"),
            format!("[tasks.{long}]\nrun = [\"a\"]\n"),
            format!("[tasks.x]\nkind = \"{long}\"\nrun = [\"a\"]\n"),
            format!("{long}\u{202e}\x1b[2J\n"),
        ] {
            let e = error(&text);
            assert!(e.len() < 400, "{} bytes: {e}", e.len());
            assert!(!e.contains(['\u{202e}', '\x1b', '\n']), "{e}");
        }
        let e = error("[tasks.tcp-upper]\nrun = 3\n");
        assert!(e.contains("line 2"), "{e}");
    }
}
