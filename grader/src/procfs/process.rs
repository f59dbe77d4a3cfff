//! What `/proc` says of processes: state, parent and group (`/proc/PID/stat`, parsed
//! here once, for the checks and for containment's monitor), children, threads, open
//! descriptors and CPU time.

use std::fs;
use std::io;

/// What a process looks like in `/proc/PID/stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    /// State letter: `R`, `S`, `Z` (zombie), ...
    pub state: char,
    /// Parent.
    pub ppid: u32,
    /// Process group.
    pub pgid: u32,
    /// CPU time in clock ticks, user and system, all threads together.
    pub cpu_ticks: u64,
    /// Start time (clock ticks after boot): with the pid, identifies a process.
    pub start: u64,
    /// Resident pages.
    pub rss_pages: u64,
}

/// Parses the text of `/proc/PID/stat`; `None` when it is not one. The command name may
/// hold spaces and parentheses, so the fields are counted from its last `)`. Works on
/// bytes: the containment watcher parses every process of the machine many times a second.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    parse_stat_bytes(text.as_bytes())
}

/// [`parse_stat`] on the file's bytes.
pub(crate) fn parse_stat_bytes(text: &[u8]) -> Option<Stat> {
    let close = text.iter().rposition(|&b| b == b')')?;
    // After the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12) ...
    // starttime(19) vsize(20) rss(21).
    let mut fields = text
        .get(close + 1..)?
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let state = *fields.next()?.first()? as char;
    let mut f = [0u64; 21];
    for (i, slot) in f.iter_mut().enumerate() {
        let field = fields.next()?;
        // Fields this parser does not use may be negative (`tty_nr`, `tpgid`, `priority`).
        if matches!(i, 0 | 1 | 10 | 11 | 18 | 20) {
            *slot = number(field)?;
        }
    }
    Some(Stat {
        state,
        ppid: u32::try_from(f[0]).ok()?,
        pgid: u32::try_from(f[1]).ok()?,
        cpu_ticks: f[10] + f[11],
        start: f[18],
        rss_pages: f[20],
    })
}

/// A decimal number of ASCII digits.
fn number(field: &[u8]) -> Option<u64> {
    if field.is_empty() {
        return None;
    }
    field.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))?
    })
}

/// Reads and parses `/proc/PID/stat`.
pub(crate) fn stat(pid: u32) -> io::Result<Stat> {
    let text = fs::read(format!("/proc/{pid}/stat"))?;
    parse_stat_bytes(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc/PID/stat"))
}

/// One process as `/proc` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProcInfo {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// State letter: `R`, `S`, `Z` (zombie), ...
    pub state: char,
    /// Process group id.
    pub pgid: u32,
}

/// Reads the state, parent and group of `pid`.
pub(crate) fn info(pid: u32) -> io::Result<ProcInfo> {
    let s = stat(pid)?;
    Ok(ProcInfo {
        pid,
        state: s.state,
        ppid: s.ppid,
        pgid: s.pgid,
    })
}

/// Every process on the system (those that vanish while scanning are skipped).
pub(crate) fn all() -> io::Result<Vec<ProcInfo>> {
    Ok(fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| info(pid).ok())
        .collect())
}

/// Direct children of `pid`, zombies included (a test's look at what a process forked).
#[cfg(test)]
pub(crate) fn children(pid: u32) -> io::Result<Vec<ProcInfo>> {
    Ok(all()?.into_iter().filter(|p| p.ppid == pid).collect())
}

/// True when `/proc` lists each thread's children (`/proc/PID/task/TID/children`, a
/// kernel option), so that [`descendants`] can walk a process tree.
pub(crate) fn children_listed() -> bool {
    static LISTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LISTED.get_or_init(|| {
        let me = std::process::id();
        std::path::Path::new(&format!("/proc/{me}/task/{me}/children")).exists()
    })
}

/// `root` and every process below it, as `/proc` lists them now (at most `cap`: a tree
/// past the cap is over any limit already). Children are listed per thread: a process
/// forked by a thread other than the main one is found under that thread.
pub(crate) fn descendants(root: u32, cap: usize) -> Vec<u32> {
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() && found.len() < cap {
        let pid = found[next];
        next += 1;
        for tid in thread_ids(pid).unwrap_or_default() {
            let Ok(list) = fs::read(format!("/proc/{pid}/task/{tid}/children")) else {
                continue;
            };
            found.extend(
                list.split(|&b| b == b' ')
                    .filter_map(|f| std::str::from_utf8(f).ok()?.trim().parse::<u32>().ok()),
            );
        }
    }
    found.truncate(cap);
    found
}

/// Processes in process group `pgid` (the tests' look at what a kill left behind).
#[cfg(test)]
pub(crate) fn group_members(pgid: u32) -> io::Result<Vec<ProcInfo>> {
    Ok(all()?.into_iter().filter(|p| p.pgid == pgid).collect())
}

/// Number of threads of `pid` (the `Threads:` line of its status).
pub(crate) fn threads(pid: u32) -> io::Result<usize> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Threads: line"))
}

/// Ids of the threads `pid` has right now (the entries of `/proc/PID/task`; the main
/// thread's id is `pid` itself).
pub(crate) fn thread_ids(pid: u32) -> io::Result<Vec<u32>> {
    Ok(fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

/// Number of open descriptors of `pid`.
pub(crate) fn fd_count(pid: u32) -> io::Result<usize> {
    Ok(fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// CPU time of `pid` in clock ticks (user + system), all its threads together.
pub(crate) fn cpu_ticks(pid: u32) -> io::Result<u64> {
    Ok(stat(pid)?.cpu_ticks)
}

/// Clock ticks per second, for [`cpu_ticks`].
pub(crate) fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn parses_stat_with_a_command_holding_spaces_and_parens() {
        let text = "4242 (my (evil) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 777 12345678 900 18446744073709551615";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                state: 'S',
                ppid: 1,
                pgid: 4242,
                cpu_ticks: 8,
                start: 777,
                rss_pages: 900
            })
        );
        assert_eq!(parse_stat("4242 (cut"), None);
        assert_eq!(parse_stat("4242 (short) S 1"), None);
    }

    #[test]
    fn walks_a_tree_down_to_the_grandchildren_of_any_thread() {
        if !children_listed() {
            return;
        }
        // A shell whose background child starts a grandchild; all three are found.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sh -c 'sleep 30 & wait' & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let root = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            seen = descendants(root, 64);
            if seen.len() >= 3 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let capped = descendants(root, 2);
        // SAFETY: kill(2) on the test's own process group.
        unsafe { libc::kill(-(root as i32), libc::SIGKILL) };
        let _ = child.wait();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(seen[0], root);
        assert!(seen.iter().skip(1).all(|&p| p != root));
        assert_eq!(capped, seen[..2]);
    }

    #[test]
    fn reads_our_own_process() {
        let me = std::process::id();
        let Ok(info) = info(me) else {
            return;
        };
        assert_eq!(info.pid, me);
        assert!(threads(me).unwrap() >= 1);
        assert!(thread_ids(me).unwrap().contains(&me));
    }
}
