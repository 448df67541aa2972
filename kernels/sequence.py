"""Kernels of vol. 2's time-distributed layers: the embedding gather/scatter-add and the
softmax-cross-entropy over N*T rows with the ``ignore_label`` mask fused in.

The loss follows the book's ``TimeSoftmaxWithLoss``: ``-sum(mask * log(y[t])) / sum(mask)``,
no ``+1e-7`` (unlike vol. 1's ``cross_entropy_error``); rows whose label is the ignore label
contribute neither loss nor gradient and are never read at their label.
"""
import numpy as np

from ._jit import jit
from .rows import softmax_rows


@jit
def embedding_gather(W, ids, out):
    """``out[r] = W[ids[r]]``.

    Parameters
    ----------
    W : (V, D) embedding matrix
    ids : (R,) intp, every id in ``[0, V)`` (checked by the caller)
    out : (R, D) written
    """
    D = W.shape[1]
    for r in range(ids.shape[0]):
        src = W[ids[r]]
        dst = out[r]
        for j in range(D):
            dst[j] = src[j]
    return out


@jit
def embedding_scatter_add(dout, ids, dW):
    """``dW = 0; dW[ids[r]] += dout[r]`` for every row (``np.add.at``), in row order.

    Parameters
    ----------
    dout : (R, D) upstream gradient
    ids : (R,) intp in ``[0, V)``
    dW : (V, D) written
    """
    dW[:] = 0
    D = dW.shape[1]
    for r in range(ids.shape[0]):
        dst = dW[ids[r]]
        src = dout[r]
        for j in range(D):
            dst[j] += src[j]
    return dW


@jit
def _masked_grad(y, t, ignore, dout, count, dx):
    """``dx[i] = (y[i] - onehot(t[i])) * dout / count``, rows with ``t[i] == ignore`` zero."""
    R, V = y.shape
    zero = dx.dtype.type(0)
    scale = dout / count
    for i in range(R):
        k = t[i]
        if k == ignore:
            for j in range(V):
                dx[i, j] = zero
        else:
            for j in range(V):
                dx[i, j] = y[i, j] * scale
            dx[i, k] = (y[i, k] - 1) * scale


@jit
def time_softmax_cross_entropy(x, t, ignore, y, dx, dout):
    """Softmax of every row, the masked mean cross-entropy and (optionally) its gradient.

    Parameters
    ----------
    x : (R, V) scores (R = N * T)
    t : (R,) intp labels in ``[0, V)`` or ``ignore``
    ignore : int, the ignore label (the book's ``-1``)
    y : (R, V) written with the softmax (may be ``x``)
    dx : (R, V) written with the gradient, or None (may be ``y``: written over it row by row)
    dout : float, upstream gradient

    Returns
    -------
    float, ``-sum_{t_i != ignore} log(y[i, t_i]) / #{t_i != ignore}`` (NaN when every
    label is ignored, as the book's 0/0)
    """
    softmax_rows(x, y)
    total = 0.0
    count = 0
    for i in range(t.shape[0]):
        if t[i] != ignore:
            total += np.log(y[i, t[i]])
            count += 1
    if dx is not None:
        _masked_grad(y, t, ignore, dout, max(count, 1), dx)
    return -total / count


@jit
def time_softmax_cross_entropy_backward(y, t, ignore, dout, dx):
    """``dx = (y - onehot(t)) * dout / #valid`` with ignored rows zero, from the saved softmax."""
    count = 0
    for i in range(t.shape[0]):
        if t[i] != ignore:
            count += 1
    _masked_grad(y, t, ignore, dout, max(count, 1), dx)
    return dx
