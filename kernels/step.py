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

:func:`two_layer_train_steps_small` is the same step for tiny layers (vol. 2's spiral
net), without BLAS and with the batch along the SIMD lanes (see its section below).
"""
import numpy as np

from ._blas import gemm_acc
from ._jit import jit
from ._vmath import exp as _vexp
from ._vmath import log as _vlog
from .optim import (adagrad_update, adam_update, momentum_update, nesterov_update,
                    rmsprop_update, sgd_update)
from .softmax import _argmax_row, _label_row, _softmax_block, _target_row

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
    """In place on the GEMM output: ``a = act(a + b1)``.

    Sigmoid runs as one flat pass over the whole block with the vectorisable ``exp``
    (a row of H elements would leave a scalar remainder in every row)."""
    n, m = a.shape
    zero = a.dtype.type(0)
    one = a.dtype.type(1)
    if sigmoid:
        for i in range(n):
            for j in range(m):
                a[i, j] = -(a[i, j] + b1[j])
        af = a.reshape(n * m)
        for e in range(n * m):
            af[e] = one / (one + _vexp(af[e]))
    else:
        for i in range(n):
            for j in range(m):
                v = a[i, j] + b1[j]
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
    """Add ``b2``, softmax, cross-entropy (book's ``+1e-7``), ``dy = (y - t) / B``; the
    code of :func:`fastprop.kernels.softmax.softmax_cross_entropy`."""
    n, c = y.shape
    eps = y.dtype.type(1e-7)
    for i in range(n):
        for j in range(c):
            y[i, j] += b2[j]
    _softmax_block(y, y)
    total = 0.0
    for i in range(n):
        r = rows[i]
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


# ---------------------------------------------------------------- tiny layers, batch in lanes
#
# At vol. 2's spiral size (2-10-3, batch 30) a step is ~4000 multiply-adds: five BLAS calls
# cost more than their arithmetic, and row-wise loops over 2, 3 or 10 columns do not
# vectorise. Here every activation is kept transposed, (features, batch), so each pass runs
# along the batch, contiguous; the batch is padded to a multiple of 8 columns (one AVX-512
# register of float64), so no loop has a scalar remainder (a 30-long loop of exps spends
# more time in its 6 scalar leftovers than in its 24 vectorised ones). Padding columns hold
# x = 0 and get dy = 0, so they add exact zeros to every gradient. The weight gradients are
# dot products along the batch (:func:`_batch_dot`, :func:`_batch_sum`: the only places
# that let LLVM reassociate a sum); sigmoid and softmax exps and the loss's logs go through the
# vectorisable ``exp``/``log``. No BLAS, and no row views (each view of an array is a
# reference-count round trip).


@jit(fastmath={"reassoc", "contract"})
def _batch_dot(A, ja, Bm, jb):
    """``sum_i A[ja, i] * Bm[jb, i]``, vectorised (summation order is LLVM's)."""
    s = 0.0
    for i in range(A.shape[1]):
        s += A[ja, i] * Bm[jb, i]
    return s


@jit(fastmath={"reassoc", "contract"})
def _batch_sum(A, ja):
    """``sum_i A[ja, i]``, vectorised."""
    s = 0.0
    for i in range(A.shape[1]):
        s += A[ja, i]
    return s


@jit
def _lanes_affine(W, b, inT, outT):
    """``outT = (inT.T @ W + b).T`` on transposed activations: row j of ``outT`` is
    ``sum_k W[k, j] * inT[k]`` plus ``b[j]``, the bias joining the last term's loop (the
    GEMM-then-bias order)."""
    K, M = W.shape
    n = inT.shape[1]
    for j in range(M):
        bj = b[j]
        w = W[0, j]
        if K == 1:
            for i in range(n):
                outT[j, i] = w * inT[0, i] + bj
        else:
            for i in range(n):
                outT[j, i] = w * inT[0, i]
            for k in range(1, K - 1):
                w = W[k, j]
                for i in range(n):
                    outT[j, i] += w * inT[k, i]
            w = W[K - 1, j]
            for i in range(n):
                outT[j, i] = (outT[j, i] + w * inT[K - 1, i]) + bj


@jit
def _steps_lanes(X, B, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2, db2,
                 xT, aT, af, yT, yf, dyT, dhT, dhf, sigmoid, opt, hp, S1, S2, t0, losses):
    """The loop of :func:`two_layer_train_steps_small` over its ``len(losses)`` steps.

    The step is written out inside the loop on purpose: as a called (or Numba-inlined)
    function it cost ~40 reference-count updates a step. Each batch is gathered into
    ``xT`` (D, Bp): columns ``< B`` are the rows ``idx[step * B:(step + 1) * B]``, the
    rest zero padding. With SGD the update is applied on the way and ``dW1``/``dW2`` are
    not written (as :func:`_step`). ``af``/``dhf`` are flat views of ``aT``/``dhT`` for
    the passes that do not care about rows (fewer, longer loops: at 32 columns a loop's
    set-up costs about as much as its work)."""
    D, Bp = xT.shape
    H = W1.shape[1]
    O = W2.shape[1]
    zero = aT.dtype.type(0)
    one = aT.dtype.type(1)
    for k in range(D):
        for i in range(B, Bp):
            xT[k, i] = zero
    P = (W1.reshape(W1.size), b1, W2.reshape(W2.size), b2)
    G = (dW1.reshape(dW1.size), db1, dW2.reshape(dW2.size), db2)
    sgd_lr = hp[0] if opt == SGD else hp.dtype.type(0)
    for step in range(losses.shape[0]):
        off = step * B
        for i in range(B):
            r = idx[off + i]
            for k in range(D):
                xT[k, i] = X[r, k]
        # a = act(x @ W1 + b1), then logits = a @ W2 + b2
        _lanes_affine(W1, b1, xT, aT)
        if sigmoid:
            for e in range(H * Bp):
                af[e] = one / (one + _vexp(-af[e]))
        else:
            for e in range(H * Bp):
                af[e] = zero if af[e] <= zero else af[e]
        _lanes_affine(W2, b2, aT, yT)
        # softmax down each column (dyT's first row is the scratch: max, then sum)
        for i in range(Bp):
            dyT[0, i] = yT[0, i]
        for o in range(1, O):
            for i in range(Bp):
                dyT[0, i] = yT[o, i] if yT[o, i] > dyT[0, i] else dyT[0, i]
        for o in range(O):
            for i in range(Bp):
                yT[o, i] = yT[o, i] - dyT[0, i]
        for e in range(O * Bp):
            yf[e] = _vexp(yf[e])
        for i in range(Bp):
            dyT[0, i] = yT[0, i]
        for o in range(1, O):
            for i in range(Bp):
                dyT[0, i] += yT[o, i]
        for o in range(O):
            for i in range(Bp):
                yT[o, i] = yT[o, i] / dyT[0, i]
        # loss (the book's +1e-7, over the B real columns) and dy = (y - t) / B, 0 in padding
        eps = yT.dtype.type(1e-7)
        for i in range(B):
            r = idx[off + i]
            k = _argmax_row(targets, r) if onehot else labels[r]
            dyT[0, i] = yT[k, i] + eps
        for i in range(B, Bp):
            dyT[0, i] = one
        for i in range(Bp):
            dyT[0, i] = _vlog(dyT[0, i])
        total = 0.0
        for i in range(B):
            total += dyT[0, i]
        for o in range(O - 1, -1, -1):
            if onehot:
                for i in range(B):
                    dyT[o, i] = (yT[o, i] - targets[idx[off + i], o]) / B
            else:
                for i in range(B):
                    t = one if labels[idx[off + i]] == o else zero
                    dyT[o, i] = (yT[o, i] - t) / B
            for i in range(B, Bp):
                dyT[o, i] = zero
        # backward: db2, dh = dy @ W2.T (row j of W2 is read before it moves), dW2
        for o in range(O):
            db2[o] = _batch_sum(dyT, o)
        for j in range(H):
            w = W2[j, 0]
            for i in range(Bp):
                dhT[j, i] = w * dyT[0, i]
            for o in range(1, O):
                w = W2[j, o]
                for i in range(Bp):
                    dhT[j, i] += w * dyT[o, i]
            for o in range(O):
                g = _batch_dot(aT, j, dyT, o)
                if sgd_lr > 0:
                    W2[j, o] -= sgd_lr * g
                else:
                    dW2[j, o] = g
        # dh *= act'(a); db1; dW1 = x.T @ dh
        if sigmoid:
            for e in range(H * Bp):
                dhf[e] = dhf[e] * (one - af[e]) * af[e]
        else:
            for e in range(H * Bp):
                dhf[e] = zero if af[e] <= zero else dhf[e]
        for j in range(H):
            db1[j] = _batch_sum(dhT, j)
            for k in range(D):
                g = _batch_dot(xT, k, dhT, j)
                if sgd_lr > 0:
                    W1[k, j] -= sgd_lr * g
                else:
                    dW1[k, j] = g
        if sgd_lr > 0:
            sgd_update(b1, db1, sgd_lr)
            sgd_update(b2, db2, sgd_lr)
        losses[step] = -total / B
        if opt != SGD:
            _update(opt, P, G, S1, S2, hp, t0 + step + 1)
    return losses


@jit
def two_layer_train_steps_small(X, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2,
                                db2, xb, a, y, dy, dh, sigmoid, opt, hp, S1, S2, t0, losses):
    """:func:`two_layer_train_steps` for tiny layers (vol. 2's spiral net), no BLAS; same
    arguments and results to rounding, except the scratch buffers: with
    ``B = len(idx) // len(losses)`` and ``Bp >= B`` (the caller's padding: a multiple of 8
    keeps every loop free of scalar leftovers), ``xb, a, y, dy, dh`` have
    shapes (Bp, D), (Bp, H), (Bp, O), (Bp, O), (Bp, H) and are used transposed, so what
    they hold afterwards is not what the BLAS version leaves. Which sizes it wins at is
    measured in ``benchmarks``; :mod:`fastprop._fused` makes the choice."""
    n_steps = losses.shape[0]
    B = idx.shape[0] // n_steps if n_steps > 0 else 0
    Bp, D = xb.shape
    H = W1.shape[1]
    O = W2.shape[1]
    xT = xb.reshape(D, Bp)
    aT = a.reshape(H, Bp)
    yT = y.reshape(O, Bp)
    dyT = dy.reshape(O, Bp)
    dhT = dh.reshape(H, Bp)
    af = a.reshape(H * Bp)
    yf = y.reshape(O * Bp)
    dhf = dh.reshape(H * Bp)
    return _steps_lanes(X, B, labels, targets, onehot, idx, W1, b1, W2, b2, dW1, db1, dW2, db2,
                        xT, aT, af, yT, yf, dyT, dhT, dhf, sigmoid, opt, hp, S1, S2, t0, losses)
