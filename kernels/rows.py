"""Row helpers shared by the layer kernels and the fused training steps: one op, one place.

The softmax of a block of scores, the cross-entropy rows with their gradient, the bias +
activation pass after a GEMM and its backward, the gather of batch rows, and the pieces of
vol. 2 ch. 4's negative-sampling loss (a row dot, the sigmoid loss of one score and its
gradient), which the layer kernels and the word2vec steps share. A layer kernel
(:mod:`.softmax`) and a fused step (:mod:`.fused_two_layer`) call the same functions here, so
a fix or a speed-up lands in both. Every helper writes into arrays its caller owns and
allocates nothing.
"""
import numpy as np

from ._jit import jit
from .vmath import exp as vexp


@jit(inline='always')
def softmax_rows(x, y):
    """``y = softmax(x)`` row by row (``y`` may be ``x``); the book's max-shift formulation.

    Parameters
    ----------
    x : (N, C) float array
    y : (N, C) same dtype, C-contiguous, written (may be ``x`` itself)

    Notes
    -----
    The max-shift keeps logits of any size (1e4, -1e4) from overflowing or giving 0/0. The
    exps run as one flat pass over the whole block with the vectorisable ``exp``
    (:mod:`.vmath`): a row of 10 classes alone would leave 2 scalar exps in every row.
    """
    n, m = x.shape
    for i in range(n):
        mx = x[i, 0]
        for j in range(1, m):
            if x[i, j] > mx:
                mx = x[i, j]
        for j in range(m):
            y[i, j] = x[i, j] - mx
    yf = y.reshape(n * m)
    for e in range(n * m):
        yf[e] = vexp(yf[e])
    for i in range(n):
        s = y.dtype.type(0)
        for j in range(m):
            s += y[i, j]
        for j in range(m):
            y[i, j] = y[i, j] / s
    return y


@jit
def argmax_row(t, r):
    """First index of the largest entry of ``t[r]`` (the book reads one-hot rows this way)."""
    k = 0
    for j in range(1, t.shape[1]):
        if t[r, j] > t[r, k]:
            k = j
    return k


@jit(inline='always')
def label_grad_row(y, i, k, dout, n, dx):
    """Gradient row ``i`` for label ``k``: ``dx[i] = (y[i] - onehot(k)) * dout / n``."""
    for j in range(y.shape[1]):
        dx[i, j] = y[i, j] * dout / n
    dx[i, k] = (y[i, k] - 1) * dout / n


@jit
def target_grad_row(y, i, t, r, dout, n, dx):
    """Gradient row ``i`` for target row ``t[r]``: ``dx[i] = (y[i] - t[r]) * dout / n``."""
    for j in range(y.shape[1]):
        dx[i, j] = (y[i, j] - t[r, j]) * dout / n


@jit(inline='always')
def label_loss_rows(y, labels, rows, dout, dx):
    """Mean cross-entropy of the softmax rows ``y`` against integer labels, and its gradient.

    Parameters
    ----------
    y : (N, C) softmax probabilities
    labels : (M,) integer labels in ``[0, C)``; row ``i`` of ``y`` has label
        ``labels[rows[i]]`` (``labels[i]`` when ``rows`` is None)
    rows : (N,) intp or None
    dout : float, upstream gradient of the loss
    dx : (N, C) written with ``(y - onehot) * dout / N``, or None for the loss alone

    Returns
    -------
    float, ``-sum_i log(y[i, label_i] + 1e-7) / N`` (the book's ``+1e-7``)
    """
    n = y.shape[0]
    eps = y.dtype.type(1e-7)
    total = 0.0
    for i in range(n):
        if rows is None:
            k = labels[i]
        else:
            k = labels[rows[i]]
        if dx is not None:
            label_grad_row(y, i, k, dout, n, dx)
        total += np.log(y[i, k] + eps)
    return -total / n


