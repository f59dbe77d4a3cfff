//! The private working copy of a submission: programs run in a copy, so nothing they
//! write reaches the student's folder, and no check sees files another check's program
//! left. Links are not followed and the copy is capped in size and file count.

use std::fs;
use std::io;
use std::path::Path;

/// Most bytes copied from one submission.
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Most files copied from one submission.
const MAX_FILES: usize = 10_000;

/// Copies `from` into the existing folder `to`, skipping `.git`, `__pycache__` and links.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let mut budget = (MAX_BYTES, MAX_FILES);
    copy_dir(from, to, &mut budget)
}

fn copy_dir(from: &Path, to: &Path, budget: &mut (u64, usize)) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" || name == "__pycache__" {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        if kind.is_dir() {
            fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target, budget)?;
        } else if kind.is_file() {
            let len = entry.metadata()?.len();
            if budget.1 == 0 || len > budget.0 {
                return Err(io::Error::other(format!(
                    "the submission is larger than {} MiB or {MAX_FILES} files",
                    MAX_BYTES >> 20
                )));
            }
            budget.0 -= len;
            budget.1 -= 1;
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
