"""The grader's instrumentation, loaded by Python at start-up from the grader's private
PYTHONPATH directory. It first restores the import path of a normal start when the
program runs in the grader's own environment (grader/src/python_env.rs). Each feature
is off unless the grader turns it on for one check:

GRADER_SHORT_SEND=F   socket.send accepts at most half of what it is given, as a loaded
                      network can; sendall is unaffected (check `large`). The first cut
                      is noted in file F (F="1": not noted).
GRADER_PREEMPT=SEED   forced, seeded thread switches between bytecodes (checks `race-free`).
GRADER_THREAD_LOG=F   every thread started is recorded in file F (check `uses-threads`).

Always: a forked child freezes what it inherited for the cycle collector (`gc.freeze()`).
"""
import os as _os


def _grader_restore_path():
    # Started in the grader's own environment (grader/src/python_env.rs): put back the
    # folders a normal start of the interpreter has on sys.path, in their order.
    import sys

    if sys.prefix == sys.base_prefix:
        return
    try:
        with open(_os.path.join(sys.prefix, "grader-sys-path")) as f:
            wanted = f.read().splitlines()
    except OSError:
        return
    for folder in wanted:
        if folder and folder not in sys.path:
            sys.path.append(folder)


_grader_restore_path()
del _grader_restore_path


def _grader_freeze_after_fork():
    # A fork server's child (one per client) ends through the interpreter's finalization,
    # whose cycle collection visits every object inherited from the parent and writes to
    # each one's header: nearly every page of the parent's heap is copied (copy on write),
    # which made up most of a child's cost. Frozen, the inherited objects are left to
    # reference counting, as they were while the parent held them; what the child makes
    # itself is collected as usual. Nothing a program prints or sends changes.
    import gc

    _os.register_at_fork(after_in_child=gc.freeze)


_grader_freeze_after_fork()
del _grader_freeze_after_fork


def _grader_short_send(log):
    import _socket
    import socket

    noted = []

    def send(self, data, flags=0):
        view = memoryview(data)
        if len(view) > 1:
            view = view[: len(view) // 2]
            if not noted and log != "1":
                noted.append(True)
                try:
                    with open(log, "a") as f:
                        f.write("short send\n")
                except OSError:
                    pass
        return _socket.socket.send(self, view, flags)

    socket.socket.send = send


_short = _os.environ.pop("GRADER_SHORT_SEND", None)
if _short:
    _grader_short_send(_short)
del _short

_seed = _os.environ.pop("GRADER_PREEMPT", None)
_log = _os.environ.pop("GRADER_THREAD_LOG", None)
if _seed is not None or _log:
    import grader_preempt

    grader_preempt.install(int(_seed) if _seed is not None else None, _log)
del _os, _seed, _log
