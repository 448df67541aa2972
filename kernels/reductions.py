"""Row reductions shared by the bias gradient, Repeat and Sum."""
from ._jit import jit


@jit
def column_sum(x, out):
    """``out[j] = sum_i x[i, j]`` (``x.sum(axis=0)``) without a temporary.

    Rows are added in order, streaming through ``x`` in memory order, which is also
    the order NumPy uses for an axis-0 reduction of a C-contiguous array.

    Parameters
    ----------
    x : (N, M) float, C-contiguous
    out : (M,) same dtype, written

    Returns
    -------
    out
    """
    n, m = x.shape
    if n == 0:
        out[:] = 0
        return out
    for j in range(m):
        out[j] = x[0, j]
    for i in range(1, n):
        for j in range(m):
            out[j] += x[i, j]
    return out
