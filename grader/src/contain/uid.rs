//! As root: programs run under an unprivileged uid and gid (65534, `nobody`), so they
//! cannot write files they do not own (the grader's, the system's, other submissions'),
//! cannot signal or trace the grader, and `RLIMIT_NPROC` applies to them. They keep one
//! capability, `CAP_DAC_READ_SEARCH` (as an ambient capability), so that an interpreter or
//! a grader binary in a private place (pyenv under `/root`, a build under a home folder)
//! still runs: they may read and traverse anything, and write only where `nobody` may.
//! `PR_SET_NO_NEW_PRIVS` keeps a set-uid binary from giving anything back.
//!
//! What a program must write is handed over to its uid: its private copy of the
//! submission, and the folder of any path the grader hands it in a `GRADER_*` variable
//! (instrumentation logs) when that folder is one of the grader's own temporary folders.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The uid and gid programs run under.
pub const ID: u32 = 65534;

/// `CAP_DAC_READ_SEARCH` (linux/capability.h).
const CAP_DAC_READ_SEARCH: u32 = 2;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// In the child, between fork and exec: become uid/gid [`ID`] with no supplementary
/// groups, keeping only `CAP_DAC_READ_SEARCH`, with no new privileges. Async-signal-safe.
pub fn apply() -> std::io::Result<()> {
    let check = |r: libc::c_long| {
        if r != 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    let keep = 1u32 << CAP_DAC_READ_SEARCH;
    let header = CapHeader {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let data = [
        CapData {
            effective: keep,
            permitted: keep,
            inheritable: keep,
        },
        CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
    ];
    // SAFETY: plain syscalls on constants and structs we own.
    unsafe {
        check(libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) as libc::c_long)?;
        check(libc::setgroups(0, std::ptr::null()) as libc::c_long)?;
        check(libc::setresgid(ID, ID, ID) as libc::c_long)?;
        check(libc::setresuid(ID, ID, ID) as libc::c_long)?;
        if libc::syscall(libc::SYS_capset, &header, data.as_ptr()) == 0 {
            check(libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE,
                CAP_DAC_READ_SEARCH as libc::c_ulong,
                0,
                0,
            ) as libc::c_long)?;
        } else {
            // A root without CAP_DAC_READ_SEARCH (Docker's default set): run without any
            // capability; only an interpreter every user may reach will start.
            let none = [CapData {
                effective: 0,
                permitted: 0,
                inheritable: 0,
            }; 2];
            check(libc::syscall(libc::SYS_capset, &header, none.as_ptr()))?;
        }
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long)?;
    }
    Ok(())
}

/// `CAP_SYS_PTRACE` (linux/capability.h).
const CAP_SYS_PTRACE: u32 = 19;

/// Whether the grader holds capability `cap` (its effective set).
fn has_cap(cap: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .is_some_and(|eff| eff & (1 << cap) != 0)
}

/// Whether programs keep `CAP_DAC_READ_SEARCH` here: the grader has it (root without
/// it, as in Docker's default set, runs programs without any capability).
pub fn keeps_read_search() -> bool {
    has_cap(CAP_DAC_READ_SEARCH)
}

/// Whether the grader may look into `/proc/PID` of a program under another uid (its
/// descriptors and network namespace, which readiness reads): root needs
/// `CAP_SYS_PTRACE` for that, which Docker's default set lacks. Without it programs run
/// under the grader's own uid.
pub fn can_watch_other_uids() -> bool {
    has_cap(CAP_SYS_PTRACE)
}

/// Gives `dir` and everything in it to [`ID`] (links are not followed).
pub fn hand_over(dir: &Path) -> std::io::Result<()> {
    hand_over_to(dir, ID)
}

/// Gives `dir` and everything in it to uid and gid `id` (links are not followed).
pub fn hand_over_to(dir: &Path, id: u32) -> std::io::Result<()> {
    chown(dir, id)?;
    if dir.is_dir() && !dir.is_symlink() {
        for entry in std::fs::read_dir(dir)? {
            hand_over_to(&entry?.path(), id)?;
        }
    }
    Ok(())
}

fn chown(path: &Path, id: u32) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: lchown on a NUL-terminated path we own.
    if unsafe { libc::lchown(c.as_ptr(), id, id) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// For a path the grader hands a program in its environment: when its folder is one of
/// the grader's temporary folders (directly in the temporary directory, named
/// `grader-*`), gives that folder to [`ID`] so the program can write there.
pub fn hand_over_parent(value: &str) {
    hand_over_parent_to(value, ID)
}

/// [`hand_over_parent`] to uid and gid `id` (a box's).
pub fn hand_over_parent_to(value: &str, id: u32) {
    let path = Path::new(value);
    if !path.is_absolute() {
        return;
    }
    let Some(parent) = path.parent() else {
        return;
    };
    if is_graders_temporary(parent) && parent.is_dir() {
        let _ = chown(parent, id);
    }
}

/// Whether `dir` is one of the grader's own temporary folders: directly in the temporary
/// directory, named `grader-*`.
pub fn is_graders_temporary(dir: &Path) -> bool {
    let tmp = std::env::temp_dir();
    dir.parent() == Some(tmp.as_path())
        && dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("grader-"))
}

/// Whether programs can run under [`ID`] here: root, and the sequence works for
/// `/bin/sh`.
pub fn probe() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root".into());
    }
    if !can_watch_other_uids() {
        return Err(format!(
            "the grader has no CAP_SYS_PTRACE, so it could not see the sockets of a program under uid {ID} (Docker: --cap-add SYS_PTRACE)"
        ));
    }
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", "test \"$(id -u)\" = 65534"]);
    // SAFETY: only async-signal-safe calls in the closure.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, apply);
    }
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("a test program under uid {ID} ended with {s}")),
        Err(e) => Err(format!("switching to uid {ID}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn hands_over_only_the_graders_own_temporary_folders() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let ours = tempfile::Builder::new()
            .prefix("grader-test-")
            .tempdir()
            .unwrap();
        let other = tempfile::Builder::new().prefix("other-").tempdir().unwrap();
        hand_over_parent(&ours.path().join("log").display().to_string());
        hand_over_parent(&other.path().join("log").display().to_string());
        hand_over_parent("/tmp/log");
        assert_eq!(std::fs::metadata(ours.path()).unwrap().uid(), ID);
        assert_eq!(std::fs::metadata(other.path()).unwrap().uid(), 0);
        assert_eq!(std::fs::metadata("/tmp").unwrap().uid(), 0);
    }
}
