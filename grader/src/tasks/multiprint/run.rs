//! Starting a `multiprint` program with generated settings (THREADS, DELAY, input lines)
//! and watching what it prints. Output is parsed on every read, so "every character has
//! been printed" is seen the moment it happens; deadlines are only for what never happens.

use super::parse::{parse, Print};
use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::checks::stuck::Stuck;
use crate::process::program::indent;
use crate::process::Program;
use proptest::prelude::RngExt;
use proptest::test_runner::TestRng;
use std::ops::RangeInclusive;
use std::process::ExitStatus;
use std::time::Duration;

/// The characters the grader sends (SPEC section 3).
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// How long a program that has done its work may take to exit before it is judged as it is.
pub(super) const SETTLE: Duration = Duration::from_secs(2);

/// How the input ends: SPEC section 3 makes an empty line and end of stdin the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ending {
    /// An empty line (the lecture's way), stdin left open.
    EmptyLine,
    /// Stdin closed after the last line, without an empty line.
    EndOfStdin,
}

impl Ending {
    /// "after the empty line", for messages.
    pub(super) fn after(self) -> &'static str {
        match self {
            Ending::EmptyLine => "after the empty line",
            Ending::EndOfStdin => "after end of stdin (stdin closed, no empty line)",
        }
    }

    /// "an empty line", for messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Ending::EmptyLine => "an empty line",
            Ending::EndOfStdin => "end of stdin",
        }
    }
}

/// What a program gets: consumers, their delay, the lines to print and how they end.
#[derive(Clone, Debug)]
pub(super) struct Settings {
    /// `THREADS`: consumer threads.
    pub threads: usize,
    /// `DELAY`, in milliseconds: each consumer sleeps this long after each job.
    pub delay_ms: u64,
    /// Non-empty lines of `[A-Za-z0-9]`; characters repeat, within a line and across lines
    /// (the lines are not sets: SPEC section 3).
    pub lines: Vec<String>,
    /// How the input ends.
    pub ending: Ending,
}

impl Settings {
    /// 2-5 consumers, a delay of 10-50 ms, and in every draw: first a line of one
    /// character (the shared observation sends it alone, then watches the program wait),
    /// then 3-4 long lines (longer than THREADS, so a producer that does not wait for its
    /// consumers has characters left to overwrite) drawn with replacement, one of them over
    /// an alphabet of 2-3 characters (so it surely repeats some), and a short line of one
    /// character twice (`aa`), so a producer that keeps each character of a line once shows
    /// it. The input ends with an empty line; checks choose [`Ending::EndOfStdin`] where
    /// they want it.
    pub(super) fn draw(rng: &mut TestRng) -> Settings {
        Settings::draw_with(rng, 2..=5)
    }

    /// [`Settings::draw`] with THREADS drawn from `threads`.
    pub(super) fn draw_with(rng: &mut TestRng, threads: RangeInclusive<usize>) -> Settings {
        let threads = rng.random_range(threads);
        let delay_ms = rng.random_range(10..=50u64);
        let long = rng.random_range(3..=4usize);
        let small = rng.random_range(0..long);
        let mut lines: Vec<String> = (0..long)
            .map(|i| {
                let letters: Vec<u8> = if i == small {
                    let k = rng.random_range(2..=3usize);
                    (0..k).map(|_| pick(ALPHABET, rng)).collect()
                } else {
                    ALPHABET.to_vec()
                };
                let len = rng.random_range(threads + 2..=12);
                (0..len).map(|_| char::from(pick(&letters, rng))).collect()
            })
            .collect();
        let twice = char::from(pick(ALPHABET, rng));
        let at = rng.random_range(0..=lines.len());
        lines.insert(at, format!("{twice}{twice}"));
        lines.insert(0, char::from(pick(ALPHABET, rng)).to_string());
        Settings {
            threads,
            delay_ms,
            lines,
            ending: Ending::EmptyLine,
        }
    }

    /// These settings with the input ended by `ending`.
    pub(super) fn ended_by(&self, ending: Ending) -> Settings {
        Settings {
            ending,
            ..self.clone()
        }
    }

    /// `THREADS` and `DELAY` for the environment.
    pub(super) fn env(&self) -> Vec<(String, String)> {
        vec![
            ("THREADS".into(), self.threads.to_string()),
            ("DELAY".into(), self.delay()),
        ]
    }

