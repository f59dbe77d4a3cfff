//! `multiprint` (`multiprint.py`, the lecture's producer/consumer): the calling thread
//! reads lines and turns each character into a print job; THREADS consumer threads,
//! `Thread-1`...`Thread-N`, take jobs one at a time, print `<name>: <char>` and sleep DELAY.
//! An empty line or the end of input closes the queue; every consumer finishes the jobs
//! left, prints `<name>: I'm done!` and ends, and the program returns.
//!
//! This is the lecture's `multiprint2.py` (a `Condition`): idle consumers sleep on a
//! condition variable, so waiting costs no CPU.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::{env, input};

/// Runs with `THREADS` and `DELAY`, stdin and stdout.
pub fn run() -> io::Result<()> {
    let (threads, delay) = (env::threads()?, env::delay()?);
    multiprint(threads, delay, io::stdin().lock(), io::stdout())
}

/// Runs the producer on `input` in the calling thread and `threads` consumers printing to
/// `output` (each line flushed as it is printed), until the input ends and every consumer
/// is done.
pub fn multiprint<R, W>(threads: usize, delay: Duration, mut input: R, output: W) -> io::Result<()>
where
    R: BufRead,
    W: Write + Send,
{
    let jobs = Jobs::default();
    let output = Mutex::new(output);
    thread::scope(|scope| {
        let mut consumers = Vec::with_capacity(threads);
        for i in 1..=threads {
            let spawned = thread::Builder::new()
                .name(format!("Thread-{i}"))
                .spawn_scoped(scope, || consume(&jobs, &output, delay));
            match spawned {
                Ok(consumer) => consumers.push(consumer),
                Err(err) => {
                    // The consumers already started must still end (the scope joins them).
                    jobs.close();
                    return Err(err);
                }
            }
        }
        let produced = produce(&mut input, &output, &jobs);
        jobs.close();
        for consumer in consumers {
            consumer
                .join()
                .map_err(|_| io::Error::other("a consumer panicked"))??;
        }
        produced
    })
}

/// The producer: prompt, read a line, queue its characters, until "stop".
fn produce<R: BufRead, W: Write>(input: &mut R, output: &Mutex<W>, jobs: &Jobs) -> io::Result<()> {
    loop {
        // The output lock is not held while reading: consumers keep printing meanwhile.
        input::prompt(&mut *lock(output))?;
        match input::read_line(input)? {
            Some(line) => jobs.push(String::from_utf8_lossy(&line).chars()),
            None => return Ok(()),
        }
    }
}

/// A consumer: print each job taken, then sleep; say goodbye when the queue is closed
/// and empty.
fn consume<W: Write>(jobs: &Jobs, output: &Mutex<W>, delay: Duration) -> io::Result<()> {
    let current = thread::current();
    let name = current.name().unwrap_or("Thread");
    while let Some(job) = jobs.take() {
        say(output, format_args!("{name}: {job}"))?;
        thread::sleep(delay);
    }
    say(output, format_args!("{name}: I'm done!"))
}

/// Prints one whole line and flushes it, so lines from different threads never mix.
fn say<W: Write>(output: &Mutex<W>, line: std::fmt::Arguments<'_>) -> io::Result<()> {
    let mut output = lock(output);
    writeln!(output, "{line}")?;
    output.flush()
}

/// The shared job queue: characters to print, and whether more may come.
#[derive(Default)]
struct Jobs {
    state: Mutex<Queue>,
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    chars: VecDeque<char>,
    closed: bool,
}

impl Jobs {
    fn push(&self, chars: impl IntoIterator<Item = char>) {
        lock(&self.state).chars.extend(chars);
        self.changed.notify_all();
    }

    /// No more jobs will come: wakes every consumer so it can finish.
    fn close(&self) {
        lock(&self.state).closed = true;
        self.changed.notify_all();
    }

    /// Blocks until a job is available (returns it) or the queue is closed and empty
    /// (returns `None`).
    fn take(&self) -> Option<char> {
        let mut queue = lock(&self.state);
        loop {
            if let Some(job) = queue.chars.pop_front() {
                return Some(job);
            }
            if queue.closed {
                return None;
            }
            queue = self
                .changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Locks, ignoring poisoning: a panicking consumer leaves the queue and the output valid.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Runs with `threads` consumers and a 1 ms delay; returns the printed lines with the
    /// prompts removed.
    fn lines_of(threads: usize, input: &str) -> Vec<String> {
        let mut output = Vec::new();
        multiprint(
            threads,
            Duration::from_millis(1),
            input.as_bytes(),
            &mut output,
        )
        .unwrap();
        String::from_utf8(output)
            .unwrap()
            .replace(input::PROMPT, "")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Splits `Thread-3: x` into the thread name and what it printed.
    fn split(line: &str) -> (&str, &str) {
        line.split_once(": ")
            .unwrap_or_else(|| panic!("not a consumer line: {line:?}"))
    }

    fn check(threads: usize, input: &str, chars: &str) {
        let lines = lines_of(threads, input);
        let mut printed: Vec<char> = Vec::new();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        for line in &lines {
            let (name, what) = split(line);
            assert!(!done.contains(name), "{name} printed after it was done");
            if what == "I'm done!" {
                done.insert(name);
            } else {
                printed.extend(what.chars());
            }
        }
        let mut expected: Vec<char> = chars.chars().collect();
        printed.sort_unstable();
        expected.sort_unstable();
        assert_eq!(printed, expected, "every character printed once");
        let names: Vec<String> = (1..=threads).map(|i| format!("Thread-{i}")).collect();
        assert_eq!(done.into_iter().collect::<Vec<_>>(), {
            let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
            names.sort_unstable();
            names
        });
    }

    #[test]
    fn every_character_once_then_everyone_is_done() {
        check(4, "abc\nHello123\n\nnever read\n", "abcHello123");
    }

    #[test]
    fn end_of_input_also_ends_it() {
        check(3, "xyz\n0123456789", "xyz0123456789");
        check(2, "", "");
    }
}
