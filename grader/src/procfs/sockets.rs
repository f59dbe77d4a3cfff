//! The kernel's socket tables: which sockets a network namespace has listening (and how
//! many connections wait in a listener's accept queue), and which of them a process owns.
//! Asked through netlink where that is cheap, read from `/proc/PID/net` otherwise.

use std::collections::HashSet;
use std::fs;
use std::io;

/// Transport of a socket table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// `/proc/PID/net/tcp` and `tcp6`.
    Tcp,
    /// `/proc/PID/net/udp` and `udp6`.
    Udp,
}

/// A socket bound to a local port, as the kernel lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bound {
    /// Local port.
    pub port: u16,
    /// The socket's inode, to match against a process's descriptors.
    pub inode: u64,
}

/// The accept queue of a listening TCP socket: connections whose handshake is complete and
/// that wait for the server's `accept()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListenQueue {
    /// Local port.
    pub port: u16,
    /// Connections waiting for `accept()`.
    pub queued: u32,
    /// The `listen()` backlog, when the kernel says it (netlink does, the text table does
    /// not). Linux takes a new connection while `queued <= limit`, and drops the client's
    /// SYN otherwise (the client retries after 1 s).
    pub limit: Option<u32>,
}

/// The accept queue of the socket listening on TCP `port` in the network namespace of
/// `pid`, `None` when nothing listens there.
pub(crate) fn listen_queue(pid: u32, port: u16) -> io::Result<Option<ListenQueue>> {
    if same_netns(pid) {
        if let Ok(found) = crate::sockdiag::listen_queues() {
            return Ok(found.into_iter().find(|q| q.port == port));
        }
    }
    let mut found = None;
    for (i, file) in ["tcp", "tcp6"].iter().enumerate() {
        match fs::read_to_string(format!("/proc/{pid}/net/{file}")) {
            Ok(table) => {
                found = found.or(parse_queues(&table).into_iter().find(|q| q.port == port))
            }
            Err(e) if i == 0 => return Err(e),
            Err(_) => {}
        }
    }
    Ok(found)
}

/// Listening rows of a `/proc/net/tcp{,6}` table with their accept queue (`rx_queue`).
fn parse_queues(table: &str) -> Vec<ListenQueue> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "0A" {
                return None;
            }
            let port = u16::from_str_radix(cols[1].rsplit(':').next()?, 16).ok()?;
            let queued = u32::from_str_radix(cols[4].rsplit(':').next()?, 16).ok()?;
            Some(ListenQueue {
                port,
                queued,
                limit: None,
            })
        })
        .collect()
}

/// Connections on local TCP `port` that a server still holds in the network namespace of
/// `pid`: established, half-closed by the client and not yet closed by the server
/// (`CLOSE_WAIT`), or still in the handshake; accepted or waiting in the backlog alike.
/// Asked through netlink when `pid` shares the calling thread's namespace (filtered by
/// state in the kernel; the text table lists every socket of the namespace).
pub(crate) fn connections_held(pid: u32, port: u16) -> io::Result<usize> {
    if same_netns(pid) {
        if let Ok(held) = crate::sockdiag::connections_held(port) {
            return Ok(held);
        }
    }
    let mut held = 0;
    for (i, file) in ["tcp", "tcp6"].iter().enumerate() {
        match fs::read_to_string(format!("/proc/{pid}/net/{file}")) {
            Ok(table) => held += count_held(&table, port),
            Err(e) if i == 0 => return Err(e),
            Err(_) => {}
        }
    }
    Ok(held)
}