    /// DELAY as the program reads it, in seconds.
    pub(super) fn delay(&self) -> String {
        format!("{}", self.delay_ms as f64 / 1000.0)
    }

    /// Characters in the whole input.
    pub(super) fn chars(&self) -> usize {
        self.lines.iter().map(String::len).sum()
    }

    /// A generous bound on how long a correct program needs to print all the input:
    /// start-up, then per line its share of jobs per consumer plus time for polling
    /// producers and consumers (the lecture's multiprint1.py looks every 0.1 s).
    pub(super) fn work(&self) -> Duration {
        let per_line: u64 = self
            .lines
            .iter()
            .map(|l| l.len().div_ceil(self.threads) as u64 * self.delay_ms + 500)
            .sum();
        Duration::from_millis(2_000 + per_line)
    }

    /// `THREADS=3, DELAY=0.02, 4 lines`
    pub(super) fn shown(&self) -> String {
        format!(
            "THREADS={}, DELAY={}, {} input lines",
            self.threads,
            self.delay(),
            self.lines.len()
        )
    }

    /// The whole input for a report, on one line: `THREADS=3, DELAY=0.02, input "ab",
    /// "cd", then an empty line` (or `then end of stdin`).
    pub(super) fn input_shown(&self) -> String {
        format!(
            "THREADS={}, DELAY={}, input lines {}, then {}",
            self.threads,
            self.delay(),
            quoted(&self.lines),
            self.ending.name()
        )
    }

    /// The lines joined, each ending in a newline.
    pub(super) fn text(&self) -> String {
        text(&self.lines)
    }
}

/// `"ab", "cd"`
pub(super) fn quoted(lines: &[String]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| format!("\"{l}\"")).collect();
    lines.join(", ")
}

/// The lines joined, each ending in a newline.
pub(super) fn text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// One byte of `from`, drawn uniformly.
fn pick(from: &[u8], rng: &mut TestRng) -> u8 {
    from[rng.random_range(0..from.len())]
}

