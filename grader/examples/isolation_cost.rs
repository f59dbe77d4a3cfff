//! What containment costs per program start: starts `/bin/true` (and `python3 -c pass`)
//! many times through [`Program`] and prints the mean wall time from spawn to a killed,
//! swept program, plus the cost of one fresh network namespace and of one cookie sweep.
//!
//! ```sh
//! cargo run --release --example isolation_cost -- none
//! cargo run --release --example isolation_cost -- auto
//! GRADER_BOX=off cargo run --release --example isolation_cost -- auto
//! ```
//!
//! With boxes ([`contain::sandbox`]) the spawn includes making the box: its namespaces,
//! its filesystem view, the uid switch; "start to exit" adds the time to end it.

use grader::contain::{self, cookie, netns, Isolate};
use grader::process::{Launch, Program};
use std::time::{Duration, Instant};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "auto".into());
    let isolate = match mode.as_str() {
        "none" => Isolate::None,
        "namespace" => Isolate::Namespace,
        _ => Isolate::Auto,
    };
    let layers = contain::init(isolate).expect("isolation");
    let _protected = contain::readonly::protect(&std::env::temp_dir());
    println!("layers: {}", layers.names().join(", "));
    // ISOLATION_COST_N starts (default 200); ISOLATION_COST_ONLY=true|python one of the two.
    let n: u32 = std::env::var("ISOLATION_COST_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let only = std::env::var("ISOLATION_COST_ONLY").unwrap_or_default();
    let python = grader::submission::interpreter::resolve("python3").expect("python3");
    for argv in [vec!["/bin/true"], vec![python.as_str(), "-c", "pass"]] {
        if !only.is_empty() && !argv[0].contains(only.as_str()) {
            continue;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
        let mut plain = Duration::ZERO;
        for _ in 0..n {
            let start = Instant::now();
            let mut child = std::process::Command::new(argv[0])
                .args(&argv[1..])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("plain spawn");
            plain += start.elapsed();
            child.wait().expect("wait");
        }
        let launch = Launch {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: std::env::temp_dir(),
            env: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            stdin: false,
        };
        let (mut spawn, mut kill, mut ns) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        let mut to_exit = Duration::ZERO;
        for _ in 0..n {
            let t0 = Instant::now();
            let _scope = layers
                .namespaces()
                .then(|| netns::Scope::enter().expect("netns"));
            let t1 = Instant::now();
            let mut p = Program::spawn(&launch).expect("spawn");
            let t2 = Instant::now();
            p.wait_exit(Duration::from_secs(10));
            let t3 = Instant::now();
            p.kill();
            drop(p);
            kill += t3.elapsed();
            spawn += t2 - t1;
            to_exit += t3 - t1;
            ns += t1 - t0;
        }
        println!(
            "{}: spawn {:.2} ms (plain {:.2} ms, {:+.2} ms), start to exit {:.2} ms, check namespace {:.2} ms, kill and sweep after exit {:.2} ms",
            argv.join(" "),
            ms(spawn),
            ms(plain),
            ms(spawn) - ms(plain),
            ms(to_exit),
            ms(ns),
            ms(kill)
        );
    }
    if layers.namespaces() {
        let start = Instant::now();
        for _ in 0..n {
            netns::NetNs::fresh().expect("netns");
        }
        println!(
            "{:30} {:8.2} ms",
            "fresh network namespace",
            start.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
    if let Ok(run) = &layers.cgroup {
        let (mut make, mut remove) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..n {
            let t0 = Instant::now();
            let cg = run.program().expect("cgroup");
            let t1 = Instant::now();
            drop(cg);
            remove += t1.elapsed();
            make += t1 - t0;
        }
        println!(
            "{:30} {:8.2} ms to make, {:.2} ms to remove",
            "program cgroup",
            make.as_secs_f64() * 1000.0 / n as f64,
            remove.as_secs_f64() * 1000.0 / n as f64
        );
    }
    let start = Instant::now();
    for _ in 0..n {
        cookie::sweep(cookie::Match::Tag("nobody-0"));
    }
    println!(
        "{:30} {:8.2} ms ({} processes on the machine)",
        "cookie sweep",
        start.elapsed().as_secs_f64() * 1000.0 / n as f64,
        cookie::pids().len()
    );
    contain::finish();
}
