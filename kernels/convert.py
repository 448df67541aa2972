"""Casting an input into a kept buffer without dirtying it needlessly."""
from ._jit import jit


@jit
def cast_into(x, out):
    """``out[...] = x`` (with the cast to ``out``'s dtype), writing nothing when nothing
    differs.

    Parameters
    ----------
    x : (N,) real array, C-contiguous (callers pass flat views)
    out : (N,) float array, all written when any element differs from ``x``

    Returns
    -------
    bool, whether anything was written

    Notes
    -----
    The book's loop feeds the same float32 batch to ``gradient`` and then to ``loss``. A
    buffer rewritten with the same values is still a freshly written buffer: on two cores
    the BLAS thread on the other core must then fetch it from this core's cache before the
    GEMM can start, which costs more than the cast itself (measured: README, "Going
    faster"). Comparing first leaves an unchanged buffer clean in both caches. Compare and
    copy are two plain loops, both vectorised (an element-by-element compare-and-store, or
    a compare that stops at the first difference, is not); 64 elements spread over the
    array are looked at first, so a new batch goes straight to the copy (asv CastInto times
    both cases). NaN never compares equal, so NaN inputs are always (re)written: the
    result is exactly ``x``.
    """
    n = x.shape[0]
    differs = False
    for i in range(0, n, max(1, n // 64)):  # a new batch almost surely differs in a sample
        if out[i] != out.dtype.type(x[i]):
            differs = True
            break
    if not differs:  # else the full (vectorised) compare
        for i in range(n):
            if out[i] != out.dtype.type(x[i]):
                differs = True
        if not differs:
            return False
    for i in range(n):
        out[i] = out.dtype.type(x[i])
    return True
