//! The checks several server tasks list, each defined once as a [`CheckDef`]: the stream
//! checks of every TCP server (`echo`, `fragmented`, `eof`) and the concurrency checks of
//! the fork, thread and select servers (`concurrent`, `isolation`). Each starts the
//! program with the options of the task at hand ([`TaskDef::launch`]) and gives its advice
//! ([`TaskDef::concurrency`]), so a task file lists them by reference, next to its own.
//!
//! [`TaskDef::launch`]: crate::task::TaskDef::launch
//! [`TaskDef::concurrency`]: crate::task::TaskDef::concurrency

use crate::check::{CheckCtx, CheckDef, Outcome};
use crate::checks::concurrency::{self, Advice};
use crate::checks::stream;
use crate::task::Concurrency;

/// `echo`: a short ASCII message comes back upper-cased.
pub(crate) static ECHO: CheckDef = CheckDef {
    id: "echo",
    summary: stream::ECHO,
    run: |ctx| stream::echo(ctx, ctx.task_launch()),
};

/// `fragmented`: a stream written in random fragments comes back whole and in order.
pub(crate) static FRAGMENTED: CheckDef = CheckDef {
    id: "fragmented",
    summary: stream::FRAGMENTED,
    run: |ctx| stream::fragmented(ctx, ctx.task_launch()),
};

/// `eof`: the server closes its side once the client has closed its own.
pub(crate) static EOF: CheckDef = CheckDef {
    id: "eof",
    summary: stream::EOF,
    run: |ctx| stream::eof(ctx, ctx.task_launch()),
};

/// `concurrent`: a client is served while others are connected and idle.
pub(crate) static CONCURRENT: CheckDef = CheckDef {
    id: "concurrent",
    summary: concurrency::CONCURRENT,
    run: |ctx| {
        with_concurrency(ctx, |c| {
            concurrency::concurrent(ctx, ctx.task_launch(), c.idle, c.serial)
        })
    },
};

/// `isolation`: clients connected together each get exactly their own answers.
pub(crate) static ISOLATION: CheckDef = CheckDef {
    id: "isolation",
    summary: concurrency::ISOLATION,
    run: |ctx| {
        with_concurrency(ctx, |c| {
            let advice = Advice {
                serial: c.serial,
                shared: c.shared,
            };
            concurrency::isolation(ctx, ctx.task_launch(), ISOLATED, advice)
        })
    },
};

/// The checks of a concurrent server (fork, thread, select): the shared ones in the SPEC's
/// order, then those given (the task's own), as a `&[&CheckDef]`.
macro_rules! concurrent_server_checks {
    ($($own:expr),* $(,)?) => {
        &[
            &$crate::checks::served::ECHO,
            &$crate::checks::served::FRAGMENTED,
            &$crate::checks::served::CONCURRENT,
            &$crate::checks::served::ISOLATION,
            &$crate::checks::served::EOF,
            $($own),*
        ]
    };
}

pub(crate) use concurrent_server_checks;

/// The checks of a concurrent server that run one after another on one process of the
/// task ([`TaskDef::shares_server`], [`crate::shared`]), in the SPEC's order: `echo`
/// first, cheap, ends the sharing at once for most broken servers.
///
/// [`TaskDef::shares_server`]: crate::task::TaskDef::shares_server
pub(crate) const SHARED_SERVER: &[&str] = &["echo", "fragmented", "concurrent", "isolation", "eof"];

/// Clients connected together in `isolation`.
const ISOLATED: usize = 4;

/// Runs `check` with the task's [`Concurrency`]; a task that lists a concurrency check
/// without one is the grader's fault, an `error`.
fn with_concurrency(ctx: &CheckCtx, check: impl FnOnce(&Concurrency) -> Outcome) -> Outcome {
    match &ctx.target.kind.concurrency {
        Some(c) => check(c),
        None => Outcome::error(format!(
            "the grader lists `{}` for {} without saying how to judge it; please report it",
            ctx.check, ctx.target.kind.id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every task that lists a concurrency check says how to judge it.
    #[test]
    fn tasks_with_concurrency_checks_have_their_advice() {
        for task in crate::tasks::ALL {
            let listed = task
                .checks
                .iter()
                .any(|c| std::ptr::eq(*c, &CONCURRENT) || std::ptr::eq(*c, &ISOLATION));
            assert_eq!(listed, task.concurrency.is_some(), "{}", task.id);
        }
    }
}
