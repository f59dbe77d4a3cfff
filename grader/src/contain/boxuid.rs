//! A uid per box (as root): box uids are `100000 + n`, like `isolate`'s box ids, each
//! leased through a lock file (`flock`, released by the kernel when the grader ends, even
//! by SIGKILL), so no two boxes on the machine (of this grader or of another running side
//! by side) share a uid: one box cannot signal, trace or read `/proc` of another, nor
//! write its working copy (owned by the box's uid, mode 0700). Then every capability goes
//! (bounding set, ambient, effective), `CAP_DAC_READ_SEARCH` included: the box's view
//! ([`super::view`]) brings the interpreter, so nothing needs it.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The first box uid (and gid).
pub const FIRST: u32 = 100_000;
/// How many box uids there are.
pub const COUNT: u32 = 65_536;

/// A box uid, leased until dropped.
#[derive(Debug)]
pub struct Lease {
    /// The uid (and gid).
    pub uid: u32,
    _lock: File,
}

/// Where the lock files live (root's own folder, mode 0700).
fn lock_dir() -> PathBuf {
    let run = std::path::Path::new("/run");
    if run.is_dir() {
        run.join("grader-boxes")
    } else {
        std::env::temp_dir().join("grader-boxes")
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Leases a free box uid.
pub fn lease() -> std::io::Result<Lease> {
    let dir = lock_dir();
    if std::fs::create_dir(&dir).is_ok() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    // Start somewhere different per grader and per lease, so graders side by side rarely
    // try the same files.
    let start = std::process::id().wrapping_mul(7919) + NEXT.fetch_add(1, Ordering::Relaxed);
    for i in 0..COUNT {
        let n = (start.wrapping_add(i)) % COUNT;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir.join(n.to_string()))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Lease {
                uid: FIRST + n,
                _lock: lock,
            });
        }
    }
    Err(std::io::Error::other("every box uid is in use"))
}

/// Whether `uid` is a box uid.
pub fn is_box(uid: u32) -> bool {
    (FIRST..FIRST + COUNT).contains(&uid)
}

/// In the box's program, after its view is built: drops every capability from the
/// bounding set, becomes `uid` (when given: root) with no supplementary groups (which
/// clears the remaining capabilities), or else clears them explicitly, and sets
/// `PR_SET_NO_NEW_PRIVS`. Async-signal-safe.
pub fn drop_to(uid: Option<u32>) -> std::io::Result<()> {
    let check = |r: libc::c_long| {
        if r != 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    // SAFETY: plain syscalls on constants.
    unsafe {
        for cap in 0..64 {
            // Fails with EINVAL past the last capability this kernel knows.
            if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0
                && *libc::__errno_location() == libc::EINVAL
            {
                break;
            }
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
        match uid {
            Some(id) => {
                check(libc::setgroups(0, std::ptr::null()) as libc::c_long)?;
                check(libc::setresgid(id, id, id) as libc::c_long)?;
                check(libc::setresuid(id, id, id) as libc::c_long)?;
            }
            None => {
                let header = [0x2008_0522u32, 0]; // _LINUX_CAPABILITY_VERSION_3, this process
                let data = [0u32; 6];
                check(libc::syscall(
                    libc::SYS_capset,
                    header.as_ptr(),
                    data.as_ptr(),
                ))?;
            }
        }
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_leases_get_two_uids_and_a_dropped_one_is_free_again() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let a = lease().unwrap();
        let b = lease().unwrap();
        assert_ne!(a.uid, b.uid);
        assert!(is_box(a.uid) && is_box(b.uid));
        let lock = lock_dir().join((a.uid - FIRST).to_string());
        let again = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
        // SAFETY: flock on a descriptor we own.
        let held = unsafe { libc::flock(again.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_ne!(held, 0, "a leased uid's lock was free");
        drop(a);
        // SAFETY: as above.
        let free = unsafe { libc::flock(again.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(free, 0, "a dropped lease kept its lock");
    }
}
