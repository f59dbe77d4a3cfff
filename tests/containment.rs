//! Containment (docs/containment.md): hostile fixtures under `fixtures/hostile/` graded
//! with and without network namespaces (and without cgroups, so the watcher alone is
//! tested too). Each case asserts that the grader finished within its deadline, that the
//! report is valid JSON and says what happened, and that no process carrying the run's
//! cookie is left.

use crate::common::{fixtures, grader, grader_process};
use rstest::rstest;
use std::path::Path;
use std::time::{Duration, Instant};

/// How a run is isolated: `--isolate` and whether cgroups are allowed (root only).
#[derive(Clone, Copy, Debug)]
enum Mode {
    Auto,
    None,
    /// No namespaces and no cgroups: the watcher and the cookie sweep alone.
    Bare,
    /// No network namespaces and no boxes (`GRADER_BOX=off`): the fallback layers.
    NoBox,
}

/// Grades `dir` and returns the report, the exit code and the wall time.
fn run(dir: &Path, mode: Mode, extra: &[&str]) -> (serde_json::Value, i32, Duration) {
    let mut cmd = grader();
    cmd.arg("check")
        .arg(dir)
        .args(["--format", "json", "--seed", "7"])
        .args(extra);
    match mode {
        Mode::Auto => cmd.env("GRADER_ISOLATE", "auto"),
        Mode::None => cmd.env("GRADER_ISOLATE", "none"),
        Mode::Bare => cmd
            .env("GRADER_ISOLATE", "none")
            .env("GRADER_CGROUPS", "off"),
        Mode::NoBox => cmd.env("GRADER_ISOLATE", "none").env("GRADER_BOX", "off"),
    };
    let start = Instant::now();
    let out = cmd
        .timeout(Duration::from_secs(120))
        .output()
        .expect("grader runs");
    let took = start.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.code().unwrap_or(-1), took)
}

/// Processes still carrying a cookie of run `run_id` (zombies have no environment).
pub fn leftovers(run_id: &str) -> Vec<u32> {
    let needle = format!("GRADER_RUN={run_id}-");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| {
                    env.split(|&b| b == 0)
                        .any(|v| v.starts_with(needle.as_bytes()))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Asserts that nothing of the run is left: no process with its cookie, no cgroup.
fn assert_clean(report: &serde_json::Value) {
    let run_id = report["run_id"].as_str().expect("run_id in the report");
    assert_eq!(run_id.len(), 16, "{report}");
    let left = leftovers(run_id);
    assert!(left.is_empty(), "processes of run {run_id} left: {left:?}");
    for hierarchy in ["pids", "memory", "unified"] {
        let root = Path::new("/sys/fs/cgroup").join(hierarchy);
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    assert_ne!(
                        name,
                        format!("grader-{run_id}"),
                        "cgroup left: {}",
                        e.path().display()
                    );
                    if !name.starts_with("grader-") && stack.len() < 64 {
                        stack.push(e.path());
                    }
                }
            }
        }
    }
}

#[rstest]
#[case::fork_bomb("fork-bomb", "fail", "256 processes")]
#[case::output_flood("output-flood", "fail", "truncated after 4 MiB")]
#[case::ignores_signals("ignores-signals", "pass", "")]
#[case::escapee("escapee", "pass", "")]
#[case::memory_hog("memory-hog", "fail", "512 MiB")]
#[case::exits_at_once("exits-at-once", "fail", "exited with status 0")]
fn hostile_fixture_is_contained(
    #[case] name: &str,
    #[case] status: &str,
    #[case] says: &str,
    #[values(Mode::Auto, Mode::None, Mode::Bare)] mode: Mode,
) {
    contained(name, status, says, mode);
}

/// A program spinning before it ever listens is judged when it has had the listen
/// deadline of its own time, and nothing of it is left. Its cost is that deadline's worth
/// of a CPU, so it runs with the full layers only: what ends it (the box's PID namespace
/// and process group) is the same in every mode, which the cases above cover.
#[test]
fn a_program_spinning_before_it_listens_is_judged_and_contained() {
    contained("loop-before-listen", "fail", "within 10 s", Mode::Auto);
}

