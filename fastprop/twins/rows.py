"""Twins of :mod:`fastprop.kernels.rows` (the row helpers shared by layers and fused steps)."""
import numpy as np

from . import activations


def softmax_rows(x, y):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    y[...] = e / np.sum(e, axis=-1, keepdims=True)
    return y


def argmax_row(t, r):
    return int(np.argmax(t[r]))


def label_grad_row(y, i, k, dout, n, dx):
    dx[i] = y[i] * dout / n
    dx[i, k] = (y[i, k] - 1) * dout / n


def target_grad_row(y, i, t, r, dout, n, dx):
    dx[i] = (y[i] - t[r]) * dout / n


def _mean_log_loss(y, labels):
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), labels] + 1e-7)) / n)


def label_loss_rows(y, labels, rows, dout, dx):
    t = np.asarray(labels[:y.shape[0]] if rows is None else labels[rows], dtype=np.intp)
    if dx is not None:
        g = y.copy()
        g[np.arange(y.shape[0]), t] -= 1
        dx[...] = g * dout / y.shape[0]
    return _mean_log_loss(y, t)


def target_loss_rows(y, targets, rows, dout, dx):
    t = targets[:y.shape[0]] if rows is None else targets[rows]
    if dx is not None:
        dx[...] = (y - t) * dout / y.shape[0]
    return _mean_log_loss(y, t.argmax(axis=1))


def bias_activation(a, b, sigmoid):
    h = a + b
    if sigmoid:
        activations.sigmoid_forward(h, a)
    else:
        a[...] = np.maximum(h, 0) * (h > 0)  # the book's mask: 0 wherever h <= 0
    return a


def activation_backward_bias(dh, a, db, sigmoid):
    if sigmoid:
        activations.sigmoid_backward(dh.copy(), a, dh)
    else:
        dh[a <= 0] = 0
    db[...] = dh.sum(axis=0)
    return dh


def gather_rows(X, rows, xb):
    xb[...] = X[rows]
    return xb


def dot_row(A, r, B, n):
    return A[r] @ B[n]


def sigmoid_loss_at(x, t, y, i):
    with np.errstate(over="ignore"):
        y[i] = 1 / (1 + np.exp(-x[i]))
    return float(np.log((y[i] if t == 1 else 1 - y[i]) + 1e-7))


def sigmoid_grad_at(y, t, dout, n, i):
    return float((y[i] - t) * dout / n)
