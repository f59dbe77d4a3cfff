//! Every fixture folder graded by the real binary, its verdicts compared with its row of
//! `fixtures/expected.toml`: each listed check fails, every other check of the row's tasks
//! passes, and the row names exactly the tasks present. A folder without a row fails, so
//! the table cannot fall behind the fixtures. The rules live in `grader::expected`, which
//! `grader selftest` uses too.
//!
//! Isolation is an axis: every folder is graded as the environment says (`--isolate auto`
//! unless `GRADER_ISOLATE` is set: private network namespaces where the machine allows
//! them), and the rows where namespaces change the verdict or the code that decides it are
//! graded again without them (`none`). That replaces a second pass over every row: the
//! grader must judge alike where a machine does not allow namespaces.

use crate::common::{fixtures, grade_isolated};
use grader::expected::{exit_code, judge};
use grader::report::Report;
use rstest::rstest;
use std::path::{Path, PathBuf};

#[rstest]
fn fixture_verdicts_match_the_table(
    #[files("../fixtures/good/*")]
    #[files("../fixtures/bad/*")]
    #[files("../fixtures/reference")]
    #[files("../fixtures/hostile/shell-escapee")]
    #[files("../fixtures/hostile/neighbour-attack")]
    dir: PathBuf,
) {
    verdicts_match(&dir, None);
}

/// The rows graded again without namespaces, and why each one: its verdict depends on
/// them, it covers every task, or the code that decides its verdict takes another path
/// without them (the port a server gets, where a client's peer listens, which sockets
/// `/proc` shows, how programs are boxed).
#[rstest]
// needs_namespace: the verdict itself changes (every check fails, naming PORT).
#[case::lecture_verbatim("good/lecture-verbatim")]
// Every one of the ten tasks passing, in Python and in the Rust references.
#[case::lecture("good/lecture")]
#[case::reference("reference")]
// A server on the wrong port and a port still held: readiness reads the socket tables.
#[case::tcp_wrong_port("bad/tcp-wrong-port")]
#[case::tcp_no_reuseaddr("bad/tcp-no-reuseaddr")]
// Sockets left open after EOF (lingering connections are read from /proc).
#[case::fork_parent_keeps_conn("bad/fork-parent-keeps-conn")]
#[case::select_never_closes("bad/select-never-closes")]
// Clients against the grader's peers (on 4444 in a namespace, on a free port without).
#[case::client_styles("good/client-styles")]
#[case::tcp_client_waits_for_server("bad/tcp-client-waits-for-server")]
#[case::udp_client_no_goodbye("bad/udp-client-no-goodbye")]
// Several clients at once, a UDP server's sockets, a listen queue.
#[case::thread_global_conn("bad/thread-global-conn")]
#[case::udp_first_client_only("bad/udp-first-client-only")]
#[case::pool_dies_on_reset("bad/pool-dies-on-reset")]
// Hostile programs: without namespaces only the other layers hold them.
#[case::shell_escapee("hostile/shell-escapee")]
#[case::neighbour_attack("hostile/neighbour-attack")]
fn fixture_verdicts_hold_without_namespaces(#[case] rel: &str) {
    verdicts_match(&fixtures().join(rel), Some("none"));
}

/// Grades `dir` (with `--isolate isolate`, or as the environment says) and compares the
/// verdicts and the exit code with the folder's row.
fn verdicts_match(dir: &Path, isolate: Option<&str>) {
    let rel = dir
        .strip_prefix(fixtures())
        .expect("under fixtures/")
        .to_string_lossy()
        .replace('\\', "/");
    let rows =
        grader::expected::load(&fixtures().join("expected.toml")).expect("fixtures/expected.toml");
    let row = rows
        .get(&rel)
        .unwrap_or_else(|| panic!("fixture {rel} has no row in fixtures/expected.toml"));
    let (report, code) = grade_isolated(dir, &[], isolate);
    let report: Report = serde_json::from_value(report).expect("a grader report");
    if isolate == Some("none") {
        assert!(
            !report.isolation.iter().any(|l| l == "network-namespace"),
            "fixture {rel}: graded with --isolate none, yet in a network namespace"
        );
    }
    let mut problems = judge(row, &report);
    let want = exit_code(row, &report);
    if code != want {
        problems.push(format!("exit code {code}, expected {want}"));
    }
    assert!(
        problems.is_empty(),
        "fixture {rel} (seed {}, isolation {:?}):\n  {}",
        report.seed,
        report.isolation,
        problems.join("\n  ")
    );
}
