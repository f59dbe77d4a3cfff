//! Whose time the probes' waits count: the server this thread talks to. A check says it
//! once ([`talking_to`], set by the session for each case), and every probe's wait on an
//! answer then counts that server's own time ([`server_wait`]): a server starved of CPU by
//! a busy machine is not failed for silence.

use crate::process::deadline::Deadline;
use std::cell::Cell;
use std::thread::LocalKey;
use std::time::Duration;

thread_local! {
    static SERVER: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Runs `f` with the probes of this thread talking to process `pid` (the server's main
/// process): their waits on the server count its own time.
pub(crate) fn talking_to<T>(pid: Option<u32>, f: impl FnOnce() -> T) -> T {
    scoped(&SERVER, pid, f)
}

/// Runs `f` with this thread's probe setting `key` at `value`, then puts back the one it
/// had (settings nest: a check within a session).
pub(super) fn scoped<V: Copy + 'static, T>(
    key: &'static LocalKey<Cell<V>>,
    value: V,
    f: impl FnOnce() -> T,
) -> T {
    let before = key.with(|s| s.replace(value));
    let out = f();
    key.with(|s| s.set(before));
    out
}

/// The server this thread talks to, if a check named one.
pub(crate) fn server() -> Option<u32> {
    SERVER.with(Cell::get)
}

/// A wait of `bound` on the server this thread talks to (wall clock when none is known).
pub(crate) fn server_wait(bound: Duration) -> Deadline {
    match SERVER.with(Cell::get) {
        Some(pid) => Deadline::start(pid, bound),
        None => Deadline::wall(bound),
    }
}
