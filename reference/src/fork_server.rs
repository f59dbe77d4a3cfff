//! `fork-server` (`server-fork.py`): one child process per client. The parent accepts,
//! forks, closes its copy of the connection and goes back to `accept`; the child closes
//! its copy of the listener, serves its client to the end and exits.
//!
//! Finished children are reaped twice over, so no zombie outlives its client: a `SIGCHLD`
//! handler reaps as soon as a child exits, and the parent also reaps after every `accept`
//! (cheap, and enough on its own should the handler ever be replaced).
//!
//! Call [`serve`] only in a process of its own (the `reference` binary): the handler reaps
//! *every* child of the process, and each child inherits every descriptor open at the
//! fork, so a socket held elsewhere in the process would stay open in all the children.

use std::io;
use std::net::{TcpListener, TcpStream};

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult};

use crate::{net, upper};

/// Binds `HOST:PORT` and serves forever.
pub fn run() -> io::Result<()> {
    serve(net::bind_tcp()?)
}

/// Serves forever on an already-bound listener, one child process per client.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    reap_on_sigchld()?;
    loop {
        let accepted = listener.accept();
        reap_children();
        match accepted {
            Ok((stream, peer)) => {
                if let Err(err) = spawn_child(&listener, stream) {
                    net::log(format_args!("client {peer}: cannot fork: {err}"));
                }
            }
            Err(err) => net::accept_failed(&err),
        }
    }
}

/// Forks a child that serves `stream`; in the parent, closes the parent's copy of it.
fn spawn_child(listener: &TcpListener, stream: TcpStream) -> io::Result<()> {
    // SAFETY: the child only makes async-signal-safe system calls (close, read, write,
    // _exit) and allocates nothing, so forking is sound even if other threads exist.
    match unsafe { fork() }? {
        ForkResult::Child => child(listener, stream),
        ForkResult::Parent { .. } => {
            drop(stream);
            Ok(())
        }
    }
}

/// The child's whole life: it never returns into the parent's code.
fn child(listener: &TcpListener, mut stream: TcpStream) -> ! {
    // The listener belongs to the parent. Keeping a copy open would keep the port bound
    // after the parent dies, so a restarted server could not listen on it.
    // SAFETY: the descriptor is owned by `listener`, which this process never uses again.
    unsafe { libc::close(std::os::fd::AsRawFd::as_raw_fd(listener)) };
    let status = match upper::echo_upper(&mut stream) {
        Ok(_) => 0,
        Err(_) => 1,
    };
    drop(stream);
    // SAFETY: `_exit` ends the process at once, without running the parent's atexit
    // handlers or flushing stdio buffers copied from the parent.
    unsafe { libc::_exit(status) }
}

/// Reaps every finished child without blocking.
fn reap_children() {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// Installs [`on_sigchld`]. `SA_RESTART` keeps a blocked `accept` from failing with
/// `EINTR` when a child exits.
fn reap_on_sigchld() -> io::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_sigchld),
        SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    // SAFETY: the handler only calls waitpid, which is async-signal-safe, and restores
    // errno for the code it interrupted.
    unsafe { sigaction(Signal::SIGCHLD, &action) }?;
    Ok(())
}

extern "C" fn on_sigchld(_: libc::c_int) {
    let saved = Errno::last_raw();
    reap_children();
    Errno::set_raw(saved);
}
