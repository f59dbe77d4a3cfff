//! Opening a submission's files the way the grader may read them (SPEC section 7): never
//! through a link that leaves the submission, only regular files, never more than a cap.
//! A hostile submission can name `grader.toml` a link to `/etc/shadow` or `/dev/zero`, a
//! FIFO (an open or a read that blocks for ever), or a sparse file of a terabyte; each is
//! refused at once, and the refusal says what the file is, never what it holds.
//!
//! Paths are resolved by the kernel with `openat2(RESOLVE_BENEATH)` from the submission's
//! folder: a link inside the submission that points inside it is followed, an absolute
//! link or one that climbs out with `..` is refused. The file is first opened `O_PATH`
//! (opening a FIFO or a device for reading can block or act) and opened for reading only
//! once `fstat` says it is a regular file; the second open must reach the same inode.
//! Kernels without `openat2` (before 5.6, or a seccomp filter that hides it) fall back to
//! resolving the path in user space and checking it stays inside, then `O_NOFOLLOW`.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Why a file of the submission was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// There is no such file (or a link to nothing).
    #[error("not found")]
    Missing,
    /// The path leaves the submission through a link (or is an absolute link).
    #[error("is a link out of the submission; the grader reads only files inside it")]
    LinkOut,
    /// A folder, FIFO, socket or device.
    #[error("is a {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the cap.
    #[error("is larger than {cap} bytes ({size} bytes)")]
    TooLarge {
        /// Bytes the file has (or at least).
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// Any other failure (permissions, I/O).
    #[error("cannot be read: {0}")]
    Io(io::Error),
}

/// A regular file of the submission, open for reading, and its size.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The open file.
    pub file: File,
    /// Its size when it was opened.
    pub len: u64,
    /// Its permission bits.
    pub mode: u32,
}

/// Opens `root/rel` for reading if it is a regular file inside `root` (see the module
/// header); `rel` must be relative.
pub(crate) fn open(root: &Path, rel: &Path) -> Result<Opened, Refused> {
    let root_fd = open_root(root)?;
    let path = match openat2(&root_fd, rel, libc::O_PATH) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
            return open_fallback(root, rel);
        }
        Err(e) => return Err(refusal(e)),
    };
    let meta = fstat(&path)?;
    regular(&meta)?;
    let fd = openat2(
        &root_fd,
        rel,
        libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY,
    )
    .map_err(refusal)?;
    finish(fd, &meta)
}

/// Reads the whole of `root/rel` if it is a regular file inside `root` of at most `cap`
/// bytes (a file that grows while read is cut at `cap + 1` bytes and refused).
pub(crate) fn read(root: &Path, rel: &Path, cap: u64) -> Result<Vec<u8>, Refused> {
    let opened = open(root, rel)?;
    if opened.len > cap {
        return Err(Refused::TooLarge {
            size: opened.len,
            cap,
        });
    }
    let mut data = Vec::with_capacity(opened.len as usize);
    opened
        .file
        .take(cap + 1)
        .read_to_end(&mut data)
        .map_err(Refused::Io)?;
    if data.len() as u64 > cap {
        return Err(Refused::TooLarge {
            size: data.len() as u64,
            cap,
        });
    }
    Ok(data)
}

fn open_root(root: &Path) -> Result<OwnedFd, Refused> {
    let c = cstring(root)?;
    // SAFETY: open on a NUL-terminated path; the result is checked before use.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Refused::Io(io::Error::last_os_error()));
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn openat2(dir: &OwnedFd, rel: &Path, flags: i32) -> io::Result<OwnedFd> {
    let c = CString::new(rel.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: open_how is plain data; zeroed is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 with a valid directory fd, a NUL-terminated path and a filled
    // open_how of the size passed; the result is checked before use.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Without `openat2`: resolve every link in user space, check the result is inside the
/// (resolved) root, and open it without following a last link.
fn open_fallback(root: &Path, rel: &Path) -> Result<Opened, Refused> {
    let root = root.canonicalize().map_err(Refused::Io)?;
    let real: PathBuf = match root.join(rel).canonicalize() {
        Ok(p) => p,
        Err(e) => return Err(refusal(e)),
    };
    if !real.starts_with(&root) {
        return Err(Refused::LinkOut);
    }
    let meta = std::fs::symlink_metadata(&real).map_err(refusal)?;
    regular(&meta)?;
    let c = cstring(&real)?;
    // SAFETY: open on a NUL-terminated path; the result is checked before use.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(refusal(io::Error::last_os_error()));
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    finish(unsafe { OwnedFd::from_raw_fd(fd) }, &meta)
}

/// Checks that the file opened for reading is the regular file first looked at.
fn finish(fd: OwnedFd, first: &std::fs::Metadata) -> Result<Opened, Refused> {
    let meta = fstat(&fd)?;
    regular(&meta)?;
    if (meta.dev(), meta.ino()) != (first.dev(), first.ino()) {
        return Err(Refused::Io(io::Error::other(
            "the file changed while opened",
        )));
    }
    Ok(Opened {
        file: File::from(fd),
        len: meta.len(),
        mode: meta.mode() & 0o777,
    })
}

fn fstat(fd: &OwnedFd) -> Result<std::fs::Metadata, Refused> {
    // `File::metadata` is fstat; an O_PATH descriptor allows it. The clone keeps `fd`.
    let file = File::from(fd.try_clone().map_err(Refused::Io)?);
    file.metadata().map_err(Refused::Io)
}

fn regular(meta: &std::fs::Metadata) -> Result<(), Refused> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "folder"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() || t.is_block_device() {
        "device"
    } else {
        "link"
    };
    Err(Refused::NotRegular(kind))
}

/// The refusal an `open` error means: EXDEV is a link out (RESOLVE_BENEATH), ELOOP a
/// magic link or a loop.
fn refusal(e: io::Error) -> Refused {
    match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENOTDIR) => Refused::Missing,
        Some(libc::EXDEV | libc::ELOOP) => Refused::LinkOut,
        Some(libc::ENXIO) => Refused::NotRegular("socket"),
        _ => Refused::Io(e),
    }
}

