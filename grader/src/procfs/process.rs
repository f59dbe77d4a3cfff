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
/// hold spaces and parentheses, so the fields are counted from its last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let after = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let num = |i: usize| f.get(i)?.parse::<u64>().ok();
    // After the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12) ...
    // starttime(19) vsize(20) rss(21).
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: num(1)? as u32,
        pgid: num(2)? as u32,
        cpu_ticks: num(11)? + num(12)?,
        start: num(19)?,
        rss_pages: num(21)?,
    })
}

/// Reads and parses `/proc/PID/stat`.
pub(crate) fn stat(pid: u32) -> io::Result<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text)
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
