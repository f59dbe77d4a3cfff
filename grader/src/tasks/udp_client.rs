//! `udp-client`: the lecture's stdin-driven UDP client (`client2.py`), run against the
//! grader's own upper-case server ([`UdpPeer`]). Each line read is sent as one datagram
//! and the answering datagram printed as `Output: <answer>`; an empty line or the end of
//! stdin sends one empty datagram ("let the server know we are gone") and ends the client
//! with status 0.

use crate::check::{CheckCtx, CheckDef, Outcome};
use crate::checks::student_client::{self, Stop};
use crate::gen::{self, show_lines};
use crate::peer::UdpPeer;
use crate::task::TaskDef;
use proptest::collection::vec;

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "udp-client",
    title: "UDP client",
    files: &["client2.py"],
    checks: CHECKS,
    check_ms: 100,
    ..TaskDef::PLAIN
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = &[
    &CheckDef {
        id: "roundtrip",
        summary: "each stdin line gives a line `Output: <LINE IN UPPER CASE>`",
        run: roundtrip,
    },
    &CheckDef {
        id: "empty-datagram-on-exit",
        summary:
            "an empty line sends the server an empty datagram and the client exits with status 0",
        run: empty_datagram_on_exit,
    },
    &CheckDef {
        id: "stdin-eof",
        summary: "the end of stdin does the same as an empty line, without a traceback",
        run: stdin_eof,
    },
];

/// The lines of the exit checks.
fn farewell_lines() -> Vec<Vec<u8>> {
    vec![b"hello grader".to_vec(), b"Mixed\tCase 42".to_vec()]
}

fn roundtrip(ctx: &CheckCtx) -> Outcome {
    student_client::property::<UdpPeer, _>(
        ctx,
        ctx.run.cases,
        vec(gen::line(80, 1024), 1..=8),
        |lines| format!("lines {}", show_lines(lines)),
        |lines| lines.clone(),
        |_, _| {},
        false,
    )
}

fn empty_datagram_on_exit(ctx: &CheckCtx) -> Outcome {
    student_client::ending::<UdpPeer>(ctx, &farewell_lines(), Stop::EmptyLine)
}

fn stdin_eof(ctx: &CheckCtx) -> Outcome {
    student_client::ending::<UdpPeer>(ctx, &farewell_lines(), Stop::EndOfInput)
}
