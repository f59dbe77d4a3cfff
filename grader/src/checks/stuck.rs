//! Knowing for certain that a server can never do something more while the grader keeps
//! still, so that a check need not wait out its generous deadline for it. A serial server
//! (a fork parent in `waitpid()` for a child that serves an idle client, a loop that
//! serves its one client before the next `accept()`) or a `select` loop that forgot a
//! client is judged in a fraction of a second instead of 5 or 10.
//!
//! The program is *frozen* when every thread of every process of its box (the processes
//! descended from its process group's leader, or in its group) is asleep (`S`) in a system
//! call that waits, without a timeout, for an event: data or EOF on a descriptor
//! (`read`, `recv*`, `select`/`poll`/`epoll` with no timeout), a child's end (`wait4`), a
//! wake-up by another thread (`futex` with no timeout), a signal (`pause`). None of those
//! can end unless something outside the program acts, or one of its threads does, and
//! none can run. The checks use it only while the grader itself keeps still (it sends
//! nothing more and waits), so only the kernel could still wake it, and these are ruled
//! out where `/proc` can show them: a pending signal, a handler for the timer signals
//! (`SIGALRM`, `SIGVTALRM`, `SIGPROF`), a POSIX timer, a `timerfd`. A thread sleeping with
//! a timeout (`time.sleep`, `select(..., 0.1)`, the GIL's timed wait), running, in the
//! kernel (`D`), stopped, or in any other call is not frozen. What `/proc` cannot show is
//! an `alarm()` whose default action ends the process, and a socket timeout set with
//! `SO_RCVTIMEO` by hand (Python's `settimeout` polls with a timeout, which is seen): no
//! program of this course uses them to make progress.
//!
//! The state must stay the same, the CPU time of every thread included, over looks
//! [`WINDOW`] apart: a woken thread is `R` until it runs, and cannot look asleep again
//! without its CPU time moving, so two equal looks prove that nothing of the program ran
//! in between, however loaded the machine (a busy machine only makes the verdict later).
//! The kernel wakes a thread when the event happens, when data, an EOF or a connection
//! reaches its socket; what the grader sent has reached it once the grader's socket has
//! nothing left unacknowledged ([`delivered`]), and nothing the server sent before it
//! fell asleep is still unread on it ([`nothing_unread`]): the waits check both once the
//! program is found frozen. Whatever is checked after the program was found frozen (those,
//! the check's whole namespace with nothing on its way, every client gone) is confirmed by
//! one more look that must see the program exactly as before ([`Stuck::certain_and`]):
//! what arrived while it was checked woke a thread, and that look sees it.
//!
//! Three questions use it: [`Stuck::accepting`], a client waits in the listen backlog and
//! no thread can ever accept it (no thread is in `accept()`); [`Stuck::idle`], the
//! program can do nothing more at all (a connection the grader waits to see closed never
//! will be); [`Stuck::sending`], the program can do nothing more until the grader reads
//! its answers (a send blocked for room counts as a wait too: a server that answers as it
//! reads stops reading once nobody reads).

use crate::procfs;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long the program must stay frozen, unchanged, before it counts as for ever.
pub(crate) const WINDOW: Duration = Duration::from_millis(100);

/// How often `/proc` is read while someone asks.
const SAMPLE: Duration = Duration::from_millis(15);

/// What a frozen program looks like: per thread (pid, tid), its system call line and its
/// CPU time in nanoseconds.
type Snapshot = BTreeMap<(u32, u32), (String, u64)>;

/// The question asked of one server process.
pub(crate) struct Stuck {
    pid: u32,
    /// For [`Stuck::accepting`]: the listening port whose backlog must hold a client.
    port: Option<u16>,
    /// For [`Stuck::sending`]: a send or write blocked for room counts as a wait.
    sending: bool,
    /// The first look of the current frozen stretch.
    first: Option<(Instant, Snapshot)>,
    /// When `/proc` was last read, and what it said.
    sampled: Option<(Instant, bool)>,
    /// What the threads wait for, from the last frozen look (for messages).
    waits: Vec<&'static str>,
}

