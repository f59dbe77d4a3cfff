"""Forced preemption and thread recording for programs graded by `grader`.

The grader puts this directory on PYTHONPATH; its `sitecustomize.py` calls
`install(seed, record_path)` before the student's program starts.

* Preemption (`race-free` checks). CPython 3.10+ only switches threads at a few
  places (backward jumps, calls), so an unlocked `a = a + 1` in a loop almost
  never loses an update by itself. Here a trace function turns on opcode events
  for the student's own frames (not the standard library, not this module) and,
  at seeded pseudo-random opcodes, gives the GIL away: the thread sleeps for a
  moment so that others run in the middle of its statement. Code that holds a
  lock while it sleeps keeps others out, so correct programs stay correct.
* Recording (`uses-threads`, thread counts). If `record_path` is given, every
  thread that really starts running appends one line to that file at once
  (unbuffered, O_APPEND), so the count survives a crash; at exit the process
  appends a summary line.

Record file format, one event per line, fields separated by one space:

    start <pid> <thread id (native where available)> <thread name, may contain spaces>
    exit <pid> <threads started> <most threads alive at once, main included>

Where opcode tracing is unavailable (Python < 3.7, or an interpreter without
`frame.f_trace_opcodes`) preemption is a no-op and one message goes to stderr;
recording still works.
"""

import os
import sys

__all__ = ["install"]

# Tuning. The n-th time an instruction of the student's code runs, the thread
# yields before it with probability max(k / n, floor): one k and floor for
# stores to shared state (STORE_GLOBAL, STORE_ATTR, ...: the write half of
# `a = a + 1`), one for every other opcode (check-then-act races). A yield
# sleeps `yield_sleep` seconds: time.sleep(0) only releases the GIL, and the
# same thread often takes it straight back.
# Measured on CPython 3.11.7, 2 cores: `a = a + 1` without a lock, 10 threads x
# 2000 increments, lost updates in 120 of 120 runs (obtained 3836..11476 of
# 20000), about 0.1 s a run; with the Lock always 20000, 0.24 s a run (0.03 s
# untraced); 2 threads x 20 increments still lost updates in 45 of 50 runs.
# Cost grows with the work: 10 x 50000 with the Lock takes about 4.7 s.
TUNING = {
    "store_k": 2.0,
    "store_floor": 1.0 / 256,
    "other_k": 0.5,
    "other_floor": 1.0 / 8192,
    "yield_sleep": 0.0002,
    "switch_interval": None,  # sys.setswitchinterval, None: leave as is
}

_installed = False


def install(seed, record_path=None, **tuning):
    """Install recording (if `record_path`) and preemption (if `seed` is not None).

    `seed` (an int) fixes the pseudo-random choice of yield points; thread
    scheduling itself stays nondeterministic. `tuning` overrides entries of
    TUNING (for experiments). Call once, before any thread starts (the grader's
    sitecustomize does); a second call does nothing.
    """
    global _installed
    if _installed:
        return
    _installed = True
    if record_path:
        _install_recorder(record_path)
    if seed is not None:
        unknown = set(tuning) - set(TUNING)
        if unknown:
            raise TypeError("unknown tuning: %s" % ", ".join(sorted(unknown)))
        _install_preemption(int(seed), dict(TUNING, **tuning))


# ---------------------------------------------------------------- recording

