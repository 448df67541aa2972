"""The benchmark run: check the arguments, gather the machine facts, compile, measure
the GEMM bound, time every row of every size in interleaved rounds, time the spiral
fit, print the report and return the raw numbers."""
import json
import os
import sys
import time
from collections import OrderedDict

import numpy as np

from .. import threads as thread_policy
from .. import validate
from ..argtypes import check_writable_file
from . import baseline, machine
from . import models as models_mod
from .book import LR
from .gemm import compile_gemm_kernel, gemm_facts, gemms_time, n_gemms, step_flops
from .report import LABELS, format_table, size_name
from .steps import IMPLS, SIZES, make_step
from .timing import BUDGET, PAUSE, ROUNDS, Switch, round_share, time_steps

SPIRAL_REPS = 11  # alternating fits of each implementation in the spiral block


def parse_size(text: str) -> tuple:
    """``'784-50-10/b100'`` (or ``'784-50-10/100'``, ``'784-50-10:100'``) -> (784, 50, 10, 100).

    Raises
    ------
    ValueError
        When the text has another shape or a number is not positive.
    """
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


def _say(msg, quiet):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _first_call(impl, size, dtype):
    """Seconds of the first step of ``impl`` (compile, or load from Numba's cache) and
    which of the two it was."""
    step, _ = make_step(impl, size, dtype)
    hits0, miss0 = machine.cache_stats()
    t0 = time.perf_counter()
    step()
    dt = time.perf_counter() - t0
    hits, misses = (a - b for a, b in zip(machine.cache_stats(), (hits0, miss0)))
    source = "Numba cache" if hits and not misses else ("compiled" if misses else "in memory")
    return dt, source


def _compile_all(size, dtypes, impls, with_torch):
    """Import and first-call times; leaves every kernel (and BLAS) the run needs loaded."""
    out = OrderedDict([("import_fastprop_s", machine.import_time())])
    if with_torch:
        import torch  # noqa: F401  (loads its libraries before the threads are pinned)
    small = (size[0], min(size[1], 64), size[2], min(size[3], 64))
    for impl in ("fused", "dropin"):
        if impl in impls:
            for d in (dtypes if impl == "fused" else ["float64"]):
                seconds, source = _first_call(impl, small, d)
                out[f"{impl} {d}"] = {"seconds": seconds, "source": source}
    compile_gemm_kernel(set(dtypes) | {"float64"})
    return out


def _time_size(size, impls, dtypes, repeat, budget, switch, quiet, peaks, shape_times,
               book_input, fresh, rounds=1, layers=None):
    """The rows of one size: book first (the reference), then the others, timed in
    ``rounds`` interleaved rounds (each row gets ``budget / rounds`` seconds a round), so a
    machine that slows down or speeds up during the run shifts every row alike. ``layers``:
    the book rows' layers (a checkout's ``common.layers``; None: the transcription's)."""
    steps = []
    for impl in impls:
        for d in (dtypes if impl in ("fused", "torch") else ["float64"]):
            step, lib = make_step(impl, size, d, book_input=book_input, fresh=fresh,
                                  layers=layers if impl == "book" else None)
            steps.append((impl, d, step, lib))
    times = {(impl, d): [] for impl, d, _, _ in steps}
    for r in range(rounds):
        per_round = round_share(repeat, rounds, r)  # --repeat spread over the rounds exactly
        if per_round == 0:
            continue
        for impl, d, step, lib in steps:
            _say(f"{size_name(size)}: {LABELS[impl]} {d}"
                 + (f" (round {r + 1} of {rounds})" if rounds > 1 else "") + " ...", quiet)
            switch(lib)
            times[(impl, d)].append(time_steps(step, per_round, budget / rounds))
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


def _time_spiral(reps, switch, quiet, books=None):
    """The spiral fit, fastprop and the book's net alternating, ``reps`` times each. The
    book's run is vol. 2's checkout in ``books`` if there is one (its layers, SGD and
    Trainer), else the transcription's (:func:`fastprop.bench.baseline.spiral`)."""
    from ..datasets import spiral
    from ..runs import fit_spiral

    book_root, source = baseline.spiral(books or baseline.DEFAULT)

    def spiral_fit(impl):
        # the weights drawn from the global RNG where the book's script draws them; the
        # run's settings are the book's (fit_spiral's defaults), quiet: the compiled path
        root = book_root if impl == "book" else None
        return fit_spiral((x, t), implementation=impl, rng_state=state,
                          apply_thread_policy=False, book_root=root).trainer

    _say(f"vol. 2 spiral fit, {reps} x 2 runs ...", quiet)
    x, t = spiral.load_data()
    state = np.random.get_state()
    spiral_fit("fastprop")  # compile outside the timed runs
    times = OrderedDict((impl, []) for impl in ("book", "fastprop"))
    last = {}
    for _ in range(reps):
        for impl in times:
            switch(impl)
            t0 = time.perf_counter()
            tr = spiral_fit(impl)
            times[impl].append(time.perf_counter() - t0)
            last[impl] = tr.loss_list[-1]
    out = OrderedDict([("baseline", source)])
    for impl, ts in times.items():
        ts = np.array(ts)
        out[impl] = OrderedDict([("median_s", float(np.median(ts))), ("min_s", float(ts.min())),
                                 ("max_s", float(ts.max())), ("last_loss", float(last[impl])),
                                 ("times_s", ts.tolist())])
    out["speedup"] = out["book"]["median_s"] / out["fastprop"]["median_s"]
    return out


