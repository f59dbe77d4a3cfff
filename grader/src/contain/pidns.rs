//! One box per program: a PID namespace whose init is the grader's own small reaper, so
//! that when the program ends (or is killed) the kernel kills everything in the box,
//! whatever it forked, `setsid`'d, or however it cleared its environment.
//!
//! `Command` forks a process (the *keeper*, in the host PID namespace: `Program::pid`'s
//! process group leader and the `Child` the grader waits for). Between fork and exec the
//! keeper makes a new PID and mount namespace, builds the box's view in it, clones the
//! *reaper* (pid 1 in the box) and forks the *program* (pid 2), which returns to
//! `Command`, which execs it. The reaper reaps orphans; when the program ends the keeper
//! kills the reaper, so the kernel kills what is left in the box, and ends the same way
//! the program did (the same exit code or signal), so the grader sees the program's
//! status. Only the program returns from [`enter`]: the keeper and the reaper never exec.
//!
//! Cheap on purpose (measured in `docs/containment.md`): the reaper shares the keeper's
//! memory (no copy), the keeper drops its copy of the grader's memory once the program is
//! forked ([`super::shed`]), and it leaves the box's mount namespace (the box's last
//! process takes the mounts down).
//!
//! The program reports its host pid (for `/proc` and `sock_diag`) through a pipe, read
//! from the host `/proc` before the box's own `/proc` is mounted; the keeper reports at
//! the end whether the box's scratch space was full ([`FULL`]).

use super::view;
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

/// The reaper's stack, in the keeper's frame (the reaper shares the keeper's memory).
const REAPER_STACK: usize = 32 * 1024;

/// In the keeper, between fork and exec: makes the box, builds its view ([`view::build`])
/// and returns in the program (pid 2 of the box), which still has to enter the view
/// ([`view::enter`]). `report` is the write end of the report pipe. Async-signal-safe.
///
/// The keeper unshares its PID and mount namespaces, builds the view's mounts, then
/// clones the reaper (pid 1: sharing the keeper's memory and descriptor table, so it
/// copies nothing and holds nothing the grader waits on) and forks the program (pid 2,
/// the keeper's own child). It then goes back to the host's mount namespace (the box's
/// last process takes its mounts down), lets go of the grader's memory
/// ([`super::shed`]), waits for the program, reports whether the scratch space was full,
/// kills and reaps the reaper (the kernel then kills what is left in the box) and ends
/// the way the program did.
pub fn enter(report: RawFd, plan: &view::Plan) -> std::io::Result<()> {
    // SAFETY: fork/clone/wait/read/write/_exit on descriptors and buffers we own; the
    // keeper and the reaper never return from here, and use only their stacks and
    // async-signal-safe calls after the fork.
    unsafe {
        let host_ns = libc::open(
            c"/proc/self/ns/mnt".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
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
        view::build(plan)?;
        let scratch = libc::open(
            plan.scratch.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        block_signals();
        // The reaper's way to see that the keeper died before it asked to die with it.
        let keeper = libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) as RawFd;
        let mut stack = [0u8; REAPER_STACK];
        let top = (stack.as_mut_ptr() as usize + REAPER_STACK) & !15;
        let reaper = libc::clone(
            reap,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_FILES | libc::SIGCHLD,
            keeper as isize as *mut libc::c_void,
        );
        if reaper < 0 {
            return Err(fail());
        }
        let program = libc::fork();
        if program < 0 {
            let err = fail();
            libc::kill(reaper, libc::SIGKILL);
            return Err(err);
        }
        if program > 0 {
            keep(program, reaper, [report, scratch, keeper], host_ns, &stack)
        }
        // The program: tell the grader its host pid (the host /proc is still mounted).
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::close(scratch);
        if host_ns >= 0 {
            libc::close(host_ns);
        }
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

/// The keeper, once the program is forked: waits for it, reports a full scratch space,
/// kills and reaps the reaper, and ends the way the program did. Async-signal-safe;
/// never returns.
/// `fds`: the report pipe, the scratch folder, the keeper's own pidfd (for the reaper).
fn keep(
    program: libc::pid_t,
    reaper: libc::pid_t,
    fds: [RawFd; 3],
    host_ns: RawFd,
    reaper_stack: &[u8],
) -> ! {
    let [report, scratch, _] = fds;
    // SAFETY: async-signal-safe syscalls on descriptors and buffers we own; after shed()
    // only the stack and the thread block are used.
    unsafe {
        if host_ns >= 0 {
            libc::setns(host_ns, libc::CLONE_NEWNS);
        }
        let mut keep = fds;
        keep.sort_unstable();
        close_all_but(&keep);
        let here = 0u8;
        super::shed::shed(&[
            &here as *const u8 as usize,
            reaper_stack.as_ptr() as usize,
            libc::pthread_self() as usize,
        ]);
        let mut status = 0;
        let mut tries = 0;
        while libc::waitpid(program, &mut status, 0) != program {
            // Signals are blocked, so this fails only if something is badly wrong.
            tries += 1;
            if tries > 100 {
                libc::kill(reaper, libc::SIGKILL);
                libc::_exit(127);
            }
        }
        let mut st: libc::statvfs = std::mem::zeroed();
        if scratch >= 0
            && libc::fstatvfs(scratch, &mut st) == 0
            && st.f_blocks > 0
            && st.f_bavail * 32 < st.f_blocks
        {
            libc::write(report, [FULL].as_ptr().cast(), 1);
        }
        // Reap the reaper: left unreaped, it would be handed to the host's init, and where
        // the grader itself is init (a container started without `--init`) every box
        // would leave a zombie.
        libc::kill(reaper, libc::SIGKILL);
        let mut own = 0;
        libc::waitpid(reaper, &mut own, libc::__WALL);
        mirror(status)
    }
}

/// The reaper: pid 1 of the box. It reaps the orphans the program leaves; it is killed
/// by the keeper when the program has ended (and dies with the keeper). It shares the
/// keeper's memory and descriptors: it touches neither. `keeper` is the keeper's pidfd
/// (or -1): a keeper killed before the reaper asked to die with it (the grader
/// interrupted at that moment) would leave it behind for ever, holding the keeper's
/// descriptors (seen once: a test's interrupted batch). Async-signal-safe.
extern "C" fn reap(keeper: *mut libc::c_void) -> libc::c_int {
    // SAFETY: async-signal-safe syscalls on buffers on this stack.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let keeper = keeper as isize as RawFd;
        if keeper >= 0 {
            let mut gone = libc::pollfd {
                fd: keeper,
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut gone, 1, 0) == 1 && gone.revents & libc::POLLIN != 0 {
                libc::_exit(0);
            }
        }
        let mut chld: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut chld);
        libc::sigaddset(&mut chld, libc::SIGCHLD);
        loop {
            libc::sigwaitinfo(&chld, std::ptr::null_mut());
            while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
        }
    }
}
