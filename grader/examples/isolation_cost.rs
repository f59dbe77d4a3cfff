//! What containment costs per program start: starts `/bin/true` (and `python3 -c pass`)
//! many times through [`Program`] and prints the mean wall time from spawn to a killed,
//! swept program, plus the cost of one fresh network namespace and of one cookie sweep.
//!
//! ```sh
//! cargo run --release --example isolation_cost -- none
//! cargo run --release --example isolation_cost -- auto
//! ```

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
    contain::readonly::protect(&std::env::temp_dir());
    println!("layers: {}", layers.names().join(", "));
    let n = 200;
    for argv in [vec!["/bin/true"], vec!["python3", "-c", "pass"]] {
        let launch = Launch {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: std::env::temp_dir(),
            env: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            stdin: false,
        };
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let _scope = layers
                .namespaces()
                .then(|| netns::Scope::enter().expect("netns"));
            let start = Instant::now();
            let mut p = Program::spawn(&launch).expect("spawn");
            p.wait_exit(Duration::from_secs(10));
            p.kill();
            total += start.elapsed();
        }
        println!(
            "{:30} {:8.2} ms per start (mean of {n}, check namespace included)",
            argv.join(" "),
            total.as_secs_f64() * 1000.0 / n as f64
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
