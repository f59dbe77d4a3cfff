//! `udp-upper`: the lecture's UDP upper-case server (`server2.py`): each datagram (up to
//! 1024 bytes) is answered with its upper-case to its sender; an empty datagram ends it.

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::escape;
use crate::gen::{self, upper};
use crate::probe::udp::{wait_any, UdpProbe};
use crate::procfs::Proto;
use crate::prop;
use crate::session::{CaseError, Server};
use crate::task::TaskDef;
use proptest::collection::vec;
use proptest::prelude::*;
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::time::Duration;

/// How long an answer may take ("it never happened" is generous).
const ANSWER: Duration = Duration::from_secs(3);
/// How long the server has to exit after the empty datagram.
const EXIT: Duration = Duration::from_secs(5);

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "udp-upper",
    title: "UDP upper-case server",
    files: &["server2.py"],
    may_end_in: &["empty-terminates"],
    checks: CHECKS,
    check_ms: 150,
    ..TaskDef::SERVER
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = &[
    &CheckDef {
        id: "echo",
        summary: "a short ASCII datagram comes back upper-cased",
        run: echo,
    },
    &CheckDef {
        id: "datagrams",
        summary: "many random datagrams of 1-1024 bytes each get their upper-case",
        run: datagrams,
    },
    &CheckDef {
        id: "binary",
        summary: "datagrams of arbitrary bytes come back as bytes.upper()",
        run: binary,
    },
    &CheckDef {
        id: "multi-client",
        summary: "several clients interleave; each gets only its own answers",
        run: multi_client,
    },
    &CheckDef {
        id: "empty-terminates",
        summary: "an empty datagram makes the server exit with status 0",
        run: empty_terminates,
    },
];

fn start<'a>(ctx: &'a CheckCtx<'a>) -> Result<Server<'a>, Outcome> {
    Server::start(ctx, Proto::Udp, LaunchOpts::default())
}

fn probe(addr: SocketAddr) -> Result<UdpProbe, CaseError> {
    UdpProbe::new(addr).map_err(|e| CaseError::silent(format!("could not open a UDP socket: {e}")))
}

/// Sends each datagram from `probe` and checks each answer in turn.
fn exchange_all(probe: &UdpProbe, datagrams: &[Vec<u8>]) -> Result<(), CaseError> {
    for (i, d) in datagrams.iter().enumerate() {
        let n = i + 1;
        match probe.ask(d, ANSWER) {
            Ok(Some(answer)) if answer == upper(d) => {}
            Ok(Some(answer)) => {
                return Err(CaseError::answered(format!(
                    "datagram {n} ({} bytes) got a wrong answer: {}",
                    d.len(),
                    escape::first_difference(&upper(d), &answer).unwrap_or_default()
                )))
            }
            Ok(None) => {
                prop::waited_out();
                return Err(CaseError {
                    message: format!(
                        "datagram {n} ({} bytes) got no answer within {} s",
                        d.len(),
                        ANSWER.as_secs()
                    ),
                    answered: i > 0,
                });
            }
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    format!("{e}: the kernel answered that no socket was bound to the server's port any more")
                } else {
                    e.to_string()
                };
                return Err(CaseError {
                    message: format!("datagram {n} ({} bytes): {what}", d.len()),
                    answered: i > 0,
                });
            }
        }
    }
    Ok(())
}

fn show(datagrams: &[Vec<u8>]) -> String {
    let parts: Vec<String> = datagrams
        .iter()
        .map(|d| escape::bytes_short(d, 60))
        .collect();
    format!("datagrams {}", parts.join(", "))
}

