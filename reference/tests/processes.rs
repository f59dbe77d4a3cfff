//! The `reference` binary run as the grader runs a submission: real processes, their
//! environment, stdin and stdout, exit statuses, and what `/proc` shows of their threads,
//! children and descriptors.

mod common;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::{Output, Stdio};
use std::thread;
use std::time::Duration;

use common::process::*;
use common::*;

/// Runs a stdin-driven task to its end with `envs` and `stdin`.
fn run_with_input(task: &str, envs: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = reference()
        .arg(task)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn bad_usage_exits_2() {
    for args in [&[][..], &["no-such-task"], &["counter", "extra"]] {
        let status = reference()
            .args(args)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "reference {args:?}");
    }
}

#[test]
fn a_bad_environment_variable_exits_1() {
    let status = reference()
        .arg("counter")
        .env("THREADS", "many")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn counter_prints_the_total() {
    let envs = [("THREADS", "7"), ("INCREMENTS", "1234")];
    let output = run_with_input("counter", &envs, "");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.lines().any(|l| l == "Obtained value: 8638"),
        "{stdout}"
    );
}

#[test]
fn multiprint_ends_after_an_empty_line() {
    let envs = [("THREADS", "3"), ("DELAY", "0.001")];
    let output = run_with_input("multiprint", &envs, "abc\n\n");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.matches(": I'm done!").count(), 3, "{stdout}");
    for c in ["a", "b", "c"] {
        assert_eq!(stdout.matches(&format!(": {c}\n")).count(), 1, "{stdout}");
    }
}

/// The grader's `no-busy-wait`: idle, waiting on stdin, it uses (almost) no CPU.
#[test]
fn multiprint_waits_without_burning_cpu() {
    let mut child = reference()
        .arg("multiprint")
        .env("THREADS", "8")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let before = cpu_ticks_of(pid);
    thread::sleep(Duration::from_millis(500)); // measuring idleness, not synchronising
    let used = cpu_ticks_of(pid) - before;
    assert!(used <= 2, "used {used} ticks of CPU in 0.5 s while idle");
    drop(child.stdin.take()); // end of input ends it
    assert!(child.wait().unwrap().success());
}

#[test]
fn tcp_client_prints_answers_and_exits_at_the_end_of_input() {
    let addr = spawn_server(reference::tcp_upper::serve);
    let port = addr.port().to_string();
    let output = run_with_input("tcp-client", &[("PORT", &port)], "one line\nTwo\n");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.replace(reference::input::PROMPT, ""),
        "Output: ONE LINE\nOutput: TWO\n"
    );
}

#[test]
fn tcp_client_without_a_server_exits_1() {
    let port = free_port().to_string();
    let mut child = reference()
        .arg("tcp-client")
        .env("PORT", &port)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn udp_upper_and_udp_client_talk_then_the_server_exits_0() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = reference()
        .arg("udp-upper")
        .env("PORT", port.to_string())
        .spawn()
        .unwrap();
    // Ready once it answers: until it binds, datagrams bounce or go unanswered.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.connect(("127.0.0.1", port)).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let ready = eventually(DEADLINE, || {
        let _ = probe.send(b"ping");
        let mut buf = [0u8; 16];
        matches!(probe.recv(&mut buf), Ok(4) if &buf[..4] == b"PING")
    });
    assert!(ready, "udp-upper never answered");

    let port = port.to_string();
    let output = run_with_input("udp-client", &[("PORT", &port)], "datagram one\n\n");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.replace(reference::input::PROMPT, ""),
        "Output: DATAGRAM ONE\n"
    );
    // The client's empty datagram ended the server.
    assert!(server.wait().unwrap().success());
}

/// The grader's `reuse-addr`: killed while a connection is open, the server can be
/// restarted on the same port at once.
#[test]
fn tcp_upper_restarts_on_its_port_while_an_old_connection_lingers() {
    let mut old = Server::start("tcp-upper", &[]);
    let mut conn = connect(old.addr);
    assert_eq!(exchange(&mut conn, b"before"), b"BEFORE");
    old.child.kill().unwrap();
    old.child.wait().unwrap();
    let new = Server::start_on("tcp-upper", old.addr.port(), &[]);
    assert_eq!(exchange(&mut connect(new.addr), b"after"), b"AFTER");
}

