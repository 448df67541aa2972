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

Arguments travel as a few tuples (the same for every fused kernel, :mod:`.fused_two_layer_lanes`
included), so no call site spells out two dozen arrays:

* ``batch = (X, labels, targets, onehot, idx)``: the data set (any real dtype), integer
  labels (read when not ``onehot``), one-hot/soft target rows (read when ``onehot``), the
  flag, and the row indices (batch k is ``X[idx[k*B:(k+1)*B]]``);
* ``params = (W1, b1, W2, b2)`` and ``grads = (dW1, db1, dW2, db2)``, shapes (D, H), (H,),
  (H, O), (O,);
* ``optimizer = (rule, hp, S1, S2, t0)``: a rule code of :mod:`.optim`, its float64
  hyper-parameters ``(lr, c1, c2)``, two tuples of four flat state arrays (unused ones
  empty) and the step count before this call (the book's Adam ``iter``);
* ``scratch = (xb, a, y, dy, dh)``: (B, D), (B, H), (B, O), (B, O), (B, H).

Compile time is part of a user's first minute (the first ``fastprop train`` compiles this
module): ``targets`` may be None (integer labels) and, with SGD, ``S1``/``S2`` may be None.
Numba prunes a branch on ``x is None`` by type before compiling, so the labels-only SGD
run of ch05 never compiles the one-hot loss nor the five other update rules (measured:
those were ~35 % of the first step's compile).

The caller (:mod:`fastprop.nets.fused`) checks every shape, dtype and layout before each call.
"""

from ._jit import jit
from .blas import gemm, gemm_acc
from .optim import SGD, sgd_update, update_all
from .rows import (
    activation_backward_bias,
    bias_activation,
    gather_rows,
    label_loss_rows,
    softmax_rows,
    target_loss_rows,
)


@jit
def _output_loss(y, b2, labels, targets, onehot, rows, dy):
    """Add ``b2``, softmax, cross-entropy (book's ``+1e-7``), ``dy = (y - t) / B``: the
    row helpers of :func:`fastprop.kernels.softmax.softmax_cross_entropy`. ``targets``
    None: the labels path alone is compiled."""
    n, c = y.shape
    for i in range(n):
        for j in range(c):
            y[i, j] += b2[j]
    softmax_rows(y, y)
    if targets is None:
        return label_loss_rows(y, labels, rows, 1.0, dy)
    if onehot:
        return target_loss_rows(y, targets, rows, 1.0, dy)
    return label_loss_rows(y, labels, rows, 1.0, dy)


@jit
def _update_rest(S1, optimizer, P, G, t):
    """The non-SGD update of every array; with ``S1`` None (SGD) nothing is compiled."""
    if S1 is None:
        return
    update_all(optimizer, P, G, t)


@jit(inline='always')
def _step(x, labels, targets, onehot, rows, params, grads, scratch, sigmoid, sgd_lr):
    """Forward, loss and backward of one batch ``x``; gradients land in ``grads``.

    With ``sgd_lr`` > 0 the SGD update is done here as well, folded into the weight
    GEMMs (``W -= lr * x.T @ dh`` as one BLAS call with beta = 1) so the weight
    gradients are never written out and read back; ``dW1``/``dW2`` are then left as
    they were and the biases are updated from ``db1``/``db2``.
    """
    W1, b1, W2, b2 = params
    dW1, db1, dW2, db2 = grads
    _, a, y, dy, dh = scratch
    gemm(x, W1, a)
    bias_activation(a, b1, sigmoid)
    gemm(a, W2, y)
    loss = _output_loss(y, b2, labels, targets, onehot, rows, dy)
    n, c = dy.shape
    db2[:] = 0
    for i in range(n):
        for j in range(c):
            db2[j] += dy[i, j]
    gemm(dy, W2.T, dh)  # before W2 moves
    if sgd_lr > 0:
        gemm_acc(a.T, dy, W2, -sgd_lr)
    else:
        gemm(a.T, dy, dW2)
    activation_backward_bias(dh, a, db1, sigmoid)
    if sgd_lr > 0:
        gemm_acc(x.T, dh, W1, -sgd_lr)
        sgd_update(b1, db1, sgd_lr)
        sgd_update(b2, db2, sgd_lr)
    else:
        gemm(x.T, dh, dW1)
    return loss


@jit(inline="always")
def _flat(params):
    W1, b1, W2, b2 = params
    return (W1.reshape(W1.size), b1, W2.reshape(W2.size), b2)


@jit
def two_layer_train_steps(batch, params, grads, optimizer, scratch, sigmoid, losses):
    """Run ``losses.shape[0]`` fused training steps of the two-layer net.

    Parameters
    ----------
    batch, params, grads, optimizer, scratch : tuples, see the module docstring
    sigmoid : bool, hidden activation is sigmoid (else ReLU)
    losses : (steps,) float64, written with each step's loss (before its update)

    Returns
    -------
    losses

    Notes
    -----
    With SGD (``lr > 0``) the update is folded into the weight GEMMs and ``dW1``/``dW2``
    are not written (see :func:`_step`); the other optimizers leave all four gradients of
    the last step in ``grads``.
    """
    X, labels, targets, onehot, idx = batch
    rule, hp, S1, _, t0 = optimizer
    xb = scratch[0]
    P = _flat(params)
    G = _flat(grads)
    B = xb.shape[0]
    sgd_lr = xb.dtype.type(hp[0]) if rule == SGD else xb.dtype.type(0)
    for step in range(losses.shape[0]):
        rows = idx[step * B:(step + 1) * B]
        gather_rows(X, rows, xb)
        losses[step] = _step(xb, labels, targets, onehot, rows, params, grads, scratch,
                             sigmoid, sgd_lr)
        if rule != SGD:
            _update_rest(S1, optimizer, P, G, t0 + step + 1)
    return losses


@jit
def two_layer_train_step(batch, params, grads, optimizer, scratch, sigmoid):
    """One fused step on a ready batch: ``batch[0]`` is the (B, D) batch itself, in the
    parameter dtype (no gather; ``scratch[0]`` is not used), and ``batch[4]`` (B,) intp
    says which entries of the labels/targets belong to its rows (the caller passes a kept
    ``arange(B)``, so the step allocates nothing). Other arguments as
    :func:`two_layer_train_steps`. Returns the loss."""
    x, labels, targets, onehot, rows = batch
    rule, hp, S1, _, t0 = optimizer
    sgd_lr = x.dtype.type(hp[0]) if rule == SGD else x.dtype.type(0)
    loss = _step(x, labels, targets, onehot, rows, params, grads, scratch, sigmoid, sgd_lr)
    if rule != SGD:
        _update_rest(S1, optimizer, _flat(params), _flat(grads), t0 + 1)
    return loss