fn echo(ctx: &CheckCtx) -> Outcome {
    let mut server = match start(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let hello = vec![b"hello, udp 42".to_vec()];
    match server.run_case(|addr| exchange_all(&probe(addr)?, &hello)) {
        Ok(()) => Outcome::pass(""),
        Err(e) => e.into_outcome("sent \"hello, udp 42\": "),
    }
}

/// Every case's datagrams from one client socket, kept for the whole check, so that this
/// check judges datagrams alone (several clients are `multi-client`'s business).
fn property(ctx: &CheckCtx, datagram: impl Strategy<Value = Vec<u8>>) -> Outcome {
    let server = match start(ctx) {
        Ok(s) => RefCell::new(s),
        Err(o) => return o,
    };
    // One client socket while cases pass; after a failure the server may have been
    // started again (another port, or another namespace), and an error of the old one
    // (ICMP port unreachable) may wait on the socket: the next case gets a new one.
    let client: RefCell<Option<UdpProbe>> = RefCell::new(None);
    prop::check(
        ctx,
        ctx.run.cases,
        vec(datagram, 1..=6),
        |d| show(d),
        |d| {
            server.borrow_mut().run_case(|addr| {
                let mut slot = client.borrow_mut();
                if slot.is_none() {
                    *slot = Some(probe(addr)?);
                }
                let result = exchange_all(slot.as_ref().expect("a client socket"), d);
                if result.is_err() {
                    *slot = None;
                }
                result
            })
        },
    )
}

fn datagrams(ctx: &CheckCtx) -> Outcome {
    property(
        ctx,
        prop_oneof![3 => gen::text(1024, 1024), 1 => vec(gen::text_byte(), 1000..=1024)],
    )
}

fn binary(ctx: &CheckCtx) -> Outcome {
    property(ctx, vec(gen::binary_byte(), 1..=1024))
}

/// One step of an interleaving: client `who` sends `data`.
#[derive(Clone, Debug)]
struct Step {
    who: usize,
    data: Vec<u8>,
}

/// Clients take turns as the steps say; after each datagram, the answer must reach the
/// sender and nobody else.
/// `served` is set once any client got an answer in this check.
fn interleave(
    addr: SocketAddr,
    clients: usize,
    steps: &[Step],
    served: &Cell<bool>,
) -> Result<(), CaseError> {
    let probes: Vec<UdpProbe> = (0..clients)
        .map(|_| UdpProbe::new(addr))
        .collect::<Result<_, _>>()
        .map_err(|e| CaseError::silent(format!("could not open a UDP socket: {e}")))?;
    for (i, step) in steps.iter().enumerate() {
        let answered = i > 0;
        probes[step.who].send(&step.data).map_err(|e| CaseError {
            message: e.to_string(),
            answered,
        })?;
        let Some(j) = wait_any(&probes, ANSWER) else {
            prop::waited_out();
            return Err(CaseError {
                message: format!(
                    "client {} sent {} and no client got an answer within {} s{}",
                    step.who + 1,
                    escape::bytes_short(&step.data, 40),
                    ANSWER.as_secs(),
                    first_client_hint(addr.port(), served.get()),
                ),
                answered,
            });
        };
        let got = probes[j].recv(Duration::from_millis(1));
        if matches!(got, Ok(Some(_))) {
            served.set(true);
        }
        match got {
            Ok(Some(got)) if j == step.who && got == upper(&step.data) => {}
            Ok(Some(got)) => {
                return Err(CaseError::answered(format!(
                    "client {} sent {} but client {} received {}: answer each datagram to the address recvfrom() gave with it",
                    step.who + 1,
                    escape::bytes_short(&step.data, 40),
                    j + 1,
                    escape::bytes_short(&got, 40)
                )))
            }
            Ok(None) => {}
            Err(e) => return Err(CaseError { message: format!("client {}: {e}", j + 1), answered }),
        }
    }
    Ok(())
}

/// The "first client only" hint, on its evidence: the server answered datagrams earlier in
/// this check (`served`), and its port is still bound (a server that exited answers nobody,
/// and the check says it exited).
fn first_client_hint(port: u16, served: bool) -> String {
    let bound = crate::sockdiag::bound_sockets(Proto::Udp)
        .is_ok_and(|sockets| sockets.iter().any(|s| s.port == port));
    if served && bound {
        " (the server still runs and answered earlier datagrams, but nothing came to any of this case's clients: a server that answers only the address of its first client fails so; send each answer to the address recvfrom() gave with its datagram)".to_string()
    } else {
        String::new()
    }
}

fn multi_client(ctx: &CheckCtx) -> Outcome {
    let server = match start(ctx) {
        Ok(s) => RefCell::new(s),
        Err(o) => return o,
    };
    // Some client got an answer earlier in this check.
    let served = Cell::new(false);
    let strategy = (2usize..=4).prop_flat_map(|clients| {
        let step = (0..clients, gen::text(24, 24)).prop_map(|(who, data)| Step { who, data });
        (Just(clients), vec(step, 2..=10))
    });
    prop::check(
        ctx,
        ctx.run.cases.clamp(1, 16),
        strategy,
        |(clients, steps)| {
            let s: Vec<String> = steps
                .iter()
                .map(|s| format!("client {} sends {}", s.who + 1, escape::bytes(&s.data)))
                .collect();
            format!("{clients} clients: {}", s.join("; "))
        },
        |(clients, steps)| {
            server
                .borrow_mut()
                .run_case(|addr| interleave(addr, *clients, steps, &served))
        },
    )
}

fn empty_terminates(ctx: &CheckCtx) -> Outcome {
    let mut server = match start(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let probe = match UdpProbe::new(server.addr()) {
        Ok(p) => p,
        Err(e) => return Outcome::error(format!("could not open a UDP socket: {e}")),
    };
    if let Err(e) = probe.send(b"") {
        return Outcome::error(format!("could not send the empty datagram: {e}"));
    }
    let program = server.program();
    match program.wait_exit(EXIT) {
        Some(status) if status.success() => Outcome::pass(""),
        Some(_) => Outcome::fail(format!("after an empty datagram {}", program.exit_story())),
        None => Outcome::fail(format!(
            "the server was still running {} s after an empty datagram: when recvfrom() returns b\"\", close the socket and exit",
            EXIT.as_secs()
        )),
    }
}
