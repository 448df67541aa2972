"""The fused two-layer step for layers of a few dozen weights (vol. 2's 2-10-3 spiral net): the batch along
the SIMD lanes, no BLAS.

At the spiral size (2-10-3, batch 30) a step is ~4000 multiply-adds: five BLAS calls cost
more than their arithmetic, and row-wise loops over 2, 3 or 10 columns do not vectorise.
Here every activation is kept transposed, (features, batch), so each pass runs along the
batch, contiguous; the batch is padded to a multiple of 8 columns (one AVX-512 register of
float64), so no loop has a scalar remainder. Padding columns hold x = 0 and get dy = 0, so
they add exact zeros to every gradient. The weight gradients are dot products along the
batch (:func:`_batch_dot`, :func:`_batch_sum`: the only places that let LLVM reassociate a
sum); sigmoid and softmax exps and the loss's logs go through the vectorisable
``exp``/``log`` of :mod:`.vmath`. No row views (each view of an array is a reference-count
round trip). Which sizes it wins at is measured in the asv suite; :mod:`fastprop.nets.fused`
makes the choice.

The arguments are the tuples of :mod:`.fused_two_layer` (see its docstring).
"""
from ._jit import jit
from .optim import SGD, sgd_update, update_all
from .rows import argmax_row
from .vmath import exp as vexp
from .vmath import log as vlog


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
def _steps_lanes(batch, params, grads, optimizer, views, sigmoid, B, losses):
    """The loop of :func:`two_layer_train_steps_lanes` over its ``len(losses)`` steps.

    The step is written out inside the loop on purpose: as a called (or Numba-inlined)
    function it cost ~40 reference-count updates a step. Each batch is gathered into
    ``xT`` (D, Bp): columns ``< B`` are the rows ``idx[step * B:(step + 1) * B]``, the
    rest zero padding. With SGD the update is applied on the way and ``dW1``/``dW2`` are
    not written (as in the BLAS kernel). ``af``/``dhf`` are flat views of ``aT``/``dhT`` for
    the passes that do not care about rows (fewer, longer loops: at 32 columns a loop's
    set-up costs about as much as its work)."""
    X, labels, targets, onehot, idx = batch
    W1, b1, W2, b2 = params
    dW1, db1, dW2, db2 = grads
    rule, hp, _, _, t0 = optimizer
    xT, aT, af, yT, yf, dyT, dhT, dhf = views
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
    sgd_lr = aT.dtype.type(hp[0]) if rule == SGD else zero
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
                af[e] = one / (one + vexp(-af[e]))
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
            yf[e] = vexp(yf[e])
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
            k = argmax_row(targets, r) if onehot else labels[r]
            dyT[0, i] = yT[k, i] + eps
        for i in range(B, Bp):
            dyT[0, i] = one
        for i in range(Bp):
            dyT[0, i] = vlog(dyT[0, i])
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
        if rule != SGD:
            update_all(optimizer, P, G, t0 + step + 1)
    return losses


@jit
def two_layer_train_steps_lanes(batch, params, grads, optimizer, scratch, sigmoid, losses):
    """:func:`~fastprop.kernels.fused_two_layer.two_layer_train_steps` with the batch in the lanes, no
    BLAS; same arguments and results to rounding, except the scratch buffers: with
    ``B = len(idx) // len(losses)`` and ``Bp >= B`` (the caller's padding: a multiple of 8
    keeps every loop free of scalar leftovers), ``scratch = (xb, a, y, dy, dh)`` has
    shapes (Bp, D), (Bp, H), (Bp, O), (Bp, O), (Bp, H) and is used transposed, so what it
    holds afterwards is not what the BLAS version leaves."""
    idx = batch[4]
    xb, a, y, dy, dh = scratch
    n_steps = losses.shape[0]
    B = idx.shape[0] // n_steps if n_steps > 0 else 0
    Bp, D = xb.shape
    H = a.shape[1]
    O = y.shape[1]
    views = (xb.reshape(D, Bp), a.reshape(H, Bp), a.reshape(H * Bp), y.reshape(O, Bp),
             y.reshape(O * Bp), dy.reshape(O, Bp), dh.reshape(H, Bp), dh.reshape(H * Bp))
    return _steps_lanes(batch, params, grads, optimizer, views, sigmoid, B, losses)