def _check_count(value, name, low):
    return validate.check_scalar(value, name, int, low=low)


def memory_bytes(size, fresh: bool, peak_size: int) -> int:
    """Estimated bytes a run at ``size`` = (D, H, O, B) needs at its peak: every row's
    net, gradients, activations and batches at once (six rows at most), the GEMM shapes
    timed alone, and the three ``peak_size``-squared matrices of the peak GEMM (float64)."""
    D, H, O, B = size
    params = D * H + H + H * O + O
    rows = 8 * B if fresh else B
    per_impl = 3 * params + B * (D + 4 * H + 3 * O) + rows * D
    gemms = 2 * (B * D + D * H + 2 * B * H + H * O + B * O)
    return 8 * (6 * per_impl + gemms) + 8 * 3 * peak_size ** 2


def _check_args(sizes, dtypes, book_input, impls, threads, repeat, fresh=False, peak_size=2048):
    """Normalised ``(sizes, dtypes, book_input, impls, threads, notes)``; ValueError if bad."""
    from ..runs import check_memory

    sizes = [parse_size(s) if isinstance(s, str) else tuple(int(v) for v in s) for s in sizes]
    if not sizes:
        raise ValueError("sizes must name at least one size such as 784-50-10/b100")
    peak_size = _check_count(peak_size, "peak_size", 1)
    for size in sizes:
        check_memory(memory_bytes(size, fresh, peak_size),
                     f"fastprop bench at {size_name(size)} (peak GEMM {peak_size}^3)")
    dtypes = [np.dtype(d).name for d in dtypes]
    book_input = np.dtype(book_input).name
    for d in dtypes + [book_input]:
        if d not in ("float64", "float32"):
            raise ValueError(f"dtypes must be float64 and/or float32, got {d}")
    unknown = set(impls) - set(IMPLS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; expected {IMPLS}")
    impls = [i for i in IMPLS if i in set(impls)]
    if repeat is not None:
        _check_count(repeat, "repeat", 1)
    notes = []
    if "torch" in impls and not machine.torch_available():
        impls.remove("torch")
        notes.append("PyTorch is not installed: no PyTorch rows (pip install torch)")
    if threads is None:
        policy = thread_policy.get_threads()
        threads = machine.usable_cores() if policy == "auto" else policy
    threads = validate.positive_int(threads, "threads")  # 2.7 is refused, not truncated
    return sizes, dtypes, book_input, impls, threads, notes


def run(sizes=SIZES, repeat=None, dtypes=("float64", "float32"), threads=None, impls=IMPLS,
        budget=BUDGET, peak_size=2048, book_input="float32", fresh_batches=False,
        json_path=None, quiet=False, out=None, spiral_reps=SPIRAL_REPS, rounds=ROUNDS,
        models=("twolayer",), model_options=None, book_root=None) -> dict:
    """Run the benchmark, print the table to ``out`` (default stdout) and return the raw
    results as a dict (what ``--json`` writes).

    Parameters
    ----------
    sizes : sequence of (D, H, O, B) tuples or ``'784-50-10/b100'`` strings
    repeat : int or None
        Timed steps per row; None adapts it to ``budget`` seconds a row
        (:data:`~fastprop.bench.timing.MIN_REPEAT` to
        :data:`~fastprop.bench.timing.MAX_REPEAT` steps).
    dtypes : dtypes of the fused and PyTorch rows (the book and drop-in rows are float64,
        the book's dtype).
    threads : int or None
        Threads for every BLAS and torch; None: the fastprop policy if set
        (``FASTPROP_THREADS``, ``fastprop --threads``), else all usable cores.
    impls : subset of ``('book', 'dropin', 'fused', 'torch')``; torch rows are left out
        when PyTorch is not installed.
    budget : float
        Seconds of timed steps per row when ``repeat`` is None.
    peak_size : n of the n x n x n GEMM that measures the peak FLOP/s.
    book_input : dtype of the batch the book's loop gets (book and drop-in rows): float32
        is the book's MNIST (``load_mnist(normalize=True)``).
    fresh_batches : bool
        Draw a new batch every step, as the book's loop does (``x_train[batch_mask]``),
        instead of timing the step alone on one batch.
    json_path : path or None
        Also write the raw numbers there as JSON.
    quiet : bool
        No progress lines on stderr.
    out : file, optional
        Where the report goes (default stdout).
    spiral_reps : int
        Runs of vol. 2's spiral fit per implementation (fastprop and the book's net under
        the same Trainer, alternating); 0 leaves the block out.
    rounds : int
        Interleaved rounds per size (and per block): every row is timed once a round,
        ``budget / rounds`` seconds (or ``repeat / rounds`` steps) at a time.
    models : names from :data:`fastprop.bench.models.CHOICES`
        ``twolayer`` (the default): the TwoLayerNet sizes above and the spiral fit; the
        other names are the blocks of :mod:`fastprop.bench.models` (``vol1``, ``vol2`` and
        ``all`` pick several). ``impls`` applies to the TwoLayerNet rows, ``dtypes`` to
        both (a block's book and drop-in rows keep the book's dtype).
    model_options : dict, optional
        Sizes of the blocks (keys of :data:`fastprop.bench.models.DEFAULTS`).
    book_root : path, optional
        A checkout of one of the books: the ``book`` rows of that book's ``models`` blocks
        run on its own ``common/`` package instead of the transcription
        (:mod:`fastprop.bench.baseline`): with vol. 1, the TwoLayerNet rows (ch05's class
        on its layers) and vol. 1's blocks; with vol. 2, the spiral fit (its layers, SGD and
        Trainer under ch01's class) and vol. 2's blocks. The other book keeps the
        transcription; the report says which baseline each block used. ValueError when its
        ``common/`` is missing or fails to import.

    Returns
    -------
    dict
        ``machine``, ``versions``, ``settings``, ``compile``, ``notes``, ``blas``,
        ``peak_gflops``, ``gemm_shape_times_s``, ``rows`` (TwoLayerNet) and
        ``twolayer_baseline`` (where its book rows came from), ``blocks`` (one per
        ``models`` block, each with its ``rows`` and ``baseline``) and (when it ran)
        ``spiral`` (with its ``baseline``).
    """
    out = sys.stdout if out is None else out
    spiral_reps = _check_count(spiral_reps, "spiral_reps", 0)
    rounds = _check_count(rounds, "rounds", 1)
    if isinstance(models, str):
        models = [models]
    names = models_mod.expand(models)
    opts = models_mod.check_options(model_options)
    books = baseline.baselines(book_root)
    twolayer = "twolayer" in names
    sizes, dtypes, book_input, impls, threads, notes = _check_args(
        sizes, dtypes, book_input, impls, threads, repeat, fresh_batches, peak_size)
    blocks = [n for n in names if n != "twolayer"]
    if blocks:
        from ..runs import check_memory

        check_memory(models_mod.memory_bytes(blocks, opts),
                     f"fastprop bench --models {' '.join(blocks)}")
    validate.check_scalar(budget, "budget", float, low=0, low_open=True,
                          expected="a finite number of seconds > 0")
    if json_path:
        check_writable_file(json_path, "--json")
    with_torch = "torch" in impls
    _say("fastprop bench: import and compile ...", quiet)
    meter = machine.LoadMeter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = OrderedDict()
    result["machine"] = machine.machine_facts()
    result["versions"] = machine.versions(with_torch)
    result["settings"] = OrderedDict([
        ("threads", threads), ("repeat", repeat), ("budget_s", budget), ("lr", LR),
        ("sizes", [list(s) for s in sizes]), ("dtypes", dtypes), ("impls", impls),
        ("peak_size", peak_size), ("book_input", book_input),
        ("fresh_batches", bool(fresh_batches)), ("pause_s", PAUSE),
        ("spiral_reps", spiral_reps if twolayer else 0), ("rounds", rounds),
        ("models", names), ("model_options", {k: opts[k] for k in opts}),
        ("baseline", {f"vol{v}": books[v].source for v in (1, 2)})])
    result["compile"] = _compile_all(sizes[0], dtypes, impls if twolayer else [], with_torch)
    result["notes"] = notes
    with thread_policy.thread_limit(threads):  # every BLAS is loaded by now: all get pinned
        if with_torch:
            import torch

            torch.set_num_threads(threads)
        result["blas"] = machine.blas_pools()
        switch = Switch()
        result["rows"] = []
        if twolayer:
            peak_dtypes = sorted(set(dtypes) | {"float64"}, reverse=True)
            _say(f"peak GEMM ({peak_size}^3) and the steps' GEMM shapes ...", quiet)
            result["peak_gflops"], shape_times = gemm_facts(sizes, peak_dtypes, peak_size, switch)
            result["gemm_shape_times_s"] = [
                {"size": list(s), "dtype": d, "times": t} for (s, d), t in shape_times.items()]
            for size in sizes:
                result["rows"] += _time_size(size, impls, dtypes, repeat, budget, switch, quiet,
                                             result["peak_gflops"]["scipy"], shape_times,
                                             book_input, fresh_batches, rounds,
                                             layers=books[1].layers)
            result["twolayer_baseline"] = baseline.twolayer_source(books)
            if spiral_reps:
                result["spiral"] = _time_spiral(spiral_reps, switch, quiet, books)
        result["blocks"] = [
            models_mod.time_block(name, dict(opts, book=books), dtypes, impls, repeat, budget,
                                  rounds, switch, lambda msg: _say(msg, quiet))
            for name in blocks]
        switch(None)
    result["machine"]["load_average_at_start"] = load_before
    result["machine"]["other_processes_cpu_share"] = meter.other_share()

    print(format_table(result), file=out, flush=True)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
        print(f"raw numbers written to {json_path}", file=out)
    return result
