//! `slow-reader` (SPEC section 4): a client sends several MiB and reads nothing, so its
//! answers pile up; another client must still be served at once, and the slow client,
//! once it reads, must get all its answers. A server that calls a blocking `sendall` in
//! its one loop stops there for everybody; a correct one keeps each client's unsent
//! answers in a buffer of its own, sends them when the socket is writable, and stops
//! reading from a client whose buffer is full.
//!
//! Every wait counts the server's own time ([`Deadline`]): a server starved of CPU on a
//! busy machine neither looks stalled (which would ask the other client before a blocking
//! `sendall` is reached, and pass a wrong server) nor fails to send its answers back in
//! time; a server that stops sending is known after [`QUIET`] of its time.

use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::checks::concurrency::{ending, ANSWER};
use crate::checks::grader_clients;
use crate::checks::stuck::Stuck;
use crate::escape;
use crate::gen::upper;
use crate::probe::tcp::talking_to;
use crate::process::Deadline;
use crate::procfs::Proto;
use crate::session::Server;
use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What the slow client sends: more than the kernel buffers of both ends hold with the
/// small buffers it asks for (the writes stall after about 3 MiB), so the server must
/// stop reading from it at some point, by design or because it is stuck.
const TOTAL: usize = 8 << 20;
/// Size of each write.
const CHUNK: usize = 16 << 10;
/// No progress for this long (of the server's time) means the server no longer reads from
/// the slow client.
const STALL: Duration = Duration::from_millis(500);
/// Deadline for the writes to stall or end (of the server's time).
const FILL: Duration = Duration::from_secs(20);
/// Deadline for reading every answer back at the end (of the server's time).
const READ_BACK: Duration = Duration::from_secs(30);
/// While reading the answers back, no byte for this long (of the server's time) means
/// the rest will not come.
const QUIET: Duration = Duration::from_secs(5);
/// A read that waits this long for a byte starts timing the quiet.
const NOTICE: Duration = Duration::from_millis(50);

/// A client with small kernel buffers, so that what it does not read stays in the
/// server's buffers rather than its own.
fn small_buffered(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_recv_buffer_size(4096)?;
    socket.set_send_buffer_size(16 << 10)?;
    socket.connect_timeout(&addr.into(), grader_clients::CONNECT)?;
    socket.set_nodelay(true)?;
    Ok(socket.into())
}

/// Reads from `stream` until `expected` came whole, a byte differs, the connection ended,
/// nothing came for [`QUIET`] or [`READ_BACK`] passed (both of the time of server `pid`).
/// The quiet is timed from the first read that found nothing (at most [`NOTICE`] after
/// the last byte): a deadline set on every read of a flowing stream read the server's
/// threads from `/proc` each time.
fn read_back(mut stream: &TcpStream, expected: &[u8], pid: u32) -> Vec<u8> {
    let mut whole = Deadline::start(pid, READ_BACK);
    let mut quiet: Option<Deadline> = None;
    let mut got = Vec::with_capacity(expected.len());
    let mut buf = vec![0u8; 64 << 10];
    while got.len() < expected.len() {
        let over = whole.passed() || quiet.as_mut().is_some_and(Deadline::passed);
        let slice = match quiet.as_mut() {
            _ if over => Duration::from_millis(1),
            None => NOTICE,
            Some(quiet) => quiet
                .remaining()
                .clamp(Duration::from_millis(1), Duration::from_millis(200)),
        };
        let _ = stream.set_read_timeout(Some(slice));
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let at = got.len();
                got.extend_from_slice(&buf[..n]);
                if expected.get(at..at + n) != Some(&buf[..n]) {
                    break;
                }
                quiet = None;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                // A deadline had passed and nothing more was there even then.
                if over {
                    break;
                }
                quiet.get_or_insert_with(|| Deadline::start(pid, QUIET));
            }
            Err(_) => break,
        }
    }
    got
}

