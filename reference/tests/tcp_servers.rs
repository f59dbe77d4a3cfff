//! The TCP servers run in-process through their `serve` function on ephemeral ports, and
//! are probed the way the grader's checks probe a submission. (`fork-server` is tested in
//! `processes.rs`: forking a process that also holds the clients' sockets would keep
//! those sockets open in every child.)

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::thread;
use std::time::Duration;

use common::*;
use nix::poll::{poll, PollFd, PollFlags};
use reference::{pool_server, select_server, tcp_upper, thread_server};

#[test]
fn tcp_upper_answers_and_serves_clients_one_after_another() {
    let addr = spawn_server(tcp_upper::serve);
    check_echo_and_large(addr);

    let mut first = connect(addr);
    assert_eq!(exchange(&mut first, b"first"), b"FIRST");
    let mut second = connect(addr); // waits in the backlog
    second.write_all(b"second").unwrap();
    drop(first);
    let mut answer = [0u8; 6];
    second.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"SECOND");
}

#[test]
fn thread_server_serves_clients_concurrently() {
    let addr = spawn_server(thread_server::serve);
    check_echo_and_large(addr);
    check_concurrent_and_isolated(addr, 6);
}

#[test]
fn pool_server_serves_up_to_its_size_concurrently() {
    let addr = spawn_server(|listener| pool_server::serve(listener, 4));
    check_echo_and_large(addr);
    check_concurrent_and_isolated(addr, 3);
}

#[test]
fn pool_server_queues_clients_beyond_the_pool_until_a_worker_is_free() {
    let addr = spawn_server(|listener| pool_server::serve(listener, 2));
    let mut busy: Vec<_> = (0..2).map(|_| connect(addr)).collect();
    for conn in &mut busy {
        assert_eq!(exchange(conn, b"mine"), b"MINE"); // now owns a worker
    }
    let mut queued = connect(addr);
    queued.write_all(b"queued").unwrap();
    queued
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut answer = [0u8; 6];
    let early = queued.read(&mut answer);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a third client was served by a pool of two: {early:?}"
    );
    busy.pop(); // frees a worker
    queued.set_read_timeout(Some(DEADLINE)).unwrap();
    queued.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"QUEUED");
}

#[test]
fn select_server_serves_clients_concurrently() {
    let addr = spawn_server(select_server::serve);
    check_echo_and_large(addr);
    check_concurrent_and_isolated(addr, 6);
}

/// The grader's `slow-reader`: a client sends without ever reading until the server stops
/// taking its data; another client must still be served. Then the first one reads, and
/// gets every answer, in order.
#[test]
fn select_server_is_not_stalled_by_a_client_that_never_reads() {
    let addr = spawn_server(select_server::serve);
    let mut hog = connect(addr);
    hog.set_nonblocking(true).unwrap();
    let mut sent = Vec::new();
    let chunk = pattern(64 * 1024);
    // Write until the hog's socket stays full for a while: the server no longer reads it.
    loop {
        match hog.write(&chunk) {
            Ok(n) => sent.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(hog.as_fd(), PollFlags::POLLOUT)];
                if poll(&mut fds, 300u16).unwrap() == 0 {
                    break;
                }
            }
            Err(e) => panic!("hog write failed: {e}"),
        }
        assert!(
            sent.len() < 64 << 20,
            "the server keeps reading a client that never reads: its buffer grows unbounded"
        );
    }

    let mut other = connect(addr);
    other
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    assert_eq!(exchange(&mut other, b"am I served?"), b"AM I SERVED?");

    hog.set_nonblocking(false).unwrap();
    let mut writer = hog.try_clone().unwrap();
    let tail = pattern(100_000);
    sent.extend_from_slice(&tail);
    let writing = thread::spawn(move || {
        writer.write_all(&tail).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut received = Vec::new();
    hog.read_to_end(&mut received).unwrap();
    writing.join().unwrap();
    assert_eq!(received.len(), sent.len());
    assert!(received == upper(&sent), "the hog's answers differ");
}
