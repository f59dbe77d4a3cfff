//! A failing submission costs little (issue 14.7): a property's first case is its
//! simplest value, so a program that fails whatever it is given fails there and is not
//! shrunk, and a deadline it waits out is paid once. The counterexample shown proves
//! which path was taken: the simplest case, whatever the seed.

use crate::common::{fixtures, grade};
use rstest::rstest;

/// A server that never closes a connection after the client half-closed fails `eof` on
/// the simplest case, one one-byte fragment: through the property run (a concurrent
/// server, one connection per case) and through `tcp-upper`'s two-connection batch (a
/// server that may be one-shot), where the failing first connection is the verdict at once
/// instead of a second run on a used process.
#[rstest]
#[case::select_server("bad/select-never-closes", "select-server")]
#[case::one_shot_tcp_upper("bad/tcp-loops-on-empty-recv", "tcp-upper")]
fn a_server_that_never_closes_fails_eof_on_the_simplest_case(
    #[case] fixture: &str,
    #[case] task: &str,
) {
    let (report, code) = grade(
        &fixtures().join(fixture),
        &["--task", task, "--check", "eof"],
    );
    assert_eq!(code, 1, "{report}");
    let check = &report["tasks"][0]["checks"][0];
    assert_eq!(check["status"], "fail", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap_or_default()
            .contains("did not close the connection"),
        "{check}"
    );
    assert_eq!(
        check["counterexample"], "sent \"a\", then half-closed",
        "{check}"
    );
}
