"""Twins of :mod:`fastprop.kernels.affine`."""
import numpy as np


def affine_forward(x, W, b, out, rows):
    out[...] = np.dot(x, W) if b is None else np.dot(x, W) + b
    return out


def affine_forward_parts(x, W, b, out, rows, parts, src):
    if src is not None:
        x[...] = src
    return affine_forward(x, W, b, out, rows)


def affine_forward_cast(x, W, b, out, buf, runs, Wc, small_work, max_keep):
    xc = x.astype(W.dtype)
    out[...] = np.dot(xc, W) if b is None else np.dot(xc, W) + b
    return out


def affine_backward(x, W, dout, dW, db, dx):
    dW[...] = np.dot(x.T, dout)
    if db is not None:
        db[...] = np.sum(dout, axis=0)
    if dx is not None:
        dx[...] = np.dot(dout, W.T)
    return dx


def affine_backward_parts(x, W, dout, dW, db, dx, parts):
    return affine_backward(x, W, dout, dW, db, dx)


def column_runs(src, r0, r1, runs):
    keep = ~(np.abs(src[r0:r1].astype(np.float64)).sum(axis=0) == 0)
    kk, nr, k, d = 0, 0, 0, keep.size
    while k < d:
        if keep[k]:
            start = k
            while k < d and keep[k]:
                k += 1
            runs[nr] = (start, k - start, kk)
            kk, nr = kk + k - start, nr + 1
        else:
            k += 1
    return kk, nr


def _kept(runs, nr):
    return np.concatenate([np.arange(s, s + ln) for s, ln, _ in runs[:nr]]) if nr else np.zeros(0, int)


def pack_columns(src, runs, nr, kk, xc, r0, r1):
    keep = _kept(runs, nr)
    xc[:(r1 - r0) * kk] = src[r0:r1][:, keep].astype(xc.dtype).reshape(-1)


def pack_weight_rows(W, runs, nr, kk, Wc):
    keep = _kept(runs, nr)
    Wc[:kk * W.shape[1]] = W[keep].reshape(-1)
    rest = np.ones(W.shape[0], bool)
    rest[keep] = False
    return bool(np.isfinite(W[rest]).all())


def unpack_weight_rows(dWc, runs, nr, dW):
    keep = _kept(runs, nr)
    dW[...] = 0
    dW[keep] = dWc[:keep.size * dW.shape[1]].reshape(keep.size, dW.shape[1])
