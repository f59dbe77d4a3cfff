//! Which task a Python file that the grader did not recognise probably is, and how to make
//! the grader find it. Students name files after the lecture (`thread1.py` is the program
//! `counter` fixes), change case (`Server2.py`), add words (`counter_thread.py`), or hand
//! in a folder with the programs one level down. A suggestion names the file, the task and
//! why it thinks so, and the two fixes: rename it, or name it in `grader.toml`.

use crate::task::Kind;
use std::path::Path;

/// A file that looks like a missing task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Suggestion {
    /// The file, relative to the submission (`sub/server1.py`).
    pub file: String,
    /// The task it looks like.
    pub kind: Kind,
    /// Why: "the lecture's name for it", "the same name but for upper case", ...
    pub why: &'static str,
}

impl Suggestion {
    /// One line for the student: what it looks like and the two ways to fix it.
    pub(crate) fn line(&self) -> String {
        let default = self.kind.files[0];
        let manifest = format!(
            "[tasks.{}] run = [\"python3\", \"{}\"] in grader.toml",
            self.kind.id, self.file
        );
        let rename = if self.file.contains('/') {
            format!("move it to the top folder as {default}")
        } else {
            format!("rename it {default}")
        };
        format!(
            "{} looks like {} ({}): {rename}, or add {manifest}",
            self.file, self.kind.id, self.why
        )
    }
}

/// Suggestions for the `.py` files of `dir` (and of its sub-folders, one level down) that
/// may be one of the `missing` tasks; at most one per file, at most one file per task.
pub(crate) fn suggest(dir: &Path, missing: &[Kind]) -> Vec<Suggestion> {
    let mut guesses: Vec<(usize, Suggestion)> = python_files(dir)
        .into_iter()
        .filter_map(|file| {
            let (kind, rank, why) = guess(&file, missing)?;
            Some((rank, Suggestion { file, kind, why }))
        })
        .collect();
    // The strongest guess per task wins; then in the order of the files.
    guesses.sort_by_key(|(rank, _)| *rank);
    let mut found: Vec<Suggestion> = Vec::new();
    for (_, s) in guesses {
        if found.iter().all(|f| f.kind != s.kind) {
            found.push(s);
        }
    }
    found.sort_by(|a, b| a.file.cmp(&b.file));
    found
}

// The reasons, surest first (their rank is the number after each).
const ONE_DOWN: &str = "its file name, one folder down";
// 1: the task's `lecture_name`, with its own reason.
const CASE: &str = "its file name in other letter case";
const CLOSE: &str = "a name close to its file name";

/// `.py` files at the top (sorted) then one level down, as paths relative to `dir`;
/// hidden entries and links are left alone.
fn python_files(dir: &Path) -> Vec<String> {
    let entries = |d: &Path| -> Vec<(String, std::fs::FileType)> {
        let mut v: Vec<(String, std::fs::FileType)> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
            .filter(|(name, _)| !name.starts_with('.') && !name.starts_with("__"))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let top = entries(dir);
    let mut files: Vec<String> = top
        .iter()
        .filter(|(n, t)| t.is_file() && n.ends_with(".py"))
        .map(|(n, _)| n.clone())
        .collect();
    for (sub, _) in top.iter().filter(|(_, t)| t.is_dir()) {
        files.extend(
            entries(&dir.join(sub))
                .into_iter()
                .filter(|(n, t)| t.is_file() && n.ends_with(".py"))
                .map(|(n, _)| format!("{sub}/{n}")),
        );
    }
    files
}

/// The missing task `file` most likely is, how sure that is (0 surest), and why.
fn guess(file: &str, missing: &[Kind]) -> Option<(Kind, usize, &'static str)> {
    let (folder, name) = match file.rsplit_once('/') {
        Some((folder, name)) => (Some(folder), name),
        None => (None, file),
    };
    let stem = name.trim_end_matches(".py");
    // The task's own file name, one folder down.
    if folder.is_some() {
        if let Some(kind) = missing.iter().find(|k| k.files.contains(&name)) {
            return Some((*kind, 0, ONE_DOWN));
        }
    }
    // The lecture's own names for programs a task asks for.
    for kind in missing {
        if let Some((lecture, why)) = kind.lecture_name {
            if stem.eq_ignore_ascii_case(lecture.trim_end_matches(".py")) {
                return Some((*kind, 1, why));
            }
        }
    }
    // The file name in another case.
    if let Some(kind) = missing.iter().find(|k| {
        k.files
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name) && *f != name)
    }) {
        return Some((*kind, 2, CASE));
    }
    // A close name: the task's name or file name inside it, or a typo away from it.
    let plain = normal(stem);
    missing
        .iter()
        .find(|k| {
            let mut names: Vec<String> = k
                .files
                .iter()
                .map(|f| normal(f.trim_end_matches(".py")))
                .collect();
            names.push(normal(k.id));
            names
                .iter()
                .any(|n| (n.len() >= 6 && plain.contains(n.as_str())) || distance(&plain, n) <= 2)
        })
        .map(|k| (*k, 3, CLOSE))
}

/// Lower case, letters and digits only: "Counter_Thread" -> "counterthread".
fn normal(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path, files: &[&str]) -> Vec<(String, Kind)> {
        for f in files {
            let path = dir.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        suggest(dir, crate::tasks::ALL)
            .into_iter()
            .map(|s| (s.file, s.kind))
            .collect()
    }

    #[test]
    fn lecture_names_case_and_close_names() {
        let dir = tempfile::tempdir().unwrap();
        let found = names(
            dir.path(),
            &[
                "thread1.py",
                "Server2.py",
                "counter_thread.py",
                "notes.py",
                "clinet1.py",
                "Multiprint_queue.py",
            ],
        );
        assert_eq!(
            found,
            [
                (
                    "Multiprint_queue.py".to_string(),
                    &crate::tasks::multiprint::TASK
                ),
                ("Server2.py".to_string(), &crate::tasks::udp_upper::TASK),
                ("clinet1.py".to_string(), &crate::tasks::tcp_client::TASK),
                ("thread1.py".to_string(), &crate::tasks::counter::TASK),
            ]
        );
        // Alone, counter_thread.py is taken for counter.
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            names(other.path(), &["counter_thread.py"]),
            [(
                "counter_thread.py".to_string(),
                &crate::tasks::counter::TASK
            )]
        );
    }

    #[test]
    fn a_program_one_folder_down() {
        let dir = tempfile::tempdir().unwrap();
        names(dir.path(), &["lab1/server1.py"]);
        let found = suggest(dir.path(), crate::tasks::ALL);
        assert_eq!(found[0].file, "lab1/server1.py");
        assert_eq!(
            found[0].line(),
            "lab1/server1.py looks like tcp-upper (its file name, one folder down): move it to the top folder as server1.py, or add [tasks.tcp-upper] run = [\"python3\", \"lab1/server1.py\"] in grader.toml"
        );
    }

    #[test]
    fn only_missing_tasks_are_suggested() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("counter_thread.py"), "").unwrap();
        assert!(suggest(dir.path(), &[&crate::tasks::tcp_upper::TASK]).is_empty());
        assert_eq!(distance("sever1", "server1"), 1);
    }
}
