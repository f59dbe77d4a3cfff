//! The platform formats (SPEC section 5, `--format`): each checked against a golden file
//! rendered from a fixed, hostile report (`tests/golden/report.json`: markup, control
//! characters, `%`, workflow-command text, a hidden check, an error, a missing task), and
//! against the shape its platform reads on a real run. `GRADER_UPDATE_GOLDEN=1` rewrites
//! the golden files after a deliberate change.

use crate::common::{fixtures, grader, root, seed};
use serde_json::Value;
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    root().join("tests/golden").join(name)
}

fn render(format: &str) -> String {
    let out = grader()
        .arg("render")
        .arg(golden("report.json"))
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_format_matches_its_golden_file() {
    for (format, file) in [
        ("junit", "report.junit.xml"),
        ("gradescope", "report.gradescope.json"),
        ("github", "report.github.txt"),
        ("prairielearn", "report.prairielearn.json"),
        ("autolab", "report.autolab.txt"),
        ("human", "report.human.txt"),
    ] {
        let text = render(format);
        if std::env::var_os("GRADER_UPDATE_GOLDEN").is_some() {
            std::fs::write(golden(file), &text).unwrap();
        }
        let want = std::fs::read_to_string(golden(file)).unwrap();
        assert_eq!(
            text, want,
            "--format {format} differs from tests/golden/{file}"
        );
    }
}

#[test]
fn student_facing_formats_never_name_a_hidden_check() {
    for format in [
        "junit",
        "gradescope",
        "github",
        "prairielearn",
        "autolab",
        "human",
    ] {
        let text = render(format);
        assert!(
            !text.contains("reuse-addr") && !text.contains("SO_REUSEADDR"),
            "--format {format} leaks the hidden check:\n{text}"
        );
    }
    assert!(
        render("json").contains("reuse-addr"),
        "the TA's JSON keeps it"
    );
}

/// The JUnit subset GitLab reads: testsuites > testsuite(name, tests, failures, errors,
/// skipped, time) > testcase(name, classname, time) with at most one failure, error or
/// skipped child carrying a message; the counts agree with the children.
fn assert_junit_shape(xml: &str) {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut total = 0;
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        for a in ["name", "tests", "failures", "errors", "skipped", "time"] {
            assert!(suite.attribute(a).is_some(), "testsuite lacks {a}");
        }
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(suite.attribute("tests").unwrap(), cases.len().to_string());
        for kind in ["failure", "error", "skipped"] {
            let n = cases
                .iter()
                .filter(|c| c.children().any(|k| k.tag_name().name() == kind))
                .count();
            let attr = if kind == "failure" {
                "failures"
            } else if kind == "error" {
                "errors"
            } else {
                "skipped"
            };
            assert_eq!(suite.attribute(attr).unwrap(), n.to_string(), "{attr}");
        }
        for case in cases {
            assert_eq!(case.tag_name().name(), "testcase");
            assert!(case.attribute("name").is_some() && case.attribute("classname").is_some());
            case.attribute("time")
                .unwrap()
                .parse::<f64>()
                .expect("time in seconds");
            let kids: Vec<_> = case.children().filter(|n| n.is_element()).collect();
            assert!(kids.len() <= 1);
            for k in kids {
                assert!(["failure", "error", "skipped"].contains(&k.tag_name().name()));
                assert!(k.attribute("message").is_some());
            }
            total += 1;
        }
    }
    assert_eq!(root.attribute("tests").unwrap(), total.to_string());
}