impl Stuck {
    /// "A client waits in the backlog of `port` and the program `pid` can never accept
    /// it."
    pub(crate) fn accepting(pid: u32, port: u16) -> Stuck {
        Stuck {
            pid,
            port: Some(port),
            sending: false,
            first: None,
            sampled: None,
            waits: Vec::new(),
        }
    }

    /// "The program `pid` can never do anything more by itself."
    pub(crate) fn idle(pid: u32) -> Stuck {
        Stuck {
            pid,
            port: None,
            sending: false,
            first: None,
            sampled: None,
            waits: Vec::new(),
        }
    }

    /// "The program `pid` can do nothing more until its answers are read": frozen, with
    /// threads blocked in a send or write counted as waiting.
    pub(crate) fn sending(pid: u32) -> Stuck {
        Stuck {
            sending: true,
            ..Stuck::idle(pid)
        }
    }

    /// True once the program has been frozen, unchanged, for [`WINDOW`] (and, for
    /// [`Stuck::accepting`], a client waited in the backlog all along). Cheap to call
    /// often: `/proc` is read at most every [`SAMPLE`].
    pub(crate) fn certain(&mut self) -> bool {
        if let Some((at, said)) = self.sampled {
            if at.elapsed() < SAMPLE {
                return said;
            }
        }
        let said = self.look();
        self.sampled = Some((Instant::now(), said));
        said
    }

