//! `tcp-upper`: the lecture's iterative TCP upper-case server (`server1.py`). It may serve
//! one client and exit or serve clients one after another; the grader restarts it as
//! needed. Checks: the stream checks, plus `reuse-addr`.

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::checks::served;
use crate::checks::stream::{self, roundtrip, ANSWER};
use crate::probe::tcp::{self, Fragment, Reading};
use crate::procfs::Proto;
use crate::session::Server;
use crate::task::TaskDef;
use std::time::Duration;

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "tcp-upper",
    title: "TCP upper-case server",
    files: &["server1.py"],
    one_shot: true,
    checks: CHECKS,
    check_ms: 1100,
    ..TaskDef::PLAIN
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = &[
    &served::ECHO,
    &served::FRAGMENTED,
    &CheckDef {
        id: "binary",
        summary: stream::BINARY,
        run: |ctx| stream::binary(ctx, LaunchOpts::default()),
    },
    &CheckDef {
        id: "large",
        summary: stream::LARGE_SUMMARY,
        run: |ctx| stream::large(ctx, LaunchOpts::default()),
    },
    &served::EOF,
    &CheckDef {
        id: "reuse-addr",
        summary:
            "a new server binds the same port at once after the old one was killed mid-connection",
        run: reuse_addr,
    },
];

/// `reuse-addr`: kill the server while a client is connected, start a new one on the same
/// port at once; it must bind (SO_REUSEADDR) and serve.
fn reuse_addr(ctx: &CheckCtx) -> Outcome {
    let mut server = match Server::start(ctx, Proto::Tcp, LaunchOpts::default()) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let port = server.port();
    let ping = [Fragment {
        pause: Duration::ZERO,
        data: b"ping".to_vec(),
    }];
    let stream = match tcp::connect(server.addr(), stream::CONNECT) {
        Ok(s) => s,
        Err(e) => return Outcome::fail(format!("could not connect: {e}")),
    };
    let ex = tcp::exchange(&stream, &ping, false, &Reading::exact(4, ANSWER));
    if ex.received != b"PING" {
        return Outcome::fail(format!(
            "sent \"ping\", got {} ({})",
            crate::escape::bytes_short(&ex.received, 40),
            if ex.ending().is_empty() {
                "the answer must be \"PING\"".to_string()
            } else {
                ex.ending()
            }
        ));
    }
    // The connection stays open while the server dies: its socket lingers on the port.
    server.program().kill();
    if let Err(o) = server.launch_on(port) {
        return Outcome::fail(format!(
            "the server was killed while a client was connected; a new server started at once on the same port could not serve: {}. Set SO_REUSEADDR before bind(): srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            o.message
        ));
    }
    drop(stream);
    let hello = [Fragment {
        pause: Duration::ZERO,
        data: b"again".to_vec(),
    }];
    match server.run_case(|addr| roundtrip(addr, &hello, &Reading::exact(5, ANSWER))) {
        Ok(()) => Outcome::pass(""),
        Err(e) => e.into_outcome("the restarted server bound the port but did not serve: "),
    }
}
