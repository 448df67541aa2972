"""Twins of :mod:`fastprop.kernels.fused_two_layer`: the book's layer-by-layer step, in NumPy."""
import numpy as np

from fastprop.kernels.optim import SGD

from .affine import affine_backward
from .optim import update_all
from .rows import activation_backward_bias, bias_activation, label_loss_rows, softmax_rows, target_loss_rows


def _flat(params):
    W1, b1, W2, b2 = params
    return (W1.reshape(-1), b1, W2.reshape(-1), b2)


def _step(x, batch, rows, params, grads, scratch, sigmoid, fold):
    _, labels, targets, onehot, _ = batch
    W1, b1, W2, b2 = params
    dW1, db1, dW2, db2 = grads
    _, a, y, dy, dh = scratch
    a[...] = np.dot(x, W1)
    bias_activation(a, b1, sigmoid)
    s = np.dot(a, W2) + b2
    softmax_rows(s, y)
    if targets is not None and onehot:
        loss = target_loss_rows(y, targets.astype(y.dtype), rows, 1.0, dy)
    else:
        loss = label_loss_rows(y, np.asarray(labels, dtype=np.intp), rows, 1.0, dy)
    # SGD folds its update into the kernel's weight GEMMs and leaves dW1/dW2 alone
    gW1, gW2 = (np.empty_like(dW1), np.empty_like(dW2)) if fold else (dW1, dW2)
    affine_backward(a, W2, dy, gW2, db2, dh)
    activation_backward_bias(dh, a, db1, sigmoid)
    affine_backward(x, W1, dh, gW1, db1, None)
    return loss, (gW1.reshape(-1), db1, gW2.reshape(-1), db2)


def _update(optimizer, P, G, t):
    rule, hp, S1, S2, t0 = optimizer
    if S1 is None:  # SGD without state arrays, as the kernel accepts it
        empty = tuple(np.empty(0, p.dtype) for p in P)
        optimizer = (rule, hp, empty, empty, t0)
    update_all(optimizer, P, G, t)


def two_layer_train_steps(batch, params, grads, optimizer, scratch, sigmoid, losses):
    X, _, _, _, idx = batch
    rule, hp, _, _, t0 = optimizer
    B = scratch[0].shape[0]
    fold = rule == SGD and hp[0] > 0
    for step in range(losses.shape[0]):
        rows = idx[step * B:(step + 1) * B]
        x = X[rows].astype(scratch[0].dtype)
        losses[step], g = _step(x, batch, rows, params, grads, scratch, sigmoid, fold)
        _update(optimizer, _flat(params), g, t0 + step + 1)
    return losses


def two_layer_train_step(batch, params, grads, optimizer, scratch, sigmoid):
    x, _, _, _, rows = batch
    rule, hp, _, _, t0 = optimizer
    loss, g = _step(x, batch, rows, params, grads, scratch, sigmoid, rule == SGD and hp[0] > 0)
    _update(optimizer, _flat(params), g, t0 + 1)
    return loss
