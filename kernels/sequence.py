"""Kernels of vol. 2's time-distributed layers: the softmax-cross-entropy over N*T rows with
the ``ignore_label`` mask fused in. The embedding gather and scatter-add are
:mod:`.embedding`'s (one of each), which the time layers call.

The loss follows the book's ``TimeSoftmaxWithLoss``: ``-sum(mask * log(y[t])) / sum(mask)``,
no ``+1e-7`` (unlike vol. 1's ``cross_entropy_error``); rows whose label is the ignore label
contribute neither loss nor gradient and are never read at their label.
"""
import numpy as np

from ._jit import jit
from .vmath import exp as vexp
from .vmath import exp32


@jit
def first_bad_id(ids, V, ignore):
    """Index of the first entry of the 1-D ``ids`` outside ``[0, V)`` and not equal to
    ``ignore`` (pass an id in range, such as 0, for no ignore label); -1 when there is none.

    One pass and no temporaries: the layer's check of a (1, 1) question costs a dispatch,
    not the four NumPy passes of ``(ids < 0) | (ids >= V)``."""
    for i in range(ids.shape[0]):
        v = ids[i]
        if (v < 0 or v >= V) and v != ignore:
            return i
    return -1


@jit
def row_max(r):
    """Largest entry of the 1-D ``r``, with eight running maxima: a single one is a chain of
    dependent compares, eight independent ones fill a SIMD register."""
    m = r.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = r[0]
    j = 0
    while j + 8 <= m:
        m0 = r[j] if r[j] > m0 else m0
        m1 = r[j + 1] if r[j + 1] > m1 else m1
        m2 = r[j + 2] if r[j + 2] > m2 else m2
        m3 = r[j + 3] if r[j + 3] > m3 else m3
        m4 = r[j + 4] if r[j + 4] > m4 else m4
        m5 = r[j + 5] if r[j + 5] > m5 else m5
        m6 = r[j + 6] if r[j + 6] > m6 else m6
        m7 = r[j + 7] if r[j + 7] > m7 else m7
        j += 8
    while j < m:
        m0 = r[j] if r[j] > m0 else m0
        j += 1
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


# reassoc (allowed by the policy: no NaN/inf change) lets LLVM split the sum into SIMD lanes;
# the exp itself is inlined with its own flags, so its Cody-Waite order is untouched
@jit(fastmath={"reassoc"})
def exp_shift_sum(r, mx, out):
    """``out = exp(r - mx)``; returns ``sum(out)`` as a float64.

    A float32 ``out`` gets :func:`~.vmath.exp32` and a float32 sum (in SIMD lanes: a float64
    accumulator would halve the width, and this pass is most of a 10000-word softmax); a
    float64 ``out`` the float64 exp and sum. ``itemsize`` is a compile-time constant, so
    each dtype compiles to one of the two loops."""
    if out.itemsize == 4:
        s32 = out.dtype.type(0)
        for j in range(r.shape[0]):
            e = exp32(r[j] - mx)
            out[j] = e
            s32 += e
        return np.float64(s32)
    s = 0.0
    for j in range(r.shape[0]):
        e = vexp(r[j] - mx)
        out[j] = e
        s += e
    return s


@jit
def _softmax_row(x, i, y, buf, k):
    """``y[i] = softmax(x[i])`` in three passes over the row while it is in cache; returns
    ``log y[i, k]`` as ``x[i, k] - max - log(sum)`` (read before ``y`` may overwrite ``x``),
    finite for every finite row, where ``log`` of a float32 softmax underflows to -inf.

    The exps go to the scratch row ``buf`` (of ``y``'s dtype), never straight over ``x`` when ``y`` is ``x``:
    LLVM's runtime alias check would see the overlap and run that loop without SIMD."""
    xr = x[i]
    yr = y[i]
    mx = row_max(xr)
    s = exp_shift_sum(xr, mx, buf)
    logp = (np.float64(xr[k]) - mx) - np.log(s) if k >= 0 else 0.0
    inv = 1.0 / s
    for j in range(yr.shape[0]):
        yr[j] = buf[j] * inv
    return logp


@jit
def _masked_grad_row(y, i, k, ignore, scale, dx):
    """``dx[i] = (y[i] - onehot(k)) * scale``, zero when ``k == ignore`` (``dx`` may be ``y``)."""
    yr = y[i]
    dr = dx[i]
    if k == ignore:
        zero = dx.dtype.type(0)
        for j in range(dr.shape[0]):
            dr[j] = zero
    else:
        for j in range(dr.shape[0]):
            dr[j] = yr[j] * scale
        dr[k] = dr[k] - scale


