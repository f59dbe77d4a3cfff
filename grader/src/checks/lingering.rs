//! For `reaps-children`: what a fork server's children are doing when they should be gone
//! (still listening, as a child that fell back into the accept loop; still holding a
//! client's connection; or neither), read from `/proc`; and a [`Freeze`] of the parent,
//! so that several children end while it cannot run and their SIGCHLD signals merge into
//! one, in every run, whatever the machine's load (a handler that reaps one child per
//! signal then shows its zombies; a loaded machine would otherwise spread the exits out).

use crate::procfs::{self, Proto};
use std::time::Duration;

/// Live processes the server `pid` started (its children and its process group, zombies
/// apart), as [`crate::checks::inspect::family`] counts them.
pub(crate) fn live_members(pid: u32) -> Vec<u32> {
    crate::checks::inspect::processes_of(pid)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.pid != pid && (p.ppid == pid || p.pgid == pid))
        .filter(|p| !matches!(p.state, 'Z' | 'X'))
        .map(|p| p.pid)
        .collect()
}

/// What the live process `pid` does, for a server listening on `port`: "listening on
/// port 4444 (back in the accept loop)", "holding 1 socket open", or its state
/// ("sleeping", "running").
pub(crate) fn doing(pid: u32, port: u16) -> String {
    let mine = procfs::socket_inodes(pid).unwrap_or_default();
    let listening = procfs::bound_sockets(pid, Proto::Tcp)
        .unwrap_or_default()
        .into_iter()
        .any(|b| b.port == port && mine.contains(&b.inode));
    if listening {
        return format!("listening on port {port} (back in the accept loop)");
    }
    let sockets = mine.len();
    if sockets > 0 {
        return format!(
            "holding {} open",
            crate::checks::inspect::count(sockets, "socket")
        );
    }
    match procfs::info(pid).map(|i| i.state) {
        Ok('R') => "running (using the CPU)".into(),
        Ok('S' | 'D') => "sleeping (waiting for something)".into(),
        Ok('T' | 't') => "stopped".into(),
        _ => "alive".into(),
    }
}

/// "children 1234 and 1240 are listening on port 4444 (back in the accept loop)" for the
/// live members of the server `pid`, grouped by what they do.
pub(crate) fn describe(pid: u32, port: u16) -> String {
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    for child in live_members(pid) {
        let what = doing(child, port);
        match groups.iter_mut().find(|(w, _)| *w == what) {
            Some((_, pids)) => pids.push(child),
            None => groups.push((what, vec![child])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(what, pids)| {
            let ids: Vec<String> = pids.iter().map(u32::to_string).collect();
            match ids.split_last() {
                Some((last, [])) => format!("child {last} is {what}"),
                Some((last, rest)) => format!("children {} and {last} are {what}", rest.join(", ")),
                None => String::new(),
            }
        })
        .collect();
    parts.join("; ")
}

/// The server's main process stopped (SIGSTOP) until this is dropped (SIGCONT). While it
/// is stopped the kernel still queues connections and delivers EOF to its children; only
/// its own signal handlers wait, so the SIGCHLDs of children that end meanwhile merge.
pub(crate) struct Freeze {
    pid: u32,
}

impl Freeze {
    /// Stops `pid` and waits (up to `timeout`) until `/proc` shows it stopped; `None` when
    /// it could not be stopped (it is then left running).
    pub(crate) fn new(pid: u32, timeout: Duration) -> Option<Freeze> {
        // SAFETY: kill(2) on the server's own pid; no memory involved.
        if unsafe { libc::kill(pid as i32, libc::SIGSTOP) } != 0 {
            return None;
        }
        let freeze = Freeze { pid };
        crate::checks::inspect::poll_until(timeout, || {
            matches!(procfs::info(pid).map(|i| i.state), Ok('T' | 't')).then_some(())
        })
        .map(|()| freeze)
    }
}

impl Drop for Freeze {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe {
            libc::kill(self.pid as i32, libc::SIGCONT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn a_frozen_process_is_stopped_until_the_freeze_ends() {
        let mut child = Command::new("sleep")
            .arg("30")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let freeze = Freeze::new(pid, Duration::from_secs(5)).expect("stopped");
        assert_eq!(procfs::info(pid).unwrap().state, 'T');
        drop(freeze);
        let running = crate::checks::inspect::poll_until(Duration::from_secs(5), || {
            (procfs::info(pid).unwrap().state != 'T').then_some(())
        });
        assert!(running.is_some());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_process_holding_the_listening_socket_is_said_to_listen() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id();
        assert!(
            doing(me, port).starts_with("listening on port"),
            "{}",
            doing(me, port)
        );
        assert!(!doing(me, port.wrapping_add(1)).starts_with("listening"));
    }
}