fn contained(name: &str, status: &str, says: &str, mode: Mode) {
    let dir = fixtures().join("hostile").join(name);
    let (report, code, took) = run(&dir, mode, &["--task", "tcp-upper", "--check", "echo"]);
    // Contained in time too: a program that never listens is judged when it has had 10 s
    // of its own time, and at the latest at the deadline's wall-clock backstop (a spinning
    // program on a busy machine); then the grader's own work.
    let backstop = grader::process::ready::STARTUP * grader::process::deadline::BACKSTOP;
    assert!(
        took < backstop + Duration::from_secs(30),
        "{name} {mode:?}: took {took:?}"
    );
    let check = &report["tasks"][0]["checks"][0];
    let message = check["message"].as_str().unwrap_or_default();
    assert_eq!(check["status"], status, "{name} {mode:?}: {message}");
    assert!(message.contains(says), "{name} {mode:?}: {message}");
    assert_eq!(code, if status == "pass" { 0 } else { 1 });
    assert_clean(&report);
}

/// The original submission is never written, even by a program that knows its path.
#[rstest]
fn a_program_cannot_change_the_original_submission(#[values(Mode::Auto, Mode::None)] mode: Mode) {
    let original = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("hostile/writes-outside/server1.py"),
        original.path().join("server1.py"),
    )
    .unwrap();
    let path = original.path().canonicalize().unwrap();
    std::fs::write(
        original.path().join("victim.txt"),
        path.display().to_string(),
    )
    .unwrap();
    let before = snapshot(original.path());
    let (report, code, _) = run(original.path(), mode, &["--task", "tcp-upper"]);
    assert_eq!(code, 0, "{report}");
    assert_clean(&report);
    let layers = report["isolation"].to_string();
    // A box's view does not hold the original at all; without one, a read-only bind.
    if !layers.contains("read-only-submission") && !layers.contains("private-filesystem") {
        eprintln!("mount namespaces are not available here: the original is not protected");
        return;
    }
    assert_eq!(
        snapshot(original.path()),
        before,
        "the original submission changed"
    );
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

fn namespaces_work() -> bool {
    let out = grader().arg("doctor").output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("--isolate auto uses: namespace")
}

/// Two lecture servers with the port written into the program (4444, no PORT variable),
/// graded at once: both pass in private network namespaces.
#[test]
fn hard_coded_ports_pass_side_by_side_in_namespaces() {
    if !namespaces_work() {
        eprintln!("network namespaces are not available here: see `grader doctor`");
        return;
    }
    let dir = fixtures().join("hostile/hard-coded-port");
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || run(&dir, Mode::Auto, &["--task", "tcp-upper"]))
        })
        .collect();
    for r in runs {
        let (report, code, _) = r.join().unwrap();
        assert_eq!(code, 0, "{report}");
        assert_clean(&report);
    }
}

/// Without namespaces the same server fails, and the message names PORT.
#[test]
fn a_hard_coded_port_without_namespaces_is_told_to_read_port() {
    let dir = fixtures().join("hostile/hard-coded-port");
    let (report, code, _) = run(&dir, Mode::None, &["--task", "tcp-upper"]);
    assert_eq!(code, 1);
    for check in report["tasks"][0]["checks"].as_array().unwrap() {
        let message = check["message"].as_str().unwrap();
        assert_eq!(check["status"], "fail", "{message}");
        assert!(message.contains("PORT"), "{message}");
    }
    assert_clean(&report);
}

/// SIGINT to the grader: every check ends as `error` "interrupted", the report is still
/// written, the exit code is 130 and nothing is left.
#[rstest]
fn sigint_stops_the_run_and_still_writes_the_report(#[values(Mode::Auto, Mode::None)] mode: Mode) {
    let dir = fixtures().join("hostile/loop-before-listen");
    let mut cmd = grader_process();
    cmd.arg("check").arg(&dir).args(["--format", "json"]);
    cmd.env(
        "GRADER_ISOLATE",
        if matches!(mode, Mode::Auto) {
            "auto"
        } else {
            "none"
        },
    );
    cmd.stdout(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    assert!(
        started_by(child.id(), "server1.py", Duration::from_secs(60)),
        "the grader never started the program"
    );
    let start = Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(130));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["interrupted"], "SIGINT");
    for check in report["tasks"][0]["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "error", "{check}");
        assert!(
            check["message"].as_str().unwrap().contains("interrupted"),
            "{check}"
        );
    }
    assert_clean(&report);
}

