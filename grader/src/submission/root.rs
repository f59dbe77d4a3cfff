//! Where the programs of a submission folder are: students zip the folder rather than its
//! files, or hand in `judy/judy/server1.py`, so a folder holding nothing but one sub-folder
//! is looked through (up to three levels). One rule for `grader check DIR`, for a zip
//! unpacked by `check` or `batch`, and for a class's folders.

use std::fs;
use std::path::Path;

/// The folder to grade inside an unpacked or given folder: a folder holding nothing but one
/// sub-folder (a zip of the folder rather than of its files) is looked through.
pub(crate) fn find(dir: &Path) -> std::path::PathBuf {
    let mut root = dir.to_path_buf();
    for _ in 0..3 {
        let Ok(entries) = fs::read_dir(&root) else {
            break;
        };
        let visible: Vec<_> = entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                !name.starts_with('.') && name != "__MACOSX"
            })
            .collect();
        match visible.as_slice() {
            [only] if only.file_type().is_ok_and(|t| t.is_dir()) => root = only.path(),
            _ => break,
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_sub_folder_is_looked_through_but_not_a_folder_with_files() {
        let d = tempfile::tempdir().unwrap();
        let inner = d.path().join("judy/judy");
        fs::create_dir_all(&inner).unwrap();
        fs::write(inner.join("server1.py"), "").unwrap();
        fs::create_dir(d.path().join("judy/.git")).unwrap();
        fs::create_dir(d.path().join("judy/__MACOSX")).unwrap();
        assert_eq!(find(&d.path().join("judy")), inner);
        fs::write(d.path().join("judy/README"), "").unwrap();
        assert_eq!(find(&d.path().join("judy")), d.path().join("judy"));
    }
}
