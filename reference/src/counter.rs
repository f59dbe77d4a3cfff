//! `counter` (`counter.py`, the lecture's `thread1.py` fixed with `threading.Lock`):
//! THREADS threads each add 1 to a shared counter INCREMENTS times, each addition under a
//! mutex, so no update is lost.

use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};
use std::thread;

use crate::env;

/// Counts with `THREADS` and `INCREMENTS` and reports on stdout.
pub fn run() -> io::Result<()> {
    let (threads, increments) = (env::threads()?, env::increments()?);
    report(threads, increments, &mut io::stdout().lock())
}

/// Counts, then prints the lecture's two result lines: the expected value and
/// `Obtained value: N`.
pub fn report<W: Write>(threads: usize, increments: u64, output: &mut W) -> io::Result<()> {
    let obtained = count(threads, increments)?;
    let expected = threads as u64 * increments;
    writeln!(output, "Expected value: {expected}")?;
    writeln!(output, "Obtained value: {obtained}")?;
    output.flush()
}

/// Starts `threads` threads (`Thread-1`...) that each add 1 `increments` times to one
/// shared counter, locking it for every single addition as the lecture does; joins them
/// and returns the total.
pub fn count(threads: usize, increments: u64) -> io::Result<u64> {
    let counter = Mutex::new(0u64);
    thread::scope(|scope| -> io::Result<()> {
        let running = (1..=threads)
            .map(|i| {
                thread::Builder::new()
                    .name(format!("Thread-{i}"))
                    .spawn_scoped(scope, || {
                        for _ in 0..increments {
                            *counter.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                        }
                    })
            })
            .collect::<io::Result<Vec<_>>>()?;
        for thread in running {
            thread
                .join()
                .map_err(|_| io::Error::other("a counting thread panicked"))?;
        }
        Ok(())
    })?;
    Ok(counter.into_inner().unwrap_or_else(PoisonError::into_inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_update_is_lost() {
        assert_eq!(count(8, 20_000).unwrap(), 160_000);
        assert_eq!(count(1, 0).unwrap(), 0);
    }

    #[test]
    fn reports_the_obtained_value() {
        let mut output = Vec::new();
        report(3, 1000, &mut output).unwrap();
        let output = String::from_utf8(output).unwrap();
        assert!(
            output.lines().any(|l| l == "Obtained value: 3000"),
            "{output}"
        );
    }
}
