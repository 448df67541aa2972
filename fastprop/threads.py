"""One thread policy for every BLAS in the process and for the compiled parallel kernels.

NumPy and SciPy each load their own OpenBLAS; fastprop's kernels call SciPy's (``np.dot``
inside ``@njit``), and the parallel kernels run on Numba's thread pool. This module sets
the thread count of all of them at once.

Policy (``FASTPROP_THREADS``, ``fastprop --threads`` or :func:`set_threads`):

* ``auto`` (default): every usable core while the machine is otherwise idle, one thread
  as soon as another process keeps a core busy. Measured on 2 cores: a BLAS split over
  two threads waits for its slower half, and when another process holds a core that half
  gets a time slice, not a core: the ch05 step fell to 0.28x of its one-thread speed.
  So the policy watches how much CPU *other* processes use (``/proc/stat`` for the cores
  this process may run on, minus this process's own time) and re-decides at most every
  :data:`INTERVAL` seconds, at the safe points where fastprop's layers, nets and loops call
  :func:`poll` (never in the middle of a BLAS call).
* an integer ``n``: every BLAS and the parallel kernels use ``n`` threads, always.

Parallel kernels (``prange`` over independent work, each BLAS call inside on one thread)
run inside :func:`parallel_region`, which pins the BLAS to one thread for the call and
gives Numba's pool the policy's count: the two pools are never nested.

A bad ``FASTPROP_THREADS`` never breaks ``import fastprop``: the ValueError (naming the
variable) comes where the value is used (:func:`get_threads`, :func:`thread_limit`,
:func:`check_policy`), which the ``fastprop`` command does first.
"""
from __future__ import annotations

import contextlib
import math
import os
import time

from threadpoolctl import threadpool_info, threadpool_limits

from . import config, validate

#: seconds between two looks at the machine's load under ``auto``
INTERVAL = 0.5
#: other processes' CPU use (in cores) above which ``auto`` gives up a core; below
#: ``UP_MARGIN`` it takes one back (the gap keeps it from flapping on a borderline load)
DOWN_MARGIN = 0.3
UP_MARGIN = 0.15
#: the first decision needs this much time since import to measure; less, and it reads
#: the instantaneous count of running tasks instead
MIN_WINDOW = 0.1

_policy = config.THREADS
_source = "FASTPROP_THREADS"  # who set the policy: the environment, until set_threads
_fixed = None  # the policy's integer, parsed once (None: auto, or a bad value not yet reported)


def _parse(n, name="threads"):
    expected = "'auto' or a positive integer"
    if isinstance(n, str):  # FASTPROP_THREADS and --threads arrive as text
        text = n.strip()
        if text.lower() == "auto":
            return None
        try:
            n = int(text, 10)
        except ValueError:  # "2.7", "many": a wrong value of the right type
            raise ValueError(f"{name} must be {expected}, got {n!r}") from None
    if n is None:
        return None
    # any other type goes through the validator: np.float32(2.7) is refused, not truncated to 2
    return validate.check_scalar(n, name, int, low=1, expected=expected)


# ---------------------------------------------------------------- the machine


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def _affinity():
    try:
        return frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _niced() -> bool:
    """Whether this process runs at a lower priority (its time is then in the nice column)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, 0) > 0
    except (AttributeError, OSError):
        return False


def _read_proc_stat(cpus, path="/proc/stat"):
    """``(busy seconds of the cores in cpus, running tasks)`` from /proc/stat, or None.

    The ``nice`` column is left out unless this process is niced itself: a niced process
    yields its core to us (CFS gives a nice-10 task a tenth of our share), so it takes no
    core away from a split GEMM, and counting it would give up the second core to a
    background job that was started precisely so as not to get in the way."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        return None
    busy = 0
    running = None
    nice = 1 if _niced() else 0
    for line in text.splitlines():
        if line.startswith(b"cpu") and line[3:4].isdigit():
            name, *fields = line.split()
            if cpus is not None and int(name[3:]) not in cpus:
                continue
            v = [int(x) for x in fields[:8]]
            # user nice system idle iowait irq softirq steal: everything but idle, iowait
            # (and nice, above); steal is a core the hypervisor gave to someone else
            busy += v[0] + nice * v[1] + v[2] + v[5] + v[6] + v[7]
        elif line.startswith(b"procs_running"):
            running = int(line.split()[1])
    return busy / _TICK, running


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class _Governor:
    """The ``auto`` decision: how many threads the other processes leave us."""

    def __init__(self):
        self.cores = usable_cores()
        self.cpus = _affinity()
        self.current = None      # threads in effect (None: not decided yet)
        self.others = None       # other processes' CPU use in the last window (cores)
        self._next = 0.0
        self._snapshot = self._take()

    def _take(self):
        stat = _read_proc_stat(self.cpus)
        if stat is None:
            return None
        return time.monotonic(), stat[0], _own_cpu_seconds(), stat[1]

    def decide(self, now):
        """Re-measure and return the thread count for the next window."""
        snap = self._take()
        prev, self._snapshot = self._snapshot, snap
        self._next = now + INTERVAL
        if snap is None or prev is None:
            return self.cores  # no /proc: the BLAS default
        dt = snap[0] - prev[0]
        if dt < MIN_WINDOW and self.current is None:
            # too soon after import to measure: other running tasks right now
            # (ourselves excluded) stand in for the load, until the first full window
            others = max(0, (snap[3] or 1) - 1)
            self._next = now + MIN_WINDOW
        elif dt <= 0:
            return self.current or self.cores
        else:
            others = max(0.0, (snap[1] - prev[1]) - (snap[2] - prev[2])) / dt
        self.others = others
        cur = self.current or self.cores
        n = max(1, min(self.cores, math.floor(self.cores - others + DOWN_MARGIN)))
        if n > cur and math.floor(self.cores - others + UP_MARGIN) <= cur:
            n = cur
        return n


