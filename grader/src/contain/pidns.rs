//! One box per program: a PID namespace whose init is the grader's own small reaper, so
//! that when the program ends (or is killed) the kernel kills everything in the box,
//! whatever it forked, `setsid`'d, or however it cleared its environment.
//!
//! `Command` forks a process (the *keeper*, in the host PID namespace: `Program::pid`'s
//! process group leader and the `Child` the grader waits for). Between fork and exec the
//! keeper makes a new PID and mount namespace and forks the *reaper* (pid 1 in the box),
//! which forks the *program* (pid 2) and returns to `Command`, which execs it. The reaper
//! reaps orphans; when the program ends it hands the program's wait status to the keeper
//! and exits, and the kernel kills what is left in the box. The keeper ends the same way
//! the program did (the same exit code or signal), so the grader sees the program's
//! status. Only the program returns from [`enter`]: the keeper and the reaper never exec.
//!
//! The program reports its host pid (for `/proc` and `sock_diag`) through a pipe, read
//! from the host `/proc` before the box's own `/proc` is mounted; the reaper reports at
//! the end whether the box's scratch space was full ([`FULL`]).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Byte the reaper writes to the report pipe when the box's scratch space was full.
pub const FULL: u8 = b'F';

/// The grader's end of a box's report pipe, and the end the box writes to.
pub struct Report {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl Report {
    /// A new pipe (both ends close on exec).
    pub fn new() -> std::io::Result<Report> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just made and are owned here.
        unsafe {
            Ok(Report {
                read: OwnedFd::from_raw_fd(fds[0]),
                write: Some(OwnedFd::from_raw_fd(fds[1])),
            })
        }
    }

    /// The descriptor the box writes to (valid until [`Report::started`]).
    pub fn write_fd(&self) -> RawFd {
        self.write.as_ref().map_or(-1, |f| f.as_raw_fd())
    }

    /// After the spawn: closes the grader's copy of the write end and returns the
    /// program's host pid, if the program reported it.
    pub fn started(&mut self) -> Option<u32> {
        self.write = None;
        let mut buf = [0u8; 4];
        // SAFETY: reads at most 4 bytes into our buffer.
        let n = unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), 4) };
        (n == 4).then(|| u32::from_ne_bytes(buf))
    }

    /// Whether the reaper reported the scratch space full (when the box has ended).
    pub fn full(&self) -> bool {
        let mut buf = [0u8; 1];
        // SAFETY: reads at most 1 byte into our buffer.
        let n = unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), 1) };
        n == 1 && buf[0] == FULL
    }
}

fn fail() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// Closes every descriptor except those in `keep` (sorted). Async-signal-safe.
fn close_all_but(keep: &[RawFd]) {
    let mut from: libc::c_uint = 0;
    for &k in keep {
        if k >= 0 && k as libc::c_uint > from {
            close_range(from, k as libc::c_uint - 1);
        }
        from = (k + 1).max(from as RawFd) as libc::c_uint;
    }
    close_range(from, libc::c_uint::MAX);
}

fn close_range(first: libc::c_uint, last: libc::c_uint) {
    // SAFETY: close_range only closes descriptors of this process.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    if r != 0 {
        for fd in first..last.min(4096) {
            // SAFETY: as above, one by one on old kernels.
            unsafe { libc::close(fd as RawFd) };
        }
    }
}

/// Ends the calling process the way `status` (a wait status) says: with its exit code, or
/// killed by its signal. Async-signal-safe; never returns.
fn mirror(status: libc::c_int) -> ! {
    // SAFETY: plain syscalls on the calling process.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::kill(libc::getpid(), sig);
            libc::_exit(128 + sig);
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}

fn block_signals() {
    // SAFETY: changes the signal mask of the calling thread only.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}

/// In the keeper, between fork and exec: makes the box and returns in the program (pid 2
/// of the box). `report` is the write end of the report pipe; `scratch` the path (in the
/// program's view) whose fullness the reaper reports. Async-signal-safe.
pub fn enter(report: RawFd, scratch: &std::ffi::CStr) -> std::io::Result<()> {
    // SAFETY: fork/wait/pipe/read/write/_exit on descriptors and buffers we own; the
    // keeper and the reaper never return from here, so no Rust state is used after fork
    // except through async-signal-safe calls.
    unsafe {
        if libc::unshare(libc::CLONE_NEWPID | libc::CLONE_NEWNS) != 0 {
            return Err(fail());
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(fail());
        }
        let mut status_pipe = [0; 2];
        if libc::pipe2(status_pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(fail());
        }
        let [status_read, status_write] = status_pipe;
        let reaper = libc::fork();
        if reaper < 0 {
            return Err(fail());
        }
        if reaper > 0 {
            keep(reaper, status_read)
        }
        // The reaper: pid 1 of the box. It dies with the keeper.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let program = libc::fork();
        if program < 0 {
            libc::_exit(127);
        }
        if program > 0 {
            reap(program, status_write, report, scratch)
        }
        // The program: tell the grader its host pid (the host /proc is still mounted).
        libc::close(status_read);
        libc::close(status_write);
        let mut buf = [0u8; 16];
        let n = libc::readlink(c"/proc/self".as_ptr(), buf.as_mut_ptr().cast(), buf.len());
        if n > 0 {
            let mut pid: u32 = 0;
            for &d in &buf[..n as usize] {
                pid = pid * 10 + u32::from(d - b'0');
            }
            libc::write(report, pid.to_ne_bytes().as_ptr().cast(), 4);
        }
    }
    Ok(())
}

/// The keeper: waits for the reaper's word on the program's status, and ends the same way.
/// Async-signal-safe; called in a forked child only.
fn keep(reaper: libc::pid_t, status_read: RawFd) -> ! {
    // SAFETY: async-signal-safe syscalls on descriptors and buffers we own.
    unsafe {
        block_signals();
        close_all_but(&[status_read]);
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = libc::read(status_read, buf[got..].as_mut_ptr().cast(), 4 - got);
            if n > 0 {
                got += n as usize;
            } else if n == 0 || *libc::__errno_location() != libc::EINTR {
                break;
            }
        }
        let mut own = 0;
        while libc::waitpid(reaper, &mut own, 0) < 0 && *libc::__errno_location() == libc::EINTR {}
        if got == 4 {
            mirror(libc::c_int::from_ne_bytes(buf))
        }
        mirror(own)
    }
}

/// The reaper: reaps everything; when the program ends, reports its status and whether
/// the scratch space was full, and exits (the kernel then kills the rest of the box).
/// Async-signal-safe; called in a forked child only.
fn reap(program: libc::pid_t, status_write: RawFd, report: RawFd, scratch: &std::ffi::CStr) -> ! {
    // SAFETY: async-signal-safe syscalls on descriptors and buffers we own.
    unsafe {
        block_signals();
        let mut keep = [status_write, report];
        keep.sort_unstable();
        close_all_but(&keep);
        loop {
            let mut status = 0;
            let pid = libc::waitpid(-1, &mut status, 0);
            if pid == program {
                let mut st: libc::statvfs = std::mem::zeroed();
                if libc::statvfs(scratch.as_ptr(), &mut st) == 0
                    && st.f_blocks > 0
                    && st.f_bavail * 32 < st.f_blocks
                {
                    libc::write(report, [FULL].as_ptr().cast(), 1);
                }
                libc::write(status_write, status.to_ne_bytes().as_ptr().cast(), 4);
                libc::_exit(0);
            }
            if pid < 0 && *libc::__errno_location() == libc::ECHILD {
                libc::_exit(0);
            }
        }
    }
}