@jit
def target_loss_rows(y, targets, rows, dout, dx):
    """:func:`label_loss_rows` for one-hot (or soft) target rows ``targets[rows[i]]``.

    Like the book, the loss reads the label as ``argmax`` of each target row (the first
    maximum), while the gradient uses the targets as given: ``(y - t) * dout / N``.
    """
    n = y.shape[0]
    eps = y.dtype.type(1e-7)
    total = 0.0
    for i in range(n):
        if rows is None:
            r = i
        else:
            r = rows[i]
        k = argmax_row(targets, r)
        if dx is not None:
            target_grad_row(y, i, targets, r, dout, n, dx)
        total += np.log(y[i, k] + eps)
    return -total / n


@jit(inline='always')
def bias_activation(a, b, sigmoid):
    """In place on a GEMM output: ``a = act(a + b)``, ReLU or (``sigmoid``) the sigmoid.

    Sigmoid runs as one flat pass over the whole block with the vectorisable ``exp`` (a
    row of H elements would leave a scalar remainder in every row). ReLU maps ``v <= 0``
    to 0 (the book's mask)."""
    n, m = a.shape
    zero = a.dtype.type(0)
    one = a.dtype.type(1)
    if sigmoid:
        for i in range(n):
            for j in range(m):
                a[i, j] = -(a[i, j] + b[j])
        af = a.reshape(n * m)
        for e in range(n * m):
            af[e] = one / (one + vexp(af[e]))
    else:
        for i in range(n):
            for j in range(m):
                v = a[i, j] + b[j]
                a[i, j] = zero if v <= zero else v
    return a


@jit(inline='always')
def activation_backward_bias(dh, a, db, sigmoid):
    """In place: ``dh *= act'(a)`` from the saved output ``a``, and ``db = dh.sum(0)`` in
    the same pass.

    For ReLU the saved output stands in for the mask: ``a <= 0`` exactly where the book's
    ``x <= 0`` was (a is 0 there), so the gradient at 0 is 0.
    """
    n, m = dh.shape
    zero = dh.dtype.type(0)
    one = dh.dtype.type(1)
    db[:] = zero
    for i in range(n):
        for j in range(m):
            if sigmoid:
                v = dh[i, j] * (one - a[i, j]) * a[i, j]
            else:
                v = zero if a[i, j] <= zero else dh[i, j]
            dh[i, j] = v
            db[j] += v
    return dh


@jit(inline='always')
def gather_rows(X, rows, xb):
    """``xb[r] = X[rows[r]]``, cast to ``xb``'s dtype on the way (``X`` may be uint8)."""
    for r in range(rows.shape[0]):
        src = X[rows[r]]
        dst = xb[r]
        for j in range(xb.shape[1]):
            dst[j] = src[j]
    return xb


@jit
def dot_row(A, r, B, n):
    """``A[r] . B[n]``, summed in order in ``A``'s dtype (EmbeddingDot's score of row ``n``)."""
    acc = A.dtype.type(0)
    for j in range(A.shape[1]):
        acc += A[r, j] * B[n, j]
    return acc


@jit
def sigmoid_loss_at(x, t, y, i):
    """Score ``i`` of SigmoidWithLoss: writes ``y[i] = 1 / (1 + exp(-x[i]))`` and returns
    ``log(y + 1e-7)`` (label ``t`` 1) or ``log(1 - y + 1e-7)`` (label 0) in ``x``'s dtype."""
    one = x.dtype.type(1)
    eps = x.dtype.type(1e-7)
    yi = one / (one + np.exp(-x[i]))
    y[i] = yi
    return np.log((yi if t == 1 else one - yi) + eps)


@jit
def sigmoid_grad_at(y, t, dout, n, i):
    """``(y[i] - t) * dout / n``; an integer label makes it float64 for float32 ``y`` too
    (as the layer's arithmetic), rounded once where the caller stores it."""
    return (y[i] - t) * dout / n
