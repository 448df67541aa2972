"""Whole runs, as a reader meets them: a book script end to end (the book's own code vs
the same script through ``fastprop run``), and the start-up of a fresh install.

A step benchmark can say 1.3x while the script a reader runs is no faster: the time of a
script is its steps *and* its evaluations, casts, buffers and imports. So this times the
script itself, in subprocesses (a script is a process), the two runs alternating so a
drift of the machine hits both, each at the same thread count: 1 thread and every usable
core by default. The book's run gets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``, the
fastprop run ``FASTPROP_THREADS`` as well. ``busy`` starts that many processes spinning
on the CPU for the whole block (the "other process on the machine" case).

Start-up: ``python -X importtime -c "import fastprop"``'s total, then the first fused step
of the ch05 net with an empty Numba cache (cold: everything compiles) and with the cache
that run left (warm: loaded from disk), each in a fresh process.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

#: what the start-up probe runs in a fresh process: the ch05 net's first fused step
STARTUP_PROBE = """
import time
t0 = time.perf_counter()
import numpy as np
from fastprop import TwoLayerNet
from fastprop.optimizers import SGD
t1 = time.perf_counter()
state = np.random.get_state()
net = TwoLayerNet(784, 50, 10)
x = np.zeros((100, 784), np.float32); t = np.zeros(100, np.uint8)
t2 = time.perf_counter()
net.train_steps(x, t, np.arange(100), 100, SGD(0.1))
t3 = time.perf_counter()
print(f"{t1 - t0:.6f} {t3 - t2:.6f}")
"""

BUSY = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


def _env(threads, extra=None) -> dict:
    """The environment of a timed run: ``threads`` for every library, or None for each
    library's own default (OpenBLAS: a thread per core; fastprop: its ``auto`` policy)."""
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "FASTPROP_THREADS"):
        if threads is None:
            env.pop(var, None)
        else:
            env[var] = str(threads)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def busy_processes(n: int, seconds: float = 3600.0):
    """``n`` processes spinning on the CPU for the block's duration."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=seconds)])
             for _ in range(n)]
    try:
        time.sleep(0.2 if n else 0)
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _timed(cmd, cwd, env) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        tail = "\n".join(r.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{' '.join(cmd)} (in {cwd}) exited {r.returncode}:\n{tail}")
    return seconds


def _summary(times) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "runs": list(times)}


def check_script(script: str, book_root: str | None = None) -> tuple:
    """``(script path, its folder, the book checkout)``; ValueError unless the script is a
    file inside a checkout of one of the books (a folder with ``common/`` above it)."""
    path = os.path.abspath(script)
    if not os.path.isfile(path):
        raise ValueError(f"--script {script!r} is not a file")
    folder = os.path.dirname(path)
    root = os.path.abspath(book_root) if book_root else os.path.dirname(folder)
    if not os.path.isdir(os.path.join(root, "common")):
        raise ValueError(f"--script {script!r}: no common/ folder in {root} (pass --book-root: "
                         "the book's checkout, whose chapter folder holds the script)")
    return path, folder, root


def time_script(script: str, threads_list, reps: int = 3, busy: int = 0, volume=None,
                args=(), book_root=None, progress=None) -> list:
    """The book's script by the book's code and by ``fastprop run``, alternating.

    ``threads_list`` holds thread counts, or None for each side's default (the book's
    OpenBLAS: a thread per core; fastprop: its ``auto`` policy).

    Returns one dict per thread count: ``threads``, ``book`` and ``fastprop`` summaries
    (seconds: median, min, max, runs) and ``speedup`` (book median / fastprop median).
    """
    path, folder, _ = check_script(script, book_root)
    book_cmd = [sys.executable, path, *args]
    fp_cmd = [sys.executable, "-m", "fastprop", "run"]
    if volume is not None:
        fp_cmd += ["--volume", str(volume)]
    fp_cmd += [path, *args]
    rows = []
    with busy_processes(busy):
        for n in threads_list:
            env = _env(n)
            book, fast = [], []
            _timed(fp_cmd, folder, env)  # a first run loads/compiles the kernels: not timed
            for r in range(reps):
                book.append(_timed(book_cmd, folder, env))
                fast.append(_timed(fp_cmd, folder, env))
                if progress:
                    progress(f"{os.path.basename(path)} threads {n} run {r + 1}/{reps}: "
                             f"book {book[-1]:.2f} s, fastprop {fast[-1]:.2f} s")
            b, f = _summary(book), _summary(fast)
            rows.append({"threads": n, "busy": busy, "book": b, "fastprop": f,
                         "speedup": b["median"] / f["median"]})
    return rows


def time_startup(reps: int = 3, progress=None) -> dict:
    """Import time (of the package alone, and of what the first step uses: the package
    imports its modules on first use) and the first fused ch05 step, cold (empty Numba
    cache) and warm."""
    imports, cold, warm, probe_import = [], [], [], []
    for r in range(reps):
        cache = tempfile.mkdtemp(prefix="fastprop-startup-")
        try:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fastprop"],
                                 env=env, capture_output=True, text=True, check=True).stderr
            total = [line for line in out.splitlines() if line.rstrip().endswith("| fastprop")]
            imports.append(int(total[-1].split("|")[1]) / 1e6 if total else float("nan"))
            for bucket in (cold, warm):
                res = subprocess.run([sys.executable, "-c", STARTUP_PROBE], env=env,
                                     capture_output=True, text=True, check=True).stdout.split()
                probe_import.append(float(res[0]))
                bucket.append(float(res[1]))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        if progress:
            progress(f"start-up run {r + 1}/{reps}: import {imports[-1]:.2f} s, first step "
                     f"cold {cold[-1]:.2f} s, warm {warm[-1]:.2f} s")
    return {"import": _summary(imports), "import_used": _summary(probe_import),
            "cold": _summary(cold), "warm": _summary(warm)}


def format_scripts(script: str, rows) -> list:
    lines = [f"book script end to end: {script} (the book's code vs fastprop run; medians "
             "[min-max] of alternating runs)",
             f"{'threads':>7} {'busy':>4} {'book':>22} {'fastprop':>22} {'speed-up':>8}"]
    for row in rows:
        b, f = row["book"], row["fastprop"]
        lines.append(f"{row['threads'] or 'default':>7} {row['busy']:>4} "
                     f"{b['median']:7.2f} s [{b['min']:.2f}-{b['max']:.2f}] "
                     f"{f['median']:7.2f} s [{f['min']:.2f}-{f['max']:.2f}] "
                     f"{row['speedup']:7.2f}x")
    return lines


def format_startup(res) -> list:
    def fmt(s):
        return f"{s['median']:.2f} s [{s['min']:.2f}-{s['max']:.2f}]"
    return ["start-up (fresh processes; medians [min-max]):",
            f"  import fastprop (python -X importtime)       {fmt(res['import'])}",
            # the package exports on first use: what the first step imports is the real cost
            f"  numpy + fastprop's TwoLayerNet and SGD       {fmt(res['import_used'])}",
            f"  first ch05 fused step, empty Numba cache     {fmt(res['cold'])}",
            f"  first ch05 fused step, cache from that run   {fmt(res['warm'])}"]