/// Rows of a `/proc/net/tcp{,6}` table on local `port` in a state where the connection is
/// still open on that side: `01` established, `03` SYN received, `08` close wait.
fn count_held(table: &str, port: u16) -> usize {
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.len() >= 4
                && matches!(cols[3], "01" | "03" | "08")
                && cols[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

/// True when this system has a Linux `/proc`.
pub(crate) fn available() -> bool {
    fs::metadata("/proc/self/net/tcp").is_ok()
}

/// Sockets listening (TCP) or bound and unconnected (UDP), in the network namespace of
/// `pid`: asked of the kernel through netlink when that is the calling thread's namespace
/// (cheap, filtered; a check runs in its program's private namespace), read from
/// `/proc/PID/net` otherwise.
pub(crate) fn bound_sockets(pid: u32, proto: Proto) -> io::Result<Vec<Bound>> {
    if same_netns(pid) {
        if let Ok(found) = crate::sockdiag::bound_sockets(proto) {
            return Ok(found);
        }
    }
    bound_sockets_from_table(pid, proto)
}

/// True when `pid` shares the calling thread's network namespace (namespaces are per
/// thread: `/proc/self` would name the main thread's).
fn same_netns(pid: u32) -> bool {
    let ours = fs::read_link("/proc/thread-self/ns/net");
    let theirs = fs::read_link(format!("/proc/{pid}/ns/net"));
    matches!((ours, theirs), (Ok(a), Ok(b)) if a == b)
}

/// [`bound_sockets`] from the text tables of `/proc/PID/net`.
fn bound_sockets_from_table(pid: u32, proto: Proto) -> io::Result<Vec<Bound>> {
    let (files, state) = match proto {
        Proto::Tcp => (["tcp", "tcp6"], "0A"),
        Proto::Udp => (["udp", "udp6"], "07"),
    };
    let mut found = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let table = match fs::read_to_string(format!("/proc/{pid}/net/{file}")) {
            Ok(t) => t,
            Err(e) if i == 0 => return Err(e),
            Err(_) => continue,
        };
        found.extend(parse_table(&table, state));
    }
    Ok(found)
}

/// Parses a `/proc/net/{tcp,udp}{,6}` table, keeping rows in `state`.
fn parse_table(table: &str, state: &str) -> Vec<Bound> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != state {
                return None;
            }
            let port = u16::from_str_radix(cols[1].rsplit(':').next()?, 16).ok()?;
            let inode = cols[9].parse().ok()?;
            Some(Bound { port, inode })
        })
        .collect()
}

/// Inodes of the sockets `pid` has open.
pub(crate) fn socket_inodes(pid: u32) -> io::Result<HashSet<u64>> {
    let mut inodes = HashSet::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(target) = fs::read_link(entry?.path()) else {
            continue;
        };
        let target = target.to_string_lossy();
        if let Some(n) = target
            .strip_prefix("socket:[")
            .and_then(|t| t.strip_suffix(']'))
        {
            if let Ok(inode) = n.parse() {
                inodes.insert(inode);
            }
        }
    }
    Ok(inodes)
}

/// Ports `pid` itself (or a process sharing its descriptors) has bound for `proto`.
pub(crate) fn ports_of(pid: u32, proto: Proto) -> io::Result<Vec<u16>> {
    let mine = socket_inodes(pid)?;
    if mine.is_empty() {
        // No socket yet: skip reading the table, which lists every TIME_WAIT socket too.
        return Ok(Vec::new());
    }
    let mut ports: Vec<u16> = bound_sockets(pid, proto)?
        .into_iter()
        .filter(|b| mine.contains(&b.inode))
        .map(|b| b.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_listening_row() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:115D 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 12346 1\n";
        assert_eq!(
            parse_table(table, "0A"),
            vec![Bound {
                port: 4444,
                inode: 12345
            }]
        );
    }

    #[test]
    fn parses_an_accept_queue() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:115C 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(
            parse_queues(table),
            vec![ListenQueue {
                port: 4444,
                queued: 2,
                limit: None
            }]
        );
    }

    #[test]
    fn counts_the_connections_a_server_still_holds() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n   1: 0100007F:115C 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n   2: 0100007F:115C 0100007F:9998 08 00000000:00000000 00:00000000 00000000     0        0 3 1\n   3: 0100007F:115C 0100007F:9997 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n   4: 0100007F:9999 0100007F:115C 01 00000000:00000000 00:00000000 00000000     0        0 4 1\n";
        assert_eq!(count_held(table, 4444), 2);
        assert_eq!(count_held(table, 4445), 0);
    }

    #[test]
    fn sees_our_own_listener() {
        if !available() {
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(ports_of(std::process::id(), Proto::Tcp)
            .unwrap()
            .contains(&port));
    }
}
