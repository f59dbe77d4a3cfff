//! The box's private filesystem view. The grader computes, before it forks, a list of
//! steps (every path already a C string, every folder to create in order); the box's
//! program process replays them between fork and exec with plain syscalls: a fresh tmpfs
//! as the new root, the system folders (`/usr`, `/etc`, ...) and the interpreter's
//! installation bound read-only, `/etc/shadow` hidden, a few devices, one size-capped
//! tmpfs shared by `/tmp`, `/var/tmp` and `/dev/shm`, the working copy bound read-write
//! (all by the box's keeper, [`build`]); then `/proc` of the box's PID namespace and
//! `chroot` (by the program, [`enter`]). Nothing else of the host (home
//! folders, `/root`, the grader, the original submission, other boxes) is in the view.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Bytes a box may write in `/tmp`, `/var/tmp` and `/dev/shm` together.
pub const SCRATCH_BYTES: u64 = 64 * 1024 * 1024;

/// Folders of the host bound read-only into every box (when they exist).
const SYSTEM: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// Files of `/etc` replaced by an empty one in the view (defence in depth: the box's uid
/// cannot read them anyway).
const HIDDEN: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/shadow-",
    "/etc/gshadow-",
];

/// Devices bound into the box's `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// One step of building the view.
#[derive(Debug, Clone)]
enum Step {
    /// `mkdir` (an existing folder is fine), then `chmod` to the mode.
    Mkdir(CString, libc::mode_t),
    /// An empty file to mount a file onto, with this mode.
    Touch(CString, libc::mode_t),
    /// `symlink(target, path)`.
    Symlink(CString, CString),
    /// A tmpfs with these options.
    Tmpfs(CString, CString),
    /// Bind `from` onto `to`; read-only when the flag says so.
    Bind(CString, CString, bool),
    /// `/proc` of the calling process's PID namespace.
    Proc(CString),
    /// `chown` to this uid and gid.
    Chown(CString, u32, u32),
    /// An overlay at the path with these options (the working copy, capped).
    Overlay(CString, CString),
    /// The root tmpfs, read-only once everything is mounted.
    Seal(CString),
}

/// The steps of one box's view, and where its program starts.
#[derive(Debug, Clone)]
pub struct Plan {
    root: CString,
    steps: Vec<Step>,
    cwd: CString,
    /// The scratch tmpfs as the keeper sees it (outside the chroot).
    pub scratch: CString,
}

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

/// Builds plans: remembers what is bound already so nothing is bound twice.
struct Builder {
    root: PathBuf,
    steps: Vec<Step>,
    made: Vec<PathBuf>,
    bound: Vec<PathBuf>,
}

impl Builder {
    fn inside(&self, p: &Path) -> PathBuf {
        self.root.join(p.strip_prefix("/").unwrap_or(p))
    }

    /// Creates `p` (a path of the view) and its parents, in order.
    fn mkdirs(&mut self, p: &Path, mode: libc::mode_t) {
        let mut at = PathBuf::from("/");
        for part in p.components().skip(1) {
            at.push(part);
            if !self.made.contains(&at) {
                self.made.push(at.clone());
                let inside = self.inside(&at);
                self.steps.push(Step::Mkdir(c(&inside), mode));
            }
        }
    }

    fn covered(&self, p: &Path) -> bool {
        self.bound.iter().any(|b| p.starts_with(b))
    }

    /// Binds the host's `p` (a folder or a file) at the same path in the view.
    fn bind(&mut self, p: &Path, read_only: bool) {
        if !p.is_absolute() || self.covered(p) {
            return;
        }
        // Through a link of the view (`/bin` -> `usr/bin`), a path may be there already.
        if std::fs::canonicalize(p).is_ok_and(|real| real != p && self.covered(&real)) {
            return;
        }
        let Ok(meta) = std::fs::metadata(p) else {
            return;
        };
        // Folders made on the way may be crossed, not listed: `/root` shows nothing.
        if meta.is_dir() {
            self.mkdirs(p, 0o711);
        } else {
            if let Some(parent) = p.parent() {
                self.mkdirs(parent, 0o711);
            }
            self.steps.push(Step::Touch(c(&self.inside(p)), 0o644));
        }
        self.steps
            .push(Step::Bind(c(p), c(&self.inside(p)), read_only));
        self.bound.push(p.to_path_buf());
    }
}