    /// The program's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// What the program's threads wait for, in words: "waitpid(), recv()".
    pub(crate) fn waits(&self) -> String {
        let mut names = self.waits.clone();
        names.sort_unstable();
        names.dedup();
        names
            .iter()
            .map(|n| format!("{n}()"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// [`Stuck::certain`], and then `also` (nothing on its way on a connection, every
    /// client gone: asked only once the program looks frozen, as it may read a socket
    /// table), confirmed by one more look ([`Stuck::confirm`]): something that arrived
    /// while `also` was asked woke a thread, and that look sees it.
    pub(crate) fn certain_and(&mut self, also: impl FnOnce() -> bool) -> bool {
        self.certain() && also() && self.confirm()
    }

    /// One more look, at once: true when the program is still exactly as the look that
    /// made [`Stuck::certain`] true saw it (running, or its CPU time moved, shows what
    /// arrived since), however loaded the machine.
    fn confirm(&mut self) -> bool {
        let now = self.snapshot();
        let same = matches!((&now, &self.first), (Some(now), Some((_, before))) if now == before);
        if !same {
            self.first = None;
            self.sampled = None;
        }
        same
    }

    /// The program as `/proc` shows it now, when it is frozen (and, for
    /// [`Stuck::accepting`], a client waits in the backlog); notes what its threads wait in.
    fn snapshot(&mut self) -> Option<Snapshot> {
        let waiting = match self.port {
            Some(port) => procfs::listen_queue(self.pid, port)
                .ok()
                .flatten()
                .is_some_and(|q| q.queued > 0),
            None => true,
        };
        if !waiting {
            return None;
        }
        let (snap, waits) = frozen(self.pid, self.port.is_some(), self.sending)?;
        self.waits = waits;
        Some(snap)
    }

    fn look(&mut self) -> bool {
        let Some(snap) = self.snapshot() else {
            self.first = None;
            return false;
        };
        let over = match &self.first {
            Some((since, before)) if *before == snap => since.elapsed() >= WINDOW,
            _ => {
                self.first = Some((Instant::now(), snap));
                return false;
            }
        };
        if !over {
            return false;
        }
        // Asked last, once the window is over (reading a socket table walks the kernel's
        // whole connection hash: milliseconds), and confirmed by one more look. Something
        // still on its way starts the window again, so that a connection that stays half
        // closed is not read for again on every look.
        if in_flight(self.pid, self.port) {
            self.first = None;
            return false;
        }
        self.confirm()
    }
}

/// True when nothing is on its way on the grader's connection `stream` to the server
/// `pid`, either way: everything the grader wrote has reached the server's kernel
/// (nothing unsent or unacknowledged, the FIN of a half-close included), and everything
/// the server wrote has reached the grader's (its side has nothing unacknowledged, so
/// it waits for no room to write). The events the connection makes have all happened.
pub(crate) fn delivered(pid: u32, stream: &std::net::TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int.
    let ok = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) } == 0;
    let (Ok(ours), Ok(theirs)) = (stream.local_addr(), stream.peer_addr()) else {
        return false;
    };
    ok && queued == 0 && server_sent_all(pid, theirs.port(), ours.port())
}

/// True when nothing waits unread on the grader's `stream` (no byte, no EOF): asked
/// after the server was found frozen, it shows that nothing the server sent before is
/// still to be read (a grader starved of CPU may not have read an answer that came
/// before the server fell asleep, waiting for the next request).
pub(crate) fn nothing_unread(stream: &std::net::TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: peeks at most one byte into `byte`.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}

/// True when the server side of the connection between local `port` and remote `peer`
/// (in the network namespace of `pid`) has nothing unacknowledged (`tx_queue` 0), or is
/// gone; false when `/proc` cannot tell.
fn server_sent_all(pid: u32, port: u16, peer: u16) -> bool {
    tcp_rows(pid).is_some_and(|rows| {
        rows.iter()
            .filter(|r| r.local == port && r.remote == peer)
            .all(|r| r.unacked == Some(0))
    })
}

/// True when something is on its way between two sockets of the network namespace of
/// `pid`, or `/proc` cannot tell: a connection being set up or closed whose other end has
/// not seen it yet (`SYN_SENT`, `SYN_RECV`, `FIN_WAIT1`, `CLOSING`: a client's FIN not yet
/// taken in by the server's kernel, when the machine is too busy to run its network
/// softirqs at once), or, when the server listens on `port`, a client's bytes to it not
/// yet acknowledged. A thread asleep in `recv()` or `accept()` wakes when it arrives, so
/// a program is never taken for frozen while it is on its way: the grader's own earlier
/// clients, which it closed, are still being served until their FINs arrive. In a private
/// namespace every socket is the check's; in the machine's own (no namespaces), only those
/// on `port` when it is known (other programs' connections come and go all the time).
fn in_flight(pid: u32, port: Option<u16>) -> bool {
    let Some(rows) = tcp_rows(pid) else {
        return true;
    };
    let private = crate::contain::netns::private();
    rows.iter().any(|r| {
        let ours = private || port.is_none() || Some(r.local) == port || Some(r.remote) == port;
        (ours && matches!(r.state.as_str(), "02" | "03" | "04" | "0B"))
            || (port.is_some() && Some(r.remote) == port && r.unacked != Some(0))
    })
}

/// True when every connection on local `port` in the network namespace of `pid` has
/// been closed by its client (none established or half-open: the clients' FINs have all
/// arrived), so the grader's leaving has made all the events it will. False when
/// `/proc` cannot tell.
pub(crate) fn all_left(pid: u32, port: u16) -> bool {
    none_on_port(pid, port, &["01", "03"])
}

/// True when no connection on local `port` (in the network namespace of `pid`) is still
/// being set up (`SYN_RECV`: the client's last handshake segment has not arrived), so
/// every client the grader connected has reached the server's backlog or the server.
/// False when `/proc` cannot tell.
pub(crate) fn settled(pid: u32, port: u16) -> bool {
    none_on_port(pid, port, &["03"])
}

/// True when `/proc/PID/net/tcp{,6}` shows no connection on local `port` in one of
/// `states` (hex state codes). Reading the table walks the kernel's whole connection hash
/// (milliseconds): callers ask it after [`Stuck::certain`], which is cheap.
fn none_on_port(pid: u32, port: u16, states: &[&str]) -> bool {
    tcp_rows(pid).is_some_and(|rows| {
        !rows
            .iter()
            .any(|r| r.local == port && states.contains(&r.state.as_str()))
    })
}

/// One row of `/proc/PID/net/tcp{,6}`.
struct TcpRow {
    local: u16,
    remote: u16,
    /// The state, as the table writes it (hex: `01` established, `0A` listening).
    state: String,
    /// Bytes sent and not yet acknowledged (`tx_queue`).
    unacked: Option<u32>,
}

/// The rows of both TCP tables of the network namespace of `pid`; `None` when neither
/// can be read. Reading one walks the kernel's whole connection hash (milliseconds).
fn tcp_rows(pid: u32) -> Option<Vec<TcpRow>> {
    let port_of = |a: &str| u16::from_str_radix(a.rsplit(':').next()?, 16).ok();
    let mut rows = Vec::new();
    let mut read = false;
    for file in ["tcp", "tcp6"] {
        let Ok(table) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) else {
            continue;
        };
        read = true;
        rows.extend(table.lines().skip(1).filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            (cols.len() >= 5).then(|| TcpRow {
                local: port_of(cols[1]).unwrap_or(0),
                remote: port_of(cols[2]).unwrap_or(0),
                state: cols[3].to_string(),
                unacked: cols[4]
                    .split(':')
                    .next()
                    .and_then(|t| u32::from_str_radix(t, 16).ok()),
            })
        }));
    }
    read.then_some(rows)
}