/// A program printing invalid UTF-8 and control bytes: the JSON report stays valid and
/// shows them escaped.
#[test]
fn raw_bytes_from_a_program_keep_the_json_valid_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server1.py"),
        "import os\nos.write(2, b'bad \\xff\\xfe utf-8 \\x1b[2J \\x00 \\x07 \\xe2\\x80\\xae end\\n')\nraise SystemExit(4)\n",
    )
    .unwrap();
    let (report, code, _) = run(dir.path(), Mode::Auto, &["--check", "echo"]);
    assert_eq!(code, 1);
    let message = report["tasks"][0]["checks"][0]["message"].as_str().unwrap();
    assert!(message.contains("exited with status 4"), "{message}");
    assert!(
        !message.chars().any(|c| c.is_control() && c != '\n') && !message.contains('\u{202e}'),
        "{message:?}"
    );
    assert!(
        message.contains("\\u{1b}[2J") && message.contains("\\u{202e}"),
        "{message}"
    );
}

/// A second signal does not wait for the checks: everything is killed and the grader
/// exits at once with 128 + the signal.
#[test]
fn a_second_sigterm_kills_everything_at_once() {
    let dir = fixtures().join("hostile/ignores-signals");
    let mut cmd = grader_process();
    cmd.arg("check")
        .arg(&dir)
        .args(["--format", "json", "--cases", "100000"]);
    cmd.stdout(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    assert!(
        started_by(child.id(), "server1.py", Duration::from_secs(60)),
        "the grader never started the program"
    );
    let start = Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(143));
}

/// Polls (fast) until a descendant of `pid` runs a command line containing `needle`;
/// false if none did within `within`. Signal tests wait for this instead of a fixed time,
/// so the signal always lands while a check is under way, however loaded the machine.
fn started_by(pid: u32, needle: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|p| {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
                Some((p, ppid.parse().ok()?))
            })
            .collect();
        let mut family = vec![pid];
        let mut i = 0;
        while i < family.len() {
            let parent = family[i];
            family.extend(
                parents
                    .iter()
                    .filter(|(_, pp)| *pp == parent)
                    .map(|(p, _)| *p),
            );
            i += 1;
        }
        let found = family[1..].iter().any(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        });
        if found {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `grader doctor` names every layer and what `--isolate auto` would use.
#[test]
fn doctor_lists_the_layers() {
    let out = grader().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for layer in [
        "process groups",
        "resource limits",
        "cookie sweep",
        "memory and process watch",
        "signal forwarding",
        "network namespaces",
        "read-only submission",
        "cgroups",
        "unprivileged uid",
        "--isolate auto uses:",
    ] {
        assert!(text.contains(layer), "{layer} missing:\n{text}");
    }
}

// ---------------------------------------------------------------- one box per program

/// A name no other test or run uses: the test's own marker.
fn nonce() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}{:09}", std::process::id(), t.subsec_nanos())
}

/// Copies the files of fixture `name` into a fresh temporary folder.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixtures().join("hostile").join(name)).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.path().join(f.file_name())).unwrap();
    }
    dir
}

/// Whether the run's report lists `layer` in force; if not, says why the test stops.
fn has_layer(report: &serde_json::Value, layer: &str) -> bool {
    let there = report["isolation"]
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x == layer));
    if !there {
        eprintln!("{layer} is not available here (see `grader doctor`): its promise is not tested");
    }
    there
}

