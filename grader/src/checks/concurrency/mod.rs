//! The checks every concurrent server has (SPEC section 4), written once for the fork,
//! thread, pool and select servers: `concurrent` (a client is served while others are
//! connected and idle) and `isolation` (clients connected together each get exactly their
//! own answers). Each task passes its environment and its own advice for the student.

mod isolation;

pub(crate) use isolation::{isolation, Advice};

use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::checks::grader_clients;
use crate::checks::inspect::ordinal;
use crate::escape;
use crate::procfs::Proto;
use crate::session::Server;
use std::time::{Duration, Instant};

/// Deadline for an answer while other clients are connected. A server that serves one
/// client at a time never answers, so this is generous.
pub(crate) const ANSWER: Duration = crate::checks::stream::ANSWER;

/// One-line meanings, for reports.
pub(crate) const CONCURRENT: &str = "a client is served while other clients are connected and idle";
pub(crate) const ISOLATION: &str =
    "clients connected together, writing in turns, each get exactly their own answers";

/// "the program exited with status 1; ..." when the server has ended, else nothing.
pub(crate) fn ending(server: &mut Server) -> String {
    let program = server.program();
    if program.status().is_some() {
        format!("; {}", program.exit_story())
    } else {
        String::new()
    }
}

/// `concurrent`: `idle` clients connect and send nothing; one more client must then be
/// served within [`ANSWER`]. `advice` says what to do when it is not.
pub(crate) fn concurrent(ctx: &CheckCtx, opts: LaunchOpts, idle: usize, advice: &str) -> Outcome {
    let mut server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let (addr, pid) = (server.addr(), server.program().pid());
    let mut idle_clients = Vec::new();
    for i in 0..idle {
        match grader_clients::connect_now(pid, addr) {
            Ok(s) => idle_clients.push(s),
            Err(e) => {
                let end = ending(&mut server);
                return Outcome::fail(format!(
                    "{}could not connect ({e}){end}: {advice}",
                    while_connected(i)
                ));
            }
        }
    }
    let message = b"anybody there?";
    let start = Instant::now();
    let probe = match grader_clients::connect_now(pid, addr) {
        Ok(s) => s,
        Err(e) => {
            let end = ending(&mut server);
            let within = if e.kind() == std::io::ErrorKind::Other {
                String::new() // known at once: the message says why
            } else {
                format!(" within {} s", grader_clients::CONNECT.as_secs())
            };
            return Outcome::fail(format!(
                "while {} connected and idle (connected, nothing sent), a {} client could not even connect{within} ({e}){end}: {advice}",
                connected(idle),
                ordinal(idle + 1),
            ));
        }
    };
    // Its waits count the server's time, and end when it can never answer.
    let asked =
        crate::probe::tcp::talking_to(Some(pid), || grader_clients::ask(&probe, message, ANSWER));
    match asked {
        Ok(()) => Outcome::pass(format!(
            "while {} connected and idle, a {} was served in {} ms",
            connected(idle),
            ordinal(idle + 1),
            start.elapsed().as_millis()
        )),
        Err(what) => {
            let end = ending(&mut server);
            Outcome::fail(format!(
                "while {} connected and idle (connected, nothing sent), a {} client sent {} and {what}{end}: {advice}",
                connected(idle),
                ordinal(idle + 1),
                escape::bytes(message)
            ))
        }
    }
}

/// "" for the first client, "while 2 clients were connected and idle, a 3rd " after.
fn while_connected(i: usize) -> String {
    if i == 0 {
        String::new()
    } else {
        format!(
            "while {} connected and idle, a {} ",
            connected(i),
            ordinal(i + 1)
        )
    }
}

/// "1 client was", "3 clients were".
pub(crate) fn connected(n: usize) -> String {
    if n == 1 {
        "1 client was".into()
    } else {
        format!("{n} clients were")
    }
}
