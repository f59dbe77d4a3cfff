//! A box's keeper lets go of the grader's memory. The keeper is a `fork` of the grader
//! that never execs and lives as long as the program: while it maps the grader's heap,
//! every page the grader writes afterwards is copied (copy on write), on every program
//! start, and each later `fork` copies its page tables again. Measured on a full
//! submission, those copies were the largest part of what boxes cost the grader (see
//! `docs/containment.md`). So once the program has been forked, the keeper drops
//! (`MADV_DONTNEED`) every large private anonymous mapping it does not use: the heap,
//! malloc's arenas, other threads' stacks. It keeps the mappings holding its own stack
//! and its thread block (errno), and every file-backed one (code, `.data`).
//!
//! Only async-signal-safe syscalls, on buffers on the stack: it runs between fork and
//! exec, and after it has run, the calling process must never touch the heap again.

use std::os::fd::RawFd;

/// Mappings smaller than this are left alone (a library's `.bss`, small TLS blocks).
const SMALL: usize = 64 * 1024;

/// Drops every private anonymous mapping of the calling process of at least [`SMALL`]
/// bytes, the `[heap]` included, except those that contain an address in `keep`.
/// Returns the bytes of address space dropped. Async-signal-safe.
pub fn shed(keep: &[usize]) -> usize {
    // SAFETY: open/read/close on a buffer of ours; madvise only on mappings that hold
    // none of the addresses the caller still uses.
    unsafe {
        let fd: RawFd = libc::open(
            c"/proc/self/maps".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return 0;
        }
        let mut dropped = 0;
        let mut buf = [0u8; 4096];
        let mut line = [0u8; 512];
        let mut len = 0;
        loop {
            let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
            if n <= 0 {
                break;
            }
            for &b in &buf[..n as usize] {
                if b == b'\n' {
                    dropped += consider(&line[..len], keep);
                    len = 0;
                } else if len < line.len() {
                    line[len] = b;
                    len += 1;
                }
            }
        }
        libc::close(fd);
        dropped
    }
}

/// One line of `/proc/self/maps`: `start-end perms offset dev inode [path]`.
fn consider(line: &[u8], keep: &[usize]) -> usize {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let (Some(range), Some(perms), Some(_), Some(_), Some(_)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return 0;
    };
    let path = fields.next().unwrap_or(b"");
    if perms != b"rw-p" || !(path.is_empty() || path == b"[heap]") {
        return 0;
    }
    let Some(dash) = range.iter().position(|&b| b == b'-') else {
        return 0;
    };
    let (Some(start), Some(end)) = (hex(&range[..dash]), hex(&range[dash + 1..])) else {
        return 0;
    };
    if end <= start || end - start < SMALL || keep.iter().any(|&a| a >= start && a < end) {
        return 0;
    }
    // SAFETY: the range is a whole private anonymous mapping of this process that holds
    // nothing the caller still uses (checked above).
    if unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) } == 0 {
        end - start
    } else {
        0
    }
}

fn hex(digits: &[u8]) -> Option<usize> {
    let mut v: usize = 0;
    for &d in digits {
        let x = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        v = v.checked_mul(16)?.checked_add(usize::from(x))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forked_child_drops_the_heap_and_keeps_its_stack() {
        let big = vec![7u8; 8 << 20];
        let on_stack = [3u8; 64];
        // SAFETY: the child only makes syscalls and reads its stack before _exit.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let sp = on_stack.as_ptr() as usize;
                let tcb = libc::pthread_self() as usize;
                let dropped = shed(&[sp, tcb]);
                let heap_zeroed = std::ptr::read_volatile(big.as_ptr().add(4 << 20)) == 0;
                let stack_kept = std::ptr::read_volatile(on_stack.as_ptr().add(10)) == 3;
                libc::_exit(if dropped >= 8 << 20 && heap_zeroed && stack_kept {
                    0
                } else {
                    1
                });
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "{status}"
            );
        }
        assert_eq!(big[4 << 20], 7, "the parent's heap was touched");
    }

    #[test]
    fn maps_lines_are_parsed() {
        assert_eq!(hex(b"7f00"), Some(0x7f00));
        assert_eq!(hex(b"zz"), None);
        assert_eq!(consider(b"1000-2000 r-xp 00000000 08:01 12 /bin/x", &[]), 0);
        assert_eq!(
            consider(b"1000-2000 rw-p 00000000 00:00 0", &[]),
            0,
            "too small"
        );
    }
}
