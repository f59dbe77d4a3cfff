//! For a grader that is not root: a user namespace of its own, in which it holds the
//! capabilities that per-thread network namespaces need. The grader moves itself into a
//! new user and network namespace at start-up, while it is still single-threaded (the
//! kernel refuses `CLONE_NEWUSER` to a threaded process), mapping its own uid and gid to
//! root inside. The same effect as re-executing itself under `unshare -rn`, without the
//! second start. Some systems let `unshare` succeed and refuse a later step (Ubuntu 24.04's
//! AppArmor rule), so the whole sequence is first tried in a forked child; only when that
//! child gets through does the grader do it for real.

use std::io::{self, Read, Write};

/// Moves the (single-threaded) grader into its own user and network namespace, after
/// testing the whole sequence in a child. `Err` says why it cannot be done here.
pub fn enter() -> Result<(), String> {
    if threads() != 1 {
        return Err("the grader already runs several threads".into());
    }
    try_in_child()?;
    setup().map_err(|e| e.to_string())
}

/// The sequence: new user and network namespace, uid/gid maps, loopback up.
fn setup() -> Result<(), SetupError> {
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    // SAFETY: unshare(2) of the calling (single-threaded) process.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) } != 0 {
        return Err(SetupError(
            "unshare(CLONE_NEWUSER|CLONE_NEWNET)",
            io::Error::last_os_error(),
        ));
    }
    write("/proc/self/setgroups", "deny")
        .map_err(|e| SetupError("writing /proc/self/setgroups", e))?;
    write("/proc/self/uid_map", &format!("0 {uid} 1"))
        .map_err(|e| SetupError("writing /proc/self/uid_map", e))?;
    write("/proc/self/gid_map", &format!("0 {gid} 1"))
        .map_err(|e| SetupError("writing /proc/self/gid_map", e))?;
    super::netns::loopback_up().map_err(|e| SetupError("bringing up lo", e))
}

/// A failed step and its error.
#[derive(Debug)]
struct SetupError(&'static str, io::Error);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

fn write(path: &str, text: &str) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// Runs the sequence and a per-thread namespace round trip in a forked child (the caller
/// must be single-threaded); its error,
/// if any, comes back through a pipe.
pub fn try_in_child() -> Result<(), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", io::Error::last_os_error()));
    }
    // SAFETY: the process is single-threaded (checked by the caller), so the child may
    // allocate and run ordinary code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: the child owns its copy of the pipe's ends.
        unsafe { libc::close(fds[0]) };
        let result = setup()
            .map_err(|e| e.to_string())
            .and_then(|_| super::netns::probe());
        let code = match result {
            Ok(()) => 0,
            Err(msg) => {
                // SAFETY: writes our buffer to our pipe end.
                unsafe { libc::write(fds[1], msg.as_ptr() as *const libc::c_void, msg.len()) };
                1
            }
        };
        // SAFETY: leave the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: the parent closes the child's end and reads its own.
    unsafe { libc::close(fds[1]) };
    // SAFETY: `fds[0]` is ours; File takes ownership and closes it.
    let mut reader = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
    let mut msg = String::new();
    let _ = reader.read_to_string(&mut msg);
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else if msg.is_empty() {
        Err("the user namespace test ended abnormally".into())
    } else {
        Err(msg)
    }
}

fn threads() -> usize {
    crate::procfs::threads(std::process::id()).unwrap_or(0)
}
