"""``fastprop bench``: one training step, side by side, in one process.

Rows, per network size: the book's NumPy code (vol. 1 ch. 5, written out in
:mod:`fastprop.book` exactly as the book writes it: the reference every ratio is taken against), the same loop on
fastprop's drop-in ``TwoLayerNet`` (float64), fastprop's fused step (float64, float32) and
PyTorch CPU when it is installed (float64, float32). Each row gives the median time of one
step over many single-step timings, the min-max, the speedup over the book, and the GEMM
lower bound measured in the same run: the step's GEMM FLOPs over the peak GEMM FLOP/s of
the BLAS that fastprop's kernels call (SciPy's), plus the time of the step's exact GEMM
shapes alone.

The method (design.md section 6): every BLAS and torch run with one thread count; kernels
are compiled before any timing (the first call is reported on its own); a short pause
separates timed blocks of different libraries, whose idle BLAS workers would otherwise spin
against the next block's threads.

Run it as ``fastprop bench`` or ``python -m fastprop.bench``.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np

from . import threads as _threads
# the book's code (fastprop/book.py); re-exported for the asv suite
from .book import (LR, BookAffine, BookRelu, BookSGD, BookSigmoid,  # noqa: F401
                   BookSoftmaxWithLoss, BookTwoLayerNet, book_cross_entropy_error,
                   book_softmax, book_step)
from .kernels._jit import jit

#: (input, hidden, output, batch) timed by default: the book's MNIST net and two wider ones
SIZES = ((784, 50, 10, 100), (784, 1000, 10, 1000), (784, 4096, 10, 4096))
IMPLS = ("book", "dropin", "fused", "torch")
PAUSE = 0.2          # s between timed blocks of different libraries (spinning BLAS workers)
BUDGET = 1.0         # s of timed steps per row when the repeat count is adaptive
ROUNDS = 3           # interleaved timing rounds per size
MIN_REPEAT, MAX_REPEAT = 5, 2000
LABELS = OrderedDict([
    ("book", "book NumPy (reference)"),
    ("dropin", "fastprop drop-in"),
    ("fused", "fastprop fused"),
    ("torch", "PyTorch"),
])



# =============================================================================== GEMM bound

# GEMMs of one step (B rows, D inputs, H hidden, O outputs) as (m, k, n) with their use
# counts: the book's step runs 8 (a second forward for the loss, and the first layer's
# unused dx), the drop-in net 7 (dx skipped), the fused step and PyTorch 5.
_GEMMS = OrderedDict([   # name: (m, k, n) as functions of (D, H, O, B)
    ("x@W1", lambda D, H, O, B: (B, D, H)),
    ("a@W2", lambda D, H, O, B: (B, H, O)),
    ("a.T@dy", lambda D, H, O, B: (H, B, O)),
    ("dy@W2.T", lambda D, H, O, B: (B, O, H)),
    ("x.T@dh", lambda D, H, O, B: (D, B, H)),
    ("dh@W1.T", lambda D, H, O, B: (B, H, D)),
])
_COUNTS = {
    "book": {"x@W1": 2, "a@W2": 2, "a.T@dy": 1, "dy@W2.T": 1, "x.T@dh": 1, "dh@W1.T": 1},
    "dropin": {"x@W1": 2, "a@W2": 2, "a.T@dy": 1, "dy@W2.T": 1, "x.T@dh": 1},
    "fused": {"x@W1": 1, "a@W2": 1, "a.T@dy": 1, "dy@W2.T": 1, "x.T@dh": 1},
}
_COUNTS["torch"] = _COUNTS["fused"]


def step_flops(impl, size):
    """GEMM FLOPs (2 m k n per GEMM) of one step of ``impl`` at ``size`` = (D, H, O, B)."""
    total = 0
    for name, n in _COUNTS[impl].items():
        m, k, nn = _GEMMS[name](*size)
        total += n * 2 * m * k * nn
    return total


def n_gemms(impl):
    return sum(_COUNTS[impl].values())


@jit
def _gemm_kernel(a, b, out):
    """``np.dot(a, b, out)`` inside ``@njit``: SciPy's BLAS, as in fastprop's kernels."""
    np.dot(a, b, out)


def _best_time(fn, reps, warm=1):
    for _ in range(warm):
        fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_gflops(dtype, n=2048, library="scipy", reps=3):
    """Peak GEMM GFLOP/s of an ``n``-cubed product through SciPy's BLAS (``library='scipy'``,
    the one fastprop's kernels call) or NumPy's (``'numpy'``): best of ``reps``."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n)).astype(dtype)
    b = rng.random((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    if library == "scipy":
        t = _best_time(lambda: _gemm_kernel(a, b, out), reps)
    else:
        t = _best_time(lambda: np.dot(a, b, out=out), reps)
    return 2.0 * n ** 3 / t / 1e9


def gemm_shape_times(size, dtype, budget=0.05):
    """Median time of each distinct GEMM of the step at ``size``, with the layouts the
    fused kernel uses (transposes as views), through SciPy's BLAS."""
    D, H, O, B = size
    rng = np.random.default_rng(1)
    arr = {k: rng.random(s).astype(dtype) for k, s in
           (("x", (B, D)), ("W1", (D, H)), ("a", (B, H)), ("W2", (H, O)), ("dy", (B, O)),
            ("dh", (B, H)))}
    ops = {
        "x@W1": (arr["x"], arr["W1"], (B, H)), "a@W2": (arr["a"], arr["W2"], (B, O)),
        "a.T@dy": (arr["a"].T, arr["dy"], (H, O)), "dy@W2.T": (arr["dy"], arr["W2"].T, (B, H)),
        "x.T@dh": (arr["x"].T, arr["dh"], (D, H)), "dh@W1.T": (arr["dh"], arr["W1"].T, (B, D)),
    }
    out = {}
    for name, (a, b, shape) in ops.items():
        c = np.empty(shape, dtype)
        times = _time_steps(lambda: _gemm_kernel(a, b, c), None, budget, min_repeat=3, max_repeat=200)
        out[name] = float(np.median(times))
    return out


def gemms_time(impl, shape_times):
    return sum(n * shape_times[name] for name, n in _COUNTS[impl].items())


# =============================================================================== steps


def _batches(size, dtype, fresh, seed=0):
    """A zero-argument callable giving ``(x, t)``: MNIST-like float32 pixels in [0, 1)
    (``load_mnist(normalize=True)``) cast to ``dtype`` once, integer labels.

    ``fresh=False``: the same batch every call. ``fresh=True``: a new batch each call drawn
    as the book's loop draws it (``x_train[batch_mask]`` from a data set of ``8 B`` rows), so
    every step also pays for the draw and for a newly allocated batch.
    """
    D, H, O, B = size
    rng = np.random.default_rng(seed)
    n = 8 * B if fresh else B
    X = rng.random((n, D), dtype=np.float32).astype(dtype, copy=False)
    T = rng.integers(0, O, n).astype(np.intp)
    if not fresh:
        return lambda: (X, T)

    def draw():
        mask = rng.integers(0, n, B)
        return X[mask], T[mask]
    return draw


def make_step(impl, size, dtype, lr=LR, book_input="float32", fresh=False):
    """``(step, library)``: a zero-argument callable running one training step of ``impl``
    (``'book'``, ``'dropin'``, ``'fused'``, ``'torch'``) in ``dtype``, and which BLAS it
    runs on (``'numpy'``, ``'scipy'``, ``'torch'``).

    The book's loop (``book``, ``dropin``) gets batches in ``book_input`` (float32: the
    book's MNIST, which its float64 net promotes in every ``np.dot``); the fused step and
    PyTorch get them in their own ``dtype`` (a data set cast once, as ``fastprop train``
    does). ``fresh``: a newly drawn batch every step (see :func:`_batches`).
    """
    D, H, O, B = size
    batch = _batches(size, book_input if impl in ("book", "dropin") else dtype, fresh)
    np.random.seed(0)
    if impl == "book":
        net = BookTwoLayerNet(D, H, O)
        if np.dtype(dtype) != np.float64:  # the book is float64; a cast net on request
            for k in net.params:
                net.params[k] = net.params[k].astype(dtype)
            for i, layer in (("1", net.layers["Affine1"]), ("2", net.layers["Affine2"])):
                layer.W, layer.b = net.params["W" + i], net.params["b" + i]
        return (lambda: book_step(net, *batch(), lr)), "numpy"
    if impl in ("dropin", "fused"):
        from .nets import TwoLayerNet
        from .optimizers import SGD

        net = TwoLayerNet(D, H, O, dtype=dtype)
        if impl == "dropin":
            return (lambda: book_step(net, *batch(), lr)), "scipy"
        opt = SGD(lr=lr)
        return (lambda: net.fused_step(*batch(), opt)), "scipy"
    if impl == "torch":
        return _torch_step(size, dtype, lr, batch), "torch"
    raise ValueError(f"unknown implementation {impl!r}; expected one of {IMPLS}")


def _torch_step(size, dtype, lr, batch):
    """PyTorch's idiomatic step on the same net: forward, cross-entropy, backward, SGD."""
    import torch

    D, H, O, B = size
    tdt = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
    net = BookTwoLayerNet(D, H, O)  # the same initial weights as the other rows
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, O)).to(tdt)
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(net.params["W1"].T.copy()))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.from_numpy(net.params["W2"].T.copy()))
        model[2].bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ce = torch.nn.functional.cross_entropy

    def step():
        x, t = batch()
        opt.zero_grad(set_to_none=True)
        loss = ce(model(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _time_steps(step, repeat, budget, min_repeat=MIN_REPEAT, max_repeat=MAX_REPEAT, warm_s=0.1):
    """Per-call times (s) of ``step``: warm up (two calls, more up to ``warm_s``; the first
    one also faults in new memory), then ``repeat`` timed calls, or as many as fit in
    ``budget`` seconds (by the fastest warm-up call) when ``repeat`` is None."""
    perf = time.perf_counter
    start = perf()
    fastest = float("inf")
    n = 0
    while n < 2 or (perf() - start < warm_s and n < 50):
        t0 = perf()
        step()
        fastest = min(fastest, perf() - t0)
        n += 1
    if repeat is None:
        repeat = int(min(max(budget / max(fastest, 1e-9), min_repeat), max_repeat))
    times = np.empty(repeat)
    for i in range(repeat):
        t0 = perf()
        step()
        times[i] = perf() - t0
    return times


# =============================================================================== facts


def _cpu_model():
    """``model name`` from /proc/cpuinfo, with family/model (VMs often hide the name)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in info:
                    info[key] = value.strip()
                if not line.strip():
                    break  # first processor only
    except OSError:
        pass
    name = info.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in info:
        name += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    return name


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _pools():
    """Every BLAS / OpenMP pool loaded, with the library that brought it."""
    from threadpoolctl import threadpool_info

    owners = (("numpy", "NumPy"), ("scipy", "SciPy (fastprop's kernels)"), ("torch", "PyTorch"))
    pools = []
    for info in threadpool_info():
        path = info.get("filepath", "")
        owner = next((name for key, name in owners if f"{os.sep}{key}" in path), "")
        pools.append({"file": os.path.basename(path), "owner": owner,
                      "user_api": info.get("user_api"), "api": info.get("internal_api"),
                      "version": info.get("version"), "architecture": info.get("architecture"),
                      "threads": info.get("num_threads")})
    return pools


def _versions(with_torch):
    import numba
    import scipy

    from . import __version__

    v = OrderedDict([("python", platform.python_version()), ("fastprop", __version__),
                     ("numpy", np.__version__), ("numba", numba.__version__),
                     ("scipy", scipy.__version__)])
    if with_torch:
        import torch

        v["torch"] = torch.__version__
    return v


def _import_time():
    """Seconds to ``import fastprop`` in a fresh interpreter (None if that fails)."""
    code = "import time; t = time.perf_counter(); import fastprop; print(time.perf_counter() - t)"
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=True)
        return float(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _cache_stats():
    """(hits, misses) of Numba's on-disk cache over every fastprop kernel so far."""
    from numba.core.registry import CPUDispatcher

    from .kernels import activations, affine, optim, reductions, softmax, step

    hits = misses = 0
    for mod in (activations, affine, optim, reductions, softmax, step):
        for obj in vars(mod).values():
            if isinstance(obj, CPUDispatcher):
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    return hits, misses


def _first_call(impl, size, dtype):
    """Seconds of the first step of ``impl`` (compile, or load from Numba's cache) and
    which of the two it was."""
    step, _ = make_step(impl, size, dtype)
    hits0, miss0 = _cache_stats()
    t0 = time.perf_counter()
    step()
    dt = time.perf_counter() - t0
    hits, misses = (a - b for a, b in zip(_cache_stats(), (hits0, miss0)))
    source = "Numba cache" if hits and not misses else ("compiled" if misses else "in memory")
    return dt, source


def _cpu_jiffies():
    """(busy, total) CPU ticks of the whole machine from /proc/stat (None off Linux)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle, sum(v[:8])


class _LoadMeter:
    """Share of the machine's CPU time that *other* processes used while we ran: a busy
    neighbour (a test run, a build) takes the cores the BLAS threads wait for, and then
    every number in the table is wrong."""

    def __init__(self):
        self.start = _cpu_jiffies()
        self.own = self._own()

    @staticmethod
    def _own():
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def other_share(self):
        end = _cpu_jiffies()
        if self.start is None or end is None:
            return None
        hz = os.sysconf("SC_CLK_TCK")
        busy = (end[0] - self.start[0]) / hz
        total = (end[1] - self.start[1]) / hz
        if total <= 0:
            return None
        return max(0.0, busy - (self._own() - self.own)) / total


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# =============================================================================== run


def parse_size(text):
    """``'784-50-10/b100'`` (or ``'784-50-10/100'``, ``'784-50-10:100'``) -> (784, 50, 10, 100)."""
    s = str(text).strip().lower().replace(":", "/")
    try:
        net, batch = s.split("/")
        D, H, O = (int(v) for v in net.split("-"))
        B = int(batch.lstrip("b"))
    except ValueError:
        raise ValueError(f"size must look like 784-50-10/b100 (input-hidden-output/batch), "
                         f"got {text!r}") from None
    if min(D, H, O, B) <= 0:
        raise ValueError(f"size {text!r}: every number must be positive")
    return D, H, O, B


def size_name(size):
    D, H, O, B = size
    return f"{D}-{H}-{O} b{B}"


def _say(msg, quiet):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


class _Switch:
    """Sleep :data:`PAUSE` before a timed block whose library differs from the last one:
    the previous library's idle BLAS workers spin for ~0.1 s and would steal the cores."""

    def __init__(self):
        self.last = None

    def __call__(self, lib):
        if self.last is not None and lib != self.last:
            time.sleep(PAUSE)
        self.last = lib


def _compile_all(size, dtypes, impls, with_torch):
    """Import and first-call times; leaves every kernel (and BLAS) the run needs loaded."""
    out = OrderedDict([("import_fastprop_s", _import_time())])
    if with_torch:
        import torch  # noqa: F401  (loads its libraries before the threads are pinned)
    small = (size[0], min(size[1], 64), size[2], min(size[3], 64))
    for impl in ("fused", "dropin"):
        if impl in impls:
            for d in (dtypes if impl == "fused" else ["float64"]):
                seconds, source = _first_call(impl, small, d)
                out[f"{impl} {d}"] = {"seconds": seconds, "source": source}
    for d in set(dtypes) | {"float64"}:  # the layouts gemm_shape_times uses
        z = np.zeros((2, 2), d)
        _gemm_kernel(z, z, z.copy())
        _gemm_kernel(z.T, z, z.copy())
        _gemm_kernel(z, z.T, z.copy())
    return out


def _gemm_facts(sizes, dtypes, peak_size, switch):
    """``({'scipy': {dtype: GFLOP/s}, 'numpy': {...}}, {(size, dtype): shape times})``."""
    switch("scipy")
    peaks = OrderedDict((d, peak_gflops(d, peak_size, "scipy")) for d in dtypes)
    switch("numpy")
    numpy_peaks = OrderedDict((d, peak_gflops(d, peak_size, "numpy")) for d in dtypes)
    switch("scipy")
    shape_times = OrderedDict(((size, d), gemm_shape_times(size, d)) for size in sizes for d in dtypes)
    return OrderedDict([("scipy", peaks), ("numpy", numpy_peaks)]), shape_times


def _time_size(size, impls, dtypes, repeat, budget, switch, quiet, peaks, shape_times,
               book_input, fresh, rounds=1):
    """The rows of one size: book first (the reference), then the others, timed in
    ``rounds`` interleaved rounds (each row gets ``budget / rounds`` seconds a round), so a
    machine that slows down or speeds up during the run shifts every row alike."""
    steps = []
    for impl in impls:
        for d in (dtypes if impl in ("fused", "torch") else ["float64"]):
            step, lib = make_step(impl, size, d, book_input=book_input, fresh=fresh)
            steps.append((impl, d, step, lib))
    times = {(impl, d): [] for impl, d, _, _ in steps}
    for r in range(rounds):
        # --repeat spread over the rounds exactly (None: the budget decides)
        per_round = None if repeat is None else repeat // rounds + (r < repeat % rounds)
        if per_round == 0:
            continue
        for impl, d, step, lib in steps:
            _say(f"{size_name(size)}: {LABELS[impl]} {d}"
                 + (f" (round {r + 1} of {rounds})" if rounds > 1 else "") + " ...", quiet)
            switch(lib)
            times[(impl, d)].append(_time_steps(step, per_round, budget / rounds))
    del steps
    rows = []
    ref = None
    for (impl, d), ts in times.items():
        ts = np.concatenate(ts)
        med = float(np.median(ts))
        if impl == "book":
            ref = med
        rows.append(OrderedDict([
            ("size", list(size)), ("impl", impl), ("dtype", d), ("n", len(ts)),
            ("median_s", med), ("min_s", float(ts.min())), ("max_s", float(ts.max())),
            ("speedup_vs_book", None if ref is None else ref / med),
            ("gemms", n_gemms(impl)), ("gemm_flops", step_flops(impl, size)),
            ("bound_s", step_flops(impl, size) / (peaks[d] * 1e9)),
            ("gemms_measured_s", gemms_time(impl, shape_times[(size, d)])),
            ("times_s", ts.tolist())]))
    return rows


def _check_rounds(rounds):
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
    return int(rounds)


SPIRAL_REPS = 11  # alternating fits of each implementation in the spiral block


def spiral_fit(impl, x, t, state, max_epoch=300):
    """vol. 2 ch. 1's run: TwoLayerNet(2, 10, 3, sigmoid), SGD(lr=1.0),
    ``Trainer.fit(x, t, max_epoch, batch_size=30, eval_interval=10)``, quiet; the
    weights drawn from the global RNG at ``state``. ``impl``: ``'fastprop'`` (its net: the
    Trainer's compiled path) or ``'book'`` (the book's NumPy net and SGD under the same
    Trainer). Returns the trainer."""
    from .nets import TwoLayerNet
    from .optimizers import SGD
    from .trainer import Trainer

    np.random.set_state(state)
    if impl == "fastprop":
        model, opt = TwoLayerNet(2, 10, 3, activation="sigmoid"), SGD(lr=1.0)
    else:
        model, opt = BookTwoLayerNet(2, 10, 3, activation="sigmoid"), BookSGD(lr=1.0)
    trainer = Trainer(model, opt)
    trainer.fit(x, t, max_epoch=max_epoch, batch_size=30, eval_interval=10, progress=False,
                verbose=False)
    return trainer


def _time_spiral(reps, switch, quiet):
    """The spiral fit, fastprop and the book's net alternating, ``reps`` times each."""
    from .datasets import spiral

    _say(f"vol. 2 spiral fit, {reps} x 2 runs ...", quiet)
    x, t = spiral.load_data()
    state = np.random.get_state()
    spiral_fit("fastprop", x, t, state)  # compile outside the timed runs
    times = OrderedDict((impl, []) for impl in ("book", "fastprop"))
    last = {}
    for _ in range(reps):
        for impl in times:
            switch(impl)
            t0 = time.perf_counter()
            tr = spiral_fit(impl, x, t, state)
            times[impl].append(time.perf_counter() - t0)
            last[impl] = tr.loss_list[-1]
    out = OrderedDict()
    for impl, ts in times.items():
        ts = np.array(ts)
        out[impl] = OrderedDict([("median_s", float(np.median(ts))), ("min_s", float(ts.min())),
                                 ("max_s", float(ts.max())), ("last_loss", float(last[impl])),
                                 ("times_s", ts.tolist())])
    out["speedup"] = out["book"]["median_s"] / out["fastprop"]["median_s"]
    return out


def _check_args(sizes, dtypes, book_input, impls, threads, repeat):
    """Normalised ``(sizes, dtypes, book_input, impls, threads, notes)``; ValueError if bad."""
    sizes = [parse_size(s) if isinstance(s, str) else tuple(int(v) for v in s) for s in sizes]
    dtypes = [np.dtype(d).name for d in dtypes]
    book_input = np.dtype(book_input).name
    for d in dtypes + [book_input]:
        if d not in ("float64", "float32"):
            raise ValueError(f"dtypes must be float64 and/or float32, got {d}")
    unknown = set(impls) - set(IMPLS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; expected {IMPLS}")
    impls = [i for i in IMPLS if i in set(impls)]
    if repeat is not None and int(repeat) < 1:
        raise ValueError(f"repeat must be a positive integer, got {repeat!r}")
    notes = []
    if "torch" in impls and not _torch_available():
        impls.remove("torch")
        notes.append("PyTorch is not installed: no PyTorch rows (pip install torch)")
    if threads is None:
        policy = _threads.get_threads()
        threads = _usable_cores() if policy == "auto" else policy
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads}")
    return sizes, dtypes, book_input, impls, threads, notes


def run(sizes=SIZES, repeat=None, dtypes=("float64", "float32"), threads=None, impls=IMPLS,
        budget=BUDGET, peak_size=2048, book_input="float32", fresh_batches=False,
        json_path=None, quiet=False, out=None, spiral_reps=SPIRAL_REPS, rounds=ROUNDS):
    """Run the benchmark, print the table to ``out`` (default stdout) and return the raw
    results as a dict (what ``--json`` writes).

    Parameters
    ----------
    sizes : sequence of (D, H, O, B) tuples or ``'784-50-10/b100'`` strings
    repeat : int or None
        Timed steps per row; None adapts it to ``budget`` seconds a row
        (:data:`MIN_REPEAT` to :data:`MAX_REPEAT` steps).
    dtypes : dtypes of the fused and PyTorch rows (the book and drop-in rows are float64,
        the book's dtype).
    threads : int or None
        Threads for every BLAS and torch; None: the fastprop policy if set
        (``FASTPROP_THREADS``, ``fastprop --threads``), else all usable cores.
    impls : subset of ``('book', 'dropin', 'fused', 'torch')``; torch rows are left out
        when PyTorch is not installed.
    peak_size : n of the n x n x n GEMM that measures the peak FLOP/s.
    book_input : dtype of the batch the book's loop gets (book and drop-in rows): float32
        is the book's MNIST (``load_mnist(normalize=True)``).
    fresh_batches : bool
        Draw a new batch every step, as the book's loop does (``x_train[batch_mask]``),
        instead of timing the step alone on one batch.
    spiral_reps : int
        Runs of vol. 2's spiral fit per implementation (fastprop and the book's net under
        the same Trainer, alternating); 0 leaves the block out.
    rounds : int
        Interleaved rounds per size: every row is timed once a round, ``budget / rounds``
        seconds (or ``repeat / rounds`` steps) at a time.
    """
    out = sys.stdout if out is None else out
    if isinstance(spiral_reps, bool) or not isinstance(spiral_reps, (int, np.integer)) or spiral_reps < 0:
        raise ValueError(f"spiral_reps must be an integer >= 0, got {spiral_reps!r}")
    rounds = _check_rounds(rounds)
    sizes, dtypes, book_input, impls, threads, notes = _check_args(
        sizes, dtypes, book_input, impls, threads, repeat)
    with_torch = "torch" in impls
    _say("fastprop bench: import and compile ...", quiet)
    meter = _LoadMeter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = OrderedDict()
    result["machine"] = OrderedDict([
        ("cpu", _cpu_model()), ("cores", os.cpu_count()), ("usable_cores", _usable_cores()),
        ("platform", platform.platform()),
        ("OPENBLAS_CORETYPE", os.environ.get("OPENBLAS_CORETYPE")),
        ("OPENBLAS_L2_SIZE", os.environ.get("OPENBLAS_L2_SIZE"))])
    result["versions"] = _versions(with_torch)
    result["settings"] = OrderedDict([
        ("threads", threads), ("repeat", repeat), ("budget_s", budget), ("lr", LR),
        ("sizes", [list(s) for s in sizes]), ("dtypes", dtypes), ("impls", impls),
        ("peak_size", peak_size), ("book_input", book_input),
        ("fresh_batches", bool(fresh_batches)), ("pause_s", PAUSE),
        ("spiral_reps", spiral_reps), ("rounds", rounds)])
    result["compile"] = _compile_all(sizes[0], dtypes, impls, with_torch)
    result["notes"] = notes
    with _threads.thread_limit(threads):  # every BLAS is loaded by now: all get pinned
        if with_torch:
            import torch

            torch.set_num_threads(threads)
        result["blas"] = _pools()
        switch = _Switch()
        peak_dtypes = sorted(set(dtypes) | {"float64"}, reverse=True)
        _say(f"peak GEMM ({peak_size}^3) and the steps' GEMM shapes ...", quiet)
        result["peak_gflops"], shape_times = _gemm_facts(sizes, peak_dtypes, peak_size, switch)
        result["gemm_shape_times_s"] = [
            {"size": list(s), "dtype": d, "times": t} for (s, d), t in shape_times.items()]
        result["rows"] = []
        for size in sizes:
            result["rows"] += _time_size(size, impls, dtypes, repeat, budget, switch, quiet,
                                         result["peak_gflops"]["scipy"], shape_times, book_input,
                                         fresh_batches, rounds)
        if spiral_reps:
            result["spiral"] = _time_spiral(spiral_reps, switch, quiet)
        switch(None)
    result["machine"]["load_average_at_start"] = load_before
    result["machine"]["other_processes_cpu_share"] = meter.other_share()

    print(format_table(result), file=out, flush=True)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
        print(f"raw numbers written to {json_path}", file=out)
    return result


# =============================================================================== table


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


HEADERS = ("size", "implementation", "dtype", "median", "min - max", "vs book",
           "GEMM bound", "x bound", "GEMMs alone", "steps")


def format_table(result):
    """The report: machine facts, then one row per (size, implementation, dtype)."""
    m, v, c = result["machine"], result["versions"], result["compile"]
    s = result["settings"]
    lines = [
        "fastprop bench: one training step of TwoLayerNet (Affine-ReLU-Affine-SoftmaxWithLoss, "
        f"SGD lr {s['lr']}) on random MNIST-shaped data with integer labels; "
        + ("a new batch every step (x_train[batch_mask], the draw included)"
           if s.get("fresh_batches") else "the same batch every step (the step alone)"),
        f"data      book and drop-in rows: the book's loop on {s['book_input']} batches "
        "(load_mnist(normalize=True) is float32; the float64 net promotes them);",
        "          fused and PyTorch rows: batches in their own dtype (data cast once)",
        f"machine   {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['platform']}",
        "versions  " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"threads   {s['threads']} for every BLAS" + (" and for torch" if "torch" in v else "")
        + f" (pinned); {PAUSE:.1f} s pause between blocks of different libraries",
    ]
    for p in result.get("blas", []):
        lines.append(f"  {p['user_api']:6s} {p['file']} ({p['owner'] or '?'}): {p['api']} "
                     f"{p['version']}, {p['threads']} thread{'' if p['threads'] == 1 else 's'}"
                     + (f", kernels for {p['architecture']}" if p.get("architecture") else ""))
    ct, l2 = m.get("OPENBLAS_CORETYPE"), m.get("OPENBLAS_L2_SIZE")
    if ct:
        lines += [
            f"NOTE      OPENBLAS_CORETYPE={ct} is set in the environment"
            + (f" (and OPENBLAS_L2_SIZE={l2})" if l2 else "") + ": OpenBLAS runs its",
            f"          {ct} kernels, not the ones for this CPU, which is slower here; compare "
            "with",
            "          env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE fastprop bench"]
    else:
        lines.append("openblas  OPENBLAS_CORETYPE not set: OpenBLAS picks the kernels for this CPU"
                     + (f" (OPENBLAS_L2_SIZE={l2})" if l2 else ""))
    peaks = result.get("peak_gflops", {})
    if peaks:
        lines.append(f"peak GEMM {s['peak_size']}^3: SciPy's BLAS (fastprop's kernels) "
                     + ", ".join(f"{d} {g:.1f}" for d, g in peaks["scipy"].items())
                     + " GFLOP/s; NumPy's BLAS "
                     + ", ".join(f"{d} {g:.1f}" for d, g in peaks["numpy"].items()) + " GFLOP/s")
    first = [f"{k} {val['seconds']:.2f} s ({val['source']})" for k, val in c.items()
             if isinstance(val, dict)]
    imp = c.get("import_fastprop_s")
    lines.append("startup   import fastprop " + (f"{imp:.2f} s" if imp is not None else "?")
                 + " (fresh interpreter); first step: " + ", ".join(first))
    other = m.get("other_processes_cpu_share")
    if other is not None:
        lines.append(f"load      other processes used {100 * other:.0f}% of the CPU time during the run"
                     + ("  <- WARNING: a busy machine distorts every number; rerun when idle"
                        if other > 0.05 else " (quiet machine)"))
    for note in result.get("notes", []):
        lines.append(f"note      {note}")
    lines.append("")

    table = []
    prev = None
    for r in result["rows"]:
        size = tuple(r["size"])
        table.append((
            size_name(size) if size != prev else "", LABELS[r["impl"]], r["dtype"],
            fmt_time(r["median_s"]), f"{fmt_time(r['min_s'])} - {fmt_time(r['max_s'])}",
            "-" if r["speedup_vs_book"] is None else f"{r['speedup_vs_book']:.2f}x",
            f"{fmt_time(r['bound_s'])} ({r['gemms']})", f"{r['median_s'] / r['bound_s']:.2f}",
            fmt_time(r["gemms_measured_s"]), str(r["n"])))
        prev = size
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h)
              for i, h in enumerate(HEADERS)]
    right = {3, 4, 5, 6, 7, 8, 9}

    def fmt(row):
        return "  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                         for i, (cell, w) in enumerate(zip(row, widths))).rstrip()

    lines.append(fmt(HEADERS))
    lines.append("  ".join("-" * w for w in widths))
    for i, row in enumerate(table):
        if i and row[0]:
            lines.append("")
        lines.append(fmt(row))
    lines += [
        "",
        f"median/min/max: per-step times of single steps after warm-up, {s.get('rounds', 1)} "
        "interleaved round(s) per size; vs book: book median / median (higher is faster).",
        "GEMM bound (n GEMMs): the step's GEMM FLOPs / peak GEMM FLOP/s of SciPy's BLAS in that "
        "dtype; x bound: median / bound.",
        "  book 8 GEMMs (second forward for the loss, first layer's dx); drop-in 7 (no dx); "
        "fused and PyTorch 5.",
        "GEMMs alone: the step's GEMMs at their exact shapes and layouts, timed alone through "
        "SciPy's BLAS.",
    ]
    sp = result.get("spiral")
    if sp:
        lines += ["", "vol. 2 spiral fit (TwoLayerNet 2-10-3 sigmoid, SGD lr 1.0, 300 epochs of "
                  "batch 30, Trainer.fit quiet), whole fits alternating:"]
        for impl, label in (("book", "book NumPy net"), ("fastprop", "fastprop")):
            r = sp[impl]
            lines.append(f"  {label:15s} {fmt_time(r['median_s']):>9s}  "
                         f"{fmt_time(r['min_s'])} - {fmt_time(r['max_s'])}  "
                         f"last loss {r['last_loss']:.6f}  ({len(r['times_s'])} fits)")
        lines.append(f"  speedup (book median / fastprop median): {sp['speedup']:.1f}x")
    return "\n".join(lines)