_governor = None
_blas = None          # threadpoolctl controllers of the loaded BLAS libraries
_applied = None       # the count last given to every BLAS
_override = None      # the count of the innermost thread_limit(n) block, if any
_pinned_until = 0.0   # parallel_region ran: BLAS stays at one thread until then


def _blas_libs():
    global _blas
    if _blas is None:
        _load_kernel_blas()
        from threadpoolctl import ThreadpoolController
        _blas = [lc for lc in ThreadpoolController().lib_controllers if lc.user_api == "blas"]
    return _blas


def blas_threads() -> int:
    """The thread count every BLAS was last given (before any: the usable cores, the
    BLAS's own default)."""
    return _applied if _applied is not None else usable_cores()


def _set_blas(n: int) -> None:
    for lib in _blas_libs():
        lib.set_num_threads(n)


def _apply(n: int) -> None:
    """Every BLAS (and Numba's pool, once it exists) to ``n`` threads."""
    global _applied
    if n != _applied:
        _set_blas(n)
        _applied = n


def poll() -> int:
    """The thread count in effect now, re-deciding under ``auto`` when :data:`INTERVAL`
    has passed. Cheap (a clock read) between decisions; call it between steps, never
    while another thread is inside a BLAS call."""
    global _governor
    if _override is not None:
        return _override
    if _fixed is not None:
        if _applied != _fixed and time.monotonic() >= _pinned_until:
            _apply(_fixed)
        return _fixed
    g = _governor
    if g is None:
        g = _governor = _Governor()
    now = time.monotonic()
    if g.current is None or now >= g._next:
        g.current = g.decide(now)
        if now >= _pinned_until or g.current == 1:
            _apply(g.current)
    return g.current


def current() -> int:
    """The thread count :func:`poll` decided last (deciding now if it never did)."""
    if (_override is None and _fixed is None and _governor is not None
            and _governor.current is not None):
        return _governor.current
    return poll()


def _parse_safe():
    try:
        return _parse(_policy, _source)
    except (TypeError, ValueError):
        return None


def _load_kernel_blas() -> None:
    """Load SciPy's BLAS (the one the kernels call) before a limit is set: threadpoolctl
    only reaches libraries already loaded, and Numba loads SciPy's on the first compiled
    GEMM, which would then run with one thread per core whatever the policy said."""
    import scipy.linalg.cython_blas  # noqa: F401  (loading the library is the point)


def _limit(value) -> None:
    global _blas
    _blas = None  # libraries loaded since (PyTorch's, a second NumPy) are reached too
    _load_kernel_blas()
    threadpool_limits(limits=value, user_api="blas")


def set_threads(n) -> None:
    """Set the process-wide thread policy: ``'auto'`` or a positive integer."""
    global _policy, _source, _applied, _fixed
    value = _parse(n)
    _policy, _source = ("auto" if value is None else str(value)), "threads"
    _fixed = value
    _applied = None
    if _governor is not None:
        _governor.current = None  # auto decides afresh at the next poll
    if value is not None:
        _limit(value)
        _applied = value


def get_threads():
    """The current policy (``'auto'`` or an integer); ValueError when ``FASTPROP_THREADS``
    holds something else."""
    value = _parse(_policy, _source)
    return "auto" if value is None else value


def check_policy() -> None:
    """ValueError naming ``FASTPROP_THREADS`` when it holds neither ``auto`` nor a
    positive integer (and :func:`set_threads` has not replaced it)."""
    get_threads()


