//! Listing bound sockets (and the accept queues of listeners) through netlink
//! `sock_diag`, filtered by state in the kernel.
//! Reading `/proc/net/tcp` instead makes the kernel walk and print every socket of the
//! namespace, TIME_WAIT ones included, in page-sized pieces: after a few thousand probe
//! connections that costs milliseconds per look, and readiness polls look often.
//! It also looks up one established connection, to learn how much of what the grader
//! sent the other end has received and read ([`tcp_connection`]).
//! The answer covers the network namespace of the calling thread.

use crate::procfs::{Bound, ListenQueue, Proto};
use std::io;
use std::mem::size_of;
use std::net::SocketAddrV4;

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NETLINK_SOCK_DIAG: i32 = 4;
const TCP_ESTABLISHED: u32 = 1;
const TCP_SYN_RECV: u32 = 3;
const TCP_CLOSE: u32 = 7;
const TCP_CLOSE_WAIT: u32 = 8;
const TCP_LISTEN: u32 = 10;

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct NlHeader {
    len: u32,
    kind: u16,
    flags: u16,
    seq: u32,
    pid: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct SockId {
    sport: [u8; 2],
    dport: [u8; 2],
    src: [u32; 4],
    dst: [u32; 4],
    iface: u32,
    cookie: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Request {
    header: NlHeader,
    family: u8,
    protocol: u8,
    ext: u8,
    pad: u8,
    states: u32,
    id: SockId,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Message {
    family: u8,
    state: u8,
    timer: u8,
    retrans: u8,
    id: SockId,
    expires: u32,
    rqueue: u32,
    wqueue: u32,
    uid: u32,
    inode: u32,
}

/// Sockets listening (TCP) or bound and unconnected (UDP), IPv4 and IPv6.
pub(crate) fn bound_sockets(proto: Proto) -> io::Result<Vec<Bound>> {
    Ok(messages(proto)?
        .iter()
        .map(|m| Bound {
            port: u16::from_be_bytes(m.id.sport),
            inode: u64::from(m.inode),
        })
        .collect())
}

/// The accept queues of the listening TCP sockets: for a listener the kernel reports the
/// connections waiting for `accept()` as its receive queue and the `listen()` backlog as
/// its send queue.
pub(crate) fn listen_queues() -> io::Result<Vec<ListenQueue>> {
    Ok(messages(Proto::Tcp)?
        .iter()
        .map(|m| ListenQueue {
            port: u16::from_be_bytes(m.id.sport),
            queued: m.rqueue,
            limit: Some(m.wqueue),
        })
        .collect())
}

/// TCP connections on local `port` that are still open on this side: established, in
/// the handshake (`SYN_RECV`) or half-closed by the peer (`CLOSE_WAIT`).
pub(crate) fn connections_held(port: u16) -> io::Result<usize> {
    let states = (1 << TCP_ESTABLISHED) | (1 << TCP_SYN_RECV) | (1 << TCP_CLOSE_WAIT);
    let mut out = Vec::new();
    for family in [libc::AF_INET, libc::AF_INET6] {
        dump(family as u8, libc::IPPROTO_TCP as u8, states, &mut out)?;
    }
    Ok(out
        .iter()
        .filter(|m| u16::from_be_bytes(m.id.sport) == port)
        .count())
}

fn messages(proto: Proto) -> io::Result<Vec<Message>> {
    let (protocol, states) = match proto {
        Proto::Tcp => (libc::IPPROTO_TCP as u8, 1 << TCP_LISTEN),
        Proto::Udp => (libc::IPPROTO_UDP as u8, 1 << TCP_CLOSE),
    };
    let mut out = Vec::new();
    for family in [libc::AF_INET, libc::AF_INET6] {
        dump(family as u8, protocol, states, &mut out)?;
    }
    Ok(out)
}

/// Closes the descriptor on every path.
struct Fd(i32);
impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

/// Opens a netlink `sock_diag` socket.
fn open() -> io::Result<Fd> {
    // SAFETY: plain socket(2); the result is checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Fd(fd))
}

/// Sends one request to the kernel.
fn send(fd: &Fd, req: &Request) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr_nl is valid; family set below.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: `req` is a plain repr(C) value of the length given; `addr` is a valid sockaddr_nl.
    let sent = unsafe {
        libc::sendto(
            fd.0,
            req as *const Request as *const libc::c_void,
            size_of::<Request>(),
            0,
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One netlink datagram from the kernel into `buf`; returns its length.
fn receive(fd: &Fd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reads into our buffer of the given length.
    let n = unsafe { libc::recv(fd.0, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Every socket of `family` and `protocol` in one of `states` (a bit per TCP state).
fn dump(family: u8, protocol: u8, states: u32, out: &mut Vec<Message>) -> io::Result<()> {
    let fd = open()?;
    let req = Request {
        header: NlHeader {
            len: size_of::<Request>() as u32,
            kind: SOCK_DIAG_BY_FAMILY,
            flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
            seq: 1,
            pid: 0,
        },
        family,
        protocol,
        states,
        ..Request::default()
    };
    send(&fd, &req)?;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = receive(&fd, &mut buf)?;
        let mut at = 0usize;
        while at + size_of::<NlHeader>() <= n {
            // SAFETY: bounds checked above; read_unaligned copes with any alignment.
            let header: NlHeader =
                unsafe { std::ptr::read_unaligned(buf[at..].as_ptr() as *const NlHeader) };
            let len = header.len as usize;
            if len < size_of::<NlHeader>() || at + len > n {
                return Ok(());
            }
            match i32::from(header.kind) {
                libc::NLMSG_DONE => return Ok(()),
                libc::NLMSG_ERROR => {
                    return Err(io::Error::other("sock_diag answered with an error"))
                }
                _ => {}
            }
            let body = at + size_of::<NlHeader>();
            if body + size_of::<Message>() <= n {
                // SAFETY: bounds checked; plain repr(C) data.
                let msg: Message =
                    unsafe { std::ptr::read_unaligned(buf[body..].as_ptr() as *const Message) };
                out.push(msg);
            }
            at += (len + 3) & !3;
        }
    }
}

/// What the kernel says about one end of an established TCP connection: how much it has
/// received and how much of that the program has not read yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Bytes received and not yet read by the program (`recv` would return them at once).
    pub unread: u32,
    /// Bytes received on the connection since it opened (`tcpi_bytes_received`).
    pub received: u64,
}

/// `INET_DIAG_INFO`: the attribute holding a `struct tcp_info`.
const INET_DIAG_INFO: u16 = 2;
/// Offset of `tcpi_bytes_received` in the kernel's `struct tcp_info` (a stable ABI that
/// only ever grows at its end; present since Linux 4.1).
const BYTES_RECEIVED_AT: usize = 128;

/// The socket whose local address is `local` and whose peer is `remote` (IPv4 TCP), as
/// the kernel sees it; `None` when there is no such socket (any more).
pub(crate) fn tcp_connection(
    local: SocketAddrV4,
    remote: SocketAddrV4,
) -> io::Result<Option<Delivery>> {
    let fd = open()?;
    let req = Request {
        header: NlHeader {
            len: size_of::<Request>() as u32,
            kind: SOCK_DIAG_BY_FAMILY,
            flags: libc::NLM_F_REQUEST as u16,
            seq: 1,
            pid: 0,
        },
        family: libc::AF_INET as u8,
        protocol: libc::IPPROTO_TCP as u8,
        ext: 1 << (INET_DIAG_INFO - 1),
        states: !0,
        id: SockId {
            sport: local.port().to_be_bytes(),
            dport: remote.port().to_be_bytes(),
            src: [u32::from_ne_bytes(local.ip().octets()), 0, 0, 0],
            dst: [u32::from_ne_bytes(remote.ip().octets()), 0, 0, 0],
            iface: 0,
            cookie: [u32::MAX, u32::MAX],
        },
        ..Request::default()
    };
    send(&fd, &req)?;
    let mut buf = vec![0u8; 8 * 1024];
    let n = receive(&fd, &mut buf)?;
    parse_connection(&buf[..n])
}

/// Reads the answer to [`tcp_connection`]: one `inet_diag_msg` with its attributes, or
/// an error message (`ENOENT`: no such socket).
fn parse_connection(buf: &[u8]) -> io::Result<Option<Delivery>> {
    if buf.len() < size_of::<NlHeader>() {
        return Err(io::Error::other("short answer from sock_diag"));
    }
    // SAFETY: bounds checked; plain repr(C) data.
    let header: NlHeader = unsafe { std::ptr::read_unaligned(buf.as_ptr() as *const NlHeader) };
    let end = (header.len as usize).min(buf.len());
    let body = size_of::<NlHeader>();
    if i32::from(header.kind) == libc::NLMSG_ERROR {
        let code = buf
            .get(body..body + 4)
            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
        return if code == -libc::ENOENT {
            Ok(None)
        } else {
            Err(io::Error::from_raw_os_error(-code))
        };
    }
    if body + size_of::<Message>() > end {
        return Err(io::Error::other("short answer from sock_diag"));
    }
    // SAFETY: bounds checked; plain repr(C) data.
    let msg: Message = unsafe { std::ptr::read_unaligned(buf[body..].as_ptr() as *const Message) };
    let mut at = body + size_of::<Message>();
    while at + 4 <= end {
        let len = usize::from(u16::from_ne_bytes([buf[at], buf[at + 1]]));
        let kind = u16::from_ne_bytes([buf[at + 2], buf[at + 3]]);
        if len < 4 || at + len > end {
            break;
        }
        let payload = &buf[at + 4..at + len];
        if kind == INET_DIAG_INFO {
            if let Some(b) = payload.get(BYTES_RECEIVED_AT..BYTES_RECEIVED_AT + 8) {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(b);
                return Ok(Some(Delivery {
                    unread: msg.rqueue,
                    received: u64::from_ne_bytes(raw),
                }));
            }
        }
        at += (len + 3) & !3;
    }
    Err(io::Error::other(
        "sock_diag gave no tcp_info with tcpi_bytes_received (Linux 4.1 or later needed)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_listener_and_a_udp_socket() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tport = tcp.local_addr().unwrap().port();
        let uport = udp.local_addr().unwrap().port();
        assert!(bound_sockets(Proto::Tcp)
            .unwrap()
            .iter()
            .any(|b| b.port == tport));
        assert!(bound_sockets(Proto::Udp)
            .unwrap()
            .iter()
            .any(|b| b.port == uport));
    }

    #[test]
    fn counts_the_connections_a_server_holds_open_until_it_closes_them() {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(connections_held(port).unwrap(), 0);
        // Two clients: one accepted, one waiting in the backlog; both count.
        let a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut served, _) = listener.accept().unwrap();
        assert_eq!(connections_held(port).unwrap(), 2);
        // The client leaves: the server's side is half-closed (CLOSE_WAIT) and still held
        // until the server closes it.
        drop(a);
        let mut buf = [0u8; 1];
        assert_eq!(served.read(&mut buf).unwrap(), 0);
        assert_eq!(connections_held(port).unwrap(), 2);
        drop(served);
        assert_eq!(connections_held(port).unwrap(), 1);
    }

    #[test]
    fn bytes_received_sits_where_libc_says() {
        assert_eq!(
            std::mem::offset_of!(libc::tcp_info, tcpi_bytes_received),
            BYTES_RECEIVED_AT
        );
    }

    #[test]
    fn sees_what_the_other_end_received_and_read() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let v4 = |a: std::net::SocketAddr| match a {
            std::net::SocketAddr::V4(a) => a,
            _ => unreachable!(),
        };
        let (local, remote) = (
            v4(client.local_addr().unwrap()),
            v4(server.local_addr().unwrap()),
        );
        server.write_all(b"hello").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut seen = tcp_connection(local, remote).unwrap().unwrap();
        while seen.received < 5 && std::time::Instant::now() < deadline {
            seen = tcp_connection(local, remote).unwrap().unwrap();
        }
        assert_eq!(
            seen,
            Delivery {
                unread: 5,
                received: 5
            }
        );
        let mut buf = [0u8; 5];
        (&client).read_exact(&mut buf).unwrap();
        let after = tcp_connection(local, remote).unwrap().unwrap();
        assert_eq!(
            after,
            Delivery {
                unread: 0,
                received: 5
            }
        );
        drop(client);
        drop(server);
        let gone = SocketAddrV4::new(*local.ip(), 1);
        assert_eq!(tcp_connection(gone, remote).unwrap(), None);
    }
    #[test]
    fn sees_a_connection_waiting_in_the_accept_queue() {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(
                &"127.0.0.1:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        socket.listen(3).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        let queue = |port| {
            listen_queues()
                .unwrap()
                .into_iter()
                .find(|q| q.port == port)
                .unwrap()
        };
        assert_eq!(
            (queue(addr.port()).queued, queue(addr.port()).limit),
            (0, Some(3))
        );
        let _client = std::net::TcpStream::connect(addr).unwrap();
        assert_eq!(queue(addr.port()).queued, 1);
    }
}