/// Waits until `written` stops growing for [`STALL`] or reaches [`TOTAL`] (of the time of
/// server `pid`; [`FILL`] at most). A server certain to read nothing more until its
/// answers are read (asleep in `select()`, or in a blocked `sendall`: [`Stuck::sending`])
/// has stopped reading for good, and is asked at once.
fn wait_stalled(written: &AtomicUsize, pid: u32) {
    let mut whole = Deadline::start(pid, FILL);
    let mut last = usize::MAX;
    let mut still = Deadline::start(pid, STALL);
    let mut stuck = Stuck::sending(pid);
    while !whole.passed() {
        let now = written.load(Ordering::Relaxed);
        if now >= TOTAL {
            return;
        }
        if now != last {
            (last, still, stuck) = (now, Deadline::start(pid, STALL), Stuck::sending(pid));
        } else if still.passed() || stuck.certain() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `slow-reader`, for a server started with `opts`; `advice` says what to do when the
/// other client is not served.
pub(crate) fn slow_reader(ctx: &CheckCtx, opts: LaunchOpts, advice: &str) -> Outcome {
    let mut server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let (addr, pid) = (server.addr(), server.program().pid());
    let slow = match small_buffered(addr) {
        Ok(s) => s,
        Err(e) => return Outcome::fail(format!("could not connect ({e}){}", ending(&mut server))),
    };
    let data = crate::gen::bulk_text(TOTAL, ctx.run.seed);
    let written = AtomicUsize::new(0);
    let verdict = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut out = &slow;
            let _ = slow.set_write_timeout(Some(READ_BACK));
            for chunk in data.chunks(CHUNK) {
                if out.write_all(chunk).is_err() {
                    return;
                }
                written.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        });
        wait_stalled(&written, pid);
        let sent = written.load(Ordering::Relaxed);
        let message = b"is anybody listening?";
        let asked = talking_to(Some(pid), || {
            grader_clients::connect(pid, addr)
                .map_err(|e| format!("could not connect ({e})"))
                .and_then(|probe| {
                    grader_clients::ask_while_another_reads_nothing(&probe, message, ANSWER)
                })
        });
        if let Err(what) = asked {
            let _ = slow.shutdown(Shutdown::Both);
            return Err(format!(
                "while one client had sent {:.1} MiB and read none of the answers, another client sent {} and {what}: {advice}",
                sent as f64 / (1 << 20) as f64,
                escape::bytes(message)
            ));
        }
        let expected = upper(&data);
        let got = read_back(&slow, &expected, pid);
        let _ = slow.shutdown(Shutdown::Both);
        if got != expected {
            let what = if got.len() < TOTAL && expected.starts_with(&got) {
                format!(
                    "only the first {} of {TOTAL} bytes came (then nothing for {} s, or the connection ended)",
                    got.len(),
                    QUIET.as_secs()
                )
            } else {
                escape::first_difference(&expected, &got).unwrap_or_default()
            };
            return Err(format!(
                "the other client was served; then the client that had not been reading read its answers, but {what}: keep every unsent answer until the socket takes it"
            ));
        }
        Ok(sent)
    });
    match verdict {
        Ok(sent) => Outcome::pass(format!(
            "another client was served while one had sent {:.1} MiB without reading",
            sent as f64 / (1 << 20) as f64
        )),
        Err(message) => Outcome::fail(format!("{message}{}", ending(&mut server))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn reading_back_stops_at_the_first_wrong_byte() {
        // A server that answers wrongly and then keeps the connection open, silent: the
        // verdict is known at the first wrong byte, not after QUIET or READ_BACK.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"HELLO wrong").unwrap();
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf);
        });
        let stream = TcpStream::connect(addr).unwrap();
        let start = Instant::now();
        let got = read_back(&stream, b"HELLO WORLD, AND MORE", std::process::id());
        assert!(start.elapsed() < QUIET, "{:?}", start.elapsed());
        assert!(got.starts_with(b"HELLO w"), "{got:?}");
        stream.shutdown(Shutdown::Both).unwrap();
        server.join().unwrap();
    }
}
