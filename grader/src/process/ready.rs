//! Knowing when a server is ready without using up a connection: the kernel's socket
//! table (`/proc/PID/net/tcp`, which is the program's own network namespace) says when one
//! of the program's own sockets (by inode, from `/proc/PID/fd`) listens on the port. While waiting, a program that exits, or that listens on
//! another port than the one it was given, is reported at once with what went wrong.

use super::program::Program;
use crate::procfs::{self, Proto};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long a server may take to start listening (SPEC section 4), in its own time: the
/// time it waited for a CPU on a busy machine is given back ([`super::deadline`]).
pub const STARTUP: Duration = Duration::from_secs(10);

/// How long a program listening on other ports only is given before that is its verdict
/// (of its own time since the wait began).
const WRONG_PORT_GRACE: Duration = Duration::from_millis(200);

/// Why a server never became ready.
#[derive(Debug)]
pub enum NotReady {
    /// It ended before listening.
    Exited(String),
    /// It ended before listening because bind() found its address in use, while the port
    /// the grader gave it was held by another socket (the grader's own port, in use: a
    /// socket of an earlier connection lingers there).
    PortHeld(String),
    /// It listens, but on other ports than the one in `PORT`.
    WrongPort(Vec<u16>),
    /// It was still running but not listening when the deadline passed.
    Timeout(String),
}

impl NotReady {
    /// A message for the student.
    pub fn message(&self, proto: Proto, port: u16) -> String {
        let what = match proto {
            Proto::Tcp => "listen on TCP",
            Proto::Udp => "bind UDP",
        };
        match self {
            NotReady::Exited(story) if story.contains("Address already in use") => format!(
                "the server did not {what} port {port}: {story}\nThe grader set PORT={port}, which was free, so the program bound another port, one taken by other programs: read the port from the environment, e.g. PORT = int(os.environ.get(\"PORT\", 4444))"
            ),
            NotReady::PortHeld(story) => format!(
                "the server did not {what} port {port}: {story}\nPort {port} (PORT) was still held by a socket of an earlier connection"
            ),
            NotReady::Exited(story) => format!("the server did not {what} port {port}: {story}"),
            NotReady::WrongPort(ports) => format!(
                "the server bound port {} but the grader set PORT={port}: read the port from the environment, e.g. PORT = int(os.environ.get(\"PORT\", 4444))",
                ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
            ),
            NotReady::Timeout(story) => {
                format!("the server did not {what} port {port} within {} s; {story}", STARTUP.as_secs())
            }
        }
    }
}

/// Waits until `port` is bound for `proto` in the program's network namespace, at most
/// `timeout` of the program's own time.
pub fn wait_bound(
    program: &mut Program,
    proto: Proto,
    port: u16,
    timeout: Duration,
) -> Result<(), NotReady> {
    if !procfs::available() {
        return wait_by_connecting(program, proto, port, timeout);
    }
    let mut deadline = program.deadline(timeout);
    let mut grace = program.deadline(WRONG_PORT_GRACE);
    let mut pause = Duration::from_micros(500);
    loop {
        if program.status().is_some() {
            return Err(exited(program, proto, port));
        }
        let pid = program.pid();
        if let Ok(ports) = procfs::ports_of(pid, proto) {
            if ports.contains(&port) {
                return Ok(());
            }
            // Another port only: give it a moment in case ours follows, then say so.
            if !ports.is_empty() && grace.passed() {
                return Err(NotReady::WrongPort(ports));
            }
        }
        if deadline.passed() {
            let story = program.exit_story();
            return Err(NotReady::Timeout(story));
        }
        std::thread::sleep(
            pause
                .min(deadline.remaining())
                .max(Duration::from_micros(100)),
        );
        pause = (pause * 2).min(Duration::from_millis(4));
    }
}

/// Why a program ended before it was bound: with "Address already in use", whether the
/// port it was given was held (then the program did bind it) or free (then it bound
/// another one); the hint to read `PORT` is given only for the second.
fn exited(program: &mut Program, proto: Proto, port: u16) -> NotReady {
    let story = program.exit_story();
    if story.contains("Address already in use") && port_held(proto, port) {
        NotReady::PortHeld(story)
    } else {
        NotReady::Exited(story)
    }
}

/// True when some socket of the calling thread's network namespace (the program's) is on
/// local `port`, in any state.
fn port_held(proto: Proto, port: u16) -> bool {
    let files = match proto {
        Proto::Tcp => ["tcp", "tcp6"],
        Proto::Udp => ["udp", "udp6"],
    };
    files.iter().any(|file| {
        std::fs::read_to_string(format!("/proc/thread-self/net/{file}")).is_ok_and(|table| {
            table.lines().skip(1).any(|line| {
                line.split_whitespace()
                    .nth(1)
                    .and_then(|local| local.rsplit(':').next())
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                    == Some(port)
            })
        })
    })
}

/// Without `/proc`: TCP readiness by connecting (this uses up one connection, which a
/// one-shot server then serves to nobody; the grader restarts such servers anyway), UDP by
/// waiting a moment for the program to stay alive.
fn wait_by_connecting(
    program: &mut Program,
    proto: Proto,
    port: u16,
    timeout: Duration,
) -> Result<(), NotReady> {
    let start = Instant::now();
    let mut deadline = program.deadline(timeout);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if program.status().is_some() {
            return Err(NotReady::Exited(program.exit_story()));
        }
        match proto {
            Proto::Tcp if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() => {
                return Ok(())
            }
            Proto::Udp if start.elapsed() > Duration::from_millis(300) => return Ok(()),
            _ => {}
        }
        if deadline.passed() {
            return Err(NotReady::Timeout(program.exit_story()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
