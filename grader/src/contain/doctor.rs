//! `grader doctor`: which containment layers work on this machine, and for each one that
//! does not, why and what would make it work. It tests each layer the way a run would
//! use it, without keeping anything (the user namespace test runs in a child).

use super::{cgroup, limits, netns, readonly, sandbox, uid, userns, view};
use std::fmt::Write;
use std::path::Path;

/// One layer's verdict.
struct Line {
    name: &'static str,
    works: bool,
    detail: String,
}

/// The report of `grader doctor`; the flag says whether namespaces work (`--isolate auto`
/// would use them).
pub fn report() -> (String, bool) {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let proc_ok = Path::new("/proc/self/environ").exists();
    let mut lines = vec![
        Line {
            name: "process groups",
            works: true,
            detail: "each program and its children are killed as one group".into(),
        },
        Line {
            name: "resource limits",
            works: true,
            detail: format!(
                "CPU {} s, files {} MiB, {} descriptors, no core dumps, address space {} GiB",
                limits::CPU_SECONDS,
                limits::FILE_SIZE >> 20,
                limits::OPEN_FILES,
                limits::ADDRESS_SPACE >> 30
            ),
        },
        Line {
            name: "cookie sweep",
            works: proc_ok,
            detail: if proc_ok {
                "escaped processes (setsid, double fork) are found by GRADER_RUN in /proc/*/environ and killed".into()
            } else {
                "no /proc: escaped processes cannot be found".into()
            },
        },
        Line {
            name: "memory and process watch",
            works: proc_ok,
            detail: if proc_ok {
                format!(
                    "a program over {} MiB or {} processes is killed, and its check says so",
                    limits::MEMORY >> 20,
                    limits::PROCESSES
                )
            } else {
                "no /proc: memory and processes cannot be watched".into()
            },
        },
        Line {
            name: "signal forwarding",
            works: true,
            detail: "SIGINT/SIGTERM to the grader end every program; the report is still written"
                .into(),
        },
    ];
    let ns = namespaces(root);
    let ns_works = ns.is_ok();
    lines.push(Line {
        name: "network namespaces",
        works: ns_works,
        detail: match ns {
            Ok(how) => format!("{how}; programs get PORT={}", netns::PORT),
            Err(why) => format!("{why}\n    without them every program gets a free port, and a program with a hard-coded port fails"),
        },
    });
    let ro = if root {
        readonly::probe()
    } else if ns_works {
        Ok(())
    } else {
        Err("needs root or the user namespace above".to_string())
    };
    lines.push(Line {
        name: "read-only submission",
        works: ro.is_ok(),
        detail: match ro {
            Ok(()) => "each program sees the original submission read-only (a mount namespace of its own); the fallback where there is no box below".into(),
            Err(why) => format!("{why}\n    programs still work on a private copy, but one that learns the original's path can write there"),
        },
    });
    let cg = if root {
        cgroup::RunCgroup::create("doctor").map(|c| c.remove())
    } else {
        Err("needs root".into())
    };
    lines.push(Line {
        name: "cgroups",
        works: cg.is_ok(),
        detail: match cg {
            Ok(()) => format!(
                "a cgroup per program: pids.max {} and a {} MiB memory limit enforced by the kernel",
                limits::PROCESSES,
                limits::MEMORY >> 20
            ),
            Err(why) => format!(
                "{why}\n    fix: run the grader as root with /sys/fs/cgroup/pids and /sys/fs/cgroup/memory mounted (cgroup v1), or in a cgroup v2 that delegates pids and memory (Docker: --cgroupns=private with a writable /sys/fs/cgroup); the watcher above still applies"
            ),
        },
    });
    let id = uid::probe();
    lines.push(Line {
        name: "unprivileged uid",
        works: id.is_ok(),
        detail: match id {
            Ok(()) => format!(
                "programs run as uid/gid {}, {}, RLIMIT_NPROC {}; the fallback where there is no box below",
                uid::ID,
                if uid::keeps_read_search() {
                    "keeping only CAP_DAC_READ_SEARCH (to reach the interpreter)"
                } else {
                    "without any capability (the grader has no CAP_DAC_READ_SEARCH: the interpreter must be readable by every user)"
                },
                limits::USER_PROCESSES
            ),
            Err(why) => format!("{why}\n    programs run as the grader's own user"),
        },
    });
    lines.extend(boxes(root, ns_works));
    let mut out = String::new();
    for l in &lines {
        let _ = writeln!(
            out,
            "{} {:26} {}",
            if l.works { "ok  " } else { "NO  " },
            l.name,
            l.detail
        );
    }
    let _ = writeln!(
        out,
        "\n--isolate auto uses: {}",
        if ns_works { "namespace" } else { "none" }
    );
    (out, ns_works)
}