@jit
def _add_row(dx, i, dsum):
    """``dsum += dx[i]`` (the next layer's bias gradient, summed while the row is in cache)."""
    dr = dx[i]
    for j in range(dr.shape[0]):
        dsum[j] += dr[j]


@jit
def _count(t, ignore):
    count = 0
    for i in range(t.shape[0]):
        if t[i] != ignore:
            count += 1
    return count


@jit
def time_softmax_cross_entropy(x, t, ignore, y, dx, dout, dsum):
    """Softmax of every row, the masked mean cross-entropy and (optionally) its gradient.

    Parameters
    ----------
    x : (R, V) scores (R = N * T)
    t : (R,) intp labels in ``[0, V)`` or ``ignore``
    ignore : int, the ignore label (the book's ``-1``)
    y : (R, V) written with the softmax (may be ``x``)
    dx : (R, V) written with the gradient, or None (may be ``y``: written over it row by row)
    dout : float, upstream gradient
    dsum : (V,) written with ``dx.sum(axis=0)`` (the bias gradient of the TimeAffine that
        made ``x``: one pass over the N*T*V gradient fewer), or None; needs ``dx``

    Returns
    -------
    float, ``-sum_{t_i != ignore} log(y[i, t_i]) / #{t_i != ignore}`` (NaN when every
    label is ignored, as the book's 0/0)

    Notes
    -----
    One row at a time (a 10000-word row is 40 KB: it stays in cache across the passes).
    """
    count = _count(t, ignore)
    scale = dout / max(count, 1)
    total = 0.0
    buf = np.empty(x.shape[1], y.dtype)  # float32 rows: float32 exps (see exp_shift_sum)
    if dsum is not None:
        dsum[:] = 0
    for i in range(x.shape[0]):
        k = t[i]
        logp = _softmax_row(x, i, y, buf, k if k != ignore else -1)
        if k != ignore:
            total += logp
        if dx is not None:
            _masked_grad_row(y, i, k, ignore, scale, dx)
            if dsum is not None:
                _add_row(dx, i, dsum)
    return -total / count


@jit
def bias_softmax_cross_entropy(x, b, t, ignore, dout, dsum):
    """The training head of a language model: ``softmax(x[i] + b)``, the masked mean
    cross-entropy and, with ``dsum``, its gradient written over ``x`` row by row.

    Parameters
    ----------
    x : (R, V) scores without the bias (``h @ W``), C-contiguous; overwritten: with
        ``x + b`` (loss only) or with the gradient ``dx`` of the loss w.r.t. the scores
    b : (V,) the bias of the affine layer that made ``x``
    t : (R,) intp labels in ``[0, V)`` or ``ignore``
    ignore : int, the ignore label
    dout : float, upstream gradient
    dsum : (V,) written with ``dx.sum(axis=0)`` (the bias gradient), or None for the loss
        alone

    Returns
    -------
    float, the loss of :func:`time_softmax_cross_entropy` on ``x + b``

    Notes
    -----
    Per row, in cache: add the bias, max, the exps into a scratch row with their sum, then
    ``dx = e * (scale / sum)`` with the label's ``-scale``, then ``dsum += dx`` (the same
    row helper as :func:`time_softmax_cross_entropy`). No softmax array is kept: the
    gradient is the only N*T*V array, which the backward GEMMs read. The bias add is here,
    not a pass of its own after the GEMM.
    """
    R, V = x.shape
    count = _count(t, ignore)
    scale = dout / max(count, 1)
    sc = x.dtype.type(scale)
    total = 0.0
    buf = np.empty(V, x.dtype)
    if dsum is not None:
        dsum[:] = 0
    for i in range(R):
        xr = x[i]
        for j in range(V):
            xr[j] += b[j]
        k = t[i]
        mx = row_max(xr)
        s = exp_shift_sum(xr, mx, buf)
        if k != ignore:
            total += (np.float64(xr[k]) - mx) - np.log(s)
        if dsum is None:
            continue
        if k == ignore:
            xr[:] = 0
            continue
        c = x.dtype.type(scale / s)
        for j in range(V):
            xr[j] = buf[j] * c
        xr[k] -= sc
        _add_row(x, i, dsum)
    return -total / count


@jit
def time_softmax_cross_entropy_backward(y, t, ignore, dout, dx):
    """``dx = (y - onehot(t)) * dout / #valid`` with ignored rows zero, from the saved softmax."""
    scale = dout / max(_count(t, ignore), 1)
    for i in range(t.shape[0]):
        _masked_grad_row(y, i, t[i], ignore, scale, dx)
    return dx
