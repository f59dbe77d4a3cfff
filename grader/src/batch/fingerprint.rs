//! What a student's report was graded from, as one short hash stored in the report: the
//! submission's files (a folder's relative paths, kinds and contents, links by their
//! target, never followed; a zip's bytes), the seed, the rubric, the options that change a
//! grade, and the grader's version. Resuming reuses a report only when the fingerprint of
//! the run matches (SPEC 5), so a new seed, rubric or file grades the student again.

use super::students::Source;
use std::path::Path;

/// FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not promised to
/// be), and plenty to tell two gradings apart.
#[derive(Clone, Copy)]
pub(crate) struct Hasher(u64);

impl Default for Hasher {
    fn default() -> Hasher {
        Hasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher {
    /// Adds bytes, length-prefixed so that fields cannot run into each other.
    pub(crate) fn add(&mut self, bytes: &[u8]) -> &mut Hasher {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// The hash as 16 hex digits.
    pub(crate) fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The fingerprint of grading `source` under `run` (a hasher already fed with the
/// run-wide settings, see [`super::Options::settings_hash`]).
pub(crate) fn of(source: &Source, run: &Hasher) -> String {
    let mut h = *run;
    match source {
        Source::Dir(dir) => tree(dir, Path::new(""), &mut h),
        Source::Zip(file) => {
            h.add(b"zip");
            zip_bytes(file, &mut h);
        }
        Source::Conflict(why) => {
            h.add(b"conflict").add(why.as_bytes());
        }
    }
    h.hex()
}

/// Bytes of a file hashed by content; a larger one (never copied into a working copy
/// either) is hashed by its size and modification time.
const CONTENT_CAP: u64 = 64 * 1024 * 1024;

/// Size and modification time, for a file not hashed by content.
fn stamp(meta: &std::fs::Metadata) -> Vec<u8> {
    use std::os::unix::fs::MetadataExt;
    [
        meta.len().to_le_bytes(),
        meta.mtime_nsec().to_le_bytes(),
        meta.mtime().to_le_bytes(),
    ]
    .concat()
}

/// Feeds a zip's bytes, opened as grading opens it ([`super::zip::open_archive`]); an
/// archive grading refuses is hashed as refused.
fn zip_bytes(file: &Path, h: &mut Hasher) {
    use std::io::Read;
    let Ok(f) = super::zip::open_archive(file) else {
        h.add(b"refused");
        return;
    };
    match f.metadata() {
        Ok(meta) if meta.len() <= CONTENT_CAP => {
            let mut data = Vec::new();
            let _ = f.take(CONTENT_CAP).read_to_end(&mut data);
            h.add(&data);
        }
        Ok(meta) => {
            h.add(b"large").add(&stamp(&meta));
        }
        Err(_) => {
            h.add(b"unreadable");
        }
    }
}

/// Feeds a folder's entries, sorted by name, recursively.
fn tree(dir: &Path, rel: &Path, h: &mut Hasher) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else {
        h.add(b"unreadable");
        return;
    };
    let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let path = rel.join(&name);
        let full = dir.join(&path);
        h.add(path.as_os_str().as_encoded_bytes());
        let Ok(meta) = std::fs::symlink_metadata(&full) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full).unwrap_or_default();
            h.add(b"link").add(target.as_os_str().as_encoded_bytes());
        } else if meta.is_dir() {
            h.add(b"dir");
            tree(dir, &path, h);
        } else if meta.is_file() {
            h.add(b"file");
            match crate::submission::open::read(dir, &path, CONTENT_CAP) {
                Ok(data) => h.add(&data),
                // Too large (or unreadable) to be graded anyway: its size and time stand
                // for its content, so a hostile sparse file is never read.
                Err(e) => h.add(e.to_string().as_bytes()).add(&stamp(&meta)),
            };
            h.add(&[u8::from(
                std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0,
            )]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_name_or_setting_changes_the_fingerprint() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/server1.py"), "a").unwrap();
        let src = Source::Dir(d.path().to_path_buf());
        let mut run = Hasher::default();
        run.add(b"seed 42");
        let first = of(&src, &run);
        assert_eq!(first, of(&src, &run), "stable");
        std::fs::write(d.path().join("sub/server1.py"), "b").unwrap();
        let edited = of(&src, &run);
        assert_ne!(edited, first);
        std::fs::rename(d.path().join("sub/server1.py"), d.path().join("sub/s.py")).unwrap();
        assert_ne!(of(&src, &run), edited);
        let mut other = Hasher::default();
        other.add(b"seed 43");
        assert_ne!(of(&src, &other), of(&src, &run));
    }
}
