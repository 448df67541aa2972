"""The fused training step of the two-layer net: forward, loss, backward and the
optimizer update of every parameter in one compiled call, looped over many batches.

Per step (B rows, D inputs, H hidden, O outputs), with the GEMMs on BLAS::

    a  = act(x @ W1 + b1)                 GEMM + one pass (bias, activation)
    y  = softmax(a @ W2 + b2)             GEMM + one pass a row (bias, softmax, loss, dy)
    dW2 = a.T @ dy ; db2 = sum(dy)        GEMM + reduction
    dh = (dy @ W2.T) * act'(a)            GEMM + one pass (mask, and db1 on the way)
    dW1 = x.T @ dh                        GEMM (the first layer's dx is never formed)
    update(W1, b1, W2, b2)                one pass per array

The loss returned is the one of this same forward pass (no second forward). Nothing is
allocated: the caller passes every buffer. Batches are gathered (and cast to the
parameter dtype) straight from the full data set through an index array, which fuses
the book's ``x_train[batch_mask]`` into the step.
"""
import numpy as np

from ._blas import gemm_acc
from ._jit import jit
from .optim import (adagrad_update, adam_update, momentum_update, nesterov_update,
                    rmsprop_update, sgd_update)
from .softmax import _argmax_row, _label_row, _softmax_row, _target_row

SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = range(6)


@jit
def _update(opt, P, G, S1, S2, hp, t):
    """Apply optimizer ``opt`` to the four flat parameter views; ``t`` is Adam's step count."""
    lr, c1, c2 = hp[0], hp[1], hp[2]
    if opt == ADAM:
        lr_t = lr * np.sqrt(1.0 - c2 ** t) / (1.0 - c1 ** t)
        lr_t = hp.dtype.type(lr_t)
    for k in range(4):
        if opt == SGD:
            sgd_update(P[k], G[k], lr)
        elif opt == MOMENTUM:
            momentum_update(P[k], G[k], S1[k], lr, c1)
        elif opt == NESTEROV:
            nesterov_update(P[k], G[k], S1[k], lr, c1)
        elif opt == ADAGRAD:
            adagrad_update(P[k], G[k], S1[k], lr)
        elif opt == RMSPROP:
            rmsprop_update(P[k], G[k], S1[k], lr, c1)
        else:
            adam_update(P[k], G[k], S1[k], S2[k], lr_t, c1, c2)


@jit
def _gather(X, rows, xb):
    """``xb[r] = X[rows[r]]`` with the cast to ``xb``'s dtype on the way."""
    for r in range(rows.shape[0]):
        src = X[rows[r]]
        dst = xb[r]
        for j in range(xb.shape[1]):
            dst[j] = src[j]


@jit
def _hidden_forward(a, b1, sigmoid):
    """In place on the GEMM output: ``a = act(a + b1)``."""
    n, m = a.shape
    zero = a.dtype.type(0)
    one = a.dtype.type(1)
    for i in range(n):
        for j in range(m):
            v = a[i, j] + b1[j]
            if sigmoid:
                a[i, j] = one / (one + np.exp(-v))
            else:
                a[i, j] = zero if v <= zero else v


@jit
def _hidden_backward(dh, a, db1, sigmoid):
    """In place: ``dh *= act'(a)`` and ``db1 = dh.sum(0)`` in the same pass.

    For ReLU the saved output stands in for the mask: ``a <= 0`` exactly where the
    book's ``x <= 0`` was (a is 0 there), so the gradient at 0 is 0.
    """
    n, m = dh.shape
    zero = dh.dtype.type(0)
    one = dh.dtype.type(1)
    db1[:] = zero
    for i in range(n):
        for j in range(m):
            if sigmoid:
                v = dh[i, j] * (one - a[i, j]) * a[i, j]
            else:
                v = zero if a[i, j] <= zero else dh[i, j]
            dh[i, j] = v
            db1[j] += v


@jit
def _output_loss(y, b2, labels, targets, onehot, rows, dy):
    """Per row: add ``b2``, softmax, cross-entropy (book's ``+1e-7``), ``dy = (y - t) / B``;
    the same row code as :func:`fastprop.kernels.softmax.softmax_cross_entropy`."""
    n, c = y.shape
    eps = y.dtype.type(1e-7)
    total = 0.0
    for i in range(n):
        r = rows[i]
        for j in range(c):
            y[i, j] += b2[j]
        _softmax_row(y, y, i)
        if not onehot:
            k = labels[r]
            _label_row(y, i, k, 1.0, n, dy)
        else:
            k = _argmax_row(targets, r)
            _target_row(y, i, targets, r, 1.0, n, dy)
        total += np.log(y[i, k] + eps)
    return -total / n


