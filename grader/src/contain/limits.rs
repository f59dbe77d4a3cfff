//! Resource limits of every program, set between fork and exec: CPU seconds, the size of a
//! file it writes, open descriptors, no core dumps, and (only as a backstop) address
//! space. Memory and process counts are watched by [`super::monitor`] (and the cgroup as
//! root), which can say in words what was exceeded.

/// Most memory (resident, all processes of a program together) before the grader kills it.
pub const MEMORY: u64 = 512 * 1024 * 1024;
/// Most processes a program may have at once before the grader kills it.
pub const PROCESSES: u64 = 256;
/// CPU seconds per process (soft; the kernel sends SIGXCPU, then SIGKILL at the hard limit).
pub const CPU_SECONDS: u64 = 120;
/// Largest file a program may write.
pub const FILE_SIZE: u64 = 64 * 1024 * 1024;
/// Open descriptors per process (`select()` cannot handle more anyway).
pub const OPEN_FILES: u64 = 1024;
/// Address space per process: a backstop far above [`MEMORY`], because every Python thread
/// reserves its stack and glibc a malloc arena of 64 MiB per thread, which are address
/// space, not memory (a 4 GiB limit breaks a server with a few dozen threads).
pub const ADDRESS_SPACE: u64 = 16 * 1024 * 1024 * 1024;
/// Processes (and threads) per user, set only where programs run under their own uid
/// (root): a machine-wide backstop shared by every program of that uid, so above what
/// several graders side by side need; [`PROCESSES`] is the limit per program.
pub const USER_PROCESSES: u64 = 4096;

/// Sets the limits on the calling process. Async-signal-safe: meant for `pre_exec`.
pub fn apply(user_processes: bool) -> std::io::Result<()> {
    set(libc::RLIMIT_CPU, CPU_SECONDS, CPU_SECONDS + 5)?;
    set(libc::RLIMIT_FSIZE, FILE_SIZE, FILE_SIZE)?;
    set(libc::RLIMIT_NOFILE, OPEN_FILES, OPEN_FILES)?;
    set(libc::RLIMIT_CORE, 0, 0)?;
    set(libc::RLIMIT_AS, ADDRESS_SPACE, ADDRESS_SPACE)?;
    if user_processes {
        set(libc::RLIMIT_NPROC, USER_PROCESSES, USER_PROCESSES)?;
    }
    Ok(())
}

fn set(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let mut now = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(resource, &mut now) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Never raise a limit the grader itself runs under.
        let cap = |v: u64| {
            if now.rlim_max == libc::RLIM_INFINITY {
                v
            } else {
                v.min(now.rlim_max)
            }
        };
        let lim = libc::rlimit {
            rlim_cur: cap(soft),
            rlim_max: cap(hard),
        };
        if libc::setrlimit(resource, &lim) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