#[test]
fn fork_server_serves_each_client_in_a_child_and_reaps_them() {
    let server = Server::start("fork-server", &[]);
    let pid = server.pid();
    check_echo_and_large(server.addr);
    check_concurrent_and_isolated(server.addr, 4);

    // `child-per-client`
    let mut clients: Vec<TcpStream> = (0..3).map(|_| connect(server.addr)).collect();
    for conn in &mut clients {
        assert_eq!(exchange(conn, b"x"), b"X");
    }
    let live = children_of(pid).iter().filter(|(_, s)| *s != 'Z').count();
    assert!(live >= 3, "{live} live children for 3 clients");

    // `reaps-children`
    drop(clients);
    assert_eq!(
        exchange(&mut connect(server.addr), b"one more"),
        b"ONE MORE"
    );
    let reaped = eventually(Duration::from_secs(2), || {
        !children_of(pid).iter().any(|(_, state)| *state == 'Z')
    });
    assert!(reaped, "zombies remain: {:?}", children_of(pid));
    assert!(eventually(DEADLINE, || children_of(pid).is_empty()));
}

/// The children must not keep the listening socket: a new server binds the port while a
/// child of the killed one still serves its client.
#[test]
fn fork_server_restarts_on_its_port_while_a_child_still_serves() {
    let mut old = Server::start("fork-server", &[]);
    let mut conn = connect(old.addr);
    assert_eq!(exchange(&mut conn, b"old"), b"OLD");
    old.stop();
    let new = Server::start_on("fork-server", old.addr.port(), &[]);
    assert_eq!(exchange(&mut conn, b"orphan"), b"ORPHAN"); // the old child lives on
    assert_eq!(exchange(&mut connect(new.addr), b"new"), b"NEW");
}

#[test]
fn thread_server_has_a_thread_per_client_and_none_after() {
    let server = Server::start("thread-server", &[]);
    let pid = server.pid();
    let mut clients: Vec<TcpStream> = (0..5).map(|_| connect(server.addr)).collect();
    for conn in &mut clients {
        assert_eq!(exchange(conn, b"t"), b"T");
    }
    assert!(threads_of(pid) >= 6, "{} threads", threads_of(pid));
    drop(clients);
    assert!(
        eventually(DEADLINE, || threads_of(pid) == 1),
        "threads left: {}",
        threads_of(pid)
    );
}

#[test]
fn pool_server_never_has_more_than_poolsize_plus_one_threads() {
    let server = Server::start("pool-server", &[("POOLSIZE", "3")]);
    let pid = server.pid();
    // The port listens before the workers are all started.
    assert!(eventually(DEADLINE, || threads_of(pid) == 4));
    let mut clients: Vec<TcpStream> = (0..9).map(|_| connect(server.addr)).collect();
    for conn in &mut clients[..3] {
        assert_eq!(exchange(conn, b"p"), b"P");
    }
    assert_eq!(threads_of(pid), 4);
    // Clients leave one by one; each time the first queued one is served.
    let mut clients = VecDeque::from(clients);
    while clients.len() > 3 {
        clients.pop_front();
        assert_eq!(exchange(&mut clients[2], b"q"), b"Q");
    }
    assert_eq!(threads_of(pid), 4);
}

#[test]
fn select_server_has_one_thread_no_child_and_no_fd_leak() {
    let server = Server::start("select-server", &[]);
    let pid = server.pid();
    let mut idle = connect(server.addr);
    assert_eq!(exchange(&mut idle, b"s"), b"S");
    let baseline = fds_of(pid);
    for _ in 0..50 {
        let mut conn = connect(server.addr);
        assert_eq!(exchange(&mut conn, b"cycle"), b"CYCLE");
    }
    assert!(
        eventually(DEADLINE, || fds_of(pid) <= baseline),
        "descriptors grew from {baseline} to {}",
        fds_of(pid)
    );
    assert_eq!(threads_of(pid), 1);
    assert!(children_of(pid).is_empty());
    // Still serving the first client.
    let mut buf = [0u8; 2];
    idle.write_all(b"ok").unwrap();
    idle.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"OK");
}
