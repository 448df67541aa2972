"""The GEMM lower bound of one training step (design.md, section 6).

A step of the two-layer net is a handful of GEMMs plus small elementwise passes; its
GEMM FLOPs over the peak GEMM FLOP/s measured on the same machine in the same run bound
how fast any implementation can be. This module counts the GEMMs of each implementation,
measures the peak rate, and times the step's GEMMs alone at their exact shapes.
"""
from collections import OrderedDict

import numpy as np

from ..kernels._jit import jit
from .timing import best_time, time_steps

Size = tuple  # (D inputs, H hidden, O outputs, B batch rows)

# GEMMs of one step (B rows, D inputs, H hidden, O outputs) as (m, k, n) with their use
# counts: the book's step runs 8 (a second forward for the loss, and the first layer's
# unused dx), the drop-in net 7 (dx skipped), the fused step and PyTorch 5.
GEMMS = OrderedDict([   # name: (m, k, n) as functions of (D, H, O, B)
    ("x@W1", lambda D, H, O, B: (B, D, H)),
    ("a@W2", lambda D, H, O, B: (B, H, O)),
    ("a.T@dy", lambda D, H, O, B: (H, B, O)),
    ("dy@W2.T", lambda D, H, O, B: (B, O, H)),
    ("x.T@dh", lambda D, H, O, B: (D, B, H)),
    ("dh@W1.T", lambda D, H, O, B: (B, H, D)),
])
COUNTS = {
    "book": {"x@W1": 2, "a@W2": 2, "a.T@dy": 1, "dy@W2.T": 1, "x.T@dh": 1, "dh@W1.T": 1},
    "dropin": {"x@W1": 2, "a@W2": 2, "a.T@dy": 1, "dy@W2.T": 1, "x.T@dh": 1},
    "fused": {"x@W1": 1, "a@W2": 1, "a.T@dy": 1, "dy@W2.T": 1, "x.T@dh": 1},
}
COUNTS["torch"] = COUNTS["fused"]


def step_flops(impl: str, size: Size) -> int:
    """GEMM FLOPs of one step.

    Parameters
    ----------
    impl : {'book', 'dropin', 'fused', 'torch'}
    size : (D, H, O, B)

    Returns
    -------
    int
        ``2 m k n`` summed over the step's GEMMs, each as often as ``impl`` runs it.
    """
    total = 0
    for name, n in COUNTS[impl].items():
        m, k, nn = GEMMS[name](*size)
        total += n * 2 * m * k * nn
    return total


def n_gemms(impl: str) -> int:
    """How many GEMMs one step of ``impl`` runs (book 8, drop-in 7, fused and torch 5)."""
    return sum(COUNTS[impl].values())


@jit
def gemm_kernel(a, b, out):
    """``np.dot(a, b, out)`` inside ``@njit``: SciPy's BLAS, as in fastprop's kernels."""
    np.dot(a, b, out)


def peak_gflops(dtype, n: int = 2048, library: str = "scipy", reps: int = 3) -> float:
    """Peak GEMM rate of an ``n``-cubed product, best of ``reps``.

    Parameters
    ----------
    dtype : float32 or float64
    n : int
        Size of the square matrices.
    library : {'scipy', 'numpy'}
        Whose BLAS: SciPy's (the one fastprop's kernels call) or NumPy's.
    reps : int

    Returns
    -------
    float
        GFLOP/s.
    """
    rng = np.random.default_rng(0)
    a = rng.random((n, n)).astype(dtype)
    b = rng.random((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    if library == "scipy":
        t = best_time(lambda: gemm_kernel(a, b, out), reps)
    else:
        t = best_time(lambda: np.dot(a, b, out=out), reps)
    return 2.0 * n ** 3 / t / 1e9


def gemm_shape_times(size: Size, dtype, budget: float = 0.05) -> dict:
    """Median time (s) of each distinct GEMM of the step at ``size``, with the layouts the
    fused kernel uses (transposes as views), through SciPy's BLAS; keyed like :data:`GEMMS`."""
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
        times = time_steps(lambda a=a, b=b, c=c: gemm_kernel(a, b, c), None, budget, min_repeat=3, max_repeat=200)
        out[name] = float(np.median(times))
    return out


def gemms_time(impl: str, shape_times: dict) -> float:
    """Seconds of the GEMMs of one step of ``impl`` from :func:`gemm_shape_times`."""
    return sum(n * shape_times[name] for name, n in COUNTS[impl].items())


def compile_gemm_kernel(dtypes) -> None:
    """Compile :func:`gemm_kernel` for the layouts :func:`gemm_shape_times` uses."""
    for d in dtypes:
        z = np.zeros((2, 2), d)
        gemm_kernel(z, z, z.copy())
        gemm_kernel(z.T, z, z.copy())
        gemm_kernel(z, z.T, z.copy())


def gemm_facts(sizes, dtypes, peak_size: int, switch) -> tuple:
    """``({'scipy': {dtype: GFLOP/s}, 'numpy': {...}}, {(size, dtype): shape times})``,
    pausing (``switch``) between the two libraries' blocks."""
    switch("scipy")
    peaks = OrderedDict((d, peak_gflops(d, peak_size, "scipy")) for d in dtypes)
    switch("numpy")
    numpy_peaks = OrderedDict((d, peak_gflops(d, peak_size, "numpy")) for d in dtypes)
    switch("scipy")
    shape_times = OrderedDict(((size, d), gemm_shape_times(size, d)) for size in sizes for d in dtypes)
    return OrderedDict([("scipy", peaks), ("numpy", numpy_peaks)]), shape_times