/// The processes of the program `pid`, each with whether it is the program's own (not
/// the grader's box keeper or its reaper, which only wait): those of its process group,
/// and every process descended from the group's leader or from `pid` (in a box, the
/// leader is its keeper, whose descendants are all of the box). Zombies are left out.
fn members(pid: u32) -> Option<Vec<(u32, bool)>> {
    let all = crate::checks::inspect::processes_of(pid).ok()?;
    let pgid = all.iter().find(|p| p.pid == pid)?.pgid;
    let mut inside: Vec<u32> = vec![pid, pgid];
    inside.extend(all.iter().filter(|p| p.pgid == pgid).map(|p| p.pid));
    loop {
        let before = inside.len();
        for p in &all {
            if inside.contains(&p.ppid) && !inside.contains(&p.pid) {
                inside.push(p.pid);
            }
        }
        if inside.len() == before {
            break;
        }
    }
    let live = |pid: &u32| {
        all.iter()
            .any(|p| p.pid == *pid && !matches!(p.state, 'Z' | 'X'))
    };
    inside.sort_unstable();
    inside.dedup();
    let ppid = |q: u32| all.iter().find(|p| p.pid == q).map_or(0, |p| p.ppid);
    let own = |q: u32| pgid == pid || q == pid || (q != pgid && ppid(q) != pgid);
    Some(
        inside
            .into_iter()
            .filter(live)
            .map(|q| (q, own(q)))
            .collect(),
    )
}

/// The snapshot of the program when it is frozen (see the module's doc), with the names of
/// the calls its threads wait in; `None` when it is not, or `/proc` cannot tell.
/// `accepting`: a thread in `accept()` is not frozen (a client waits to be accepted).
/// `sending`: a thread blocked in a send or write is (it waits for its reader).
fn frozen(pid: u32, accepting: bool, sending: bool) -> Option<(Snapshot, Vec<&'static str>)> {
    let mut snap = Snapshot::new();
    let mut waits = Vec::new();
    let members = members(pid)?;
    for &(process, own) in &members {
        for tid in procfs::thread_ids(process).ok()? {
            let task = format!("/proc/{process}/task/{tid}");
            let Ok(stat) = std::fs::read_to_string(format!("{task}/stat")) else {
                continue; // the thread just ended: the next look sees the change
            };
            let state = procfs::parse_stat(&stat)?.state;
            if matches!(state, 'Z' | 'X') {
                continue;
            }
            if state != 'S' {
                return None;
            }
            let call = std::fs::read_to_string(format!("{task}/syscall")).ok()?;
            let name = untimed_wait(&call, accepting)
                .or_else(|| blocked_send(&call).filter(|_| sending))?;
            let cpu = std::fs::read_to_string(format!("{task}/schedstat"))
                .ok()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            if own {
                waits.push(name);
            }
            snap.insert((process, tid), (call.trim().to_string(), cpu));
        }
    }
    // Only a program whose every thread sleeps for good is asked what could still wake it
    // (its descriptors are listed). The grader's keeper and reaper only wait for the
    // program's end and never act on it; a signal pending for them (the keeper blocks
    // SIGCHLD, which the program's stop and continue by `lingering::Freeze` raise) wakes
    // nothing of the program.
    for &(process, own) in &members {
        if own && !quiet_signals(process)? {
            return None;
        }
    }
    Some((snap, waits))
}

