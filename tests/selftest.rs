//! `grader selftest` (SPEC section 5): it follows `expected.toml`, reports the detection
//! rate, and fails on any surprise: a verdict the table does not expect, a folder without a
//! row, a row without a folder.

use crate::common::{fixtures, grader, seed};
use predicates::prelude::*;
use std::path::Path;

fn copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(
        fixtures().join(from).join("server2.py"),
        to.join("server2.py"),
    )
    .unwrap();
}

const ROWS: &str = r#"
[[fixture]]
path = "good/a"
why = "correct"
[fixture.fail]
udp-upper = []

[[fixture]]
path = "bad/b"
why = "forgot upper()"
[fixture.fail]
udp-upper = ["echo", "datagrams", "binary", "multi-client"]
"#;

#[test]
fn selftest_passes_when_the_table_holds_and_fails_on_a_surprise() {
    let dir = tempfile::tempdir().unwrap();
    copy("good/lecture", &dir.path().join("good/a"));
    copy("bad/udp-no-upper", &dir.path().join("bad/b"));
    std::fs::write(dir.path().join("expected.toml"), ROWS).unwrap();
    let run = || {
        grader()
            .arg("selftest")
            .arg("--fixtures")
            .arg(dir.path())
            .args(["--seed", &seed()])
            .assert()
    };
    run()
        .code(0)
        .stdout(predicate::str::contains("known bugs caught: 1/1 (100%)"))
        .stdout(predicate::str::contains("correct programs passing: 1/1"))
        .stdout(predicate::str::contains("no surprises"));

    let wrong = ROWS.replace(r#"["echo", "datagrams", "binary", "multi-client"]"#, r#"["echo"]"#)
        + "\n[[fixture]]\npath = \"bad/gone\"\nwhy = \"deleted\"\n[fixture.fail]\nudp-upper = [\"echo\"]\n";
    std::fs::write(dir.path().join("expected.toml"), wrong).unwrap();
    copy("good/lecture", &dir.path().join("good/unlisted"));
    run()
        .code(1)
        .stdout(predicate::str::contains("SURPRISE"))
        .stdout(predicate::str::contains(
            "udp-upper/datagrams: expected pass, got fail",
        ))
        .stdout(predicate::str::contains("good/unlisted").and(predicate::str::contains("no row")))
        .stdout(
            predicate::str::contains("bad/gone").and(predicate::str::contains("no such folder")),
        );
}
