"""Twins of :mod:`fastprop.kernels.sequence`: the book's TimeSoftmaxWithLoss formulas in
NumPy (the Embedding gather and scatter-add are :mod:`.embedding`'s)."""
import numpy as np

from .rows import softmax_rows


def first_bad_id(ids, V, ignore):
    bad = np.flatnonzero(((ids < 0) | (ids >= V)) & (ids != ignore))
    return int(bad[0]) if bad.size else -1


def _masked_grad(y, t, ignore, dout, count, dx):
    mask = t != ignore
    g = y.copy()
    g[np.arange(len(t))[mask], t[mask]] -= 1
    dx[...] = g * dout / count * mask[:, None]


def time_softmax_cross_entropy(x, t, ignore, y, dx, dout, dsum):
    softmax_rows(x, y)
    mask = t != ignore
    count = int(mask.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = float(-np.sum(np.log(y[np.arange(len(t))[mask], t[mask]])) / count) if count else float("nan")
    if dx is not None:
        _masked_grad(y, t, ignore, dout, max(count, 1), dx)
        if dsum is not None:
            dsum[...] = dx.sum(axis=0)
    return loss


def bias_softmax_cross_entropy(x, b, t, ignore, dout, dsum):
    s = x + b
    if dsum is None:
        x[...] = s
        return time_softmax_cross_entropy(s, t, ignore, np.empty_like(s), None, dout, None)
    dx = np.empty_like(s)
    loss = time_softmax_cross_entropy(s, t, ignore, np.empty_like(s), dx, dout, dsum)
    x[...] = dx
    return loss


def time_softmax_cross_entropy_backward(y, t, ignore, dout, dx):
    _masked_grad(y, t, ignore, dout, max(int((t != ignore).sum()), 1), dx)
    return dx


def row_max(r):
    return r.max()


def exp_shift_sum(r, mx, out):
    out[...] = np.exp(r - mx)
    return float(out.sum())