/// True when nothing the kernel does by itself can wake process `pid`: no signal
/// pending, no handler for a timer signal, no POSIX timer, no `timerfd`. `None` when
/// `/proc` cannot tell.
fn quiet_signals(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mask = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        u64::from_str_radix(line[key.len()..].trim(), 16).ok()
    };
    // Signal n is bit n-1: SIGALRM 14, SIGVTALRM 26, SIGPROF 27.
    let timers = (1 << 13) | (1 << 25) | (1 << 26);
    if mask("ShdPnd:")? != 0 || mask("SigPnd:")? != 0 || mask("SigCgt:")? & timers != 0 {
        return Some(false);
    }
    let posix = std::fs::read_to_string(format!("/proc/{pid}/timers")).ok()?;
    if !posix.trim().is_empty() {
        return Some(false);
    }
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()? {
        let link = std::fs::read_link(fd.ok()?.path()).unwrap_or_default();
        if link.to_string_lossy().contains("timerfd") {
            return Some(false);
        }
    }
    Some(true)
}

/// The name of the call a thread waits in, when `/proc/PID/task/TID/syscall` (`line`)
/// shows a wait for an event without a timeout (x86-64 numbers); `None` for anything else.
/// `accepting`: `accept()` does not count (a client waits to be accepted: it is about to
/// return).
pub(crate) fn untimed_wait(line: &str, accepting: bool) -> Option<&'static str> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let mut fields = line.split_whitespace();
    let nr: i64 = fields.next()?.parse().ok()?;
    let args: Vec<u64> = fields
        .take(6)
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .collect::<Option<_>>()?;
    if args.len() < 6 {
        return None;
    }
    // An `int` timeout of -1 (as the kernel prints it, 32 or 64 bits wide).
    let forever = |a: u64| a as u32 == u32::MAX;
    const WNOHANG: u64 = 1;
    match nr {
        0 | 19 => Some("read"),
        45 => Some("recv"),
        47 => Some("recvmsg"),
        7 if forever(args[2]) => Some("poll"),
        271 if args[2] == 0 => Some("poll"),
        23 if args[4] == 0 => Some("select"),
        270 if args[4] == 0 => Some("select"),
        232 | 281 if forever(args[3]) => Some("epoll_wait"),
        441 if args[3] == 0 => Some("epoll_wait"),
        61 if args[2] & WNOHANG == 0 => Some("waitpid"),
        247 if args[3] & WNOHANG == 0 => Some("waitid"),
        // FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_WAIT_BITSET with no timeout: a lock, a join, a
        // queue's get(), waiting for another thread.
        202 if matches!(args[1] & 0x7f, 0 | 6 | 9) && args[3] == 0 => Some("lock"),
        34 | 130 => Some("pause"),
        // sigwait(), as the grader's own box keeper waits.
        128 if args[2] == 0 => Some("sigwait"),
        43 | 288 if !accepting => Some("accept"),
        _ => None,
    }
}

