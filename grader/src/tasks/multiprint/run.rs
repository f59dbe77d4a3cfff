//! Starting a `multiprint` program with generated settings (THREADS, DELAY, input lines)
//! and watching what it prints. Output is parsed on every read, so "every character has
//! been printed" is seen the moment it happens; deadlines are only for what never happens.

use super::parse::{parse, Print};
use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::process::program::indent;
use crate::process::Program;
use proptest::prelude::RngExt;
use proptest::test_runner::TestRng;
use std::process::ExitStatus;
use std::time::Duration;

/// The characters the grader sends (SPEC section 3).
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// How long a program that has done its work may take to exit before it is judged as it is.
const SETTLE: Duration = Duration::from_secs(2);

/// What a program gets: consumers, their delay, and the lines to print.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `THREADS`: consumer threads.
    pub threads: usize,
    /// `DELAY`, in milliseconds: each consumer sleeps this long after each job.
    pub delay_ms: u64,
    /// Non-empty lines of `[A-Za-z0-9]`, no character twice in the whole input, so a
    /// message can say which line a character came from.
    pub lines: Vec<String>,
}

impl Settings {
    /// 2-5 consumers, a delay of 10-50 ms, 3-4 lines each longer than THREADS (so a
    /// producer that does not wait for its consumers has characters left to overwrite).
    pub fn draw(rng: &mut TestRng) -> Settings {
        let threads = rng.random_range(2..=5usize);
        let delay_ms = rng.random_range(10..=50u64);
        let mut alphabet = ALPHABET.to_vec();
        for i in (1..alphabet.len()).rev() {
            alphabet.swap(i, rng.random_range(0..=i));
        }
        let mut pool = alphabet.into_iter().map(char::from);
        let lines = (0..rng.random_range(3..=4usize))
            .map(|_| {
                let len = rng.random_range(threads + 2..=12);
                pool.by_ref().take(len).collect()
            })
            .collect();
        Settings {
            threads,
            delay_ms,
            lines,
        }
    }

    /// `THREADS` and `DELAY` for the environment.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("THREADS".into(), self.threads.to_string()),
            ("DELAY".into(), self.delay()),
        ]
    }

    /// DELAY as the program reads it, in seconds.
    fn delay(&self) -> String {
        format!("{}", self.delay_ms as f64 / 1000.0)
    }

    /// Characters in the whole input.
    pub fn chars(&self) -> usize {
        self.lines.iter().map(String::len).sum()
    }

    /// A generous bound on how long a correct program needs to print all the input:
    /// start-up, then per line its share of jobs per consumer plus time for polling
    /// producers and consumers (the lecture's multiprint1.py looks every 0.1 s).
    pub fn work(&self) -> Duration {
        let per_line: u64 = self
            .lines
            .iter()
            .map(|l| l.len().div_ceil(self.threads) as u64 * self.delay_ms + 500)
            .sum();
        Duration::from_millis(2_000 + per_line)
    }

    /// `THREADS=3, DELAY=0.02, 4 lines`
    pub fn shown(&self) -> String {
        format!(
            "THREADS={}, DELAY={}, {} input lines",
            self.threads,
            self.delay(),
            self.lines.len()
        )
    }

    /// The whole input for a report, on one line: `THREADS=3, DELAY=0.02, input "ab",
    /// "cd", then an empty line`.
    pub fn input_shown(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(|l| format!("\"{l}\"")).collect();
        format!(
            "THREADS={}, DELAY={}, input lines {}, then an empty line",
            self.threads,
            self.delay(),
            lines.join(", ")
        )
    }

    /// The lines joined, each ending in a newline.
    pub fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// Starts the program with `settings` and instrumentation `features`; stdin is a pipe.
pub fn start(
    ctx: &CheckCtx,
    settings: &Settings,
    features: Vec<(String, String)>,
) -> Result<Program, Outcome> {
    let opts = LaunchOpts {
        env: settings.env(),
        stdin: true,
        features,
        ..LaunchOpts::default()
    };
    ctx.launch(&opts)
        .map_err(|e| Outcome::error(format!("could not start the program: {e}")))
}

/// Every print so far.
pub fn prints(program: &Program) -> Vec<Print> {
    parse(&String::from_utf8_lossy(&program.stdout.bytes()))
}

