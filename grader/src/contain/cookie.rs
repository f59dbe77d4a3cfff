//! The run cookie: every program of a run carries `GRADER_RUN=<run id>-<program number>`
//! in its environment, and so does everything it starts, also a process that left its
//! process group (`setsid`, a double fork). After a program is killed, a sweep over
//! `/proc/*/environ` kills whatever still carries its tag; at the end of the run, whatever
//! carries the run id. A process can clear its environment on `exec`, so this is a net
//! under the process group and the cgroup, not a wall.

use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The environment variable holding the tag.
pub const VAR: &str = "GRADER_RUN";

/// A fresh run id: 16 hex digits from the OS's random source (time and pid as fallback).
pub fn fresh_run_id() -> String {
    let mut raw = [0u8; 8];
    let ok = fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw))
        .is_ok();
    if !ok {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        raw = (t ^ (u64::from(std::process::id()) << 32)).to_le_bytes();
    }
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tag of the next program of run `run_id`.
pub fn next_tag(run_id: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{run_id}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// What a sweep looks for.
#[derive(Clone, Copy, Debug)]
pub enum Match<'a> {
    /// Exactly this tag (one program).
    Tag(&'a str),
    /// Any tag of this run id.
    Run(&'a str),
}

impl Match<'_> {
    fn hits(&self, value: &[u8]) -> bool {
        match self {
            Match::Tag(tag) => value == tag.as_bytes(),
            Match::Run(run) => {
                value.len() > run.len()
                    && value.starts_with(run.as_bytes())
                    && value[run.len()] == b'-'
            }
        }
    }
}

/// The value of `GRADER_RUN` in a raw `/proc/PID/environ`.
pub fn tag_in(environ: &[u8]) -> Option<&[u8]> {
    environ
        .split(|&b| b == 0)
        .find_map(|entry| entry.strip_prefix(VAR.as_bytes())?.strip_prefix(b"="))
}

/// The tag `pid` carries, if any (`None` also when it is gone or not ours to read).
pub fn tag_of(pid: u32) -> Option<Vec<u8>> {
    let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
    tag_in(&environ).map(<[u8]>::to_vec)
}

/// Process ids on the system, the grader's own excluded.
pub fn pids() -> Vec<u32> {
    let me = std::process::id();
    fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter(|&p| p != me)
                .collect()
        })
        .unwrap_or_default()
}

/// Kills (SIGKILL) every process that carries a matching tag, pass after pass until a
/// pass finds none (a process forking while it is swept is caught by the next pass).
/// Returns how many processes were killed.
pub fn sweep(what: Match) -> usize {
    let mut killed = 0;
    for pass in 0..200 {
        let mut found = 0;
        for pid in pids() {
            if tag_of(pid).is_some_and(|t| what.hits(&t)) && kill_checked(pid, what) {
                found += 1;
            }
        }
        killed += found;
        if found == 0 {
            break;
        }
        if pass > 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    killed
}

/// SIGKILLs `pid` after checking again, through a pidfd, that it is the tagged process
/// (so a reused pid is never hit). Without pidfds, a plain kill.
fn kill_checked(pid: u32, what: Match) -> bool {
    // SAFETY: pidfd_open takes a pid and flags; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_int, 0) } as i32;
    if fd < 0 {
        // SAFETY: kill(2) with a positive pid; no memory involved.
        return unsafe { libc::kill(pid as i32, libc::SIGKILL) } == 0;
    }
    let still = tag_of(pid).is_some_and(|t| what.hits(&t));
    let sent = still
        // SAFETY: the pidfd is ours; no siginfo is passed.
        && unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        } == 0;
    // SAFETY: the descriptor is ours and closed once.
    unsafe { libc::close(fd) };
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tag_in_an_environ_block() {
        let env = b"PATH=/bin\0GRADER_RUN=ab12-7\0HOME=/x\0";
        assert_eq!(tag_in(env), Some(&b"ab12-7"[..]));
        assert_eq!(tag_in(b"PATH=/bin\0"), None);
        assert!(Match::Tag("ab12-7").hits(b"ab12-7"));
        assert!(!Match::Tag("ab12-7").hits(b"ab12-70"));
        assert!(Match::Run("ab12").hits(b"ab12-70"));
        assert!(!Match::Run("ab12").hits(b"ab123-1"));
    }

    #[test]
    fn run_ids_differ() {
        assert_ne!(fresh_run_id(), fresh_run_id());
        assert_eq!(fresh_run_id().len(), 16);
    }
}