def describe() -> str:
    """One line for logs and benchmark headers: the policy and what it decided."""
    policy = get_threads()
    if policy != "auto":
        return f"threads {policy} (fixed)"
    n = current()
    others = _governor.others if _governor is not None else None
    load = "" if others is None else f", other processes using {others:.1f} cores"
    return f"threads auto: {n} of {usable_cores()} cores{load}"


@contextlib.contextmanager
def thread_limit(n=None):
    """Within the block, every BLAS uses ``n`` threads (None: the current policy, which
    under ``auto`` keeps adapting at each :func:`poll` inside the block)."""
    global _applied, _override
    value = _parse(_policy, _source) if n is None else _parse(n)
    if value is None:
        poll()
        yield
        return
    _load_kernel_blas()
    saved = _applied, _override
    try:
        with threadpool_limits(limits=value, user_api="blas"):
            _applied = _override = value
            yield
    finally:
        _applied, _override = saved


def _numba_threads(n: int) -> None:
    import numba
    n = max(1, min(n, numba.config.NUMBA_NUM_THREADS))
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)


@contextlib.contextmanager
def parallel_region(linger: bool = True):
    """For a ``prange`` kernel: Numba's pool at the policy's count, every BLAS at one
    thread inside (each BLAS call runs inside one prange iteration; a multi-threaded BLAS
    there would oversubscribe the cores). Yields the thread count.

    ``linger=True`` (kernels that come in runs: a conv net's layers) leaves the BLAS at one
    thread until no parallel region has run for :data:`INTERVAL`; ``linger=False`` (a
    one-off call between multi-threaded GEMMs: an evaluation pass between training
    steps) gives it back on the way out."""
    global _applied, _pinned_until
    n = poll()
    _numba_threads(n)
    if n > 1:
        if _applied != 1:
            _set_blas(1)
            _applied = 1
        # Left at one thread afterwards: a conv net alternates prange layers with small
        # dense GEMMs, and switching OpenBLAS between 1 and n threads around every layer
        # (its workers waking, spinning, and OpenMP's spinning beside them) made the
        # 2-thread DeepConvNet step slower than the 1-thread one (152 vs 118 ms, measured);
        # kept at one, the step took 71 ms. poll() gives the BLAS its n threads back once
        # no parallel region has run for INTERVAL seconds. Not so after a one-off region:
        # the ch05 script's per-epoch evaluation pinned the BLAS for 0.5 s, most of an
        # epoch of 2-thread steps.
        if linger:
            _pinned_until = time.monotonic() + INTERVAL
    try:
        yield n
    finally:
        if n > 1 and not linger and time.monotonic() >= _pinned_until:
            _apply(n)


_split_pool = None  # the Python threads of run_split, made at its first use


def run_split(work, n: int) -> None:
    """``work(0)``, ..., ``work(n - 1)`` at the same time: ``work(0)`` on the calling thread,
    the others on a kept pool of ``n - 1`` Python threads; returns when all are done and
    raises the first exception any of them raised.

    For a compiled kernel that holds no GIL (every kernel here: ``nogil``) whose ``prange``
    version Numba compiles too slowly to be worth it
    (:func:`fastprop.kernels.fused_multi_layer.multi_layer_predict`). Call it inside
    :func:`parallel_region`, so each BLAS call in there runs on one thread."""
    global _split_pool
    if n <= 1:
        work(0)
        return
    if _split_pool is None or _split_pool._max_workers < n - 1:
        from concurrent.futures import ThreadPoolExecutor

        if _split_pool is not None:
            _split_pool.shutdown(wait=False)
        _split_pool = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="fastprop-split")
    futures = [_split_pool.submit(work, t) for t in range(1, n)]
    try:
        work(0)
    finally:
        errors = [f.exception() for f in futures]  # waits for every share
    for e in errors:
        if e is not None:
            raise e


#: a memory pass (ReLU, max pooling) over at least this many elements runs as one part per
#: thread of the policy on :func:`run_split`; below it a hand-off to another thread (~20 us)
#: costs more than half the pass. SimpleConvNet's ReLU over (100, 30, 24, 24): 0.93-1.18 ms
#: on one thread, 0.48-0.76 on two; its pooling 1.3-2.1 vs 0.9-1.1 ms (quiet, Zen 4)
SPLIT_ELEMENTS = 1 << 18


def pass_parts(size: int, rows: int) -> int:
    """Parts for a memory pass over ``size`` elements made of ``rows`` independent rows
    (samples): the policy's thread count when the pass is at least :data:`SPLIT_ELEMENTS`,
    at most one part per row; else 1."""
    if size < SPLIT_ELEMENTS or rows < 2:
        return 1
    return max(1, min(poll(), rows))


