//! A submission's files and names as hostile input (SPEC section 7, docs/containment.md):
//! `grader.toml` as a link out, a FIFO, a sparse huge file or a link to `/dev/zero` is
//! refused at once and nothing of the target is quoted; a program file linked out of the
//! submission is a task that says so; a student folder named with U+202E, U+200B and a
//! newline is graded in a batch whose JSON holds `\uXXXX` escapes and whose progress and
//! summary lines hold no raw control or bidi character. The secret is a marker file of the
//! test's own, next to the submission.

use crate::common::{fixtures, grader, seed, text};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The text of the file a hostile link points to; it must appear nowhere.
const MARKER: &str = "marker-b1d1-5ecret-line";

/// Ways to make `dir/grader.toml` hostile, and a word the refusal must say.
const MANIFESTS: [(&str, &str); 4] = [
    ("link-out", "link out"),
    ("fifo", "FIFO"),
    ("sparse", "larger than"),
    ("dev-zero", "link out"),
];

fn secret(work: &Path) -> PathBuf {
    let path = work.join("secret.txt");
    std::fs::write(&path, format!("root:{MARKER}:19000:0:99999:7:::\n")).unwrap();
    path
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// A submission `dir` with the lecture's UDP server and a hostile `grader.toml`.
fn hostile_manifest(dir: &Path, how: &str, secret: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(
        fixtures().join("good/lecture/server2.py"),
        dir.join("server2.py"),
    )
    .unwrap();
    let manifest = dir.join("grader.toml");
    match how {
        "link-out" => symlink(secret, &manifest).unwrap(),
        "fifo" => mkfifo(&manifest),
        "sparse" => std::fs::File::create(&manifest)
            .unwrap()
            .set_len(1 << 30)
            .unwrap(),
        "dev-zero" => symlink("/dev/zero", &manifest).unwrap(),
        other => panic!("{other}"),
    }
}

/// Every file under `dir`, with its bytes.
fn written(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                files.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    files
}

/// Bidi and zero-width characters, and controls other than a newline.
fn raw_unsafe(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[test]
fn a_hostile_grader_toml_is_refused_at_once_and_never_quoted() {
    let work = tempfile::tempdir().unwrap();
    let secret = secret(work.path());
    for (how, says) in MANIFESTS {
        let dir = work.path().join(how);
        hostile_manifest(&dir, how, &secret);
        for format in ["human", "json", "gradescope"] {
            let start = Instant::now();
            let out = grader()
                .arg("check")
                .arg(&dir)
                .args(["--format", format, "--seed", &seed()])
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap();
            let took = start.elapsed();
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            // SPEC 6: a platform format is written for an unusable submission too (score 0,
            // exit 1); the human report of one is a usage error (exit 2).
            if format == "human" {
                assert_eq!(out.status.code(), Some(2), "{how} {format}: {stderr}");
            } else {
                assert_eq!(out.status.code(), Some(1), "{how} {format}: {stderr}");
                let report: serde_json::Value = serde_json::from_str(&stdout)
                    .unwrap_or_else(|e| panic!("{how} {format}: not JSON ({e}): {stdout}"));
                assert_eq!(
                    report["score"].as_f64(),
                    Some(0.0),
                    "{how} {format}: {stdout}"
                );
            }
            assert!(
                took < Duration::from_secs(10),
                "{how} {format}: refused in {took:?}, not at once"
            );
            assert!(
                stderr.contains("grader.toml") && stderr.contains(says),
                "{how} {format}: {stderr}"
            );
            assert!(
                !stdout.contains(MARKER) && !stderr.contains(MARKER),
                "{how} {format}: the target is quoted:\n{stdout}\n{stderr}"
            );
            assert!(stderr.len() < 400, "{how} {format}: {stderr}");
        }
    }
}

#[test]
fn a_hostile_grader_toml_in_a_batch_is_an_error_row_quoting_nothing() {
    let work = tempfile::tempdir().unwrap();
    let secret = secret(work.path());
    let (class, out) = (work.path().join("class"), work.path().join("out"));
    for (how, _) in MANIFESTS {
        hostile_manifest(&class.join(how), how, &secret);
    }
    let start = Instant::now();
    let run = grader()
        .arg("batch")
        .arg(&class)
        .arg("--out")
        .arg(&out)
        .args(["--seed", &seed(), "--task", "udp-upper"])
        .args(["--format", "gradescope", "--format", "prairielearn"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(took < Duration::from_secs(30), "took {took:?}");
    // Each is a report of its own scoring 0, `invalid`, with the reason (SPEC 5).
    for (how, says) in MANIFESTS {
        let json = std::fs::read_to_string(out.join(how).join("report.json")).unwrap();
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(report["score"].as_f64(), Some(0.0), "{how}: {json}");
        assert_eq!(report["problem"]["status"], "invalid", "{how}: {json}");
        let message = report["problem"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{how}: {json}");
    }
    let files = written(&out);
    assert!(files.iter().any(|(p, _)| p.ends_with("index.html")));
    for (path, data) in &files {
        assert!(
            !text(data).contains(MARKER),
            "{} quotes the target",
            path.display()
        );
    }
    for stream in [&run.stdout, &run.stderr] {
        assert!(!text(stream).contains(MARKER));
    }
}

#[test]
fn a_program_file_linked_out_is_a_task_that_says_so() {
    let work = tempfile::tempdir().unwrap();
    let secret = secret(work.path());
    let dir = work.path().join("sub");
    std::fs::create_dir_all(&dir).unwrap();
    symlink(&secret, dir.join("server2.py")).unwrap();
    mkfifo(&dir.join("server1.py"));
    let out = grader()
        .arg("check")
        .arg(&dir)
        .args(["--format", "json", "--seed", &seed()])
        .args(["--task", "udp-upper", "--task", "tcp-upper"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!stdout.contains(MARKER) && !text(&out.stderr).contains(MARKER));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let task = |id: &str| {
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {report}"))
            .clone()
    };
    // The submission's fault, not the grader's: every check fails, saying why (SPEC 6).
    let udp = task("udp-upper");
    assert_eq!(udp["status"], "fail", "{udp}");
    for check in udp["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "fail", "{check}");
        assert!(
            check["message"].as_str().unwrap().contains("link out"),
            "{check}"
        );
    }
    assert_eq!(udp["checks"].as_array().unwrap().len(), 5, "{udp}");
    assert!(
        udp["message"]
            .as_str()
            .unwrap()
            .contains("server2.py is a link out"),
        "{udp}"
    );
    let tcp = task("tcp-upper");
    assert!(
        tcp["message"]
            .as_str()
            .unwrap()
            .contains("server1.py is a FIFO"),
        "{tcp}"
    );
}

#[test]
fn names_with_bidi_zero_width_and_newlines_are_escaped_in_json_and_on_the_terminal() {
    let work = tempfile::tempdir().unwrap();
    let (class, out) = (work.path().join("class"), work.path().join("out"));
    // A student graded 5/5 whose folder and program file carry U+202E, U+200B and a
    // newline; the program file is a link to a file inside the submission (followed).
    let good = "eve\u{202e}gnp.exe\u{200b}\nroot";
    let program = "s\u{202e}rv\u{200b}.py";
    let dir = class.join(good);
    std::fs::create_dir_all(dir.join("impl")).unwrap();
    std::fs::copy(
        fixtures().join("good/lecture/server2.py"),
        dir.join("impl/server.py"),
    )
    .unwrap();
    symlink("impl/server.py", dir.join(program)).unwrap();
    std::fs::write(
        dir.join("grader.toml"),
        format!("[tasks.udp-upper]\nrun = [\"python3\", \"{program}\"]\n"),
    )
    .unwrap();
    // A student who cannot be graded: listed in the summary.
    let broken = "mal\u{202e}\nlory";
    std::fs::create_dir_all(class.join(broken)).unwrap();
    mkfifo(&class.join(broken).join("grader.toml"));

    let run = grader()
        .arg("batch")
        .arg(&class)
        .arg("--out")
        .arg(&out)
        .args(["--seed", &seed(), "--task", "udp-upper", "--jobs", "2"])
        .args(["--format", "gradescope", "--format", "prairielearn"])
        .args(["--format", "autolab"])
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "{stderr}");

    // JSON: escapes, parsed back to the same strings.
    let raw = std::fs::read_to_string(out.join(good).join("report.json")).unwrap();
    assert!(raw.contains("\\u202e") && raw.contains("\\u200b"), "{raw}");
    assert!(raw_unsafe(&raw).is_empty(), "{raw}");
    let report: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(report["tasks"][0]["command"][1], program, "{raw}");
    assert_eq!(report["score"], 5.0, "the linked program is graded: {raw}");
    assert!(report["submission"].as_str().unwrap().ends_with(good));
    for file in ["gradescope.json", "prairielearn.json"] {
        let shown = std::fs::read_to_string(out.join(good).join(file)).unwrap();
        assert!(raw_unsafe(&shown).is_empty(), "{file}: {shown}");
        serde_json::from_str::<serde_json::Value>(&shown).unwrap();
    }

    // Terminal: one line per student, nothing raw.
    for (what, stream) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            raw_unsafe(stream).is_empty(),
            "{what} holds {:?}:\n{stream}",
            raw_unsafe(stream)
        );
    }
    let shown_good = "eve\\u{202e}gnp.exe\\u{200b}\\nroot";
    let shown_broken = "mal\\u{202e}\\nlory";
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(shown_good) && l.contains("5/5")),
        "progress line:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(shown_broken) && l.contains("FIFO")),
        "progress line:\n{stderr}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(shown_broken) && l.contains("FIFO")),
        "summary:\n{stdout}"
    );
}
