//! The programs alive right now, in one table: the monitor walks it to watch memory and
//! process counts, the signal handler walks it to stop everything when the grader is
//! interrupted. A [`crate::process::Program`] registers itself when it starts and leaves
//! when it has been killed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// One live program.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its process group (the id of its first process).
    pub pgid: u32,
    /// Its cookie tag (`GRADER_RUN`).
    pub tag: String,
    /// Why the grader killed it, once it did (read by the program's messages).
    pub verdict: Arc<Mutex<Option<String>>>,
    /// Its cgroup (root).
    pub cgroup: Option<Arc<super::cgroup::ProgramCgroup>>,
    /// The host pid whose descendants are all of the program's processes, when that is
    /// sure: the keeper of a box with its own PID namespace (nothing in the box can leave
    /// it; orphans go to the box's reaper). `None`: its processes are found by a scan of
    /// all of `/proc`.
    pub tree: Option<u32>,
}

#[derive(Default)]
struct Table {
    live: HashMap<u64, Entry>,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);
static CHANGED: Condvar = Condvar::new();

fn with<T>(f: impl FnOnce(&mut Table) -> T) -> T {
    let mut guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Table::default))
}

/// Adds a program; returns its key for [`remove`].
pub fn add(entry: Entry) -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let key = NEXT.fetch_add(1, Ordering::Relaxed);
    with(|t| t.live.insert(key, entry));
    CHANGED.notify_all();
    super::monitor::ensure_running();
    key
}

/// Removes a program (it has been killed).
pub fn remove(key: u64) {
    with(|t| t.live.remove(&key));
}

/// The live programs as they are now.
pub fn snapshot() -> Vec<Entry> {
    with(|t| t.live.values().cloned().collect())
}

/// The root of the process tree that holds every process of the live program whose
/// process group is `pgid` (its box's keeper), when that is sure ([`Entry::tree`]).
pub fn tree_of(pgid: u32) -> Option<u32> {
    with(|t| {
        t.live
            .values()
            .find(|e| e.pgid == pgid)
            .and_then(|e| e.tree)
    })
}

/// Blocks until at least one program is live.
pub fn wait_for_any() {
    let mut guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    while guard.as_ref().is_none_or(|t| t.live.is_empty()) {
        guard = CHANGED.wait(guard).unwrap_or_else(|e| e.into_inner());
    }
}

/// Sends `signal` to every live program's process group.
pub fn signal_all(signal: i32) {
    for e in snapshot() {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory involved.
        unsafe { libc::kill(-(e.pgid as i32), signal) };
    }
}

/// Records why the grader killed a program (the first reason wins) and kills it: its
/// group, then everything carrying its tag.
pub fn kill_for(entry: &Entry, reason: String) {
    {
        let mut v = entry.verdict.lock().unwrap_or_else(|e| e.into_inner());
        if v.is_none() {
            *v = Some(reason);
        }
    }
    // SAFETY: as in `signal_all`.
    unsafe { libc::kill(-(entry.pgid as i32), libc::SIGKILL) };
    if let Some(cg) = &entry.cgroup {
        cg.kill_all();
    }
    super::cookie::sweep(super::cookie::Match::Tag(&entry.tag));
}
