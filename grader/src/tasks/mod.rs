//! The table of lecture tasks: one file per task (SPEC section 3), each with a `TASK`
//! static ([`TaskDef`]) that lists its checks (SPEC section 4), and one line per task in
//! [`tasks!`] below, which declares the module and puts it in [`ALL`]. This is the only
//! place that names every task.

use crate::task::{Kind, TaskDef};

/// Declares each task module and lists its `TASK` in [`ALL`], in the order given.
macro_rules! tasks {
    ($($task:ident),* $(,)?) => {
        $(pub(crate) mod $task;)*
        /// Every task, in the SPEC's order (the order of reports and CSV columns).
        pub(crate) const ALL: &[&TaskDef] = &[$(&$task::TASK),*];
    };
}

tasks! {
    tcp_upper,
    tcp_client,
    udp_upper,
    udp_client,
    fork_server,
    select_server,
    thread_server,
    pool_server,
    counter,
    multiprint,
}

/// The task with id `id`.
pub(crate) fn by_id(id: &str) -> Option<Kind> {
    crate::task::find(ALL, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check ids of SPEC section 4, verbatim: reports and rubrics depend on them.
    #[test]
    fn check_ids_match_the_spec() {
        let spec: [(&str, &[&str]); 10] = [
            (
                "tcp-upper",
                &["echo", "fragmented", "binary", "large", "eof", "reuse-addr"],
            ),
            (
                "fork-server",
                &[
                    "echo",
                    "fragmented",
                    "concurrent",
                    "isolation",
                    "eof",
                    "child-per-client",
                    "reaps-children",
                ],
            ),
            (
                "thread-server",
                &[
                    "echo",
                    "fragmented",
                    "concurrent",
                    "isolation",
                    "eof",
                    "thread-per-client",
                    "no-thread-leak",
                ],
            ),
            (
                "pool-server",
                &[
                    "echo",
                    "fragmented",
                    "concurrent",
                    "isolation",
                    "eof",
                    "bounded-threads",
                    "queued-clients",
                ],
            ),
            (
                "select-server",
                &[
                    "echo",
                    "fragmented",
                    "concurrent",
                    "isolation",
                    "eof",
                    "single-thread",
                    "no-fd-leak",
                    "slow-reader",
                ],
            ),
            (
                "udp-upper",
                &[
                    "echo",
                    "datagrams",
                    "binary",
                    "multi-client",
                    "empty-terminates",
                ],
            ),
            (
                "tcp-client",
                &[
                    "roundtrip",
                    "fragmented-reply",
                    "long-reply",
                    "empty-line-exits",
                    "stdin-eof",
                ],
            ),
            (
                "udp-client",
                &["roundtrip", "empty-datagram-on-exit", "stdin-eof"],
            ),
            ("counter", &["total", "race-free", "uses-threads"]),
            (
                "multiprint",
                &[
                    "every-char-once",
                    "all-done",
                    "terminates",
                    "no-busy-wait",
                    "race-free",
                ],
            ),
        ];
        for (task, ids) in spec {
            let kind = by_id(task).unwrap();
            let ours: Vec<&str> = kind.checks.iter().map(|c| c.id).collect();
            assert_eq!(ours, ids, "checks of {task}");
        }
    }

    /// The reference programs (`reference` crate, which cannot see this table) are the
    /// same tasks, in the same order.
    #[test]
    fn the_reference_programs_are_these_tasks() {
        let ours: Vec<&str> = ALL.iter().map(|k| k.id).collect();
        assert_eq!(reference::ids(), ours);
    }
}
