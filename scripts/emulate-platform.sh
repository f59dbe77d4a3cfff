#!/usr/bin/env bash
# Runs a command the way a platform's DEFAULT setup would run the grader, emulated on this
# machine (no container runtime needed), to see which containment layers it gets:
#
#   docker     root, Docker's default capability set (no CAP_SYS_ADMIN, no
#              CAP_DAC_READ_SEARCH, ...), a seccomp filter that refuses what Docker's
#              default profile refuses to a container without CAP_SYS_ADMIN (unshare,
#              setns, mount, umount2, pivot_root, the new mount API, clone with a
#              namespace flag; clone3 answers ENOSYS), and /sys/fs/cgroup read-only.
#              Also what a Kubernetes pod (seccomp RuntimeDefault, no added
#              capabilities) and PrairieLearn's external grader get by default.
#   docker-admin  the same with `--cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE --security-opt
#              seccomp=unconfined` (AppArmor is not emulated): what docs/platforms.md
#              advises for boxes.
#   user-nons  an ordinary user (nobody) under the same seccomp filter: no user
#              namespaces (like Ubuntu 24.04's AppArmor restriction on a GitHub-hosted
#              runner, where unprivileged user namespaces get no capabilities).
#   user       an ordinary user (nobody) where unprivileged user namespaces work (a
#              runner where the restriction is turned off, most other distributions).
#
# It is an emulation: the real platforms add more (AppArmor profiles, a different
# kernel, masked /proc paths, their own cgroup setup); run `grader doctor` there to be
# sure. Needs root (to make the mount namespace and drop to the emulated setup).
#
#   scripts/emulate-platform.sh docker target/release/grader doctor
#   scripts/emulate-platform.sh user-nons target/release/grader check fixtures/good/lecture
set -euo pipefail

mode=${1:?usage: emulate-platform.sh docker|docker-admin|user-nons|user COMMAND...}
shift
[ "$(id -u)" = 0 ] || { echo "emulate-platform.sh: run as root" >&2; exit 2; }

# Docker's default capabilities (moby's oci/caps/defaults.go).
docker_caps=-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap

# Installs the seccomp filter, then execs the rest of the command line.
seccomp_exec() {
    exec python3 - "$@" <<'PY'
import ctypes, os, struct, sys

LD_W_ABS, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38
AUDIT_ARCH_X86_64 = 0xC000003E
# unshare, setns, mount, umount2, pivot_root, open_tree, move_mount, fsopen, fsconfig,
# fsmount, fspick, mount_setattr
DENY = [272, 308, 165, 166, 155, 428, 429, 430, 431, 432, 433, 442]
CLONE, CLONE3 = 56, 435
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

prog = []
def op(code, k, jt=0, jf=0):
    prog.append([code, jt, jf, k])
op(LD_W_ABS, 4)                          # arch
op(JEQ, AUDIT_ARCH_X86_64, 1, 0)
op(RET, ALLOW)                           # another ABI: not emulated
op(LD_W_ABS, 0)                          # syscall number
n = len(DENY)
for i, nr in enumerate(DENY):            # -> RET EPERM, which sits after the checks
    op(JEQ, nr, (n - i - 1) + 2 + 2, 0)
op(JEQ, CLONE, 3, 0)                     # -> the clone flag check
op(JEQ, CLONE3, 1, 0)                    # -> RET ENOSYS
op(RET, ALLOW)
op(RET, ERRNO | ENOSYS)
op(RET, ERRNO | EPERM)
op(LD_W_ABS, 16)                         # clone's flags (low 32 bits of args[0])
op(JSET, NS_FLAGS, 0, 1)
op(RET, ERRNO | EPERM)
op(RET, ALLOW)
# Fix the jump to "RET EPERM" (index of the first RET ERRNO|EPERM).
eperm = next(i for i, p in enumerate(prog) if p[0] == RET and p[3] == ERRNO | EPERM)
for i in range(4, 4 + n):
    prog[i][1] = eperm - i - 1
clone_check = eperm + 1
prog[4 + n][1] = clone_check - (4 + n) - 1
enosys = eperm - 1
prog[5 + n][1] = enosys - (5 + n) - 1

buf = b"".join(struct.pack("HBBI", *p) for p in prog)
filt = ctypes.create_string_buffer(buf)
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(prog), ctypes.addressof(filt))
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
PY
}

self=$(readlink -f "$0")
case "$mode" in
docker)
    # A mount namespace of its own, so that the read-only cgroup mounts stay in it.
    exec unshare --mount --propagation private "$self" _docker "$@"
    ;;
docker-admin)
    exec unshare --mount --propagation private "$self" _docker-admin "$@"
    ;;
_docker | _docker-admin)
    for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts); do
        mount -o remount,bind,ro "$m"
    done
    mount -o remount,bind,ro /sys/fs/cgroup 2>/dev/null || true
    if [ "$mode" = _docker ]; then
        seccomp_exec setpriv --bounding-set "$docker_caps" --inh-caps=-all -- "$@"
    fi
    exec setpriv --bounding-set "$docker_caps,+sys_admin,+net_admin,+sys_ptrace" --inh-caps=-all -- "$@"
    ;;
user-nons)
    seccomp_exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        --bounding-set=-all -- "$@"
    ;;
user)
    exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        --bounding-set=-all -- "$@"
    ;;
*)
    echo "emulate-platform.sh: unknown mode $mode (docker, docker-admin, user-nons, user)" >&2
    exit 2
    ;;
esac
