//! Private network namespaces, per thread. On Linux a network namespace belongs to a
//! thread: the runner's worker thread moves itself into a fresh namespace before a check,
//! so every program it starts (a fork inherits the thread's namespace), every probe socket
//! it opens and every thread it spawns live on a private loopback; after the check it
//! returns to the namespace it came from. Programs then get `PORT=4444`, so lecture code
//! with a hard-coded port works and many submissions run side by side.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The port programs get inside a private namespace (the lecture's).
pub const PORT: u16 = 4444;

/// The grader's own namespace (`net:[inode]`), remembered once namespaces are in use.
static ORIGINAL: OnceLock<PathBuf> = OnceLock::new();

fn current_name() -> Option<PathBuf> {
    std::fs::read_link("/proc/thread-self/ns/net").ok()
}

/// Remembers the calling thread's namespace as the grader's own; from then on a thread
/// elsewhere is in a private namespace ([`private`]).
pub fn remember_original() {
    if let Some(name) = current_name() {
        let _ = ORIGINAL.set(name);
    }
}

/// True when the calling thread is inside a private namespace made by the grader (also a
/// thread started by a check inherits its namespace, and so this answer).
pub fn private() -> bool {
    match ORIGINAL.get() {
        Some(original) => current_name().is_some_and(|now| now != *original),
        None => false,
    }
}

/// A network namespace, kept alive by a descriptor.
#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
}

impl NetNs {
    /// The calling thread's namespace.
    pub fn current() -> io::Result<NetNs> {
        let file = File::open("/proc/thread-self/ns/net")?;
        Ok(NetNs { fd: file.into() })
    }

    /// Moves the calling thread into this namespace.
    pub fn enter(&self) -> io::Result<()> {
        // SAFETY: setns(2) on a descriptor we own; affects only the calling thread.
        if unsafe { libc::setns(self.fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// A new namespace with its loopback up; the calling thread stays where it was.
    pub fn fresh() -> io::Result<NetNs> {
        let back = NetNs::current()?;
        unshare()?;
        let made = NetNs::current().and_then(|ns| set_up().map(|_| ns));
        back.enter()?;
        made
    }

    /// Runs `f` inside this namespace and comes back (even when `f` fails).
    pub fn run_inside<T>(&self, f: impl FnOnce() -> T) -> io::Result<T> {
        let back = NetNs::current()?;
        self.enter()?;
        let out = f();
        back.enter()?;
        Ok(out)
    }

    /// A second handle to the same namespace.
    pub fn try_clone(&self) -> io::Result<NetNs> {
        Ok(NetNs {
            fd: self.fd.try_clone()?,
        })
    }
}

/// The calling thread in a private namespace for as long as the guard lives.
pub struct Scope {
    original: NetNs,
}

impl Scope {
    /// Moves the calling thread into a fresh namespace with its loopback up.
    pub fn enter() -> io::Result<Scope> {
        let original = NetNs::current()?;
        unshare()?;
        if let Err(e) = set_up() {
            original.enter()?;
            return Err(e);
        }
        Ok(Scope { original })
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Err(e) = self.original.enter() {
            // A worker stuck in a private namespace would mislead every later check.
            eprintln!("grader: could not return to the grader's network namespace: {e}");
            std::process::abort();
        }
    }
}

fn unshare() -> io::Result<()> {
    // SAFETY: unshare(2) of the network namespace affects only the calling thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The most a TCP socket's send buffer grows to in a private namespace (`tcp_wmem`'s
/// last field; Linux's default is 4 MiB). `eof` sends a server more than its send buffer
/// can hold (`checks::stream`), read slowly so that answers stay queued inside the server:
/// 1.25 MiB instead of 5 MiB with it, and read in a quarter of the time. A program sees
/// no other difference than how soon a send nobody reads blocks, as on a busier network.
pub const SEND_BUFFER_MAX: usize = 256 << 10;

/// Prepares the calling thread's fresh namespace: its loopback up, send buffers capped at
/// [`SEND_BUFFER_MAX`] (where the kernel does not allow it, they keep their default and
/// `eof` sends more).
fn set_up() -> io::Result<()> {
    loopback_up()?;
    let _ = std::fs::write(
        "/proc/sys/net/ipv4/tcp_wmem",
        format!("4096 16384 {SEND_BUFFER_MAX}"),
    );
    Ok(())
}

/// Brings `lo` up in the calling thread's namespace (a new namespace has it down).
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain socket(2), owned at once.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: an all-zero ifreq is valid; the name is copied in below.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we pass.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether the whole sequence works here: a fresh namespace, its loopback up, a socket
/// bound and connected inside, and the way back. `Err` says which step failed.
pub fn probe() -> Result<(), String> {
    std::thread::spawn(|| {
        let step = |what: &str, e: io::Error| format!("{what}: {e}");
        let scope = Scope::enter().map_err(|e| step("unshare(CLONE_NEWNET)", e))?;
        let l = std::net::TcpListener::bind(("127.0.0.1", PORT))
            .map_err(|e| step("listening on the private loopback", e))?;
        std::net::TcpStream::connect(l.local_addr().map_err(|e| step("local address", e))?)
            .map_err(|e| step("connecting on the private loopback", e))?;
        drop(l);
        let inside = NetNs::current().map_err(|e| step("/proc/thread-self/ns/net", e))?;
        drop(scope);
        let back = NetNs::current().map_err(|e| step("/proc/thread-self/ns/net", e))?;
        let same = same_ns(&inside, &back).map_err(|e| step("fstat", e))?;
        if same {
            return Err("setns back to the original namespace did not take".to_string());
        }
        Ok(())
    })
    .join()
    .unwrap_or_else(|_| Err("the namespace test panicked".to_string()))
}

fn same_ns(a: &NetNs, b: &NetNs) -> io::Result<bool> {
    let ino = |ns: &NetNs| -> io::Result<(u64, u64)> {
        // SAFETY: fstat fills the struct we pass.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(ns.fd.as_raw_fd(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((st.st_dev, st.st_ino))
    };
    Ok(ino(a)? == ino(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_buffer_max() -> Option<usize> {
        let wmem = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").ok()?;
        wmem.split_whitespace().nth(2)?.parse().ok()
    }

    /// A private namespace caps the send buffers it gives (where the machine lets the
    /// grader make one); the grader's own namespace keeps its own.
    #[test]
    fn a_private_namespace_caps_send_buffers_and_leaves_the_grader_s_alone() {
        let outside = send_buffer_max();
        let inside = std::thread::spawn(|| {
            let scope = Scope::enter().ok()?;
            let max = send_buffer_max();
            drop(scope);
            max
        })
        .join()
        .unwrap();
        let Some(inside) = inside else {
            return; // no namespaces here
        };
        assert_eq!(inside, SEND_BUFFER_MAX);
        assert_eq!(send_buffer_max(), outside);
        let fresh = NetNs::fresh().unwrap();
        assert_eq!(
            fresh.run_inside(send_buffer_max).unwrap(),
            Some(SEND_BUFFER_MAX)
        );
    }
}
