//! `grader watch` end to end: the real binary watches a folder, a save changes the board,
//! and SIGINT ends it with nothing of the submission left running.

use crate::common::{fixtures, grader_process};
use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Polls `done` every 20 ms until it holds or `timeout` passes.
fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// Processes whose command line mentions `needle`.
fn running(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn a_save_redraws_the_board_and_sigint_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    // A file name of its own, to find its processes among other tests'.
    let script = format!("watched_{}.py", std::process::id());
    let bad = std::fs::read(fixtures().join("bad/tcp-no-upper/server1.py")).unwrap();
    let good = std::fs::read(fixtures().join("good/lecture/server1.py")).unwrap();
    std::fs::write(dir.path().join(&script), &bad).unwrap();
    std::fs::write(
        dir.path().join("grader.toml"),
        format!("[tasks.tcp-upper]\nrun = [\"python3\", \"{script}\"]\n"),
    )
    .unwrap();
    let mut child = grader_process()
        .arg("watch")
        .arg(dir.path())
        .args(["--check", "echo", "--seed", "5"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("grader watch starts");
    let output = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&output);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let seen = |text: &str| output.lock().unwrap().contains(text);

    assert!(
        wait_for(Duration::from_secs(120), || seen("watching")),
        "no board after the first pass:\n{}",
        output.lock().unwrap()
    );
    assert!(seen("tcp-upper echo: FAIL"), "{}", output.lock().unwrap());
    assert!(
        seen("first failure: grader check"),
        "{}",
        output.lock().unwrap()
    );

    let saved = Instant::now();
    std::fs::write(dir.path().join(&script), &good).unwrap();
    assert!(
        wait_for(Duration::from_secs(120), || seen("tcp-upper echo: PASS")),
        "the save did not change the board:\n{}",
        output.lock().unwrap()
    );
    eprintln!(
        "first verdict {} ms after the save",
        saved.elapsed().as_millis()
    );
    assert!(wait_for(Duration::from_secs(60), || seen(
        "tcp-upper  1/1  PASS"
    )));

    // SAFETY: signals the child we spawned, by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut status = None;
    assert!(
        wait_for(Duration::from_secs(20), || {
            status = child.try_wait().unwrap();
            status.is_some()
        }),
        "grader watch still runs after SIGINT"
    );
    assert_eq!(status.unwrap().code(), Some(130));
    assert!(
        wait_for(Duration::from_secs(10), || running(&script).is_empty()),
        "left running: {:?}",
        running(&script)
    );
}
