//! Joining the outputs of sharded batches (`grader merge OUT1 OUT2 ... --out OUT`): every
//! student folder of every input is copied into `OUT` (unless it is already there), and
//! `grades.csv` and `index.html` are written for the whole class, exactly as one unsharded
//! batch would have written them. A student found in two inputs is an error: the shards
//! overlapped.

use super::resume;
use crate::report::class::Graded;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The students (graded or broken) recorded in one batch output folder.
pub(crate) fn read(out: &Path) -> Result<Vec<Graded>> {
    let mut students = Vec::new();
    let entries = std::fs::read_dir(out)
        .with_context(|| format!("{}: not a readable folder", out.display()))?;
    for entry in entries.flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(result) = resume::load_any(out, &name) {
            students.push(Graded {
                student: name,
                result,
            });
        }
    }
    Ok(students)
}

/// Merges `inputs` into `out`; returns the class, sorted by name.
pub(crate) fn merge(inputs: &[PathBuf], out: &Path) -> Result<Vec<Graded>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let target = out.canonicalize()?;
    let mut class: BTreeMap<String, (Graded, PathBuf)> = BTreeMap::new();
    for input in inputs {
        for g in read(input)? {
            if let Some((_, first)) = class.get(&g.student) {
                bail!(
                    "student {:?} is in both {} and {}: did the shards overlap?",
                    g.student,
                    first.display(),
                    input.display()
                );
            }
            class.insert(g.student.clone(), (g, input.clone()));
        }
    }
    for (name, (_, input)) in &class {
        if input.canonicalize()? != target {
            copy_dir(&resume::folder(input, name), &resume::folder(out, name))?;
        }
    }
    let students: Vec<Graded> = class.into_values().map(|(g, _)| g).collect();
    super::write_class(out, &students)?;
    Ok(students)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries = std::fs::read_dir(from)?.collect::<std::io::Result<Vec<_>>>()?;
    // The report that marks a student as graded goes last.
    entries.sort_by_key(|e| e.file_name() == resume::REPORT);
    for entry in entries {
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()))?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
