//! The ten lecture tasks, one file each. Every task file lists its checks (SPEC section 4)
//! as [`CheckDef`]s; this module maps task ids to kinds, default file names and checks.

use crate::check::CheckDef;

pub mod counter;
pub mod fork_server;
pub mod multiprint;
pub mod pool_server;
pub mod select_server;
pub mod tcp_client;
pub mod tcp_upper;
pub mod thread_server;
pub mod udp_client;
pub mod udp_upper;

/// A kind of lecture program. A submission has one instance per kind, or several
/// (`multiprint1.py` .. `multiprint3.py`, or manifest entries with `kind = ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    TcpUpper,
    TcpClient,
    UdpUpper,
    UdpClient,
    ForkServer,
    SelectServer,
    ThreadServer,
    PoolServer,
    Counter,
    Multiprint,
}

/// Every kind, in the SPEC's order (the order of reports and CSV columns).
pub const ALL: [Kind; 10] = [
    Kind::TcpUpper,
    Kind::TcpClient,
    Kind::UdpUpper,
    Kind::UdpClient,
    Kind::ForkServer,
    Kind::SelectServer,
    Kind::ThreadServer,
    Kind::PoolServer,
    Kind::Counter,
    Kind::Multiprint,
];

impl Kind {
    /// The task id of SPEC section 1.
    pub fn id(self) -> &'static str {
        match self {
            Kind::TcpUpper => "tcp-upper",
            Kind::TcpClient => "tcp-client",
            Kind::UdpUpper => "udp-upper",
            Kind::UdpClient => "udp-client",
            Kind::ForkServer => "fork-server",
            Kind::SelectServer => "select-server",
            Kind::ThreadServer => "thread-server",
            Kind::PoolServer => "pool-server",
            Kind::Counter => "counter",
            Kind::Multiprint => "multiprint",
        }
    }

    /// The kind with this task id.
    pub fn from_id(id: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.id() == id)
    }

    /// Default file names, each an instance of its own when present (SPEC section 1).
    pub fn default_files(self) -> &'static [&'static str] {
        match self {
            Kind::TcpUpper => &["server1.py"],
            Kind::TcpClient => &["client1.py"],
            Kind::UdpUpper => &["server2.py"],
            Kind::UdpClient => &["client2.py"],
            Kind::ForkServer => &["server-fork.py"],
            Kind::SelectServer => &["server-select.py"],
            Kind::ThreadServer => &["server-thread.py"],
            Kind::PoolServer => &["server-pool.py"],
            Kind::Counter => &["counter.py"],
            Kind::Multiprint => &[
                "multiprint.py",
                "multiprint1.py",
                "multiprint2.py",
                "multiprint3.py",
            ],
        }
    }

    /// The lecture program this task asks for.
    pub fn title(self) -> &'static str {
        match self {
            Kind::TcpUpper => "TCP upper-case server",
            Kind::TcpClient => "TCP client",
            Kind::UdpUpper => "UDP upper-case server",
            Kind::UdpClient => "UDP client",
            Kind::ForkServer => "fork-per-client server",
            Kind::SelectServer => "select() multiplexing server",
            Kind::ThreadServer => "thread-per-client server",
            Kind::PoolServer => "thread pool sharing accept() under a lock",
            Kind::Counter => "shared counter protected by a Lock",
            Kind::Multiprint => "producer/consumer printing with threads",
        }
    }

    /// The checks of this task, in the SPEC's order.
    pub fn checks(self) -> &'static [CheckDef] {
        match self {
            Kind::TcpUpper => tcp_upper::CHECKS,
            Kind::TcpClient => tcp_client::CHECKS,
            Kind::UdpUpper => udp_upper::CHECKS,
            Kind::UdpClient => udp_client::CHECKS,
            Kind::ForkServer => fork_server::CHECKS,
            Kind::SelectServer => select_server::CHECKS,
            Kind::ThreadServer => thread_server::CHECKS,
            Kind::PoolServer => pool_server::CHECKS,
            Kind::Counter => counter::CHECKS,
            Kind::Multiprint => multiprint::CHECKS,
        }
    }
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
            let kind = Kind::from_id(task).unwrap();
            let ours: Vec<&str> = kind.checks().iter().map(|c| c.id).collect();
            assert_eq!(ours, ids, "checks of {task}");
        }
    }
}