/// Processes whose command line is exactly `argv` (zombies have none).
fn processes_running(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

/// Polls (fast) until `argv` runs nowhere, at most `within`; returns what is left.
fn gone_within(argv: &[&str], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = processes_running(argv);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Regression (issue 12, item 1): `sh -c 'setsid env -i sleep 150 & exec python3 ...'`
/// forked before the program was in its cgroup and cleared the cookie, and 4-7 sleepers
/// were left after every run. In a box the kernel ends them with the program.
#[rstest]
fn a_shell_start_that_setsid_forks_and_clears_its_environment_leaves_nothing(
    #[values(Mode::Auto, Mode::None, Mode::Bare)] mode: Mode,
) {
    let dir = copy_fixture("shell-escapee");
    let sleeper = format!("150.{}", nonce());
    let manifest = std::fs::read_to_string(dir.path().join("grader.toml")).unwrap();
    std::fs::write(
        dir.path().join("grader.toml"),
        manifest.replace("sleep 150", &format!("sleep {sleeper}")),
    )
    .unwrap();
    let (report, code, _) = run(
        dir.path(),
        mode,
        &[
            "--task",
            "tcp-upper",
            "--check",
            "echo",
            "--check",
            "reuse-addr",
        ],
    );
    assert_eq!(code, 0, "{report}");
    let left = gone_within(&["sleep", &sleeper], Duration::from_secs(5));
    if !has_layer(&report, "pid-namespace") {
        for pid in left {
            // SAFETY: kill(2) of a sleeper this test started; nothing else matches.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        return;
    }
    assert!(left.is_empty(), "{mode:?}: sleepers left: {left:?}");
    assert_clean(&report);
}

/// Writes a student folder `name` in `class` from fixture files.
fn student(class: &Path, name: &str, files: &[(&str, &Path)]) -> std::path::PathBuf {
    let dir = class.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (to, from) in files {
        std::fs::copy(from, dir.join(to)).unwrap();
    }
    dir
}

/// Regression (issue 12, item 2): in a batch with `--jobs 2`, a student's server looked
/// for its neighbour through `/proc`, wrote into its working copy, traced it and killed
/// it on every start (6/6 became 1/6). In boxes every attack is refused: the attacker's
/// own answers would say "PWNED" after any success, and the victim's grade equals its
/// grade alone.
#[test]
fn students_graded_side_by_side_cannot_attack_each_other() {
    let work = tempfile::tempdir().unwrap();
    let class = work.path().join("class");
    let hostile = fixtures().join("hostile");
    let victim = student(
        &class,
        "victim",
        &[("server1.py", &hostile.join("shell-escapee/server1.py"))],
    );
    std::fs::write(
        victim.join("victim.txt"),
        "the attacker looks for this file\n",
    )
    .unwrap();
    student(
        &class,
        "attacker",
        &[("server1.py", &hostile.join("neighbour-attack/server1.py"))],
    );
    let before = snapshot(&victim);
    let (alone, code, _) = run(&victim, Mode::Auto, &["--task", "tcp-upper"]);
    assert_eq!(code, 0, "{alone}");
    if !has_layer(&alone, "box-uid") {
        return;
    }
    let out = work.path().join("out");
    let batch = grader()
        .arg("batch")
        .arg(&class)
        .arg("--out")
        .arg(&out)
        .args(["--seed", "7", "--task", "tcp-upper", "--jobs", "2"])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let read = |s: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(out.join(s).join("report.json")).unwrap())
            .unwrap_or_else(|e| panic!("{s}: {e}; {}", String::from_utf8_lossy(&batch.stderr)))
    };
    let (v, a) = (read("victim"), read("attacker"));
    let statuses = |r: &serde_json::Value| -> Vec<(String, String)> {
        r["tasks"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].to_string(),
                    format!("{} {}", c["status"], c["message"]),
                )
            })
            .collect()
    };
    for (id, status) in statuses(&a) {
        assert!(
            status.starts_with("\"pass\""),
            "an attack worked ({id}): {status}"
        );
    }
    let alone: Vec<_> = statuses(&alone)
        .into_iter()
        .map(|(id, s)| (id, s[..6].to_string()))
        .collect();
    let beside: Vec<_> = statuses(&v)
        .into_iter()
        .map(|(id, s)| (id, s[..6].to_string()))
        .collect();
    assert_eq!(
        beside, alone,
        "the victim's grade changed beside the attacker"
    );
    assert_eq!(snapshot(&victim), before, "the victim's folder changed");
    assert_clean(&v);
    assert_clean(&a);
}

