//! The original submission, read-only for programs. Programs work on a private copy, but
//! a program that learns the original's path could still write there; so where the grader
//! may make mount namespaces (root, or an unprivileged grader in its user namespace), each
//! program gets a mount namespace of its own in which the original folder is a read-only
//! bind mount, and loses `CAP_SYS_ADMIN` (from its bounding set), so it cannot undo that.
//! A folder is protected while a run holds its [`Protected`] guard: a batch unpacks each
//! zip into a temporary folder that is deleted after that student, so the list must shrink
//! again, and a folder that vanished between the list's copy and the mount is skipped, or
//! one student's zip would break every program started after it.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Mutex;

/// Protected folders, each with the number of runs holding it.
static PROTECTED: Mutex<Vec<(CString, usize)>> = Mutex::new(Vec::new());

/// `CAP_SYS_ADMIN` (linux/capability.h).
const CAP_SYS_ADMIN: libc::c_ulong = 21;

/// Keeps a folder read-only for programs until dropped.
#[must_use = "the folder is protected only while the guard lives"]
pub struct Protected(Option<CString>);

impl Drop for Protected {
    fn drop(&mut self) {
        let Some(c) = self.0.take() else {
            return;
        };
        let mut list = PROTECTED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = list.iter().position(|(d, _)| *d == c) {
            list[i].1 -= 1;
            if list[i].1 == 0 {
                list.remove(i);
            }
        }
    }
}

/// Makes `dir` read-only for every program started while the guard lives (when mount
/// namespaces work here: see [`super::Layers::readonly`]).
pub fn protect(dir: &Path) -> Protected {
    let Ok(dir) = dir.canonicalize() else {
        return Protected(None);
    };
    // The working copies and the instrumentation live in the temporary directory: a
    // submission folder that holds it cannot be made read-only as a whole.
    let tmp = std::env::temp_dir();
    if tmp.canonicalize().unwrap_or(tmp).starts_with(&dir) {
        return Protected(None);
    }
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
        return Protected(None);
    };
    let mut list = PROTECTED.lock().unwrap_or_else(|e| e.into_inner());
    match list.iter_mut().find(|(d, _)| *d == c) {
        Some(entry) => entry.1 += 1,
        None => list.push((c.clone(), 1)),
    }
    Protected(Some(c))
}

/// The folders to protect, for a `pre_exec` closure.
pub fn protected() -> Vec<CString> {
    PROTECTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(d, _)| d.clone())
        .collect()
}

/// In the child, between fork and exec: a private mount namespace with each of `dirs`
/// bound read-only onto itself, then `CAP_SYS_ADMIN` dropped; a folder that no longer
/// exists (another student's unpacked zip, deleted meanwhile) has nothing to protect and is
/// skipped. Async-signal-safe.
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
            let bound = libc::mount(
                d.as_ptr(),
                d.as_ptr(),
                null,
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            );
            if bound != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
                continue;
            }
            check(bound)?;
            let sealed = libc::mount(
                null,
                d.as_ptr(),
                null,
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
                std::ptr::null(),
            );
            // Deleted between the two calls: nothing left to protect there either.
            if sealed != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
                continue;
            }
            check(sealed)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_protected_only_while_a_run_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let c = CString::new(dir.path().canonicalize().unwrap().as_os_str().as_bytes()).unwrap();
        let first = protect(dir.path());
        let second = protect(dir.path());
        assert_eq!(protected().iter().filter(|d| **d == c).count(), 1);
        drop(first);
        assert!(protected().contains(&c), "still held by the second run");
        drop(second);
        assert!(!protected().contains(&c), "the list shrinks again");
    }

    #[test]
    fn a_vanished_folder_does_not_stop_a_program_from_starting() {
        if probe().is_err() {
            eprintln!("mount namespaces do not work here; nothing to test");
            return;
        }
        let gone = tempfile::tempdir().unwrap();
        let gone_c = CString::new(gone.path().as_os_str().as_bytes()).unwrap();
        drop(gone);
        let kept = tempfile::tempdir().unwrap();
        let victim = kept.path().join("f");
        std::fs::write(&victim, "x").unwrap();
        let kept_c = CString::new(kept.path().as_os_str().as_bytes()).unwrap();
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg("exec 2>/dev/null; echo y > \"$0\" && exit 3; exit 0")
            .arg(&victim);
        let dirs = vec![gone_c, kept_c];
        // SAFETY: only async-signal-safe calls in the closure.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || apply(&dirs));
        }
        let status = cmd.status().expect("the program starts");
        assert_eq!(status.code(), Some(0), "the kept folder is still read-only");
    }
}
