//! `tcp-client`: the lecture's stdin-driven TCP client (`client1.py`), run against the
//! grader's own upper-case server ([`TcpPeer`]). Each line read is sent, the whole answer
//! read (whatever its fragmentation or length) and printed as `Output: <answer>`; an empty
//! line or the end of stdin closes the connection and ends the client with status 0.

use crate::check::{CheckCtx, CheckDef, Outcome};
use crate::checks::student_client::{self, Stop};
use crate::escape;
use crate::gen::{self, show_fragments, show_lines, upper};
use crate::peer::{Answer, Piece, TcpPeer};
use crate::probe::tcp::Fragment;
use crate::task::TaskDef;
use proptest::collection::vec;
use proptest::prelude::*;
use std::time::Duration;

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "tcp-client",
    title: "TCP client",
    files: &["client1.py"],
    checks: CHECKS,
    check_ms: 200,
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
        id: "fragmented-reply",
        summary: "an answer arriving in small delayed pieces is still printed whole",
        run: fragmented_reply,
    },
    &CheckDef {
        id: "long-reply",
        summary: "answers longer than 1024 bytes are printed whole",
        run: long_reply,
    },
    &CheckDef {
        id: "empty-line-exits",
        summary: "an empty line closes the connection and the client exits with status 0",
        run: empty_line_exits,
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

/// Each line answered in one write, once all of it has arrived.
fn whole_answers(peer: &TcpPeer, lines: &[Vec<u8>]) {
    peer.plan(lines.iter().map(|l| Answer::whole(l.len())));
}

fn roundtrip(ctx: &CheckCtx) -> Outcome {
    student_client::property::<TcpPeer, _>(
        ctx,
        ctx.run.cases,
        vec(gen::line(80, 1024), 1..=8),
        |lines| format!("lines {}", show_lines(lines)),
        |lines| lines.clone(),
        |peer, lines| whole_answers(peer, lines),
        false,
    )
}

/// A line and the pieces its answer is cut into (the pieces of the line, upper-cased).
fn line_in_pieces() -> impl Strategy<Value = Vec<Fragment>> {
    let pause = (100u64..=1000).prop_map(Duration::from_micros);
    vec((pause, vec(gen::line_byte(), 1..=16)), 1..=6).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(pause, data)| Fragment { pause, data })
            .collect()
    })
}

fn show_pieces(lines: &[Vec<Fragment>]) -> String {
    let shown: Vec<String> = lines
        .iter()
        .map(|pieces| {
            let answer: Vec<Fragment> = pieces
                .iter()
                .map(|f| Fragment {
                    pause: f.pause,
                    data: upper(&f.data),
                })
                .collect();
            format!(
                "line {} answered as {}",
                escape::bytes_short(&gen::joined(pieces), 80),
                show_fragments(&answer)
            )
        })
        .collect();
    shown.join("; ")
}

fn fragmented_reply(ctx: &CheckCtx) -> Outcome {
    student_client::property::<TcpPeer, _>(
        ctx,
        ctx.run.cases,
        vec(line_in_pieces(), 1..=6),
        |lines| show_pieces(lines),
        |lines| lines.iter().map(|p| gen::joined(p)).collect(),
        |peer, lines| {
            peer.plan(lines.iter().map(|pieces| {
                Answer {
                    pieces: pieces
                        .iter()
                        .map(|f| Piece {
                            len: f.data.len(),
                            pause: f.pause,
                        })
                        .collect(),
                }
            }))
        },
        true,
    )
}

fn long_reply(ctx: &CheckCtx) -> Outcome {
    let long = prop_oneof![
        3 => vec(gen::line_byte(), 1500..=5000),
        1 => vec(gen::line_byte(), 1025..=1100),
    ];
    student_client::property::<TcpPeer, _>(
        ctx,
        ctx.run.cases.clamp(1, 12),
        vec(long, 1..=3),
        |lines| {
            let lens: Vec<String> = lines.iter().map(|l| l.len().to_string()).collect();
            format!("lines of {} bytes: {}", lens.join(", "), show_lines(lines))
        },
        |lines| lines.clone(),
        |peer, lines| whole_answers(peer, lines),
        false,
    )
}

fn empty_line_exits(ctx: &CheckCtx) -> Outcome {
    student_client::ending::<TcpPeer>(ctx, &farewell_lines(), Stop::EmptyLine)
}

fn stdin_eof(ctx: &CheckCtx) -> Outcome {
    student_client::ending::<TcpPeer>(ctx, &farewell_lines(), Stop::EndOfInput)
}