@jit
def two_layer_train_steps(X, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2, db2,
                          xb, a, y, dy, dh, sigmoid, opt, hp, S1, S2, t0, losses):
    """Run ``losses.shape[0]`` fused training steps of the two-layer net.

    Parameters
    ----------
    X : (N, D) the whole data set, any real dtype (uint8 MNIST included)
    labels : (N,) integer labels (read when ``onehot`` is False; else any empty int array)
    targets : (N, O) one-hot/soft targets (read when ``onehot``; else an empty 2-D array)
    onehot : bool, which of the two holds the targets
    idx : (steps * B,) intp row indices; batch k is ``X[idx[k*B:(k+1)*B]]``
    W1, b1, W2, b2 : parameters (D, H), (H,), (H, O), (O,), updated in place
    dW1, db1, dW2, db2 : gradient buffers of the same shapes (left holding the last step's)
    xb : (B, D) gather buffer; a : (B, H); y : (B, O); dy : (B, O); dh : (B, H)
    sigmoid : bool, hidden activation is sigmoid (else ReLU)
    opt : int, optimizer code (SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM)
    hp : (3,) parameter dtype: lr, then momentum / decay_rate / beta1, then beta2
    S1, S2 : tuples of four flat state arrays (v or h or m; Adam's v); unused may be empty
    t0 : int, Adam's step count before this call (the book's ``iter``)
    losses : (steps,) float64, written with each step's loss (before its update)

    With SGD (``opt == SGD``, ``lr > 0``) the update is folded into the weight GEMMs and
    ``dW1``/``dW2`` are not written (see :func:`_step`); the other optimizers leave all
    four gradients of the last step in ``dW1, db1, dW2, db2``.

    Returns
    -------
    losses
    """
    P = (W1.reshape(W1.size), b1, W2.reshape(W2.size), b2)
    G = (dW1.reshape(dW1.size), db1, dW2.reshape(dW2.size), db2)
    B = xb.shape[0]
    sgd_lr = hp[0] if opt == SGD else hp.dtype.type(0)
    for step in range(losses.shape[0]):
        rows = idx[step * B:(step + 1) * B]
        _gather(X, rows, xb)
        losses[step] = _step(xb, labels, targets, onehot, rows, W1, b1, W2, b2, dW1, db1, dW2, db2,
                             a, y, dy, dh, sigmoid, sgd_lr)
        if opt != SGD:
            _update(opt, P, G, S1, S2, hp, t0 + step + 1)
    return losses


@jit
def two_layer_train_step(x, labels, targets, onehot, rows, W1, b1, W2, b2, dW1, db1, dW2, db2,
                         a, y, dy, dh, sigmoid, opt, hp, S1, S2, t0):
    """One fused step on a ready batch ``x`` (B, D) of the parameter dtype (no gather).

    ``rows`` (B,) intp says which entries of ``labels``/``targets`` belong to the batch's
    rows (the caller passes a kept ``arange(B)``, so the step allocates nothing). Other
    arguments as :func:`two_layer_train_steps`. Returns the loss."""
    P = (W1.reshape(W1.size), b1, W2.reshape(W2.size), b2)
    G = (dW1.reshape(dW1.size), db1, dW2.reshape(dW2.size), db2)
    sgd_lr = hp[0] if opt == SGD else hp.dtype.type(0)
    loss = _step(x, labels, targets, onehot, rows, W1, b1, W2, b2, dW1, db1, dW2, db2,
                 a, y, dy, dh, sigmoid, sgd_lr)
    if opt != SGD:
        _update(opt, P, G, S1, S2, hp, t0 + 1)
    return loss


@jit
def _step(x, labels, targets, onehot, rows, W1, b1, W2, b2, dW1, db1, dW2, db2,
          a, y, dy, dh, sigmoid, sgd_lr):
    """Forward, loss and backward of one batch ``x``; gradients land in ``dW1..db2``.

    With ``sgd_lr`` > 0 the SGD update is done here as well, folded into the weight
    GEMMs (``W -= lr * x.T @ dh`` as one BLAS call with beta = 1) so the weight
    gradients are never written out and read back; ``dW1``/``dW2`` are then left as
    they were and the biases are updated from ``db1``/``db2``.
    """
    np.dot(x, W1, a)
    _hidden_forward(a, b1, sigmoid)
    np.dot(a, W2, y)
    loss = _output_loss(y, b2, labels, targets, onehot, rows, dy)
    n, c = dy.shape
    db2[:] = 0
    for i in range(n):
        for j in range(c):
            db2[j] += dy[i, j]
    np.dot(dy, W2.T, dh)  # before W2 moves
    if sgd_lr > 0:
        gemm_acc(a.T, dy, W2, -sgd_lr)
    else:
        np.dot(a.T, dy, dW2)
    _hidden_backward(dh, a, db1, sigmoid)
    if sgd_lr > 0:
        gemm_acc(x.T, dh, W1, -sgd_lr)
        sgd_update(b1, db1, sgd_lr)
        sgd_update(b2, db2, sgd_lr)
    else:
        np.dot(x.T, dh, dW1)
    return loss
