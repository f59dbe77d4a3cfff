//! Who is in the class: each visible sub-folder of the submissions folder is a student, and
//! so is each `.zip` file (named by its stem). Hidden entries (starting with `.`) are left
//! alone; a folder and a zip with the same name are one student whose grading says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a student's submission is.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A folder.
    Dir(PathBuf),
    /// A zip file to unpack.
    Zip(PathBuf),
    /// Two submissions with one name; the text says which.
    Conflict(String),
}

impl Source {
    /// The path shown in reports.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Source::Dir(p) | Source::Zip(p) => p,
            Source::Conflict(_) => Path::new(""),
        }
    }
}

/// One student.
#[derive(Clone, Debug)]
pub(crate) struct Student {
    /// The name: folder name or zip stem.
    pub name: String,
    /// The submission.
    pub source: Source,
}

/// Names of the class files in the output folder.
const RESERVED: [&str; 2] = ["grades.csv", "index.html"];

/// The students of `dir`, sorted by name.
pub(crate) fn discover(dir: &Path) -> anyhow::Result<Vec<Student>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: not a readable folder: {e}", dir.display()))?;
    let mut found: BTreeMap<String, Source> = BTreeMap::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let (name, source) = if path.is_dir() {
            (file_name, Source::Dir(path))
        } else if let Some(stem) = zip_stem(&file_name) {
            (stem.to_string(), Source::Zip(path))
        } else {
            continue;
        };
        if name.is_empty() || name.starts_with('.') {
            continue;
        }
        if RESERVED.contains(&name.as_str()) {
            anyhow::bail!(
                "{}: a student cannot be named {name:?}, the name of a class file in the output; rename it",
                source.path().display()
            );
        }
        if let Some(have) = found.get(&name) {
            let why = format!(
                "two submissions named {name:?} ({} and {}): keep one",
                have.path().display(),
                source.path().display()
            );
            found.insert(name, Source::Conflict(why));
        } else {
            found.insert(name, source);
        }
    }
    Ok(found
        .into_iter()
        .map(|(name, source)| Student { name, source })
        .collect())
}

fn zip_stem(file_name: &str) -> Option<&str> {
    let n = file_name.len();
    (n > 4 && file_name.is_char_boundary(n - 4) && file_name[n - 4..].eq_ignore_ascii_case(".zip"))
        .then(|| &file_name[..n - 4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_zips_are_students_and_clashes_are_flagged() {
        let d = tempfile::tempdir().unwrap();
        for f in ["bob", "carol", ".git"] {
            std::fs::create_dir(d.path().join(f)).unwrap();
        }
        for f in ["alice.zip", "carol.ZIP", "notes.txt", "..zip"] {
            std::fs::write(d.path().join(f), b"").unwrap();
        }
        let s = discover(d.path()).unwrap();
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        assert!(matches!(s[0].source, Source::Zip(_)));
        assert!(matches!(&s[2].source, Source::Conflict(w) if w.contains("keep one")));
    }
}
