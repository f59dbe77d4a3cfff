//! What `/proc` shows of a server under test, for the checks that judge how it is built
//! rather than what it answers (`child-per-client`, `reaps-children`, `thread-per-client`,
//! `no-thread-leak`, `bounded-threads`, `single-thread`, `no-fd-leak`): its helper
//! processes and zombie children, and its thread count sampled in the background. Changes
//! are waited for by fast polling with a deadline, never by sleeping a fixed time.

use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::procfs::{self, Proto};
use crate::session::Server;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `skip` for checks that read `/proc`, where this system has none.
pub(crate) fn unavailable() -> Option<Outcome> {
    (!procfs::available())
        .then(|| Outcome::skip("this check reads Linux's /proc, which this system does not have"))
}

/// Starts the server of a `/proc` check. `Err` is the check's outcome (`skip` without
/// `/proc`, or why the server did not start); `Ok` gives the server with its address and
/// process id.
pub(crate) fn start<'a>(
    ctx: &'a CheckCtx<'a>,
    opts: LaunchOpts,
) -> Result<(Server<'a>, SocketAddr, u32), Outcome> {
    if let Some(skip) = unavailable() {
        return Err(skip);
    }
    let mut server = Server::start(ctx, Proto::Tcp, opts)?;
    let (addr, pid) = (server.addr(), server.program().pid());
    Ok((server, addr, pid))
}

/// The processes that may belong to the program `pid`, zombies included. In a box of its
/// own (a PID namespace, which nothing started inside can leave) they are the box's
/// process tree below its keeper, walked through `/proc`'s children lists; otherwise
/// they may be anywhere (a double fork leaves the tree), and every process is read. The
/// checks ask many times a second, and a machine grading a class runs thousands of
/// processes: reading them all was the largest part of what the grader itself spent on a
/// full submission.
pub(crate) fn processes_of(pid: u32) -> io::Result<Vec<procfs::ProcInfo>> {
    let pgid = procfs::info(pid)?.pgid;
    match crate::contain::registry::tree_of(pgid) {
        Some(root) => Ok(procfs::descendants(root, TREE_CAP)
            .into_iter()
            .filter_map(|p| procfs::info(p).ok())
            .collect()),
        None => procfs::all(),
    }
}

/// At most this many processes are read of a box's tree: far over any box's process
/// limit (the watcher kills a program past it).
const TREE_CAP: usize = 4 * crate::contain::limits::PROCESSES as usize;

/// The processes a server started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Family {
    /// Live processes it started: its children and the other members of its process
    /// group (a grandchild of a double fork stays in the group), zombies apart.
    pub live: usize,
    /// Children that ended and were not reaped (state `Z`).
    pub zombies: usize,
}

/// Reads the family of the server `pid` (its process group has the same id: the grader
/// starts every program as the leader of a group of its own).
pub(crate) fn family(pid: u32) -> io::Result<Family> {
    let mut family = Family::default();
    for p in processes_of(pid)? {
        if p.pid == pid || !(p.ppid == pid || p.pgid == pid) {
            continue;
        }
        match p.state {
            'Z' if p.ppid == pid => family.zombies += 1,
            'Z' | 'X' => {}
            _ => family.live += 1,
        }
    }
    Ok(family)
}

/// Calls `probe` until it returns `Some`, at most until `timeout` has passed (it is always
/// called at least once, and once more at the deadline). Polls fast at first, then every
/// few milliseconds, and never sleeps less than a look took: a look that reads a socket
/// table (milliseconds: the kernel walks its whole connection hash) is not repeated back
/// to back.
pub(crate) fn poll_until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(200);
    loop {
        let looked = Instant::now();
        if let Some(v) = probe() {
            return Some(v);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep(pause.max(now - looked).min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// Samples the thread count of a process every millisecond in a background thread and
/// keeps the largest value seen; stops when dropped.
pub(crate) struct ThreadSampler {
    pid: u32,
    most: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl ThreadSampler {
    /// Starts sampling `pid`.
    pub(crate) fn start(pid: u32) -> ThreadSampler {
        let most = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (most, stop) = (Arc::clone(&most), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match procfs::threads(pid) {
                        Ok(n) => {
                            most.fetch_max(n, Ordering::Relaxed);
                        }
                        Err(_) => return,
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        ThreadSampler {
            pid,
            most,
            stop,
            handle: Some(handle),
        }
    }

    /// The most threads seen so far, this moment included.
    pub(crate) fn most(&self) -> usize {
        if let Ok(n) = procfs::threads(self.pid) {
            self.most.fetch_max(n, Ordering::Relaxed);
        }
        self.most.load(Ordering::Relaxed)
    }
}

impl Drop for ThreadSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// "1 thread", "3 threads": a count with its noun (regular plurals).
pub(crate) fn count(n: usize, noun: &str) -> String {
    plural(n, noun, &format!("{noun}s"))
}

/// "1 child process", "2 child processes": a count with the right noun.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "1st", "2nd", "3rd", "4th", "11th", "22nd".
pub(crate) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_and_counts_read_well() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101]
            .iter()
            .map(|&n| ordinal(n))
            .collect();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st"]
        );
        assert_eq!(count(1, "thread"), "1 thread");
        assert_eq!(count(3, "thread"), "3 threads");
    }

    #[test]
    fn polling_stops_at_the_deadline_or_when_the_condition_holds() {
        let start = Instant::now();
        assert_eq!(poll_until(Duration::from_millis(30), || None::<()>), None);
        assert!(start.elapsed() >= Duration::from_millis(30));
        let mut calls = 0;
        assert_eq!(
            poll_until(Duration::from_secs(5), || {
                calls += 1;
                (calls == 3).then_some(calls)
            }),
            Some(3)
        );
    }

    #[test]
    fn sees_a_child_and_then_its_zombie() {
        if !procfs::available() {
            return;
        }
        // A shell that forks `sleep` and never waits for it (exec replaces the shell). The
        // child lives until the test ends it, so a loaded machine cannot make the test miss
        // it alive (a child that ended by itself after 0.2 s was missed at load 14).
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 300 & exec sleep 301"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let kid = poll_until(Duration::from_secs(30), || {
            (family(pid).ok()?.live >= 1).then_some(())?;
            procfs::children(pid).ok()?.first().map(|p| p.pid)
        });
        let Some(kid) = kid else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the forked child was never seen alive");
        };
        // SAFETY: kill(2) of the test's own grandchild, by the pid /proc gave.
        unsafe { libc::kill(kid as i32, libc::SIGKILL) };
        let zombie = poll_until(Duration::from_secs(30), || {
            (family(pid).ok()?
                == Family {
                    live: 0,
                    zombies: 1,
                })
            .then_some(())
        });
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            zombie.is_some(),
            "the ended child was never seen as a zombie"
        );
    }
}