/// Regression (issue 12, item 3): with `CAP_DAC_READ_SEARCH` a program read
/// `/etc/shadow`, listed `/root` and read the grader's tests and other students' copies,
/// and the report quoted them. In a box every read is refused and nothing is quoted.
#[rstest]
fn a_program_cannot_read_secrets_and_nothing_is_quoted(
    #[values(Mode::Auto, Mode::None)] mode: Mode,
) {
    let dir = copy_fixture("reads-secrets");
    let secrets = tempfile::tempdir().unwrap();
    let marker = format!("hidden-test-{}", nonce());
    let hidden = secrets.path().join("hidden_tests.txt");
    std::fs::write(&hidden, &marker).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(secrets.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let grader_folder = crate::common::root();
    std::fs::write(
        dir.path().join("secrets.txt"),
        format!(
            "{}\n{}\n{}\n{}\n",
            hidden.display(),
            grader_folder.join("tests").display(),
            grader_folder.join("grader/src").display(),
            fixtures().join("good/lecture/server1.py").display(),
        ),
    )
    .unwrap();
    let (report, code, _) = run(
        dir.path(),
        mode,
        &["--task", "tcp-upper", "--check", "echo"],
    );
    let text = report.to_string();
    if !has_layer(&report, "private-filesystem") {
        return;
    }
    assert_eq!(code, 0, "something could be read: {text}");
    assert!(
        !text.contains(&marker) && !text.contains("LEAKED"),
        "{text}"
    );
    assert_clean(&report);
}

/// Regression (issue 12, item 5): `/tmp`, `/var/tmp` and `/dev/shm` were the host's, and
/// what a program wrote stayed there. In a box they share one capped tmpfs: a program
/// that fills them is stopped by the cap, the report says so, and nothing is left.
#[rstest]
fn writes_to_tmp_are_private_capped_and_gone(#[values(Mode::Auto, Mode::None)] mode: Mode) {
    let dir = copy_fixture("fills-scratch");
    let marker = format!("grader-test-fill-{}", nonce());
    std::fs::write(dir.path().join("marker.txt"), &marker).unwrap();
    // Without a box the program would fill the host's folders: find out first.
    let (probe, _, _) = run(
        &fixtures().join("hostile/exits-at-once"),
        mode,
        &["--task", "tcp-upper", "--check", "echo"],
    );
    if !has_layer(&probe, "scratch-quota") {
        return;
    }
    let (report, code, took) = run(
        dir.path(),
        mode,
        &["--task", "tcp-upper", "--check", "echo"],
    );
    assert_eq!(code, 1, "{report}");
    let check = &report["tasks"][0]["checks"][0];
    let message = check["message"].as_str().unwrap();
    assert_eq!(check["status"], "fail", "{message}");
    assert!(
        message.contains("it filled the 64 MiB it may write in")
            && message.contains("/tmp, /var/tmp and /dev/shm"),
        "{message}"
    );
    assert!(took < Duration::from_secs(40), "took {took:?}");
    for folder in ["/tmp", "/var/tmp", "/dev/shm"] {
        let left: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&marker))
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left on the host: {left:?}");
    }
    assert_clean(&report);
}

/// Files under the temporary folder (two levels down: the grader's `grader-*` folders)
/// whose name starts with `marker`.
fn marked_files(marker: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![(std::env::temp_dir(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(marker) {
                found.push(e.path());
            } else if depth < 2 && e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found
}

/// Issue 12, item 5: the working copy had no byte cap while a program ran. In a box it is
/// an overlay whose writes land in the box's 64 MiB scratch tmpfs: a program that fills
/// its working copy is stopped at the cap ("No space left on device" after at most
/// 64 MiB), the report says it filled the 64 MiB, and nothing it wrote is left (nor was
/// it ever written to the host's disk: the grader's copy is not changed). Without boxes
/// (`GRADER_BOX=off`) the fallback is only the 64 MiB cap per file: the program writes
/// all 128 MiB, and the grader still removes the working copy afterwards.
#[rstest]
fn filling_the_working_copy_stops_at_the_cap_and_leaves_nothing(
    #[values(Mode::Auto, Mode::None, Mode::NoBox)] mode: Mode,
) {
    let dir = copy_fixture("fills-copy");
    let marker = format!("grader-test-copy-{}", nonce());
    std::fs::write(dir.path().join("marker.txt"), &marker).unwrap();
    let (report, code, took) = run(
        dir.path(),
        mode,
        &["--task", "tcp-upper", "--check", "echo"],
    );
    assert_eq!(code, 1, "{report}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let check = &report["tasks"][0]["checks"][0];
    let message = check["message"].as_str().unwrap();
    assert_eq!(check["status"], "fail", "{message}");
    if has_layer(&report, "capped-working-copy") {
        assert!(
            message.contains("it filled the 64 MiB it may write in its working copy"),
            "{message}"
        );
        let wrote: u64 = message
            .split("wrote ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("how much it wrote is not in: {message}"));
        assert!(wrote <= 64, "wrote {wrote} MiB past the cap: {message}");
        assert!(message.contains("No space left on device"), "{message}");
    } else {
        assert!(matches!(mode, Mode::NoBox), "{report}");
        assert!(
            message.contains("wrote 128 MiB in the working copy and was never stopped"),
            "{message}"
        );
    }
    let left = marked_files(&marker);
    assert!(left.is_empty(), "left on the host: {left:?}");
    let original: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&marker))
        .collect();
    assert!(
        original.is_empty(),
        "the submission was written: {original:?}"
    );
    assert_clean(&report);
}
