//! The grader's own SIGINT and SIGTERM, forwarded to every program. The first signal
//! marks the run as interrupted and ends every live program (SIGTERM, then SIGKILL after
//! a short grace), so checks finish at once; the runner reports them as `error`
//! "interrupted" and the report is still written. A second signal kills what is left and
//! exits with 128 + the signal's number at once.

use super::registry;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

/// The signal that interrupted the run, if one did.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Installs the handler thread. `cleanup` runs before the exit on a second signal.
pub fn install(cleanup: fn()) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("grader-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if INTERRUPTED
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    std::thread::spawn(stop_everything);
                } else {
                    registry::signal_all(libc::SIGKILL);
                    cleanup();
                    std::process::exit(128 + signal);
                }
            }
        })?;
    Ok(())
}

/// SIGTERM to every program, a grace, then SIGKILL to what is left; repeated briefly, so
/// a program that was starting at that moment goes too.
fn stop_everything() {
    registry::signal_all(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..20 {
        registry::signal_all(libc::SIGKILL);
        std::thread::sleep(Duration::from_millis(50));
    }
}