/// How network namespaces would be had here, or why not with the fix.
fn namespaces(root: bool) -> Result<String, String> {
    if !Path::new("/proc/thread-self/ns/net").exists() {
        return Err(
            "/proc/thread-self/ns/net is missing: needs Linux 3.17+ with /proc mounted".into(),
        );
    }
    if root {
        return netns::probe().map(|_| "as root: one private network namespace per check".into()).map_err(|e| {
            format!("{e}\n    fix: in Docker, run with --cap-add SYS_ADMIN (or --privileged) and an unconfined seccomp profile")
        });
    }
    if crate::procfs::threads(std::process::id()).unwrap_or(0) != 1 {
        return Err("cannot test here: the grader is already multi-threaded".into());
    }
    userns::try_in_child()
        .map(|_| "as an ordinary user: the grader moves into a user namespace of its own, then one network namespace per check".into())
        .map_err(|e| format!("unprivileged user namespaces do not work here ({e})\n    fix: {}", userns_fix()))
}

/// What to change so unprivileged user namespaces work, from the sysctls that exist here.
fn userns_fix() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut fixes = Vec::new();
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        fixes.push("sysctl -w kernel.unprivileged_userns_clone=1");
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        fixes.push("sysctl -w user.max_user_namespaces=15000");
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        fixes.push("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 23.10+), or an AppArmor profile allowing userns for the grader");
    }
    if Path::new("/.dockerenv").exists() {
        fixes.push(
            "in Docker: --security-opt seccomp=unconfined, or run as root with --cap-add SYS_ADMIN",
        );
    }
    fixes.push("or run the grader as root");
    fixes.join("; ")
}

/// The box layers: whether a box can be made here, and then what it gives.
fn boxes(root: bool, ns_works: bool) -> Vec<Line> {
    // Whether the working copy is capped too (known when a box was tried here).
    let mut capped = None;
    let made = if std::env::var("GRADER_BOX").as_deref() == Ok("off") {
        Err("turned off by GRADER_BOX=off".to_string())
    } else if root {
        sandbox::probe(uid::can_watch_other_uids()).map(|sb| {
            sb.remove();
            capped = Some(sb.capped_copy);
            sb.own_uid
        })
    } else if ns_works {
        // The grader's user namespace is made only by a run (doctor is already
        // multi-threaded): a run tries the box there and lists it in the report's
        // `isolation` when it works; its boxes have no uid of their own.
        Ok(false)
    } else {
        Err("needs root, or unprivileged user namespaces (see above)".to_string())
    };
    let own_uid = made.clone();
    let untested = if made == Ok(false) {
        " (as an ordinary user: each run tries it in its user namespace, and its report's isolation says whether it worked)"
    } else {
        ""
    };
    let fallback = "\n    programs run in the host's PID namespace and file system: the cookie, the cgroup and the watcher still find what they start";
    let line = |name, works: Result<String, String>| Line {
        name,
        works: works.is_ok(),
        detail: works
            .map(|how| format!("{how}{untested}"))
            .unwrap_or_else(|why| format!("{why}{fallback}")),
    };
    vec![
        line(
            "pid namespace per program",
            made.as_ref().map(|_| "each program is pid 2 of a box whose init is the grader's reaper: when it ends, the kernel kills everything it started, however it forked, setsid'd or cleared its environment".into()).map_err(Clone::clone),
        ),
        line(
            "private file system",
            made.as_ref().map(|_| "a box sees the system folders and the interpreter read-only, its working copy, and its own /tmp, /var/tmp, /dev/shm and /proc; not /root, home folders, the grader, the original submission or other boxes".into()).map_err(Clone::clone),
        ),
        line(
            "scratch quota",
            made.as_ref().map(|_| format!("/tmp, /var/tmp and /dev/shm share one {} MiB tmpfs per box, gone with it; files {} MiB each", view::SCRATCH_BYTES >> 20, limits::FILE_SIZE >> 20)).map_err(Clone::clone),
        ),
        line(
            "capped working copy",
            match (&made, capped) {
                (Ok(_), Some(false)) => Err("overlayfs could not be mounted in a box here: the working copy is bound as it is, capped only per file".into()),
                (Ok(_), _) => Ok(format!("what a program writes in its working copy goes to an overlay on the same {} MiB tmpfs, gone with the box; the grader's copy is never changed", view::SCRATCH_BYTES >> 20)),
                (Err(why), _) => Err(why.clone()),
            },
        ),
        line(
            "uid per box",
            match own_uid {
                Ok(true) => Ok(format!("each working copy and its programs get a uid of their own ({} + n), mode 0700, and no capability at all", super::boxuid::FIRST)),
                Ok(false) if root => Err("needs CAP_SYS_PTRACE (to see the sockets of a program under another uid): boxes run under the grader's own uid, without capabilities".into()),
                Ok(false) => Err("needs root: boxes run under the grader's own uid, without capabilities".into()),
                Err(why) => Err(why),
            },
        ),
    ]
}
