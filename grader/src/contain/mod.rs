//! Containment: hostile or broken submissions never hurt the grader or the machine. The
//! layers, from the ones that work everywhere to the ones that need privileges:
//!
//! - every program in its own process group, killed as a group ([`crate::process`]);
//! - resource limits set between fork and exec ([`limits`]);
//! - a cookie in every program's environment and a sweep of `/proc` for it after each
//!   kill, which catches `setsid` and double-fork escapees ([`cookie`]);
//! - one watcher that kills a program over 512 MiB or 256 processes and says so
//!   ([`monitor`]);
//! - the grader's SIGINT/SIGTERM forwarded to every program ([`signals`]);
//! - a private network namespace per check, so programs get `PORT=4444` ([`netns`]); an
//!   unprivileged grader first moves into a user namespace of its own ([`userns`]);
//! - as root, a cgroup per run and per program with hard pids and memory limits
//!   ([`cgroup`]);
//! - where mount namespaces can be made, the original submission read-only for programs
//!   ([`readonly`]);
//! - as root, programs under an unprivileged uid ([`uid`]);
//! - where the grader may make namespaces, one box per program ([`sandbox`]): a PID
//!   namespace whose init is the grader's reaper ([`pidns`]), a private filesystem view
//!   with capped scratch space ([`view`]), and (as root) a uid of its own without any
//!   capability ([`boxuid`]). It supersedes the read-only submission and the shared uid.
//!
//! [`init`] chooses the layers once at start-up from what the machine allows and what
//! `--isolate` asks; [`layers`] tells the rest of the grader; [`doctor`] explains them.

pub mod boxuid;
pub mod cgroup;
pub mod cookie;
pub mod doctor;
pub mod limits;
pub mod monitor;
pub mod netns;
pub mod pidns;
pub mod readonly;
pub mod registry;
pub mod sandbox;
pub mod shed;
pub mod signals;
pub mod uid;
pub mod userns;
pub mod view;

use std::sync::OnceLock;

/// What `--isolate` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Isolate {
    /// The strongest isolation this machine allows.
    Auto,
    /// Private network namespaces, or fail when they cannot be had.
    Namespace,
    /// No namespaces: programs get free ports in the grader's own network.
    None,
}

/// The layers in force for this run.
#[derive(Debug)]
pub struct Layers {
    /// Run id: every program's cookie starts with it (`GRADER_RUN`).
    pub run_id: String,
    /// Private network namespaces per check, or why not.
    pub netns: Result<(), String>,
    /// The grader moved itself into a user namespace of its own (not root).
    pub userns: bool,
    /// The run's cgroup (root), or why there is none.
    pub cgroup: Result<cgroup::RunCgroup, String>,
    /// Programs see the original submission read-only, or why not.
    pub readonly: Result<(), String>,
    /// Programs run under uid [`uid::ID`] (root), or why not.
    pub uid: Result<(), String>,
    /// One box per program (PID namespace, private view, own uid as root), or why not.
    pub sandbox: Result<sandbox::Sandbox, String>,
}

impl Layers {
    /// Layers that need nothing: process groups, limits, cookie, watcher.
    fn basic(netns: Result<(), String>) -> Layers {
        Layers {
            run_id: cookie::fresh_run_id(),
            netns,
            userns: false,
            cgroup: Err("not set up".into()),
            readonly: Err("not set up".into()),
            uid: Err("not set up".into()),
            sandbox: Err("not set up".into()),
        }
    }

    /// True when checks run in private network namespaces.
    pub fn namespaces(&self) -> bool {
        self.netns.is_ok()
    }

    /// Names of the layers in force (for the JSON report).
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = vec!["process-group", "rlimits", "cookie-sweep", "monitor"];
        if self.userns {
            out.push("user-namespace");
        }
        if self.namespaces() {
            out.push("network-namespace");
        }
        if self.cgroup.is_ok() {
            out.push("cgroup");
        }
        if let Ok(sb) = &self.sandbox {
            out.push("pid-namespace");
            out.push("private-filesystem");
            out.push("scratch-quota");
            if sb.capped_copy {
                out.push("capped-working-copy");
            }
            if sb.own_uid {
                out.push("box-uid");
            }
        } else {
            if self.readonly.is_ok() {
                out.push("read-only-submission");
            }
            if self.uid.is_ok() {
                out.push("unprivileged-uid");
            }
        }
        out
    }
}

static LAYERS: OnceLock<Layers> = OnceLock::new();

/// The layers of this run (the basic ones when [`init`] was not called, e.g. in tests).
pub fn layers() -> &'static Layers {
    LAYERS.get_or_init(|| Layers::basic(Err("not set up".into())))
}

/// Chooses the layers. Call early, while the grader is still single-threaded (a grader
/// that is not root may move itself into a user namespace here). `Err` when `namespace`
/// was asked and cannot be had.
pub fn init(isolate: Isolate) -> Result<&'static Layers, String> {
    let mut layers = Layers::basic(Err("--isolate none".into()));
    if isolate != Isolate::None {
        layers.netns = namespaces(&mut layers.userns);
    }
    if isolate == Isolate::Namespace {
        if let Err(why) = &layers.netns {
            return Err(format!(
                "--isolate namespace: private network namespaces do not work here ({why}); see `grader doctor`"
            ));
        }
    }
    if layers.namespaces() {
        netns::remember_original();
    }
    layers.cgroup = if std::env::var("GRADER_CGROUPS").as_deref() == Ok("off") {
        Err("turned off by GRADER_CGROUPS=off".into())
    } else {
        cgroup::RunCgroup::create(&layers.run_id)
    };
    layers.readonly = if std::env::var("GRADER_READONLY").as_deref() == Ok("off") {
        Err("turned off by GRADER_READONLY=off".into())
    } else {
        readonly::probe()
    };
    layers.uid = if std::env::var("GRADER_UID").as_deref() == Ok("off") {
        Err("turned off by GRADER_UID=off".into())
    } else {
        uid::probe()
    };
    // Root of the machine, not of the grader's own user namespace (where only its own
    // uid is mapped: no uid per box there).
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0 && !layers.userns;
    layers.sandbox = if std::env::var("GRADER_BOX").as_deref() == Ok("off") {
        Err("turned off by GRADER_BOX=off".into())
    } else if !root && !layers.userns {
        Err("needs root, or the grader's user namespace (not made with --isolate none)".into())
    } else {
        sandbox::probe(root && uid::can_watch_other_uids())
    };
    let _ = LAYERS.set(layers);
    Ok(self::layers())
}

/// Sets up what per-thread network namespaces need; `userns` tells whether the grader
/// moved into a user namespace for it.
fn namespaces(userns: &mut bool) -> Result<(), String> {
    if !std::path::Path::new("/proc/thread-self/ns/net").exists() {
        return Err("/proc/thread-self/ns/net is missing (not Linux, or no /proc)".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        userns::enter().map_err(|e| format!("user namespace: {e}"))?;
        *userns = true;
    }
    netns::probe()
}

/// What is left at the end of a run: every process still carrying the run's cookie, and
/// the run's cgroups.
pub fn finish() {
    let layers = layers();
    cookie::sweep(cookie::Match::Run(&layers.run_id));
    if let Ok(cg) = &layers.cgroup {
        cg.remove();
    }
    if let Ok(sb) = &layers.sandbox {
        sb.remove();
    }
}