def _install_recorder(path):
    import atexit
    import threading
    try:
        import _thread
    except ImportError:  # Python 2
        import thread as _thread

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    counts = {"started": 0, "alive": 1, "max_alive": 1, "pid": os.getpid()}
    count_lock = threading.Lock()

    def write(line):
        try:
            os.write(fd, (line + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    def started(name):
        with count_lock:
            if counts["pid"] != os.getpid():  # forked child: its own counts
                counts.update(started=0, alive=1, max_alive=1, pid=os.getpid())
            counts["started"] += 1
            counts["alive"] += 1
            counts["max_alive"] = max(counts["max_alive"], counts["alive"])
        native = getattr(threading, "get_native_id", _thread.get_ident)()
        write("start %d %d %s" % (os.getpid(), native, name))

    def finished():
        with count_lock:
            counts["alive"] -= 1

    # Python 2 spells Thread._bootstrap with name mangling
    attr = "_bootstrap" if hasattr(threading.Thread, "_bootstrap") else "_Thread__bootstrap"
    original_bootstrap = getattr(threading.Thread, attr)

    def _bootstrap(self):
        started(self.name)
        try:
            original_bootstrap(self)
        finally:
            finished()

    setattr(threading.Thread, attr, _bootstrap)

    # Threads started with the low-level module (`_thread.start_new_thread`,
    # the lecture's `thread.start_new`); `threading` keeps its own reference
    # to the original, so these are not counted twice.
    original_start_new = _thread.start_new_thread

    def start_new_thread(function, args, kwargs=None):
        def run(*a, **kw):
            started(getattr(function, "__name__", "thread"))
            try:
                return function(*a, **kw)
            finally:
                finished()
        if kwargs is None:
            return original_start_new(run, args)
        return original_start_new(run, args, kwargs)

    _thread.start_new_thread = start_new_thread
    _thread.start_new = start_new_thread

    def at_exit():
        if counts["pid"] != os.getpid():  # forked child that started no thread
            counts.update(started=0, max_alive=1)
        write("exit %d %d %d" % (os.getpid(), counts["started"], counts["max_alive"]))

    atexit.register(at_exit)


# --------------------------------------------------------------- preemption

def _opcode_tracing_available():
    if sys.version_info < (3, 7):
        return False
    frame = sys._getframe()
    try:
        old = frame.f_trace_opcodes
        frame.f_trace_opcodes = old
    except (AttributeError, TypeError):
        return False
    return True


def _library_dirs():
    """Directories whose code is not the student's."""
    dirs = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        if p:
            dirs.add(os.path.join(os.path.realpath(p), "lib"))
            dirs.add(os.path.join(os.path.realpath(p), "Lib"))
    try:
        import sysconfig
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            p = sysconfig.get_paths().get(key)
            if p:
                dirs.add(os.path.realpath(p))
    except Exception:
        pass
    try:
        import site
        for p in site.getsitepackages() + [site.getusersitepackages()]:
            dirs.add(os.path.realpath(p))
    except Exception:
        pass
    dirs.add(os.path.dirname(os.path.realpath(__file__)))
    return tuple(d.rstrip(os.sep) + os.sep for d in dirs)


def _store_opcodes():
    """Opcodes that write shared state: a yield just before one of them lands
    between the read and the write of a read-modify-write (`a = a + 1`)."""
    import dis
    names = ("STORE_GLOBAL", "STORE_NAME", "STORE_ATTR", "STORE_SUBSCR",
             "STORE_DEREF", "DELETE_SUBSCR", "DELETE_ATTR")
    return frozenset(dis.opmap[n] for n in names if n in dis.opmap)


def _install_preemption(seed, tuning):
    if not _opcode_tracing_available():
        import platform
        sys.stderr.write("grader_preempt: opcode tracing unavailable on %s %s; "
                         "running without forced preemption\n"
                         % (platform.python_implementation(), platform.python_version()))
        return

    import random
    import threading
    import time

    store_k, store_floor, other_k, other_floor, nap, switch_interval = (
        tuning[k] for k in ("store_k", "store_floor", "other_k", "other_floor",
                            "yield_sleep", "switch_interval"))
    random_float = random.Random(seed).random
    sleep = time.sleep
    stores = _store_opcodes()
    library = _library_dirs()
    cwd = os.getcwd()
    tracers = {}  # code object -> its opcode tracer, or None for library code

    def student_file(filename):
        if not filename or filename.startswith("<"):
            return False
        path = os.path.realpath(os.path.join(cwd, filename))
        return not path.startswith(library) and os.path.exists(path)

    def make_tracer(code):
        co_code = code.co_code
        # times each instruction ran: the n-th run yields with probability
        # max(k / n, floor), so code that runs rarely is preempted almost every
        # time and a hot loop still often, at a bounded cost
        runs = [0] * (len(co_code) // 2 + 1)
        is_store = [op in stores for op in co_code[::2]]

        def trace_opcodes(frame, event, arg):
            if event == "opcode":
                i = frame.f_lasti >> 1
                n = runs[i] = runs[i] + 1
                r = random_float()
                if is_store[i]:
                    if r * n < store_k or r < store_floor:
                        sleep(nap)
                elif r * n < other_k or r < other_floor:
                    sleep(nap)
            return trace_opcodes

        return trace_opcodes

    def on_call(frame, event, arg):
        code = frame.f_code
        try:
            tracer = tracers[code]
        except KeyError:
            tracer = tracers[code] = (make_tracer(code)
                                      if student_file(code.co_filename) else None)
        if tracer is not None:
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
        return tracer

    if switch_interval:
        sys.setswitchinterval(switch_interval)
    threading.settrace(on_call)
    sys.settrace(on_call)
