//! Every platform format validated against what its platform reads (SPEC 6), for a
//! correct, a failing and an empty submission: Gradescope's `results.json`, PrairieLearn's
//! external-grader `results.json`, JUnit XML in the shape of the Ant/Surefire XSD that
//! GitLab and Jenkins read, GitHub workflow commands with the job summary and Classroom's
//! runner result, and Autolab's last-line JSON. The graded reports come from one cheap
//! check (`counter/total`) rendered into each format; the empty submission goes through
//! `grader check` itself, with `--output` in folders that do not exist yet.

use crate::common::{fixtures, grader, seed};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One point per check of the ten tasks: the maximum of a submission graded in full.
const FULL: f64 = 56.0;

const FORMATS: [&str; 5] = ["gradescope", "prairielearn", "junit", "github", "autolab"];

/// Which submission: what its score must be.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Case {
    Correct,
    Failing,
    Empty,
}

// ---- the validators, one per platform ----

fn number(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

fn string<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// Gradescope autograder `results.json`: `score`, integer `execution_time`, `output`,
/// `tests[]` with `name`, `score` <= `max_score`, `status` passed/failed, `output`,
/// `visibility` one of Gradescope's four.
fn gradescope(text: &str, case: Case) {
    let v: Value = serde_json::from_str(text).expect("JSON");
    let score = number(&v["score"], "score");
    assert!(
        v["execution_time"].is_u64(),
        "execution_time: an integer: {v}"
    );
    string(&v["output"], "output");
    assert!(["text", "html", "md", "simple_format", "ansi"]
        .contains(&string(&v["output_format"], "output_format")));
    let tests = v["tests"].as_array().expect("tests");
    assert!(!tests.is_empty(), "the tests show what was graded");
    let mut max = 0.0;
    for t in tests {
        string(&t["name"], "name");
        string(&t["output"], "output");
        let (s, m) = (
            number(&t["score"], "score"),
            number(&t["max_score"], "max_score"),
        );
        assert!(0.0 <= s && s <= m, "{t}");
        max += m;
        assert!(["passed", "failed"].contains(&string(&t["status"], "status")));
        assert!(["visible", "hidden", "after_due_date", "after_published"]
            .contains(&string(&t["visibility"], "visibility")));
    }
    match case {
        Case::Correct => assert_eq!(score, max, "{v}"),
        Case::Failing => assert!(score < max, "{v}"),
        Case::Empty => {
            assert_eq!(score, 0.0);
            assert_eq!(max, FULL, "the full maximum: {v}");
            assert!(string(&v["output"], "output").contains("no recognised program"));
        }
    }
}

/// PrairieLearn external grader `results.json`: `gradable`, `score` in 0..1, `message`,
/// `tests[]` with `name`, `description`, `points` <= `max_points`, `message`, `output`.
fn prairielearn(text: &str, case: Case) {
    let v: Value = serde_json::from_str(text).expect("JSON");
    assert_eq!(
        v["gradable"], true,
        "only a grader failure is not gradable: {v}"
    );
    let score = number(&v["score"], "score");
    assert!((0.0..=1.0).contains(&score), "{v}");
    let message = string(&v["message"], "message");
    for t in v["tests"].as_array().expect("tests") {
        for k in ["name", "description", "message", "output"] {
            string(&t[k], k);
        }
        assert!(number(&t["points"], "points") <= number(&t["max_points"], "max_points"));
    }
    match case {
        Case::Correct => assert_eq!(score, 1.0),
        Case::Failing => assert!(score < 1.0),
        Case::Empty => {
            assert_eq!(score, 0.0);
            assert!(message.contains("no recognised program"), "{message}");
        }
    }
}

/// JUnit XML as the Ant/Surefire XSD has it: `testsuites` of `testsuite`s of `testcase`s
/// (`name`, `classname`, `time`), each with at most one `failure`, `error` or `skipped`,
/// and counts that add up.
fn junit(text: &str, case: Case) {
    let doc = roxmltree::Document::parse(text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let count = |n: roxmltree::Node, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("{a} missing"))
            .parse()
            .unwrap_or_else(|_| panic!("{a} is not a count"))
    };
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(suite.attribute("name").is_some());
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(count(suite, "tests"), cases.len());
        let (mut f, mut e, mut s) = (0, 0, 0);
        for c in &cases {
            assert_eq!(c.tag_name().name(), "testcase");
            assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
            c.attribute("time")
                .unwrap()
                .parse::<f64>()
                .expect("time in seconds");
            let outcomes: Vec<&str> = c
                .children()
                .filter(|n| n.is_element())
                .map(|n| n.tag_name().name())
                .filter(|n| ["failure", "error", "skipped"].contains(n))
                .collect();
            assert!(outcomes.len() <= 1, "one outcome per test case");
            match outcomes.first() {
                Some(&"failure") => f += 1,
                Some(&"error") => e += 1,
                Some(_) => s += 1,
                None => {}
            }
        }
        assert_eq!(
            (
                count(suite, "failures"),
                count(suite, "errors"),
                count(suite, "skipped")
            ),
            (f, e, s)
        );
        tests += cases.len();
        (failures, errors, skipped) = (failures + f, errors + e, skipped + s);
    }
    assert_eq!(
        (
            count(root, "tests"),
            count(root, "failures"),
            count(root, "errors"),
            count(root, "skipped")
        ),
        (tests, failures, errors, skipped)
    );
    match case {
        Case::Correct => assert_eq!((tests, failures + errors + skipped), (1, 0)),
        Case::Failing => assert_eq!((tests, failures), (1, 1)),
        Case::Empty => {
            assert_eq!((tests, failures, skipped), (10, 10, 0), "missing: failures");
            assert!(text.contains("no recognised program"));
        }
    }
}