# =============================================================================== command line


def add_arguments(parser):
    """Add the bench options to ``parser`` (the ``fastprop bench`` subcommand or our own)."""
    parser.add_argument("--sizes", nargs="+", metavar="D-H-O/bB",
                        default=[f"{D}-{H}-{O}/b{B}" for D, H, O, B in SIZES],
                        help="network sizes and batch (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed steps per row (default: as many as fit in --budget, "
                             f"{MIN_REPEAT} to {MAX_REPEAT})")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help="seconds of timed steps per row when --repeat is not given "
                             "(default: %(default)s)")
    parser.add_argument("--dtypes", nargs="+", choices=("float64", "float32"),
                        default=["float64", "float32"],
                        help="dtypes of the fused and PyTorch rows (default: both)")
    parser.add_argument("--book-input", choices=("float32", "float64"), default="float32",
                        help="dtype of the batches the book's loop gets (book and drop-in rows; "
                             "float32 is the book's MNIST; default: %(default)s)")
    parser.add_argument("--fresh-batches", action="store_true",
                        help="draw a new batch every step (x_train[batch_mask], as the book's "
                             "loop does) instead of timing the step alone on one batch")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS),
                        help="rows to run (default: all; torch only when installed)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    # dest differs from the fastprop command's own --threads, which a subcommand default
    # would otherwise overwrite (argparse copies every subparser default into the namespace)
    parser.add_argument("--threads", dest="bench_threads", type=int, default=None, metavar="N",
                        help="threads for every BLAS and torch (default: fastprop --threads / "
                             "FASTPROP_THREADS if set, else all usable cores)")
    parser.add_argument("--peak-size", type=int, default=2048,
                        help="n of the n^3 GEMM that measures peak FLOP/s (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="interleaved rounds per size: each row is timed once a round "
                             "(default: %(default)s)")
    parser.add_argument("--spiral-reps", type=int, default=SPIRAL_REPS, metavar="N",
                        help="runs of vol. 2's spiral fit per implementation, alternating "
                             "(0: leave it out; default: %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def run_from_args(args):
    """Run from parsed arguments (what ``fastprop bench`` calls); returns an exit code."""
    impls = [i for i in args.impls if not (args.no_torch and i == "torch")]
    try:
        run(sizes=args.sizes, repeat=args.repeat, dtypes=args.dtypes, threads=args.bench_threads,
            impls=impls, budget=args.budget, peak_size=args.peak_size,
            book_input=args.book_input, fresh_batches=args.fresh_batches, json_path=args.json,
            quiet=args.quiet, spiral_reps=args.spiral_reps, rounds=args.rounds)
    except ValueError as e:
        raise SystemExit(f"fastprop bench: {e}") from None
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastprop bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":  # python -m fastprop.bench
    from fastprop.bench import main as _main  # the package's module, not a __main__ copy

    sys.exit(_main())
