//! Client-side helpers shared by the integration tests: servers on ephemeral ports, the
//! exchanges the grader's checks make, and `/proc` readers.

#![allow(dead_code)] // each test binary uses its own share of these

pub mod process;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single step may take before the test fails instead of hanging.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Binds `127.0.0.1:0` and runs `serve` on it in a background thread that is never
/// joined (servers run forever; the test process ends them).
pub fn spawn_server<F>(serve: F) -> SocketAddr
where
    F: FnOnce(TcpListener) -> io::Result<()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || serve(listener));
    addr
}

/// Connects with timeouts on both directions, so a broken server fails the test.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    conn.set_write_timeout(Some(DEADLINE)).unwrap();
    conn.set_nodelay(true).unwrap();
    conn
}

/// Writes `message` and reads exactly its answer on an open connection.
pub fn exchange(conn: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    conn.write_all(message).unwrap();
    let mut answer = vec![0u8; message.len()];
    conn.read_exact(&mut answer).unwrap();
    answer
}

/// `len` bytes of every kind: lower- and upper-case letters, digits, whitespace, NUL and
/// bytes above 127 (invalid UTF-8 included), in a pattern that does not repeat in step
/// with buffer sizes.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 253) % 256) as u8).collect()
}

/// The expected answer to `data`.
pub fn upper(data: &[u8]) -> Vec<u8> {
    reference::upper::upper(data)
}

/// The grader's `large` and `eof` checks in one: a writer thread sends `data` and
/// half-closes while this thread reads, pausing now and then so the server's send buffer
/// fills; returns everything read until the server closed the connection.
pub fn stream_through(addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let mut reader = connect(addr);
    let mut writer = reader.try_clone().unwrap();
    let writing = thread::spawn(move || {
        writer.write_all(&data).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = reader
            .read(&mut buf)
            .expect("server neither answered nor closed");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
        if received.len() % (128 * 1024) < n {
            thread::sleep(Duration::from_millis(2)); // a slow reader, at times
        }
    }
    writing.join().unwrap();
    received
}

/// Checks a TCP upper-case server: a short message, a binary message, and 1 MiB streamed
/// through with a half-close at the end.
pub fn check_echo_and_large(addr: SocketAddr) {
    let mut conn = connect(addr);
    assert_eq!(
        exchange(&mut conn, b"hello, World 42\t!"),
        b"HELLO, WORLD 42\t!"
    );
    let binary = pattern(3000);
    assert_eq!(exchange(&mut conn, &binary), upper(&binary));
    drop(conn);

    let large = pattern(1 << 20);
    let received = stream_through(addr, large.clone());
    assert_eq!(received.len(), large.len(), "answer incomplete");
    assert!(received == upper(&large), "answer differs");
}

/// Checks a concurrent server: `idle` clients connect and stay silent, then another one is
/// served; then they all exchange distinct messages, interleaved, and each gets its own.
pub fn check_concurrent_and_isolated(addr: SocketAddr, idle: usize) {
    let mut clients: Vec<TcpStream> = (0..idle).map(|_| connect(addr)).collect();
    let mut late = connect(addr);
    assert_eq!(exchange(&mut late, b"not stalled"), b"NOT STALLED");
    clients.push(late);
    for round in 0..3 {
        for (i, conn) in clients.iter_mut().enumerate() {
            let message = format!("client {i} round {round} {}", "z".repeat(i * 100));
            assert_eq!(
                exchange(conn, message.as_bytes()),
                upper(message.as_bytes())
            );
        }
    }
}

/// Polls `condition` until it holds or `within` passes; returns whether it held.
pub fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}
