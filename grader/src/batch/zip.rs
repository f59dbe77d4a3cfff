//! Unpacking a student's `.zip` safely. An archive is hostile input: entries may name
//! absolute paths or climb out with `..`, be symbolic links, be encrypted, claim one size
//! and inflate to another, or number in the millions. Every entry must have a plain
//! relative path (`enclosed_name`), links are refused, files are created new (a repeated
//! name is refused), sizes are counted on the bytes actually inflated, and the number of
//! entries and the bytes per file and in all are capped. File modes are not taken from the
//! archive except the executable bit (a `grader.toml` may run `./server`). The archive
//! itself is opened only as a regular file (a FIFO named `alice.zip` is refused at once).

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Caps on what one archive may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Entries (files and folders).
    pub entries: usize,
    /// Bytes of one file, inflated.
    pub file_bytes: u64,
    /// Bytes of all files, inflated.
    pub total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            entries: 2_000,
            file_bytes: 32 << 20,
            total_bytes: 64 << 20,
        }
    }
}

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

/// Opens a student's archive non-blocking, and only as a regular file: a FIFO named
/// `alice.zip` must not hang the batch (neither its grading nor its resume fingerprint).
pub(crate) fn open_archive(archive: &Path) -> Result<std::fs::File, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(archive)
        .map_err(|e| format!("cannot open the zip: {e}"))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err("the zip is not a regular file".into());
    }
    Ok(file)
}

/// Unpacks `archive` into the existing empty folder `dest`; the error says, for the TA,
/// which entry was refused and why.
pub(crate) fn extract(archive: &Path, dest: &Path, limits: &Limits) -> Result<(), String> {
    // Zip reading seeks, so a huge archive is not read whole.
    let file = open_archive(archive)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip: {e}"))?;
    if zip.len() > limits.entries {
        return Err(format!(
            "the zip has {} entries, more than the limit of {}",
            zip.len(),
            limits.entries
        ));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("entry {i} cannot be read: {e}"))?;
        let raw = crate::escape::text(entry.name_raw());
        let Some(rel) = entry.enclosed_name() else {
            return Err(format!(
                "entry {raw:?} has an absolute path or climbs out with `..`"
            ));
        };
        if rel
            .components()
            .next()
            .is_some_and(|c| c.as_os_str() == "__MACOSX")
        {
            continue;
        }
        if entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK) {
            return Err(format!(
                "entry {raw:?} is a symbolic link; links are not accepted"
            ));
        }
        let path = dest.join(&rel);
        if entry.is_dir() {
            fs::create_dir_all(&path).map_err(|e| format!("entry {raw:?}: {e}"))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("entry {raw:?}: {e}"))?;
        }
        let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if executable { 0o755 } else { 0o644 })
            .open(&path)
            .map_err(|e| format!("entry {raw:?} cannot be written (a repeated name?): {e}"))?;
        let cap = limits.file_bytes.min(limits.total_bytes - total);
        let mut buf = Vec::new();
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("entry {raw:?} cannot be inflated: {e}"))?;
        if buf.len() as u64 > cap {
            return Err(format!(
                "entry {raw:?} inflates to more than {} bytes (limits: {} per file, {} in all)",
                cap, limits.file_bytes, limits.total_bytes
            ));
        }
        total += buf.len() as u64;
        out.write_all(&buf)
            .map_err(|e| format!("entry {raw:?} cannot be written: {e}"))?;
    }
    Ok(())
}

pub(crate) use crate::submission::root::find as submission_root;