def in_parts(size: int, rows: int, work) -> None:
    """``work(lo, hi)`` over ``rows`` independent rows of a memory pass of ``size`` elements:
    once for all rows, or one contiguous part per thread (:func:`pass_parts`) at once on
    :func:`run_split`."""
    parts = pass_parts(size, rows)
    if parts == 1:
        work(0, rows)
        return
    b = [rows * t // parts for t in range(parts + 1)]
    run_split(lambda t: work(b[t], b[t + 1]), parts)


#: a recurrent step GEMM of fewer multiply-adds than this (N * H * gates*H) runs its whole
#: time loop on one BLAS thread: (20, 100) @ (100, 400) is 0.8 M, a fork/join per step costs
#: more than the second thread gains; ch07's (128, 128) @ (128, 512) is 8.4 M and keeps them
SMALL_STEP_GEMM = 2_000_000

_kernel_blas = None  # threadpoolctl controllers of the BLAS the kernels call, found once


def _kernel_controllers():
    """The controllers of SciPy's BLAS (what ``np.dot`` inside ``@njit`` calls), found once:
    ``get/set_num_threads`` on them are plain C calls (about a microsecond), where a
    ``threadpool_limits`` block inspects every loaded library (milliseconds)."""
    global _kernel_blas
    if _kernel_blas is None:
        from threadpoolctl import ThreadpoolController

        _load_kernel_blas()
        libs = ThreadpoolController().select(user_api="blas").lib_controllers
        mine = [c for c in libs if "scipy" in c.filepath.replace("\\", "/").rsplit("/", 2)[-2]]
        _kernel_blas = mine or libs  # an unusual install: every BLAS
    return _kernel_blas


#: at or below this OpenBLAS runs a GEMM on one thread by itself (65536 x its
#: GEMM_MULTITHREAD_THRESHOLD of 4): nothing to pin, and nothing to pay (batch 1)
_BLAS_ALONE = 65536 * 4


class one_thread_for:  # noqa: N801  (used like a function: ``with one_thread_for(work):``)
    """Within the block the kernels' BLAS runs on one thread when ``work`` (multiply-adds
    of the GEMM that repeats inside, e.g. one recurrent step) is below
    :data:`SMALL_STEP_GEMM`; otherwise, when BLAS would use one thread for it anyway, or
    when it already has one thread, nothing changes. The previous thread count comes back
    on exit, exception or not. A class, not a generator: entering costs two C calls."""

    __slots__ = ("work", "changed")

    def __init__(self, work: int):
        self.work = work
        self.changed = ()

    def __enter__(self):
        if _BLAS_ALONE < self.work < SMALL_STEP_GEMM:
            changed = []
            for c in _kernel_controllers():
                n = c.get_num_threads()
                if n is not None and n > 1:
                    c.set_num_threads(1)
                    changed.append((c, n))
            self.changed = changed
        return self

    def __exit__(self, *exc):
        for c, n in self.changed:
            c.set_num_threads(n)
        self.changed = ()
        return False


def blas_info():
    """``[(library file, threads, internal_api, architecture)]`` of every BLAS loaded."""
    return [(i.get("filepath", "?").rsplit("/", 1)[-1], i.get("num_threads"),
             i.get("internal_api"), i.get("architecture")) for i in threadpool_info()
            if i.get("user_api") == "blas"]


def _reset_after_fork():
    """A forked child (Dask worker, multiprocessing) measures its own windows."""
    global _governor, _blas, _applied, _split_pool
    _governor, _blas, _applied, _split_pool = None, None, None, None  # a child has no pool threads


#: how long (in GNU OpenMP's spin iterations) a worker of Numba's pool keeps spinning after
#: a ``prange`` region before it sleeps, unless the user set ``GOMP_SPINCOUNT``. libgomp's
#: default (300000, a few milliseconds here) kept a worker spinning on the second core
#: through the Python threads of :func:`run_split` that came right after a batch-sized
#: Affine ran in parts: batch_norm_test.py's per-epoch evaluation (1000 images) took 5.2 ms
#: on two threads, as long as on one, and 2.9-3.9 ms with 1000-30000 (4.8-5.0 ms with
#: 100000). The conv nets' steps and the README's main job, whose regions come back to
#: back, measured the same within their noise.
OMP_SPIN = 30000


def _apply_environment():
    """An explicit, valid ``FASTPROP_THREADS`` applies from import on; a bad one waits for
    its first use to raise (see the module's docstring). Under ``auto`` the first
    measurement window opens now (import to first step is usually data loading).

    ``GOMP_SPINCOUNT`` gets :data:`OMP_SPIN` unless it is set: libgomp reads it when it is
    loaded, which Numba does at its first parallel kernel, after this import."""
    global _governor, _applied, _fixed
    os.environ.setdefault("GOMP_SPINCOUNT", str(OMP_SPIN))
    value = _fixed = _parse_safe()
    if value is not None:
        _limit(value)
        _applied = value
    else:
        _governor = _Governor()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)

_apply_environment()
