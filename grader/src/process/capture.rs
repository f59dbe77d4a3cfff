//! Reading a child's stdout or stderr on a thread of its own, so the child never blocks on
//! a full pipe, while keeping memory bounded: the first `cap` bytes are kept whole, the
//! rest only counted, plus a small ring of the latest bytes for "the tail of stderr".

use super::Helpers;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes kept at the end of a stream whatever its length, for error messages.
const TAIL: usize = 8 * 1024;

/// What has been read so far from one stream.
#[derive(Default)]
pub struct Buffer {
    /// The first bytes, up to the cap.
    pub head: Vec<u8>,
    /// The latest bytes: [`TAIL`] of them and up to as many older ones, cut back by a
    /// copy when it holds twice as many (bytes are copied a slice at a time: a flood of
    /// hundreds of MiB costs copies, not a loop over every byte).
    tail: Vec<u8>,
    /// All bytes ever read, kept or not.
    pub total: u64,
    /// The stream reached end of file (every writer closed it).
    pub closed: bool,
}

impl Buffer {
    /// The latest bytes of the stream, up to [`TAIL`].
    pub fn tail(&self) -> &[u8] {
        &self.tail[self.tail.len().saturating_sub(TAIL)..]
    }

    /// Adds `data` to the latest bytes.
    fn push_tail(&mut self, data: &[u8]) {
        self.tail
            .extend_from_slice(&data[data.len().saturating_sub(TAIL)..]);
        if self.tail.len() > 2 * TAIL {
            let old = self.tail.len() - TAIL;
            self.tail.drain(..old);
        }
    }

    /// True when bytes were dropped because the stream went over its cap.
    pub fn truncated(&self) -> bool {
        self.total > self.head.len() as u64
    }
}

/// One captured stream, shared between its reader thread and the grader.
pub struct Capture {
    shared: Arc<(Mutex<Buffer>, Condvar)>,
    reader: Option<JoinHandle<()>>,
    /// The reader thread, for deadlines on what the program prints.
    helpers: Helpers,
}

impl Capture {
    /// Starts a reader thread that drains `source` until end of file.
    pub fn start(mut source: impl Read + Send + 'static, cap: usize) -> Capture {
        let shared = Arc::new((Mutex::new(Buffer::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let helpers = Helpers::new();
        let enlist = helpers.clone();
        let reader = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                enlist.enlist();
                let mut chunk = vec![0u8; 16 * 1024];
                loop {
                    let n = match source.read(&mut chunk) {
                        Ok(0) | Err(_) => 0,
                        Ok(n) => n,
                    };
                    let (lock, cond) = &*theirs;
                    let mut buf = lock.lock().unwrap_or_else(|e| e.into_inner());
                    if n == 0 {
                        buf.closed = true;
                        cond.notify_all();
                        return;
                    }
                    let data = &chunk[..n];
                    let room = cap.saturating_sub(buf.head.len()).min(n);
                    buf.head.extend_from_slice(&data[..room]);
                    buf.push_tail(data);
                    buf.total += n as u64;
                    cond.notify_all();
                }
            })
            .expect("spawn capture thread");
        Capture {
            shared,
            reader: Some(reader),
            helpers,
        }
    }

    /// The reader thread: a wait on what the program prints passes through it
    /// ([`super::Deadline::with_helpers`]).
    pub fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    /// Runs `f` on the buffer as it is now.
    pub fn with<T>(&self, f: impl FnOnce(&Buffer) -> T) -> T {
        let buf = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&buf)
    }

    /// A copy of the kept bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.with(|b| b.head.clone())
    }

    /// The latest bytes of the stream.
    pub fn tail_bytes(&self) -> Vec<u8> {
        self.with(|b| b.tail().to_vec())
    }

    /// Waits until `done` holds for the buffer or the deadline passes; returns whether it held.
    /// Wakes on every read, so "it happened" is seen at once.
    pub fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Buffer) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cond) = &*self.shared;
        let mut buf = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if done(&buf) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || buf.closed {
                return done(&buf);
            }
            buf = cond
                .wait_timeout(buf, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits for end of file (all writers gone), at most `timeout`.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |b| b.closed)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // The reader ends when the pipe closes; a grandchild that escaped and kept the pipe
        // open would keep it alive, so it is detached rather than joined.
        if let Some(handle) = self.reader.take() {
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_tail_within_the_cap() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let cap = Capture::start(std::io::Cursor::new(data.clone()), 1000);
        assert!(cap.wait_closed(Duration::from_secs(5)));
        cap.with(|b| {
            assert_eq!(b.head, &data[..1000]);
            assert_eq!(b.total, 100_000);
            assert!(b.truncated());
            assert_eq!(b.tail(), &data[100_000 - TAIL..]);
        });
    }
}
