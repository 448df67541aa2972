"""What the kernels' BLAS runs fastest: GEMM shapes chosen for the library it is.

OpenBLAS built for AVX-512 (its ``SkylakeX``, ``Cooperlake`` and ``SapphireRapids``
targets, which it also picks on AMD Zen 4) has small-matrix GEMM kernels that work on the
operands in place, without packing them first; it takes them for a plain ``x @ W`` when
``M * N * K <= 100**3`` (OpenBLAS's ``gemm_small_kernel_permit`` for those targets). The
forward GEMM of the book's first layer, (100, 784) @ (784, 50), is 3.9 M multiply-adds:
one call packs ``W`` and runs the general kernel, and four calls of 25 rows take the small
kernel. Measured on Zen 4, one thread: the book's drop-in ch05 step 968 -> 880 us (quiet
machine, wall, medians of 11 x 300 steps). The GEMM alone, CPU time on a loaded machine
(medians of 9, ratios only): 215 vs 161 us float64, 102 vs 82 us float32; (100, 784) @
(784, 100) 372 vs 323 us; blocks of fewer than :data:`MIN_ROWS` rows lost ((256, 784) @
(784, 256) float64: 2446 us whole, 2818 us in 4-row blocks). Other BLAS builds get one GEMM,
as before. At two threads the drop-in Affine runs a batch's GEMM as one part per thread,
each in these blocks on a one-thread BLAS (:func:`fastprop.kernels.affine.affine_forward_parts`).
"""
from __future__ import annotations

#: OpenBLAS targets with small-matrix GEMM kernels for the no-transpose case
SMALL_KERNEL_TARGETS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
#: OpenBLAS's bound on ``M * N * K`` for them
SMALL_KERNEL_WORK = 100 ** 3
#: fewer rows a block than this measured slower than one GEMM
MIN_ROWS = 8

_small = None  # whether the kernels' BLAS has the small kernels, found once


def has_small_kernels() -> bool:
    """Whether the BLAS the kernels call (SciPy's) is an OpenBLAS with small-matrix kernels."""
    global _small
    if _small is None:
        from . import threads

        libs = threads._kernel_controllers()
        _small = bool(libs) and all(
            lib.internal_api == "openblas"
            and str(getattr(lib, "architecture", "")).lower() in SMALL_KERNEL_TARGETS for lib in libs)
    return _small


def gemm_rows(n: int, k: int, m: int, blas_threads: int | None = None) -> int:
    """Rows per block for ``(n, k) @ (k, m)`` (the ``rows`` of
    :func:`fastprop.kernels.affine.affine_forward`): 0 for one GEMM (it is small enough
    already, the blocks would be too thin, the BLAS has no small kernels, or it runs on
    more than one thread: the small kernels use one). ``blas_threads``: the BLAS's thread
    count for the call (None: what the thread policy last gave it)."""
    if n * k * m <= SMALL_KERNEL_WORK:  # first: the per-token calls of generation end here
        return 0
    if blas_threads is None:
        from . import threads

        blas_threads = threads.blas_threads()
    if blas_threads > 1 or not has_small_kernels():
        return 0
    rows = SMALL_KERNEL_WORK // max(1, k * m)
    return rows if rows >= MIN_ROWS else 0