#[test]
fn junit_is_well_formed_and_in_the_shape_ci_reads() {
    let golden = render("junit");
    assert_junit_shape(&golden);
    assert!(
        golden.contains("&lt;b&gt;&amp;&apos;x&apos;&lt;/b&gt;") && golden.contains("\\u{1b}[2J")
    );
    let out = grader()
        .arg("check")
        .arg(fixtures().join("bad/udp-no-upper"))
        .args(["--format", "junit", "--seed", &seed()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_junit_shape(&String::from_utf8(out.stdout).unwrap());
}

/// Gradescope's results.json: a numeric score and tests with name, score, max_score,
/// status passed/failed, output and a known visibility.
fn assert_gradescope_shape(v: &Value) {
    assert!(v["score"].is_number());
    for t in v["tests"].as_array().expect("tests") {
        assert!(t["name"].is_string() && t["output"].is_string(), "{t}");
        assert!(t["score"].is_number() && t["max_score"].is_number(), "{t}");
        assert!(
            ["passed", "failed"].contains(&t["status"].as_str().unwrap()),
            "{t}"
        );
        assert!(["visible", "hidden", "after_due_date", "after_published"]
            .contains(&t["visibility"].as_str().unwrap()));
    }
}

#[test]
fn gradescope_results_json_on_a_real_run_and_an_unusable_submission() {
    let golden: Value = serde_json::from_str(&render("gradescope")).unwrap();
    assert_gradescope_shape(&golden);
    let work = tempfile::tempdir().unwrap();
    let submission = work.path().join("submission");
    std::fs::create_dir_all(submission.join("my-folder")).unwrap();
    std::fs::copy(
        fixtures().join("bad/udp-no-upper/server2.py"),
        submission.join("my-folder/server2.py"),
    )
    .unwrap();
    let results = work.path().join("results/results.json");
    grader()
        .arg("gradescope")
        .arg("--submission")
        .arg(&submission)
        .arg("--results")
        .arg(&results)
        .args(["--seed", &seed()])
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    assert_gradescope_shape(&v);
    let echo = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "udp-upper: echo")
        .expect("a lone sub-folder is looked through");
    assert_eq!(echo["status"], "failed");
    let empty = tempfile::tempdir().unwrap();
    grader()
        .arg("gradescope")
        .arg("--submission")
        .arg(empty.path())
        .arg("--results")
        .arg(&results)
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    assert_eq!(v["score"], 0.0);
    assert!(v["output"]
        .as_str()
        .unwrap()
        .contains("no recognised program"));
}

#[test]
fn github_commands_are_escaped_and_classroom_gets_its_result() {
    let text = render("github");
    let (commands, last) = text.trim_end().rsplit_once('\n').unwrap();
    for line in commands.lines() {
        assert!(
            line.starts_with("::"),
            "every line but the score is a workflow command: {line}"
        );
    }
    assert_eq!(
        last, "grader: score 2/16 (seed 7)",
        "a plain log line, no second Points notice"
    );
    assert!(
        text.contains("100%25 done\\u{d}%0Agot \\u{1b}[2J"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}') && !text.contains('\0'), "{text}");
    assert!(
        text.contains("file=sub dir/server1.py,title=tcp-upper fragmented::"),
        "{text}"
    );
    assert!(!text.contains("Points"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("github_output");
    grader()
        .arg("check")
        .arg(fixtures().join("good/lecture"))
        .args([
            "--task",
            "udp-upper",
            "--check",
            "echo",
            "--format",
            "github",
        ])
        .env("GITHUB_OUTPUT", &output)
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with("grader: score 1/1 (seed "));
    let line = std::fs::read_to_string(&output).unwrap();
    let encoded = line.trim_end().strip_prefix("result=").expect("result=...");
    let decoded = std::process::Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(encoded.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let v: Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "pass");
    assert_eq!(v["max_score"], 1.0);
    assert_eq!(v["tests"][0]["name"], "udp-upper: echo");
    assert_eq!(v["tests"][0]["status"], "pass");
}

#[test]
fn prairielearn_scores_a_fraction_and_says_when_nothing_could_run() {
    let v: Value = serde_json::from_str(&render("prairielearn")).unwrap();
    assert_eq!(v["gradable"], true);
    assert_eq!(v["score"], 0.125);
    for t in v["tests"].as_array().unwrap() {
        assert!(t["name"].is_string() && t["points"].is_number() && t["max_points"].is_number());
    }
    let mut report: Value =
        serde_json::from_slice(&std::fs::read(golden("report.json")).unwrap()).unwrap();
    for c in report["tasks"][0]["checks"].as_array_mut().unwrap() {
        c["status"] = "error".into();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    std::fs::write(&file, report.to_string()).unwrap();
    let out = grader()
        .arg("render")
        .arg(&file)
        .args(["--format", "prairielearn"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gradable"], false);
}

#[test]
fn autolab_ends_with_the_scores_line() {
    let text = render("autolab");
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["scores"]["tcp-upper"], 2.0);
    assert_eq!(last["scores"]["udp-upper"], 0.0);
    assert_eq!(last["scores"].as_object().unwrap().len(), 10);
}