/// Starts the program with `settings` and instrumentation `features`; stdin is a pipe.
pub(super) fn start(
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
pub(super) fn prints(program: &Program) -> Vec<Print> {
    parse(&String::from_utf8_lossy(&program.stdout.bytes()))
}

/// Waits until `enough` holds for the prints so far, stdout closes, or `timeout` passes;
/// returns whether `enough` held.
pub(super) fn wait_for(program: &Program, timeout: Duration, enough: impl Fn(&[Print]) -> bool) -> bool {
    program.stdout.wait_until(timeout, |buf| {
        enough(&parse(&String::from_utf8_lossy(&buf.head)))
    })
}

/// What a program printed and how it ended, kept after the program itself is gone.
#[derive(Clone, Debug)]
pub(super) struct Ran {
    /// Everything it printed by the end, parsed.
    pub prints: Vec<Print>,
    /// How it ended in words, with its stderr's tail, when it crashed.
    pub crash: Option<String>,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// The tail of its stderr.
    pub stderr: Vec<u8>,
}

impl Ran {
    /// What `program` printed, with `status` (the exit seen before the grader ended it).
    pub(super) fn of(program: &mut Program, status: Option<ExitStatus>) -> Ran {
        let crash = status
            .is_some_and(|s| !s.success())
            .then(|| program.exit_story());
        Ran {
            prints: prints(program),
            crash,
            stdout: program.stdout.bytes(),
            stderr: program.stderr.tail_bytes(),
        }
    }

    /// `what` went wrong, then how the program crashed, or what it printed instead of
    /// jobs, or else the `hint` (each time with the traceback of a thread that died, if any).
    pub(super) fn explain(&self, what: &str, hint: &str) -> String {
        if let Some(crash) = &self.crash {
            return format!("{what}; {crash}");
        }
        if self.prints.iter().any(|p| p.job().is_some()) {
            return format!("{what} - {hint}{}", self.trouble());
        }
        // Nothing recognisable: the hint would guess; show what came instead.
        let head = &self.stdout;
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
    pub(super) fn trouble(&self) -> String {
        if let Some(crash) = &self.crash {
            format!("; {crash}")
        } else if String::from_utf8_lossy(&self.stderr).contains("Traceback") {
            format!(
                "; a thread died with a traceback:\n{}",
                indent(&crate::escape::tail(&self.stderr, 6))
            )
        } else {
            String::new()
        }
    }

    /// When its stderr shows an `EOFError`, the sentence that explains it (with a leading
    /// "; "); empty otherwise.
    pub(super) fn eof_hint(&self) -> String {
        if String::from_utf8_lossy(&self.stderr).contains("EOFError") {
            "; input() raised EOFError at end of stdin: end of stdin ends the input like an empty line (catch EOFError, or read with for line in sys.stdin)".to_string()
        } else {
            String::new()
        }
    }
}

/// Ends the input of `program` as `ending` says.
pub(super) fn end_input(program: &mut Program, ending: Ending) {
    match ending {
        Ending::EmptyLine => {
            let _ = program.write_stdin(b"\n");
        }
        Ending::EndOfStdin => program.close_stdin(),
    }
}

/// Starts the program, sends every line and then the end of the input at once, and watches
/// until `enough` holds for the prints (then gives it [`SETTLE`] to exit) or it exits or
/// 10 s pass beyond the work's bound.
pub(super) fn feed_all(
    ctx: &CheckCtx,
    settings: &Settings,
    features: Vec<(String, String)>,
    enough: impl Fn(&[Print]) -> bool,
) -> Result<Ran, Outcome> {
    let mut program = start(ctx, settings, features)?;
    // A program that stops reading early is judged by what it printed.
    let _ = program.write_stdin(settings.text().as_bytes());
    end_input(&mut program, settings.ending);
    wait_for(&program, settings.work() + Duration::from_secs(10), enough);
    let status = wait_exit(&mut program, SETTLE).ok();
    if status.is_some() {
        program.stdout.wait_closed(SETTLE);
    }
    Ok(Ran::of(&mut program, status))
}

/// Waits for `program` to exit, at most `timeout` of its own time, while the grader sends
/// it nothing more: its status, or `Err` with what its threads wait in ("lock(), read()")
/// when it can certainly never exit (every thread asleep for good, [`Stuck`]: a consumer
/// in `get()` nobody feeds, a `join()` on it), known at once, or `Err(None)` when the
/// time is up.
pub(super) fn wait_exit(
    program: &mut Program,
    timeout: Duration,
) -> Result<ExitStatus, Option<String>> {
    let mut deadline = program.deadline(timeout);
    let mut stuck = Stuck::idle(program.pid());
    loop {
        if let Some(status) = program.status() {
            return Ok(status);
        }
        if deadline.passed() {
            return Err(None);
        }
        if stuck.certain() {
            return Err(Some(stuck.waits()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::RngAlgorithm;

    #[test]
    fn drawn_input_repeats_characters_in_every_draw() {
        for seed in 0..50u8 {
            let s = Settings::draw(&mut TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]));
            let repeats = |l: &String| {
                let mut c: Vec<char> = l.chars().collect();
                c.sort_unstable();
                c.windows(2).any(|w| w[0] == w[1])
            };
            assert_eq!(s.lines[0].len(), 1, "{:?}", s.lines);
            let short: Vec<&String> = s.lines.iter().filter(|l| l.len() == 2).collect();
            assert!(short.len() == 1 && repeats(short[0]), "{:?}", s.lines);
            let long: Vec<&String> = s.lines.iter().filter(|l| l.len() > s.threads + 1).collect();
            assert!((3..=4).contains(&long.len()), "{:?}", s.lines);
            assert!(long.iter().any(|l| repeats(l)), "{:?}", s.lines);
            assert!(s
                .lines
                .iter()
                .flat_map(|l| l.chars())
                .all(|c| c.is_ascii_alphanumeric()));
            assert!((2..=5).contains(&s.threads) && (10..=50).contains(&s.delay_ms));
            assert_eq!(s.ending, Ending::EmptyLine);
            assert!(s.work() < Duration::from_secs(6));
        }
    }

    #[test]
    fn delay_is_in_seconds() {
        let s = Settings {
            threads: 2,
            delay_ms: 20,
            lines: vec!["ab".into()],
            ending: Ending::EmptyLine,
        };
        assert_eq!(s.env()[1], ("DELAY".to_string(), "0.02".to_string()));
        assert_eq!(s.text(), "ab\n");
        assert_eq!(
            s.input_shown(),
            "THREADS=2, DELAY=0.02, input lines \"ab\", then an empty line"
        );
        assert_eq!(
            s.ended_by(Ending::EndOfStdin).input_shown(),
            "THREADS=2, DELAY=0.02, input lines \"ab\", then end of stdin"
        );
    }
}