/// True when the file name ends in `.zip` (any case).
pub(crate) fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// A zip unpacked into a temporary folder, deleted when this is dropped.
pub(crate) struct Unpacked {
    /// The folder to grade inside it ([`submission_root`]).
    pub root: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Unpacks `archive` into a new temporary folder (the rules of [`extract`]); the error
/// names the archive.
pub(crate) fn unpack(archive: &Path, limits: &Limits) -> Result<Unpacked, String> {
    let dir = tempfile::Builder::new()
        .prefix("grader-zip-")
        .tempdir()
        .map_err(|e| format!("could not make a folder to unpack into: {e}"))?;
    extract(archive, dir.path(), limits).map_err(|e| format!("{}: {e}", archive.display()))?;
    Ok(Unpacked {
        root: submission_root(dir.path()),
        _dir: dir,
    })
}

/// Shows a report graded from an unpacked zip as the zip: its `submission` and every
/// reproduce command name `archive`, not the temporary folder (which is gone by then).
pub(crate) fn relabel(report: &mut crate::report::Report, root: &Path, archive: &Path) {
    let shown = archive.display().to_string();
    let tmp = crate::escape::shell_word(&root.display().to_string());
    for check in report.tasks.iter_mut().flat_map(|t| &mut t.checks) {
        if let Some(r) = &mut check.reproduce {
            *r = r.replacen(&tmp, &crate::escape::shell_word(&shown), 1);
        }
    }
    report.submission = shown;
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn archive(entries: &[(&str, &[u8], Option<u32>)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, data, mode) in entries {
            let mut opts = SimpleFileOptions::default();
            if let Some(m) = mode {
                opts = opts.unix_permissions(*m);
            }
            if let Some(target) = name.strip_prefix("link:") {
                w.add_symlink(target, "/etc/passwd", opts).unwrap();
            } else {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.finish().unwrap();
        file
    }

    fn unpack(
        entries: &[(&str, &[u8], Option<u32>)],
        limits: Limits,
    ) -> (tempfile::TempDir, Result<(), String>) {
        let zip = archive(entries);
        let dest = tempfile::tempdir().unwrap();
        let result = extract(zip.path(), dest.path(), &limits);
        (dest, result)
    }

    #[test]
    fn a_plain_archive_unpacks_and_a_lone_folder_is_looked_through() {
        let (dest, r) = unpack(
            &[
                ("alice/server1.py", b"print(1)\n", None),
                ("alice/run", b"#!/bin/sh\n", Some(0o755)),
            ],
            Limits::default(),
        );
        r.unwrap();
        let root = submission_root(dest.path());
        assert!(root.ends_with("alice"));
        assert_eq!(fs::read(root.join("server1.py")).unwrap(), b"print(1)\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(root.join("run")).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }

    #[test]
    fn traversal_absolute_paths_and_links_are_refused() {
        for (name, says) in [
            ("../evil.py", "climbs out"),
            ("/tmp/evil.py", "absolute"),
            ("a/../../evil.py", "climbs out"),
            ("link:server1.py", "symbolic link"),
        ] {
            let (dest, r) = unpack(&[(name, b"x", None)], Limits::default());
            let e = r.unwrap_err();
            assert!(e.contains(says), "{name}: {e}");
            assert!(
                fs::read_dir(dest.path()).unwrap().next().is_none(),
                "{name} left files"
            );
        }
    }

    #[test]
    fn a_fifo_named_like_a_zip_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("alice.zip");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let dest = tempfile::tempdir().unwrap();
        let e = extract(&fifo, dest.path(), &Limits::default()).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn size_and_count_caps_hold_on_inflated_bytes() {
        let big = vec![b'a'; 10_000];
        let small = Limits {
            entries: 3,
            file_bytes: 4_000,
            total_bytes: 6_000,
        };
        let e = unpack(&[("a.py", &big, None)], small).1.unwrap_err();
        assert!(e.contains("more than 4000 bytes"), "{e}");
        let three = vec![b'b'; 3_500];
        let e = unpack(
            &[
                ("a.py", &three, None),
                ("b.py", &three, None),
                ("c.py", b"", None),
            ],
            small,
        )
        .1
        .unwrap_err();
        assert!(e.contains("b.py"), "{e}");
        let e = unpack(
            &[
                ("a", b"", None),
                ("b", b"", None),
                ("c", b"", None),
                ("d", b"", None),
            ],
            small,
        )
        .1
        .unwrap_err();
        assert!(e.contains("4 entries"), "{e}");
    }
}