fn cstring(path: &Path) -> Result<CString, Refused> {
    CString::new(path.as_os_str().as_bytes()).map_err(|e| Refused::Io(io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::{Duration, Instant};

    const SECRET: &str = "marker-7f3a-not-for-students";

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let sub = top.path().join("sub");
        std::fs::create_dir_all(sub.join("lib")).unwrap();
        std::fs::write(top.path().join("secret.txt"), SECRET).unwrap();
        std::fs::write(sub.join("lib/real.py"), "print(1)\n").unwrap();
        (top, sub)
    }

    fn kind(r: Result<Vec<u8>, Refused>) -> String {
        match r {
            Ok(d) => format!("ok {}", String::from_utf8_lossy(&d)),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn links_inside_are_followed_and_links_out_refused() {
        let (top, sub) = setup();
        symlink("lib/real.py", sub.join("inside.py")).unwrap();
        symlink("../secret.txt", sub.join("up.py")).unwrap();
        symlink(top.path().join("secret.txt"), sub.join("abs.py")).unwrap();
        symlink("/dev/zero", sub.join("zero.py")).unwrap();
        symlink("nowhere", sub.join("dangling.py")).unwrap();
        assert_eq!(
            kind(read(&sub, Path::new("inside.py"), 100)),
            "ok print(1)\n"
        );
        for link in ["up.py", "abs.py", "zero.py"] {
            let shown = kind(read(&sub, Path::new(link), 100));
            assert!(shown.contains("link out"), "{link}: {shown}");
            assert!(!shown.contains(SECRET));
        }
        assert!(matches!(
            read(&sub, Path::new("dangling.py"), 100),
            Err(Refused::Missing)
        ));
        assert!(matches!(
            read(&sub, Path::new("absent.py"), 100),
            Err(Refused::Missing)
        ));
    }

    #[test]
    fn fifos_folders_and_huge_files_are_refused_at_once() {
        let (_top, sub) = setup();
        let fifo = CString::new(sub.join("fifo.toml").as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let huge = File::create(sub.join("huge.toml")).unwrap();
        huge.set_len(1 << 40).unwrap();
        let start = Instant::now();
        assert!(matches!(
            read(&sub, Path::new("fifo.toml"), 100),
            Err(Refused::NotRegular("FIFO"))
        ));
        assert!(matches!(
            read(&sub, Path::new("lib"), 100),
            Err(Refused::NotRegular("folder"))
        ));
        assert!(matches!(
            read(&sub, Path::new("huge.toml"), 64 << 10),
            Err(Refused::TooLarge { size, .. }) if size == 1 << 40
        ));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn the_fallback_refuses_the_same_links() {
        let (top, sub) = setup();
        symlink("lib/real.py", sub.join("inside.py")).unwrap();
        symlink("../secret.txt", sub.join("up.py")).unwrap();
        symlink(top.path().join("secret.txt"), sub.join("abs.py")).unwrap();
        let opened = open_fallback(&sub, Path::new("inside.py")).unwrap();
        assert_eq!(opened.len, 9);
        for link in ["up.py", "abs.py"] {
            assert!(matches!(
                open_fallback(&sub, Path::new(link)),
                Err(Refused::LinkOut)
            ));
        }
    }
}
