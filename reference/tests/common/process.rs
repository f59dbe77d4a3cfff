//! The `reference` binary run as a process, as the grader runs a submission, and readers
//! of what `/proc` says about it.

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{eventually, DEADLINE};

/// The binary under test.
pub fn reference() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reference"))
}

/// A port that was free a moment ago (the kernel's next ephemeral port is unlikely to be
/// handed out again at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP server task running as a child process; stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `task` on a free port with extra environment `envs`, and waits until it
    /// accepts connections. Should the port be taken before the server binds it (by any
    /// connection's source port), tries another one.
    pub fn start(task: &str, envs: &[(&str, &str)]) -> Server {
        (0..3)
            .find_map(|_| Server::try_start_on(task, free_port(), envs))
            .unwrap_or_else(|| panic!("{task} exits instead of listening"))
    }

    /// Starts `task` on `port`; see [`Server::start`].
    pub fn start_on(task: &str, port: u16, envs: &[(&str, &str)]) -> Server {
        Server::try_start_on(task, port, envs)
            .unwrap_or_else(|| panic!("{task} exits instead of listening on port {port}"))
    }

    /// Starts `task` on `port`; `None` if it exits before listening.
    fn try_start_on(task: &str, port: u16, envs: &[(&str, &str)]) -> Option<Server> {
        let child = reference()
            .arg(task)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let mut exited = false;
        let listening = eventually(DEADLINE, || {
            exited = server.child.try_wait().unwrap().is_some();
            exited || is_listening(server.addr)
        });
        assert!(listening, "{task} does not listen on {}", server.addr);
        (!exited).then_some(server)
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends SIGTERM and waits for the process to end.
    pub fn stop(&mut self) {
        if self.child.try_wait().unwrap().is_none() {
            let _ = kill(Pid::from_raw(self.pid()), Signal::SIGTERM);
            let _ = self.child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether something listens on `addr`. A connection to a free port of the ephemeral range
/// can succeed by connecting to itself (TCP simultaneous open, when the kernel picks that
/// very port as the source port): such a connection does not count.
fn is_listening(addr: SocketAddr) -> bool {
    match TcpStream::connect(addr) {
        Ok(conn) => conn.local_addr().ok() != Some(addr),
        Err(_) => false,
    }
}

/// `Threads:` of `/proc/<pid>/status`.
pub fn threads_of(pid: i32) -> usize {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Open descriptors of `pid`.
pub fn fds_of(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// The children of `pid` with their state letter (`Z` for a zombie).
pub fn children_of(pid: i32) -> Vec<(i32, char)> {
    let mut children = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
        let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue; // gone meanwhile
        };
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let mut fields = rest.split(' ');
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid: i32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == pid {
            children.push((child, state));
        }
    }
    children
}

/// CPU time (user + system) `pid` has used, in clock ticks.
pub fn cpu_ticks_of(pid: i32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, rest) = stat.rsplit_once(") ").unwrap();
    let fields: Vec<&str> = rest.split(' ').collect();
    // After the comm: state is field 3 of stat(5), utime 14 and stime 15.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