impl Builder {
    /// Mounts an overlay at `p` in the view: the host's `p` below, read-only; above it
    /// `upper/` and `work/` in `at` (a folder of the scratch tmpfs, in the view), so every
    /// write lands there. The top folder keeps the owner and mode of the host's `p`.
    fn overlay(&mut self, p: &Path, at: &Path) {
        if !p.is_absolute() || self.covered(p) {
            return;
        }
        let Ok(meta) = std::fs::metadata(p) else {
            return;
        };
        if !meta.is_dir() {
            return self.bind(p, false);
        }
        use std::os::unix::fs::MetadataExt;
        let (upper, work) = (at.join("upper"), at.join("work"));
        self.steps.push(Step::Mkdir(c(&self.inside(at)), 0o700));
        self.steps
            .push(Step::Mkdir(c(&self.inside(&upper)), meta.mode() & 0o7777));
        self.steps
            .push(Step::Chown(c(&self.inside(&upper)), meta.uid(), meta.gid()));
        self.steps.push(Step::Mkdir(c(&self.inside(&work)), 0o700));
        self.mkdirs(p, 0o711);
        let opts = format!(
            "lowerdir={},upperdir={},workdir={}",
            escape_option(p),
            escape_option(&self.inside(&upper)),
            escape_option(&self.inside(&work)),
        );
        self.steps
            .push(Step::Overlay(c(&self.inside(p)), c(Path::new(&opts))));
        self.bound.push(p.to_path_buf());
    }
}