/// `send` when `/proc/PID/task/TID/syscall` (`line`) shows a thread in a call that
/// writes (`write`, `writev`, `sendto`, `sendmsg`; x86-64 numbers): asleep in it, it
/// waits for room, that is for its reader.
pub(crate) fn blocked_send(line: &str) -> Option<&'static str> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let nr: i64 = line.split_whitespace().next()?.parse().ok()?;
    matches!(nr, 1 | 20 | 44 | 46).then_some("send")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpStream;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};

    #[test]
    fn only_waits_without_a_timeout_count() {
        let line = |nr: u32, args: [u64; 6]| {
            let a: Vec<String> = args.iter().map(|a| format!("0x{a:x}")).collect();
            format!("{nr} {} 0x7ffd 0x7ff5\n", a.join(" "))
        };
        assert_eq!(
            untimed_wait(&line(61, [5, 0, 0, 0, 0, 0]), true),
            Some("waitpid")
        );
        assert_eq!(untimed_wait(&line(61, [5, 0, 1, 0, 0, 0]), true), None);
        assert_eq!(
            untimed_wait(&line(45, [4, 1, 1024, 0, 0, 0]), true),
            Some("recv")
        );
        assert_eq!(
            untimed_wait(&line(23, [5, 1, 0, 0, 0, 0]), true),
            Some("select")
        );
        assert_eq!(untimed_wait(&line(23, [5, 1, 0, 0, 0x7ffd, 0]), true), None);
        assert_eq!(
            untimed_wait(&line(7, [1, 1, 0xffffffff, 0, 0, 0]), true),
            Some("poll")
        );
        assert_eq!(untimed_wait(&line(7, [1, 1, 100, 0, 0, 0]), true), None);
        assert_eq!(
            untimed_wait(&line(232, [3, 1, 1, u64::MAX, 0, 0]), true),
            Some("epoll_wait")
        );
        assert_eq!(untimed_wait(&line(232, [3, 1, 1, 50, 0, 0]), true), None);
        assert_eq!(
            untimed_wait(&line(202, [1, 0x89, 0, 0, 0, 0]), true),
            Some("lock")
        );
        assert_eq!(
            untimed_wait(&line(202, [1, 0x89, 0, 0x7ffd, 0, 0]), true),
            None
        );
        // Sleeping, accepting, running, or blocked outside a call: never frozen.
        assert_eq!(
            untimed_wait(&line(230, [0, 0, 0x7ffd, 0, 0, 0]), false),
            None
        );
        assert_eq!(untimed_wait(&line(43, [3, 0, 0, 0, 0, 0]), true), None);
        assert_eq!(
            untimed_wait(&line(43, [3, 0, 0, 0, 0, 0]), false),
            Some("accept")
        );
        assert_eq!(
            untimed_wait(&line(128, [0x7f, 0, 0, 8, 0, 0]), true),
            Some("sigwait")
        );
        assert_eq!(
            untimed_wait(&line(128, [0x7f, 0, 0x7ffd, 8, 0, 0]), true),
            None
        );
        assert_eq!(untimed_wait("running\n", false), None);
        assert_eq!(untimed_wait("-1 0x7ffd 0x7ff5\n", false), None);
    }

    /// A Python server on a fresh port, with a listening socket of backlog 1; `body` runs
    /// with `srv` bound and listening.
    struct Py {
        child: Child,
        port: u16,
    }

    impl Py {
        fn start(body: &str) -> Py {
            let port = crate::process::port::for_server().unwrap();
            let script = format!(
                "import os, socket, sys, time, threading, select\nsrv = socket.socket()\nsrv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\nsrv.bind(('127.0.0.1', {port}))\nsrv.listen(1)\n{body}\n"
            );
            let mut child = Command::new("python3")
                .arg("-c")
                .arg(script)
                .stdin(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap();
            let listening = crate::checks::inspect::poll_until(Duration::from_secs(20), || {
                crate::procfs::listen_queue(child.id(), port).ok().flatten()
            });
            assert!(listening.is_some(), "{:?}", child.try_wait());
            Py { child, port }
        }

        fn connect(&self) -> TcpStream {
            TcpStream::connect(("127.0.0.1", self.port)).unwrap()
        }

        /// Whether `stuck` becomes certain within `within`.
        fn judged(&self, stuck: &mut Stuck, within: Duration) -> bool {
            crate::checks::inspect::poll_until(within, || stuck.certain().then_some(())).is_some()
        }
    }

    impl Drop for Py {
        fn drop(&mut self) {
            // The whole group: a pre-fork pool's workers too.
            // SAFETY: signals the process group this test started.
            unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }

    /// The lecture's fork server with a blocking `waitpid()` after `fork()`: with one
    /// client served (idle) and one waiting, it can never accept the second.
    #[test]
    fn a_fork_parent_waiting_for_its_child_is_stuck() {
        let py = Py::start(
            "while True:\n    conn, _ = srv.accept()\n    pid = os.fork()\n    if pid == 0:\n        srv.close()\n        while True:\n            data = conn.recv(1024)\n            if not data: break\n            conn.sendall(data.upper())\n        os._exit(0)\n    conn.close()\n    os.waitpid(pid, 0)",
        );
        let mut first = py.connect();
        first.write_all(b"x").unwrap();
        let _second = py.connect();
        let mut stuck = Stuck::accepting(py.child.id(), py.port);
        assert!(py.judged(&mut stuck, Duration::from_secs(20)));
        assert!(stuck.waits().contains("waitpid()"), "{}", stuck.waits());
    }

    /// Correct servers under the same test are never judged stuck: an accept loop that
    /// polls with sleeps, and a pre-fork pool whose free worker waits in `accept()`.
    #[test]
    fn a_server_that_can_still_accept_is_never_stuck() {
        let polling = Py::start(
            "srv.setblocking(False)\nheld = []\nwhile True:\n    try:\n        c, _ = srv.accept()\n        held.append(c)\n        time.sleep(3)\n    except BlockingIOError:\n        time.sleep(0.05)",
        );
        let prefork = Py::start(
            "for _ in range(2):\n    if os.fork() == 0:\n        while True:\n            c, _ = srv.accept()\n            while c.recv(1024): pass\n            c.close()\nwhile True:\n    os.wait()",
        );
        for py in [&polling, &prefork] {
            let _a = py.connect();
            let _b = py.connect();
            let mut stuck = Stuck::accepting(py.child.id(), py.port);
            assert!(
                !py.judged(&mut stuck, WINDOW * 4),
                "judged stuck: {}",
                stuck.waits()
            );
        }
    }

    /// An answer or an EOF waiting unread on the grader's socket is seen: the server may
    /// have sent it before it fell asleep.
    #[test]
    fn what_waits_unread_is_seen() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut theirs, _) = listener.accept().unwrap();
        assert!(nothing_unread(&ours));
        theirs.write_all(b"A").unwrap();
        let arrived = crate::checks::inspect::poll_until(Duration::from_secs(5), || {
            (!nothing_unread(&ours)).then_some(())
        });
        assert!(arrived.is_some());
        let mut byte = [0u8; 1];
        std::io::Read::read_exact(&mut &ours, &mut byte).unwrap();
        assert!(nothing_unread(&ours));
        drop(theirs);
        let eof = crate::checks::inspect::poll_until(Duration::from_secs(5), || {
            (!nothing_unread(&ours)).then_some(())
        });
        assert!(eof.is_some(), "an EOF waiting is something unread");
    }

    /// `idle`: a select loop that forgot a client is stuck; one that polls with a timeout
    /// is not.
    #[test]
    fn idle_is_a_program_that_waits_for_ever() {
        let forever =
            Py::start("c, _ = srv.accept()\nwhile True:\n    select.select([srv], [], [])");
        let timed =
            Py::start("c, _ = srv.accept()\nwhile True:\n    select.select([srv], [], [], 0.2)");
        let _a = forever.connect();
        let _b = timed.connect();
        assert!(forever.judged(
            &mut Stuck::idle(forever.child.id()),
            Duration::from_secs(20)
        ));
        assert!(!timed.judged(&mut Stuck::idle(timed.child.id()), WINDOW * 4));
    }

    /// `sending`: a server blocked in `sendall()` to a client that reads nothing waits for
    /// ever once the grader keeps still; it is not idle (the client could read). A server
    /// that sleeps between looks (it reads nothing now, but may) is neither.
    #[test]
    fn sending_is_a_program_that_waits_for_its_reader() {
        let blocked = Py::start(
            "c, _ = srv.accept()\nwhile True:\n    data = c.recv(65536)\n    c.sendall(data.upper() * 64)",
        );
        let sleeping = Py::start("c, _ = srv.accept()\nwhile True:\n    time.sleep(0.05)");
        let mut client = blocked.connect();
        client.write_all(&[b'a'; 65536]).unwrap();
        let pid = blocked.child.id();
        assert!(blocked.judged(&mut Stuck::sending(pid), Duration::from_secs(20)));
        assert!(!blocked.judged(&mut Stuck::idle(pid), WINDOW * 4));
        let _quiet = sleeping.connect();
        let pid = sleeping.child.id();
        assert!(!sleeping.judged(&mut Stuck::sending(pid), WINDOW * 4));
        assert_eq!(
            blocked_send("44 0x3 0x7f 0x10000 0x0 0x0 0x0 0x7ffd 0x7ff5\n"),
            Some("send")
        );
        assert_eq!(
            blocked_send("45 0x3 0x7f 0x10000 0x0 0x0 0x0 0x7ffd 0x7ff5\n"),
            None
        );
    }
}