/// GitHub Actions: workflow commands (`::error`/`::warning`/`::notice` with escaped
/// properties), then one plain score line and no `Points` notice of its own.
fn github(text: &str, case: Case) {
    let (commands, last) = text
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", text.trim_end()));
    for line in commands.lines() {
        let rest = [
            "::error ",
            "::warning ",
            "::notice ",
            "::error::",
            "::warning::",
        ]
        .iter()
        .find_map(|p| line.strip_prefix(p))
        .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        assert!(
            rest.contains("::") || line.matches("::").count() >= 2,
            "{line}"
        );
    }
    assert!(!text.contains("Points"), "{text}");
    let want = match case {
        Case::Correct => "grader: score 1/1 (seed ",
        Case::Failing => "grader: score 0/1 (seed ",
        Case::Empty => "grader: score 0/56 (seed ",
    };
    assert!(last.starts_with(want), "{last}");
}

/// Autolab: the last line is `{"scores": {task: number, ...}, "scoreboard": [number]}`.
fn autolab(text: &str, case: Case) {
    let last = text.trim_end().lines().last().unwrap();
    let v: Value = serde_json::from_str(last).expect("the last line is JSON");
    let scores = v["scores"].as_object().expect("scores");
    assert_eq!(scores.len(), 10, "one per task id");
    let total: f64 = scores.values().map(|s| number(s, "a score")).sum();
    let board = v["scoreboard"].as_array().expect("scoreboard");
    assert_eq!(number(&board[0], "scoreboard"), total);
    assert_eq!(total, if case == Case::Correct { 1.0 } else { 0.0 });
}

fn validate(format: &str, text: &str, case: Case) {
    match format {
        "gradescope" => gradescope(text, case),
        "prairielearn" => prairielearn(text, case),
        "junit" => junit(text, case),
        "github" => github(text, case),
        "autolab" => autolab(text, case),
        _ => unreachable!(),
    }
}

/// Grades `dir` once as JSON (counter/total) and returns the report file.
fn graded(dir: &Path, work: &Path, name: &str) -> PathBuf {
    let report = work.join(format!("{name}.json"));
    grader()
        .arg("check")
        .arg(dir)
        .args(["--task", "counter", "--check", "total", "--format", "json"])
        .args(["--seed", &seed(), "--output"])
        .arg(&report)
        .assert()
        .code(if name == "correct" { 0 } else { 1 });
    report
}

#[test]
fn every_format_is_valid_for_a_correct_a_failing_and_an_empty_submission() {
    let work = tempfile::tempdir().unwrap();
    for (case, dir) in [
        (Case::Correct, fixtures().join("good/lecture")),
        (Case::Failing, fixtures().join("bad/counter-off-by-one")),
    ] {
        let name = if case == Case::Correct {
            "correct"
        } else {
            "failing"
        };
        let report = graded(&dir, work.path(), name);
        for format in FORMATS {
            let out = grader()
                .arg("render")
                .arg(&report)
                .args(["--format", format])
                .output()
                .unwrap();
            assert!(out.status.success());
            validate(format, &String::from_utf8(out.stdout).unwrap(), case);
        }
    }
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("README.md"), "my server is in my head").unwrap();
    for format in FORMATS {
        // PrairieLearn's /grade/results/ is not there before the grader runs.
        let file = work.path().join("results").join(format).join("results.out");
        let summary = work.path().join(format!("{format}.summary.md"));
        let run = grader()
            .arg("check")
            .arg(&empty)
            .args(["--format", format, "--output"])
            .arg(&file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{format}: a result, and exit 1");
        assert!(
            String::from_utf8_lossy(&run.stderr).contains("no recognised program"),
            "{format}: the reason on stderr too"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        validate(format, &text, Case::Empty);
        if format == "github" {
            let md = std::fs::read_to_string(&summary).unwrap();
            assert!(md.starts_with("### grader: 0/56 points"), "{md}");
            assert!(md.contains("Not graded: no recognised program"), "{md}");
        }
    }
}

#[test]
fn a_hidden_check_with_points_waits_for_publication_on_gradescope() {
    let work = tempfile::tempdir().unwrap();
    let report = graded(&fixtures().join("good/lecture"), work.path(), "correct");
    let rubric = work.path().join("rubric.toml");
    std::fs::write(
        &rubric,
        "[tasks.counter]\nhidden = [\"total\", \"race-free\"]\n[tasks.counter.checks]\ntotal = 1.6\nrace-free = 0\n",
    )
    .unwrap();
    let out = grader()
        .arg("render")
        .arg(&report)
        .args(["--format", "gradescope", "--rubric"])
        .arg(&rubric)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    gradescope(&String::from_utf8(out.stdout).unwrap(), Case::Correct);
    let hidden = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "counter: hidden-1")
        .expect("the hidden check, anonymous");
    assert_eq!(hidden["visibility"], "after_published");
    assert_eq!(hidden["max_score"], 1.6);
    std::fs::write(
        &rubric,
        "[tasks.counter]\nhidden = [\"total\"]\n[tasks.counter.checks]\ntotal = 0\n",
    )
    .unwrap();
    let out = grader()
        .arg("render")
        .arg(&report)
        .args(["--format", "gradescope", "--rubric"])
        .arg(&rubric)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["tests"][0]["visibility"], "hidden",
        "worth nothing: hidden"
    );
}
