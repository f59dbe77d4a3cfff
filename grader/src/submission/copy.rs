//! The private working copy of a submission: programs run in a copy, so nothing they
//! write reaches the student's folder, and no check sees files another check's program
//! left. Every file is read through [`super::open`] (regular files inside the submission
//! only); the copy is capped in size and file count.
//!
//! Links: a link to a regular file inside the submission is copied as a regular file with
//! that file's bytes (students link `server2.py` to a shared module); any other link (out of
//! the submission, absolute, to a folder, dangling) is left out, like FIFOs, sockets and
//! devices, so nothing outside the submission reaches the copy and no loop is walked.

use super::open::{self, Refused};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Most bytes copied from one submission.
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Most files copied from one submission.
const MAX_FILES: usize = 10_000;

/// Copies `from` into the existing folder `to`, skipping `.git`, `__pycache__`, links
/// that leave the submission and anything not a regular file or folder.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let mut budget = (MAX_BYTES, MAX_FILES);
    copy_dir(from, Path::new(""), to, &mut budget)
}

fn too_large() -> io::Error {
    io::Error::other(format!(
        "the submission is larger than {} MiB or {MAX_FILES} files",
        MAX_BYTES >> 20
    ))
}

fn copy_dir(root: &Path, rel: &Path, to: &Path, budget: &mut (u64, usize)) -> io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" || name == "__pycache__" {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        let rel = rel.join(&name);
        if kind.is_dir() {
            fs::create_dir_all(&target)?;
            copy_dir(root, &rel, &target, budget)?;
        } else if kind.is_file() || kind.is_symlink() {
            let opened = match open::open(root, &rel) {
                Ok(o) => o,
                Err(Refused::Io(e)) if kind.is_file() => return Err(e),
                Err(_) => continue,
            };
            if budget.1 == 0 || opened.len > budget.0 {
                return Err(too_large());
            }
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(opened.mode & 0o755 | 0o600)
                .open(&target)?;
            let copied = io::copy(&mut opened.file.take(budget.0 + 1), &mut out)?;
            out.flush()?;
            if copied > budget.0 {
                return Err(too_large());
            }
            budget.0 -= copied;
            budget.1 -= 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn links_inside_become_files_and_links_out_are_left_out() {
        let top = tempfile::tempdir().unwrap();
        let sub = top.path().join("sub");
        fs::create_dir_all(sub.join("lib")).unwrap();
        fs::write(top.path().join("secret.txt"), "marker-secret").unwrap();
        fs::write(sub.join("lib/common.py"), "X = 1\n").unwrap();
        fs::write(sub.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(sub.join("run.sh"), fs::Permissions::from_mode(0o4755)).unwrap();
        symlink("lib/common.py", sub.join("server2.py")).unwrap();
        symlink("../secret.txt", sub.join("server1.py")).unwrap();
        symlink("/dev/zero", sub.join("zero.py")).unwrap();
        symlink(".", sub.join("loop")).unwrap();
        let to = tempfile::tempdir().unwrap();
        copy_tree(&sub, to.path()).unwrap();
        let copied = to.path().join("server2.py");
        assert!(!copied.is_symlink());
        assert_eq!(fs::read_to_string(copied).unwrap(), "X = 1\n");
        for gone in ["server1.py", "zero.py", "loop"] {
            assert!(!to.path().join(gone).exists(), "{gone} was copied");
        }
        let mode = fs::metadata(to.path().join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);
    }
}
