//! `udp-client`: the lecture's stdin-driven UDP client (`client2.py`), run against the
//! grader's own upper-case server ([`UdpPeer`]). Each line read is sent as one datagram
//! and the answering datagram printed as `Output: <answer>`; an empty line or the end of
//! stdin sends one empty datagram ("let the server know we are gone") and ends the client
//! with status 0.

use crate::task::TaskDef;
use crate::check::{CheckCtx, CheckDef, Outcome};
use crate::checks::client::{self, Peer, Stop};
use crate::checks::heard::{self, Heard};
use crate::gen::{self, show_lines};
use crate::peer::UdpPeer;
use proptest::collection::vec;
use std::time::Duration;

/// The task.
pub static TASK: TaskDef = TaskDef {
    id: "udp-client",
    title: "UDP client",
    files: &["client2.py"],
    lecture_name: None,
    one_shot: false,
    serves_until_killed: false,
    may_end_in: &[],
    checks: CHECKS,
};

/// The checks of SPEC section 4, in order.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "roundtrip",
        summary: "each stdin line gives a line `Output: <LINE IN UPPER CASE>`",
        run: roundtrip,
    },
    CheckDef {
        id: "empty-datagram-on-exit",
        summary:
            "an empty line sends the server an empty datagram and the client exits with status 0",
        run: empty_datagram_on_exit,
    },
    CheckDef {
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
    client::property::<UdpPeer, _>(
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
    client::ending::<UdpPeer>(ctx, &farewell_lines(), Stop::EmptyLine)
}

fn stdin_eof(ctx: &CheckCtx) -> Outcome {
    client::ending::<UdpPeer>(ctx, &farewell_lines(), Stop::EndOfInput)
}

impl Peer for UdpPeer {
    fn start() -> std::io::Result<UdpPeer> {
        UdpPeer::start()
    }

    fn port(&self) -> u16 {
        UdpPeer::port(self)
    }

    fn contacted(&self) -> bool {
        self.state().read(|s| !s.datagrams.is_empty())
    }

    fn heard(&self, lines: &[Vec<u8>], skip: usize) -> Heard {
        self.state()
            .read(|s| heard::datagrams(&s.datagrams, lines, skip))
    }

    fn got(&self, line: &[u8]) -> bool {
        self.state().read(|s| s.datagrams.iter().any(|d| d == line))
    }

    fn wait_answered(&self, lines: &[Vec<u8>], timeout: Duration) -> bool {
        self.state().wait_until(timeout, |s| {
            s.answered >= lines.len() && heard::datagrams(&s.datagrams, lines, 0) == Heard::All
        })
    }

    fn answers_sent(&self) -> usize {
        self.state()
            .read(|s| s.datagrams.iter().filter(|d| !d.is_empty()).count())
    }

    fn goodbye(&self, lines: &[Vec<u8>], timeout: Duration) -> Result<(), String> {
        if !self.state().wait_until(timeout, |s| s.saw_empty()) {
            return Err(
                "the client exited without sending the empty datagram that tells the server it is gone: send b\"\" before closing the socket".into(),
            );
        }
        let mut expected = lines.to_vec();
        expected.push(Vec::new());
        match self
            .state()
            .read(|s| heard::datagrams(&s.datagrams, &expected, 0))
        {
            Heard::All => Ok(()),
            Heard::Part => Err("the server received the empty datagram too early".into()),
            Heard::Wrong(why) => Err(why),
        }
    }

    fn goodbye_so_far(&self) -> String {
        if self.state().read(|s| s.saw_empty()) {
            "the server had received the empty datagram".to_string()
        } else {
            "no empty datagram had reached the server".to_string()
        }
    }
}
