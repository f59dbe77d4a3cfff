//! The original submission, read-only for programs. Programs work on a private copy, but
//! a program that learns the original's path could still write there; so where the grader
//! may make mount namespaces (root, or an unprivileged grader in its user namespace), each
//! program gets a mount namespace of its own in which the original folder is a read-only
//! bind mount, and loses `CAP_SYS_ADMIN` (from its bounding set), so it cannot undo that.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Mutex;

static PROTECTED: Mutex<Vec<CString>> = Mutex::new(Vec::new());

/// `CAP_SYS_ADMIN` (linux/capability.h).
const CAP_SYS_ADMIN: libc::c_ulong = 21;

/// Makes `dir` read-only for every program started from now on (when mount namespaces
/// work here: see [`super::Layers::readonly`]).
pub fn protect(dir: &Path) {
    let Ok(dir) = dir.canonicalize() else {
        return;
    };
    // The working copies and the instrumentation live in the temporary directory: a
    // submission folder that holds it cannot be made read-only as a whole.
    let tmp = std::env::temp_dir();
    if tmp.canonicalize().unwrap_or(tmp).starts_with(&dir) {
        return;
    }
    if let Ok(c) = CString::new(dir.as_os_str().as_bytes()) {
        let mut list = PROTECTED.lock().unwrap_or_else(|e| e.into_inner());
        if !list.contains(&c) {
            list.push(c);
        }
    }
}

/// The folders to protect, for a `pre_exec` closure.
pub fn protected() -> Vec<CString> {
    PROTECTED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// In the child, between fork and exec: a private mount namespace with each of `dirs`
/// bound read-only onto itself, then `CAP_SYS_ADMIN` dropped. Async-signal-safe.
pub fn apply(dirs: &[CString]) -> std::io::Result<()> {
    if dirs.is_empty() {
        return Ok(());
    }
    let check = |r: libc::c_int| {
        if r != 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY: syscalls on constant flags and NUL-terminated paths we own.
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS))?;
        check(libc::mount(
            null,
            c"/".as_ptr(),
            null,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        for d in dirs {
            check(libc::mount(
                d.as_ptr(),
                d.as_ptr(),
                null,
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                null,
                d.as_ptr(),
                null,
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
                std::ptr::null(),
            ))?;
        }
        check(libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))?;
    }
    Ok(())
}

/// Whether the sequence works here, tried in a child process.
pub fn probe() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let victim = dir.path().join("f");
    std::fs::write(&victim, "x").map_err(|e| e.to_string())?;
    let c = CString::new(dir.path().as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("echo y > \"$0\" && exit 3; exit 0")
        .arg(&victim)
        .stderr(std::process::Stdio::null());
    // SAFETY: only async-signal-safe calls in the closure.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            apply(std::slice::from_ref(&c))
        });
    }
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) if s.code() == Some(3) => Err("the folder stayed writable".into()),
        Ok(_) => Err("the test program failed".into()),
        Err(e) => Err(format!("mount namespace: {e}")),
    }
}
