//! One watcher thread for all live programs: every [`TICK`] (every [`KERNEL_TICK`] while
//! every live program has a cgroup that holds its limits) it adds up, per program, the
//! resident memory and the number of processes. A program in a box of its own (a PID
//! namespace) is the process tree below its keeper, walked through `/proc`'s children
//! lists; any other program is found in one read of all of `/proc`, counting a process
//! by its process group or, when it left the group (`setsid`), by its cookie tag (read
//! once per process and cached). The walk costs what the box holds, the scan what the
//! machine holds (hundreds of processes when many graders run at once). Forked processes
//! share pages, so a sum of RSS over the limit is checked again with PSS before it
//! counts. A program over [`limits::MEMORY`] or [`limits::PROCESSES`] is killed with the
//! reason recorded, so its check can say "killed: used more than 512 MiB" instead of
//! "killed by signal 9". The thread sleeps while no program runs.

use super::cookie;
use super::limits;
use super::registry::{self, Entry};
use crate::procfs::parse_stat_bytes;
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::sync::Once;
use std::time::Duration;

/// How often the watcher looks.
pub const TICK: Duration = Duration::from_millis(40);

/// How often it looks while every live program has a cgroup of its own: the kernel then
/// holds the limits itself (no fork past `pids.max`, an OOM kill past the memory limit),
/// each program reads its cgroup's events for its message when it ends, and the watcher
/// only stops a program that hit a limit sooner than its check would.
pub const KERNEL_TICK: Duration = Duration::from_millis(120);

/// Starts the watcher thread (once).
pub fn ensure_running() {
    static START: Once = Once::new();
    START.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("grader-monitor".into())
            .spawn(watch);
    });
}

/// Memory and processes of one program in one look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Resident bytes, all processes together.
    pub rss: u64,
    /// Processes.
    pub processes: u64,
}

/// The reason to kill a program with this usage, if any.
pub fn judge(usage: Usage) -> Option<String> {
    if usage.processes > limits::PROCESSES {
        Some(format!(
            "was killed by the grader: it tried to have more than {} processes at once (a fork bomb?)",
            limits::PROCESSES
        ))
    } else if usage.rss > limits::MEMORY {
        Some(format!(
            "was killed by the grader: it used more than {} MiB of memory",
            limits::MEMORY >> 20
        ))
    } else {
        None
    }
}

/// The reason behind the kernel's own refusals and kills in a program's cgroup, if any.
pub fn judge_events(ev: super::cgroup::Events) -> Option<String> {
    if ev.pids_refused > 0 {
        judge(Usage {
            rss: 0,
            processes: limits::PROCESSES + 1,
        })
    } else if ev.oom_kills > 0 {
        judge(Usage {
            rss: limits::MEMORY + 1,
            processes: 0,
        })
    } else {
        None
    }
}

fn watch() {
    let page = page_size();
    let me = std::process::id();
    // (pid, start time) -> tag, for processes outside their program's group.
    let mut tags: HashMap<(u32, u64), Option<Vec<u8>>> = HashMap::new();
    let mut buf = Vec::with_capacity(512);
    loop {
        registry::wait_for_any();
        let live = registry::snapshot();
        let mut usage = vec![Usage::default(); live.len()];
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); live.len()];
        let mut seen = HashMap::with_capacity(tags.len());
        // A program in a box of its own is its keeper's process tree: walk it. Only the
        // others need every process of the machine read (and only when there are any).
        for (i, entry) in live.iter().enumerate() {
            let Some(root) = entry.tree else { continue };
            let cap = usize::try_from(limits::PROCESSES).unwrap_or(usize::MAX) * 2;
            for pid in crate::procfs::descendants(root, cap) {
                if let Some(stat) = read_stat(pid, &mut buf) {
                    usage[i].processes += 1;
                    usage[i].rss += stat.rss_pages * page;
                    members[i].push(pid);
                }
            }
        }
        let pids = if live.iter().any(|e| e.tree.is_none()) {
            cookie::pids()
        } else {
            Vec::new()
        };
        for pid in pids {
            let Some(stat) = read_stat(pid, &mut buf) else {
                continue;
            };
            let mine = |e: &Entry| e.tree.is_none();
            let mut owner = live.iter().position(|e| mine(e) && e.pgid == stat.pgid);
            if owner.is_none() {
                let key = (pid, stat.start);
                let tag = match tags.get(&key) {
                    Some(t) => t.clone(),
                    None => {
                        let t = cookie::tag_of(pid);
                        // A child of the grader may not have exec'd yet: ask again later.
                        if t.is_some() || stat.ppid != me {
                            tags.insert(key, t.clone());
                        }
                        t
                    }
                };
                if let Some(tag) = &tag {
                    owner = live
                        .iter()
                        .position(|e| mine(e) && e.tag.as_bytes() == tag.as_slice());
                }
                seen.insert(key, ());
            }
            if let Some(i) = owner {
                usage[i].processes += 1;
                usage[i].rss += stat.rss_pages * page;
                members[i].push(pid);
            }
        }
        // Forked processes share pages, which their RSS counts once each: over the limit,
        // count again with each shared page divided among its sharers (PSS).
        for (use_, pids) in usage.iter_mut().zip(&members) {
            if use_.rss > limits::MEMORY {
                use_.rss = pids.iter().filter_map(|&p| pss(p)).sum();
            }
        }
        tags.retain(|k, _| seen.contains_key(k));
        for (entry, use_) in live.iter().zip(&usage) {
            let events = entry
                .cgroup
                .as_ref()
                .map(|c| c.events())
                .unwrap_or_default();
            if let Some(reason) = judge(*use_).or_else(|| judge_events(events)) {
                kill(entry, reason);
            }
        }
        let held = live.iter().all(|e| e.cgroup.is_some());
        std::thread::sleep(if held { KERNEL_TICK } else { TICK });
    }
}

/// `/proc/PID/stat` of `pid`, read into `buf` (reused: the watcher reads every process
/// of the machine each tick).
fn read_stat(pid: u32, buf: &mut Vec<u8>) -> Option<crate::procfs::process::Stat> {
    buf.clear();
    fs::File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .read_to_end(buf)
        .ok()?;
    parse_stat_bytes(buf)
}

/// Proportional resident memory of `pid` in bytes (`Pss:` of `smaps_rollup`).
fn pss(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn kill(entry: &Entry, reason: String) {
    registry::kill_for(entry, reason);
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_limits_in_words() {
        assert!(judge(Usage {
            rss: 10 << 20,
            processes: 3
        })
        .is_none());
        assert!(judge(Usage {
            rss: 600 << 20,
            processes: 1
        })
        .unwrap()
        .contains("512 MiB"));
        assert!(judge(Usage {
            rss: 0,
            processes: 300
        })
        .unwrap()
        .contains("256 processes"));
    }
}