/// A path in overlayfs options: `,` ends an option and `:` separates lower folders, so
/// both (and `\`) are escaped with a backslash.
fn escape_option(p: &Path) -> String {
    let mut out = String::new();
    for ch in p.to_string_lossy().chars() {
        if matches!(ch, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The view for a program started in `cwd` with `argv` and `env`, built on the empty
/// folder `root`. With `capped_copy`, the working copy is an overlay whose writes go to
/// the box's scratch tmpfs (so they count against its cap and are gone with the box);
/// otherwise it is bound read-write.
pub fn plan(
    root: &Path,
    cwd: &Path,
    argv: &[String],
    env: &[(String, String)],
    capped_copy: bool,
) -> Plan {
    let mut b = Builder {
        root: root.to_path_buf(),
        steps: vec![Step::Tmpfs(c(root), c(Path::new("size=1m,mode=0755")))],
        made: vec![PathBuf::from("/")],
        bound: Vec::new(),
    };
    for dir in SYSTEM {
        let p = Path::new(dir);
        match std::fs::read_link(p) {
            Ok(target) => {
                b.steps.push(Step::Symlink(c(&target), c(&b.inside(p))));
                b.made.push(p.to_path_buf());
            }
            Err(_) if p.is_dir() => b.bind(p, true),
            Err(_) => {}
        }
    }
    // An empty file nobody but root may read, bound over each hidden file.
    let sealed = b.inside(Path::new("/.sealed"));
    b.steps.push(Step::Touch(c(&sealed), 0));
    for f in HIDDEN {
        if Path::new(f).exists() {
            b.steps
                .push(Step::Bind(c(&sealed), c(&b.inside(Path::new(f))), true));
        }
    }
    // Devices, and the scratch space: one capped tmpfs behind /tmp, /var/tmp and /dev/shm,
    // mounted first at /.box (mode 0700, so the program cannot see it there).
    let dev = Path::new("/dev");
    b.mkdirs(dev, 0o755);
    b.steps.push(Step::Tmpfs(
        c(&b.inside(dev)),
        c(Path::new("size=64k,mode=0755")),
    ));
    for d in DEVICES {
        let p = dev.join(d);
        if p.exists() {
            b.steps.push(Step::Touch(c(&b.inside(&p)), 0o644));
            b.steps.push(Step::Bind(c(&p), c(&b.inside(&p)), false));
        }
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        b.steps.push(Step::Symlink(
            c(Path::new(target)),
            c(&b.inside(&dev.join(name))),
        ));
    }
    let scratch = Path::new("/.box");
    b.mkdirs(scratch, 0o700);
    let opts = format!("size={SCRATCH_BYTES},mode=0700");
    b.steps
        .push(Step::Tmpfs(c(&b.inside(scratch)), c(Path::new(&opts))));
    for (sub, at) in [
        ("tmp", "/tmp"),
        ("var-tmp", "/var/tmp"),
        ("shm", "/dev/shm"),
    ] {
        let from = b.inside(&scratch.join(sub));
        b.steps.push(Step::Mkdir(c(&from), 0o1777));
        let at = Path::new(at);
        b.mkdirs(at, 0o755);
        b.steps.push(Step::Bind(c(&from), c(&b.inside(at)), false));
        b.made.push(at.to_path_buf());
    }
    b.mkdirs(Path::new("/proc"), 0o555);
    // The interpreter's installation (`<prefix>/bin/python3` -> `<prefix>`) and any other
    // absolute path on the command line, read-only.
    for arg in argv {
        let p = Path::new(arg);
        if !p.is_absolute() {
            continue;
        }
        let exe = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let prefix = exe
            .parent()
            .filter(|bin| bin.file_name().is_some_and(|n| n == "bin"))
            .and_then(Path::parent)
            .filter(|prefix| prefix.components().count() > 2);
        match prefix {
            Some(prefix) if prefix.join("lib").is_dir() => b.bind(prefix, true),
            _ => b.bind(&exe, true),
        }
        if exe != p {
            b.bind(p, true);
        }
    }
    // The working copy: an overlay on the host's copy whose writes land in the scratch
    // tmpfs (capped, gone with the box), or else bound read-write. What the grader hands
    // the program to write is bound read-write; the instrumentation (`PYTHONPATH`)
    // read-only.
    if capped_copy {
        b.overlay(cwd, &scratch.join("copy"));
    } else {
        b.bind(cwd, false);
    }
    for (key, value) in env {
        if key == "PYTHONPATH" {
            for dir in value.split(':') {
                b.bind(Path::new(dir), true);
            }
        } else if key.starts_with("GRADER_") && value.starts_with('/') {
            if let Some(parent) = Path::new(value).parent() {
                if super::uid::is_graders_temporary(parent) {
                    b.bind(parent, false);
                }
            }
        }
    }
    b.steps.push(Step::Seal(c(root)));
    b.steps.push(Step::Proc(c(&b.inside(Path::new("/proc")))));
    let scratch = c(&b.inside(scratch));
    Plan {
        root: c(root),
        steps: b.steps,
        cwd: c(cwd),
        scratch,
    }
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r != 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// In the box's keeper, between fork and exec, in the box's new mount namespace: makes
/// every mount of the view but `/proc` (which must be made from inside the box's PID
/// namespace, by [`enter`]). Async-signal-safe.
pub fn build(plan: &Plan) -> std::io::Result<()> {
    let null = std::ptr::null::<libc::c_char>();
    let none = std::ptr::null::<libc::c_void>();
    // SAFETY: syscalls on NUL-terminated strings owned by the plan and constant flags.
    unsafe {
        // With no umask, mkdir and open give the modes asked for: no chmod needed unless
        // the folder or file was there already.
        let umask = libc::umask(0);
        let result = (|| {
            for step in &plan.steps {
                match step {
                    Step::Mkdir(p, mode) => {
                        if libc::mkdir(p.as_ptr(), *mode) != 0 {
                            if *libc::__errno_location() != libc::EEXIST {
                                return Err(std::io::Error::last_os_error());
                            }
                            check(libc::chmod(p.as_ptr(), *mode))?;
                        }
                    }
                    Step::Touch(p, mode) => {
                        let fd = libc::open(
                            p.as_ptr(),
                            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC,
                            *mode as libc::c_uint,
                        );
                        if fd < 0 {
                            if *libc::__errno_location() != libc::EEXIST {
                                return Err(std::io::Error::last_os_error());
                            }
                            check(libc::chmod(p.as_ptr(), *mode))?;
                        } else {
                            libc::close(fd);
                        }
                    }
                    Step::Symlink(target, p) => check(libc::symlink(target.as_ptr(), p.as_ptr()))?,
                    Step::Tmpfs(p, opts) => check(libc::mount(
                        c"tmpfs".as_ptr(),
                        p.as_ptr(),
                        c"tmpfs".as_ptr(),
                        libc::MS_NOSUID | libc::MS_NODEV,
                        opts.as_ptr().cast(),
                    ))?,
                    Step::Bind(from, to, read_only) => {
                        check(libc::mount(
                            from.as_ptr(),
                            to.as_ptr(),
                            null,
                            libc::MS_BIND | libc::MS_REC,
                            none,
                        ))?;
                        if *read_only {
                            remount_read_only(to)?;
                        }
                    }
                    Step::Seal(p) => check(libc::mount(
                        null,
                        p.as_ptr(),
                        null,
                        libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
                        none,
                    ))?,
                    Step::Chown(p, uid, gid) => check(libc::chown(p.as_ptr(), *uid, *gid))?,
                    Step::Overlay(p, opts) => check(libc::mount(
                        c"overlay".as_ptr(),
                        p.as_ptr(),
                        c"overlay".as_ptr(),
                        libc::MS_NOSUID | libc::MS_NODEV,
                        opts.as_ptr().cast(),
                    ))?,
                    Step::Proc(_) => {}
                }
            }
            Ok(())
        })();
        libc::umask(umask);
        result
    }
}

/// In the box's program process (pid 2 of the box, in the mount namespace [`build`]
/// made): mounts the box's `/proc` and moves into the view. Async-signal-safe.
pub fn enter(plan: &Plan) -> std::io::Result<()> {
    // SAFETY: syscalls on NUL-terminated strings owned by the plan and constant flags.
    unsafe {
        for step in &plan.steps {
            if let Step::Proc(p) = step {
                check(libc::mount(
                    c"proc".as_ptr(),
                    p.as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                ))?;
            }
        }
        // chroot, not pivot_root: unmounting the old root waits for an RCU grace period
        // (measured: up to 290 ms under load, on every start). A chroot cannot be left
        // without CAP_SYS_CHROOT, which the program drops before it execs.
        check(libc::chroot(plan.root.as_ptr()))?;
        check(libc::chdir(plan.cwd.as_ptr()))?;
    }
    Ok(())
}

/// Remounts the bind mount at `p` read-only, keeping the flags the kernel locks (a user
/// namespace may not clear `nosuid`, `nodev`, `noexec` or the atime flags of a mount).
/// Async-signal-safe.
fn remount_read_only(p: &CString) -> std::io::Result<()> {
    // SAFETY: async-signal-safe syscalls on descriptors and buffers we own.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        let mut flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
        if libc::statvfs(p.as_ptr(), &mut st) == 0 {
            let keep = [
                (libc::ST_NOSUID, libc::MS_NOSUID),
                (libc::ST_NODEV, libc::MS_NODEV),
                (libc::ST_NOEXEC, libc::MS_NOEXEC),
                (libc::ST_NOATIME, libc::MS_NOATIME),
                (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
                (libc::ST_RELATIME, libc::MS_RELATIME),
            ];
            for (st_flag, ms_flag) in keep {
                if st.f_flag & st_flag != 0 {
                    flags |= ms_flag;
                }
            }
        }
        check(libc::mount(
            std::ptr::null(),
            p.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_binds_the_working_copy_and_the_interpreter_and_nothing_of_root() {
        let root = Path::new("/tmp/grader-box-test");
        let exe = crate::submission::interpreter::resolve("python3").unwrap();
        let plan = plan(
            root,
            Path::new("/tmp"),
            std::slice::from_ref(&exe),
            &[],
            false,
        );
        let binds: Vec<String> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Bind(from, _, ro) => Some(format!(
                    "{}{}",
                    from.to_string_lossy(),
                    if *ro { " ro" } else { "" }
                )),
                _ => None,
            })
            .collect();
        assert!(binds.contains(&"/tmp".to_string()), "{binds:?}");
        assert!(binds.contains(&"/usr ro".to_string()), "{binds:?}");
        assert!(
            binds.contains(&"/tmp/grader-box-test/.sealed ro".to_string()),
            "{binds:?}"
        );
        assert!(
            binds
                .iter()
                .any(|b| exe.starts_with(b.trim_end_matches(" ro"))),
            "the interpreter {exe} is not bound: {binds:?}"
        );
        assert!(
            !binds.iter().any(|b| b == "/root" || b == "/home"),
            "{binds:?}"
        );
    }

    #[test]
    fn a_capped_working_copy_is_an_overlay_on_the_scratch_tmpfs_not_a_bind() {
        let root = Path::new("/tmp/grader-box-test");
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().to_path_buf();
        let plan = plan(root, &cwd, &[], &[], true);
        let cwd_in_view = c(&root.join(cwd.strip_prefix("/").unwrap()));
        assert!(
            !plan
                .steps
                .iter()
                .any(|s| matches!(s, Step::Bind(_, to, _) if *to == cwd_in_view)),
            "{:?}",
            plan.steps
        );
        let opts = plan
            .steps
            .iter()
            .find_map(|s| match s {
                Step::Overlay(at, opts) if *at == cwd_in_view => Some(opts.to_string_lossy()),
                _ => None,
            })
            .expect("an overlay at the working copy");
        assert!(
            opts.contains(&format!("lowerdir={},", cwd.display()))
                && opts.contains("upperdir=/tmp/grader-box-test/.box/copy/upper,"),
            "{opts}"
        );
        assert_eq!(escape_option(Path::new("/a,b:c")), "/a\\,b\\:c");
    }
}