/// Waits until `enough` holds for the prints so far, stdout closes, or `timeout` passes;
/// returns whether `enough` held.
pub fn wait_for(program: &Program, timeout: Duration, enough: impl Fn(&[Print]) -> bool) -> bool {
    program.stdout.wait_until(timeout, |buf| {
        enough(&parse(&String::from_utf8_lossy(&buf.head)))
    })
}

/// A program that was given the whole input at once, and what it printed.
pub struct Ran {
    /// The program (still running if it never exited).
    pub program: Program,
    /// Everything it printed by the end.
    pub prints: Vec<Print>,
    /// How it ended, if it did.
    pub status: Option<ExitStatus>,
}

impl Ran {
    /// `what` went wrong, then how the program crashed, or what it printed instead of
    /// jobs, or else the `hint` (each time with the traceback of a thread that died, if any).
    pub fn explain(&mut self, what: &str, hint: &str) -> String {
        if self.status.is_some_and(|s| !s.success()) {
            return format!("{what}; {}", self.program.exit_story());
        }
        if self.prints.iter().any(|p| p.job().is_some()) {
            return format!("{what} - {hint}{}", self.trouble());
        }
        // Nothing recognisable: the hint would guess; show what came instead.
        let head = self.program.stdout.bytes();
        let head = crate::escape::text(&head[..head.len().min(400)]);
        let head: Vec<&str> = head
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(5)
            .collect();
        let shown = if head.is_empty() {
            "; the program printed nothing".to_string()
        } else {
            format!(
                "; no print of the form <thread name>: <character> was found, the output began with:\n{}",
                indent(&head.join("\n"))
            )
        };
        format!("{what}{shown}{}", self.trouble())
    }

    /// A sentence to add to a message when the program crashed or a thread died with a
    /// traceback; empty otherwise.
    pub fn trouble(&mut self) -> String {
        let crashed = self.status.is_some_and(|s| !s.success());
        let stderr = self.program.stderr.tail_bytes();
        if crashed {
            format!("; {}", self.program.exit_story())
        } else if String::from_utf8_lossy(&stderr).contains("Traceback") {
            format!(
                "; a thread died with a traceback:\n{}",
                indent(&crate::escape::tail(&stderr, 6))
            )
        } else {
            String::new()
        }
    }
}

/// Starts the program, sends every line and then the empty line at once, and watches
/// until `enough` holds for the prints (then gives it [`SETTLE`] to exit) or it exits or
/// 10 s pass beyond the work's bound.
pub fn feed_all(
    ctx: &CheckCtx,
    settings: &Settings,
    features: Vec<(String, String)>,
    enough: impl Fn(&[Print]) -> bool,
) -> Result<Ran, Outcome> {
    let mut program = start(ctx, settings, features)?;
    // A program that stops reading early is judged by what it printed.
    let _ = program.write_stdin(format!("{}\n", settings.text()).as_bytes());
    wait_for(&program, settings.work() + Duration::from_secs(10), enough);
    let status = program.wait_exit(SETTLE);
    if status.is_some() {
        program.stdout.wait_closed(SETTLE);
    }
    Ok(Ran {
        prints: prints(&program),
        program,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::RngAlgorithm;

    #[test]
    fn drawn_input_has_distinct_characters_and_long_lines() {
        for seed in 0..50u8 {
            let s = Settings::draw(&mut TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]));
            let all: Vec<char> = s.lines.iter().flat_map(|l| l.chars()).collect();
            let mut distinct = all.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), all.len());
            assert!(all.iter().all(char::is_ascii_alphanumeric));
            assert!(s.lines.iter().all(|l| l.len() > s.threads));
            assert!((2..=5).contains(&s.threads) && (10..=50).contains(&s.delay_ms));
            assert!(s.work() < Duration::from_secs(5));
        }
    }

    #[test]
    fn delay_is_in_seconds() {
        let s = Settings {
            threads: 2,
            delay_ms: 20,
            lines: vec!["ab".into()],
        };
        assert_eq!(s.env()[1], ("DELAY".to_string(), "0.02".to_string()));
        assert_eq!(s.text(), "ab\n");
        assert_eq!(
            s.input_shown(),
            "THREADS=2, DELAY=0.02, input lines \"ab\", then an empty line"
        );
    }
}
