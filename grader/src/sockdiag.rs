//! Listing bound sockets (and the accept queues of listeners) through netlink
//! `sock_diag`, filtered by state in the kernel.
//! Reading `/proc/net/tcp` instead makes the kernel walk and print every socket of the
//! namespace, TIME_WAIT ones included, in page-sized pieces: after a few thousand probe
//! connections that costs milliseconds per look, and readiness polls look often.
//! The answer covers the network namespace of the calling thread.

use crate::procfs::{Bound, ListenQueue, Proto};
use std::io;
use std::mem::size_of;

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NETLINK_SOCK_DIAG: i32 = 4;
const TCP_LISTEN: u32 = 10;
const TCP_CLOSE: u32 = 7;

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
pub fn bound_sockets(proto: Proto) -> io::Result<Vec<Bound>> {
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
pub fn listen_queues() -> io::Result<Vec<ListenQueue>> {
    Ok(messages(Proto::Tcp)?
        .iter()
        .map(|m| ListenQueue {
            port: u16::from_be_bytes(m.id.sport),
            queued: m.rqueue,
            limit: Some(m.wqueue),
        })
        .collect())
}

fn messages(proto: Proto) -> io::Result<Vec<Message>> {
    let mut out = Vec::new();
    for family in [libc::AF_INET, libc::AF_INET6] {
        dump(family as u8, proto, &mut out)?;
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

fn dump(family: u8, proto: Proto, out: &mut Vec<Message>) -> io::Result<()> {
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
    let fd = Fd(fd);
    let (protocol, states) = match proto {
        Proto::Tcp => (libc::IPPROTO_TCP as u8, 1 << TCP_LISTEN),
        Proto::Udp => (libc::IPPROTO_UDP as u8, 1 << TCP_CLOSE),
    };
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
    // SAFETY: an all-zero sockaddr_nl is valid; family set below.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: `req` is a plain repr(C) value of the length given; `addr` is a valid sockaddr_nl.
    let sent = unsafe {
        libc::sendto(
            fd.0,
            &req as *const Request as *const libc::c_void,
            size_of::<Request>(),
            0,
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: reads into our buffer of the given length.
        let n = unsafe { libc::recv(fd.0, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut at = 0usize;
        let n = n as usize;
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
