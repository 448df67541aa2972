"""Every kernel of ``fastprop.kernels`` against its NumPy twin in ``fastprop.twins``.

The kernels are found by walking ``fastprop.kernels`` (as ``tests/kernels`` does); this file
only holds their inputs. :data:`INPUTS` maps a kernel name to its benchmark cases, each a
``build(*params, rng)`` returning the argument tuple; one class per kernel module
(``Affine``, ``FusedTwoLayer``, ...) is generated from it, with a ``time_<kernel>`` method
per case (``time_<kernel>_<case>`` for the cases not called ``default``).
``tests/kernels/test_discovery.py`` fails when a kernel callable from Python has no input
here (the kernels of :data:`THROUGH_CALLERS` are timed inside the kernels that call them).

Parameters: by default ``batch`` rows, ``width`` columns (the affine layer maps 784 inputs to
``width`` outputs; softmax and the loss see ``width`` classes; the fused step is
784-``width``-10), ``dtype``, and ``impl`` (``fastprop``: the compiled kernel; ``twin``: the
NumPy twin with the same signature). :data:`PARAMS` gives the modules that differ: the
optimizer updates work on one (784, ``width``) weight matrix (no ``batch``), the cast on
``batch`` MNIST rows (no ``width``), the lanes
kernel on vol. 2's spiral net, the shuffle and the loss bookkeeping on their own sizes.
"""
import importlib
import inspect
import pkgutil

import numpy as np
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic

import fastprop.kernels
from fastprop import gemm_blocks
from fastprop.kernels.optim import ADAM, SGD
from fastprop.nets.fused import padded_batch

from ._memo import memo

IMPLS = ["fastprop", "twin"]
DTYPES = ["float64", "float32"]
D = 784          # input features of the affine layer and of the fused step
CLASSES = 10     # outputs of the fused step

#: helper modules: their kernels run inside the layer kernels and fused steps, which are timed
THROUGH_CALLERS = ("rows", "vmath", "blas", "mt19937")


def benchmarked_through_callers(module, kernel):
    """True for a kernel that is timed only through its callers: the helpers of
    :data:`THROUGH_CALLERS`, and intrinsics (callable from compiled code only)."""
    return module in THROUGH_CALLERS or isinstance(kernel, _Intrinsic)


def _rand(rng, shape, dtype, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(dtype)


def _labels(rng, n, c):
    return rng.integers(0, c, n).astype(np.intp)


def _onehot(rng, n, c, dtype):
    t = np.zeros((n, c), dtype)
    t[np.arange(n), rng.integers(0, c, n)] = 1
    return t


# --------------------------------------------------------------------------- inputs


def _relu_forward(n, m, dt, r):
    # elementwise kernels take 1-D views, as the layers pass them (reshape(-1))
    return _rand(r, n * m, dt), np.empty(n * m, dt), np.empty(n * m, np.bool_)


def _affine_backward(dx):
    def build(n, m, dt, r):
        return (_rand(r, (n, D), dt), _rand(r, (D, m), dt), _rand(r, (n, m), dt),
                np.empty((D, m), dt), np.empty(m, dt), np.empty((n, D), dt) if dx else None)
    return build


def _mnist_like(r, n):
    x = r.random((n, D), dtype=np.float32)
    img = x.reshape(n, 28, 28)
    img[:, :4] = 0
    img[:, 24:] = 0
    img[:, :, :4] = 0
    img[:, :, 24:] = 0
    return x


def _packed(r, n, m, dt):
    """(src, runs, R, K) of an MNIST-like batch, runs from the twin (not timed)."""
    from fastprop.twins.affine import column_runs
    x = _mnist_like(r, n)
    runs = np.zeros((D, 3), np.int64)
    kk, nr = column_runs(x, 0, n, runs)
    return x, runs, nr, kk


def _cast_into(nan):
    def build(n, dt, r):
        # a float32 batch of n MNIST-sized rows into a kept buffer of the parameter dtype;
        # the warm-up call fills the buffer, so later calls find it unchanged (the book's
        # gradient-then-loss on one batch), unless x holds a NaN, which never compares equal
        # and so times the rewrite of a new batch
        x = _rand(r, n * D, np.float32, 0, 1)
        if nan:
            x[0] = np.nan
        return x, np.empty(n * D, dt)
    return build


def _rule(name, n_state, *scalars):
    def build(m, dt, r):
        size = D * m
        p, g = _rand(r, size, dt), _rand(r, size, dt, -1e-3, 1e-3)
        state = [np.abs(_rand(r, size, dt, 0, 1e-3)) for _ in range(n_state)]
        return (p, g, *state, *(np.dtype(dt).type(s) for s in scalars))
    return build


def _apply_update(rule):
    def build(m, dt, r):
        size = D * m
        p, g = _rand(r, size, dt), _rand(r, size, dt, -1e-3, 1e-3)
        s1, s2 = (np.abs(_rand(r, size if rule == ADAM else 0, dt, 0, 1e-3)) for _ in range(2))
        return rule, p, g, s1, s2, np.array([0.001, 0.9, 0.999]), 1
    return build


def _net(r, d, h, o, dt):
    """(params, grads, Adam state S1, S2) of a d-h-o net, the arrays flat where the fused
    steps pass them flat."""
    params = (_rand(r, (d, h), dt, -0.01, 0.01), np.zeros(h, dt), _rand(r, (h, o), dt, -0.01, 0.01),
              np.zeros(o, dt))
    grads = tuple(np.zeros_like(p) for p in params)
    S1, S2 = (tuple(np.zeros(p.size, dt) for p in params) for _ in range(2))
    return params, grads, S1, S2


def _update_all(m, dt, r):
    """Adam on every parameter of a 784-``width``-10 net (what a fused step ends with)."""
    params, grads, S1, S2 = _net(r, D, m, CLASSES, dt)
    flat = tuple(p.reshape(-1) for p in params)
    return (ADAM, np.array([0.001, 0.9, 0.999]), S1, S2, 0), flat, tuple(g.reshape(-1) for g in grads), 1


def _sgd(dt):
    empty = np.empty(0, dt)
    return (SGD, np.array([0.1, 0.0, 0.0]), (empty,) * 4, (empty,) * 4, 0)


def _fused(n, h, dt, r, many):
    """``two_layer_train_step(s)`` of a 784-h-10 ReLU net, SGD, labels: one batch of ``n``."""
    X = _rand(r, (n, D), dt, 0, 1)
    labels = _labels(r, n, CLASSES)
    rows = np.arange(n, dtype=np.intp)
    params, grads, _, _ = _net(r, D, h, CLASSES, dt)
    scratch = tuple(np.empty(s, dt) for s in ((n, D), (n, h), (n, CLASSES), (n, CLASSES), (n, h)))
    head = ((X, labels, np.empty((0, 0), dt), False, rows), params, grads, _sgd(dt), scratch, False)
    # one step through the multi-step entry point: gather + step + update
    return head + (np.empty(1),) if many else head


LANES_STEPS = 10  # steps per call of the lanes kernel (one step is ~1 us)


def _lanes(n, h, dt, r):
    """vol. 2's 2-``h``-3 sigmoid net, SGD, labels: ``LANES_STEPS`` steps of ``n`` rows over
    a 300-point set, the scratch padded as fastprop pads it."""
    X = _rand(r, (300, 2), dt)
    idx = r.integers(0, 300, LANES_STEPS * n).astype(np.intp)
    params, grads, _, _ = _net(r, 2, h, 3, dt)
    bp = padded_batch(n)
    scratch = tuple(np.empty(s, dt) for s in ((bp, 2), (bp, h), (bp, 3), (bp, 3), (bp, h)))
    batch = (X, _labels(r, 300, 3), np.empty((0, 0), dt), False, idx)
    return batch, params, grads, _sgd(dt), scratch, True, np.empty(LANES_STEPS)


def _batchnorm_train(n, m, dt, r):
    x = _rand(r, (n, m), dt, -2, 3)
    g, b, rm, rv = _rand(r, m, dt, 0.5, 1.5), _rand(r, m, dt), _rand(r, m, dt), _rand(r, m, dt, 0, 1)
    out = tuple(np.empty(s, dt) for s in ((n, m), (n, m), m, (n, m), m, m))
    return (x, g, b, 0.9, rm, rv) + out


def _batchnorm_backward(n, m, dt, r):
    """From a training forward's saved ``xc``, ``xn``, ``std`` (the twin's, in float64)."""
    from fastprop.twins import batchnorm as twin
    x = r.uniform(-2, 3, (n, m))
    xc, xn, out = (np.empty((n, m)) for _ in range(3))
    std, mo, vo = (np.empty(m) for _ in range(3))
    twin.batchnorm_forward_train(x, np.ones(m), np.zeros(m), 0.9, np.zeros(m), np.zeros(m), xc, xn, std,
                                 out, mo, vo)
    return (_rand(r, (n, m), dt), _rand(r, m, dt, 0.5, 1.5), xc.astype(dt), xn.astype(dt), std.astype(dt),
            np.empty(m, dt), np.empty(m, dt), np.empty((n, m), dt))


MULTI_HIDDEN = 5  # the book's overfit_dropout.py / the 784-100x5-10 net


def _multi_layer(n, m, dt, r):
    """``multi_layer_train_step`` of a 784-``width``x5-10 ReLU net with BatchNorm, Dropout 0.2
    and SGD, one batch of ``n`` (the issue's benchmark net at width 100)."""
    L, sizes = MULTI_HIDDEN, [D] + [m] * MULTI_HIDDEN + [CLASSES]
    Ws = tuple(_rand(r, (a, b), dt, -0.05, 0.05) for a, b in zip(sizes[:-1], sizes[1:]))
    bs = tuple(np.zeros(b, dt) for b in sizes[1:])
    vec = [tuple(np.ones(m, dt) for _ in range(L)) for _ in range(6)]
    grads = (tuple(np.zeros_like(W) for W in Ws), tuple(np.zeros_like(b) for b in bs),
             tuple(np.zeros(m, dt) for _ in range(L)), tuple(np.zeros(m, dt) for _ in range(L)))
    drop = (tuple(r.random((n, m)) for _ in range(L)), tuple(np.empty((n, m), np.bool_) for _ in range(L)),
            np.full(L, 0.2))
    per = [tuple(np.empty((n, m), dt) for _ in range(L)) for _ in range(5)]
    zs, xcs, xns, hs, ds = per
    scratch = (zs, xcs, xns, tuple(np.empty(m, dt) for _ in range(L)), zs, hs, ds,
               *(np.empty((n, CLASSES), dt) for _ in range(3)))
    return ((_rand(r, (n, D), dt, 0, 1), _labels(r, n, CLASSES)), (Ws, bs), tuple(vec), grads, drop, scratch,
            (False, True, True, True), np.array([0.0, 0.01] + [0.9] * L))


def _multi_layer_predict(n, m, dt, r):
    """``multi_layer_predict`` of the same net in inference (ReLU, no BatchNorm or Dropout:
    ch06's MultiLayerNet) on ``n`` MNIST-like float32 images, one thread's share of one,
    chunks of 100 rows packed where their zero columns allow (what ``accuracy`` runs)."""
    L, sizes = MULTI_HIDDEN, [D] + [m] * MULTI_HIDDEN + [CLASSES]
    Ws = tuple(_rand(r, (a, b), dt, -0.05, 0.05) for a, b in zip(sizes[:-1], sizes[1:]))
    bs = tuple(np.zeros(b, dt) for b in sizes[1:])
    e = (np.empty(0, dt),) * L
    scratch = (np.empty((1, 100, D), dt), np.empty((1, D, 3), np.int64), np.empty((1, D * m), dt),
               np.empty((1, 2, 100 * m), dt))
    small = 100 ** 3 if gemm_blocks.has_small_kernels() else 0
    return (_mnist_like(r, n), (Ws, bs), (e, e, e, e), (False, False, False), np.ones(L, dt),
            np.empty((n, CLASSES), dt), scratch, small, int(D * 0.85), 0)


INPUTS = {
    "column_sum": {"default": lambda n, m, dt, r: (_rand(r, (n, m), dt), np.empty(m, dt))},
    # one GEMM, and in blocks of rows small enough for OpenBLAS's small-matrix kernels
    # (fastprop.gemm_blocks.gemm_rows: what the drop-in Affine passes where the BLAS has them)
    "affine_forward": {"default": lambda n, m, dt, r: (
        _rand(r, (n, D), dt), _rand(r, (D, m), dt), _rand(r, m, dt), np.empty((n, m), dt), 0),
        "blocks": lambda n, m, dt, r: (
        _rand(r, (n, D), dt), _rand(r, (D, m), dt), _rand(r, m, dt), np.empty((n, m), dt),
        max(8, 100 ** 3 // (D * m)))},
    # float32 MNIST rows into float64 weights, 128 rows a chunk on one buffer (the
    # evaluation path of the drop-in Affine; asv runs it with BLAS as the policy sets it)
    "affine_forward_cast": {"default": lambda n, m, dt, r: (
        _rand(r, (n, D), np.float32), _rand(r, (D, m), dt), _rand(r, m, dt), np.empty((n, m), dt),
        np.empty((1, 128, D), dt))},
    "affine_backward": {"default": _affine_backward(True), "no_dx": _affine_backward(False)},
    # the drop-in Affine on two threads: a float32 batch cast into the kept float64 buffer by
    # the part that multiplies it, blocks of rows as above; backward dW || dx
    "affine_forward_parts": {"default": lambda n, m, dt, r: (
        np.empty((n, D), dt), _rand(r, (D, m), dt), _rand(r, m, dt), np.empty((n, m), dt),
        max(8, 100 ** 3 // (D * m)), 2, _rand(r, (n, D), np.float32))},
    # an MNIST-like batch: the first and last 112 columns (image rows 0-3, 24-27) and 8 of
    # every 28 between are zero (the drop-in Affine's packed path at one thread)
    "column_runs": {"default": lambda n, m, dt, r: (_mnist_like(r, n), 0, n, np.empty((D, 3), np.int64))},
    "pack_columns": {"default": lambda n, m, dt, r: _packed(r, n, m, dt) + (np.empty(n * D, dt), 0, n)},
    "pack_weight_rows": {"default": lambda n, m, dt, r: (_rand(r, (D, m), dt),) + _packed(r, n, m, dt)[1:4]
                         + (np.empty(D * m, dt),)},
    "unpack_weight_rows": {"default": lambda n, m, dt, r: (_rand(r, D * m, dt),) + _packed(r, n, m, dt)[1:3]
                           + (np.empty((D, m), dt),)},
    "affine_backward_parts": {"default": lambda n, m, dt, r: _affine_backward(True)(n, m, dt, r) + (2,)},
    "relu_forward": {"default": _relu_forward},
    "relu_backward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt), r.random(n * m) < 0.5, np.empty(n * m, dt))},
    "sigmoid_forward": {"default": lambda n, m, dt, r: (_rand(r, n * m, dt, -5, 5), np.empty(n * m, dt))},
    "sigmoid_backward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt), _rand(r, n * m, dt, 0, 1), np.empty(n * m, dt))},
    "softmax": {"default": lambda n, m, dt, r: (_rand(r, (n, m), dt, -10, 10), np.empty((n, m), dt))},
    # loss and gradient in one call (dx given), and the backward alone from a saved softmax
    "softmax_cross_entropy": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt, -10, 10), _labels(r, n, m), np.empty((n, m), dt), np.empty((n, m), dt), 1.0)},
    "softmax_cross_entropy_onehot": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt, -10, 10), _onehot(r, n, m, dt), np.empty((n, m), dt), np.empty((n, m), dt), 1.0)},
    "softmax_cross_entropy_backward": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt, 0, 1), _labels(r, n, m), 1.0, np.empty((n, m), dt))},
    "softmax_cross_entropy_onehot_backward": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt, 0, 1), _onehot(r, n, m, dt), 1.0, np.empty((n, m), dt))},
    "cast_into": {"default": _cast_into(False), "rewrite": _cast_into(True)},
    "sgd_update": {"default": _rule("sgd_update", 0, 0.01)},
    "momentum_update": {"default": _rule("momentum_update", 1, 0.01, 0.9)},
    "nesterov_update": {"default": _rule("nesterov_update", 1, 0.01, 0.9)},
    "adagrad_update": {"default": _rule("adagrad_update", 1, 0.01)},
    "rmsprop_update": {"default": _rule("rmsprop_update", 1, 0.01, 0.99)},
    "adam_update": {"default": _rule("adam_update", 2, 0.001, 0.9, 0.999)},
    # the rule table's dispatch on top of the per-rule loop
    "apply_update": {"sgd": _apply_update(SGD), "adam": _apply_update(ADAM)},
    "update_all": {"default": _update_all},
    "adam_step_size": {"default": lambda m, dt, r: (0.001, 0.9, 0.999, 1000)},
    "two_layer_train_step": {"default": lambda n, m, dt, r: _fused(n, m, dt, r, False)},
    "two_layer_train_steps": {"gather": lambda n, m, dt, r: _fused(n, m, dt, r, True)},
    "two_layer_train_steps_lanes": {"default": _lanes},
    # vol. 1 ch. 6: Dropout's mask-and-multiply from the uniform draws, BatchNorm both ways
    "dropout_forward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt), r.random(n * m), 0.2, np.empty(n * m, dt), np.empty(n * m, np.bool_))},
    "dropout_backward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt), r.random(n * m) > 0.2, np.empty(n * m, dt))},
    "batchnorm_forward_train": {"default": _batchnorm_train},
    "batchnorm_forward_test": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt), _rand(r, m, dt), _rand(r, m, dt), _rand(r, m, dt), _rand(r, m, dt, 0.1, 1),
        np.empty((n, m), dt))},
    "batchnorm_backward": {"default": _batchnorm_backward},
    "multi_layer_train_step": {"default": _multi_layer},
    "multi_layer_predict": {"default": _multi_layer_predict},
    # epochs of the book's x = x[np.random.permutation(n)] on row indices
    "book_shuffles": {"default": lambda n, e, r: (
        np.random.RandomState(0).get_state()[1].copy(), np.array([624], np.int64),
        np.arange(n, dtype=np.int64), np.empty((e, n), np.int64))},
    # vol. 2 ch. 4: a vocabulary of WORDS rows of ``width`` features, ``batch`` ids
    "embedding_forward": {"default": lambda n, m, dt, r: (
        _rand(r, (WORDS, m), dt), r.integers(0, WORDS, n), np.empty((n, m), dt))},
    "embedding_backward": {"default": lambda n, m, dt, r: (
        r.integers(0, WORDS, n), _rand(r, (n, m), dt), np.empty((WORDS, m), dt))},
    "embedding_dot_forward": {"default": lambda n, m, dt, r: (
        _rand(r, (WORDS, m), dt), _rand(r, (n, m), dt), r.integers(0, WORDS, n),
        np.empty((n, m), dt), np.empty(n, dt))},
    "embedding_dot_backward": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt), _rand(r, (n, m), dt), r.integers(0, WORDS, n), _rand(r, n, dt),
        np.empty((WORDS, m), dt), np.empty((n, m), dt))},
    "sigmoid_with_loss_forward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt, -5, 5), r.integers(0, 2, n * m), np.empty(n * m, dt))},
    "sigmoid_with_loss_backward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt, 0, 1), r.integers(0, 2, n * m), 1.0, np.empty(n * m, dt))},
    "inverted_dropout_forward": {"default": lambda n, m, dt, r: (
        np.random.RandomState(0).get_state()[1].copy(), np.array([624], np.int64),
        _rand(r, n * m, dt), 0.5, 2.0, np.empty(n * m, dt), np.empty(n * m, dt))},
    "inverted_dropout_backward": {"default": lambda n, m, dt, r: (
        _rand(r, n * m, dt), _rand(r, n * m, dt), np.empty(n * m, dt))},
    # the book's negatives: ``batch`` rows of 5 from a vocabulary of ``vocab`` words
    "negative_samples": {"default": lambda n, v, r: (
        np.random.RandomState(0).get_state()[1].copy(), np.array([624], np.int64),
        _unigram(r, v), r.integers(0, v, n), np.empty((n, 5), np.int32))},
    "unigram_negative_samples": {"default": lambda n, v, r: _fast_sampler_args(r, n, v)},
    "pairwise_sum_without": {"default": lambda n, v, r: (
        _unigram(r, v), 3, np.empty((64, 3), np.int64), np.empty(64))},
    # ch. 4's CBOW / skip-gram at the book's size: V 10000, window 5, 5 negatives, Adam
    "cbow_loss_grads": {"default": lambda n, h, dt, r: _w2v_loss_args(r, n, h, dt, False)},
    "skipgram_loss_grads": {"default": lambda n, h, dt, r: _w2v_loss_args(r, n, h, dt, True)},
    "sparse_update": {"default": lambda n, h, dt, r: _w2v_update_args(r, n, h, dt)[:-1]},
    "dense_update": {"default": lambda n, h, dt, r: _w2v_update_args(r, n, h, dt)},
    "word2vec_train_steps": {"default": lambda n, h, dt, r: _w2v_steps_args(r, n, h, dt, False, False),
                             "fast": lambda n, h, dt, r: _w2v_steps_args(r, n, h, dt, True, True)},
    # ch. 2: a corpus of ``words`` ids over a vocabulary of ``vocab``
    "co_matrix": {"default": lambda w, v, r: (
        r.zipf(1.3, w) % v, 2, np.empty((v, v), np.int32))},
    "ppmi": {"default": lambda w, v, r: _ppmi(r, w, v)},
    # the Trainer's loss bookkeeping over epochs x 10 steps (eval every 10)
    "average_losses": {"default": lambda e, r: (
        r.random(10 * e), 10, 10, np.zeros(2), np.empty(10 * e), np.empty(e))},
}

WORDS = 10000    # vocabulary of the embedding kernels


def _unigram(r, v):
    p = np.power(np.bincount(r.zipf(1.3, 50 * v) % v, minlength=v) + 1.0, 0.75)
    return p / np.sum(p)


W2V_WINDOW, W2V_NEG = 5, 5


def _w2v_acc(R, B, H, dt):
    return (np.full(WORDS, -1, np.int64), np.zeros(R, np.int64), np.zeros(1, np.int64), np.zeros((R, H), dt),
            np.full(WORDS, -1, np.int64), np.zeros(B, np.int64), np.zeros((B, H), dt))


def _w2v_work(B, H, dt):
    return tuple(np.zeros((B, H), dt) for _ in range(3)) + tuple(np.zeros(B, dt) for _ in range(3))


def _w2v_loss_args(r, B, H, dt, skip_gram):
    """Arguments of a loss-and-gradients kernel. Repeated calls add into the same rows of the
    accumulators (the ids do not change), so they stay within their capacity."""
    C, S = 2 * W2V_WINDOW, W2V_NEG
    W = [_rand(r, (WORDS, H), dt, -0.01, 0.01) for _ in range(2)]
    ctx, tgt = r.integers(0, WORDS, (B, C)), r.integers(0, WORDS, B)
    neg = r.integers(0, WORDS, ((C if skip_gram else 1) * B, S)).astype(np.int32)
    R_in, R_out = (B if skip_gram else B * C), (C if skip_gram else 1) * B * (S + 1)
    return (W[0], W[1], ctx, tgt, neg, 1.0, _w2v_work(B, H, dt), _w2v_acc(R_in, B, H, dt),
            _w2v_acc(R_out, B, H, dt))


def _w2v_update_args(r, B, H, dt):
    """Adam on one (V, H) weight with the rows a CBOW batch touches (B * (S + 1) draws)."""
    p = _rand(r, (WORDS, H), dt, -0.01, 0.01)
    m, v = np.zeros((WORDS, H), dt), np.zeros((WORDS, H), dt)
    rows = np.unique(r.integers(0, WORDS, B * (W2V_NEG + 1)))
    acc = _w2v_acc(WORDS, 1, H, dt)
    acc[0][rows] = np.arange(rows.size)
    acc[1][:rows.size] = rows
    acc[2][0] = rows.size
    acc[3][:rows.size] = _rand(r, (rows.size, H), dt)
    return (ADAM, np.array([0.001, 0.9, 0.999]), 10, p, m, v, acc, np.zeros((WORDS, H), dt))


def _w2v_steps_args(r, B, H, dt, fast, sparse):
    """Ten CBOW steps (ch04/train.py's settings), the book's way or the fast way."""
    C, S, n = 2 * W2V_WINDOW, W2V_NEG, 10
    p = _unigram(r, WORDS)
    data = (r.integers(0, WORDS, (n * B, C)), r.integers(0, WORDS, n * B), np.zeros(B, np.int64),
            np.zeros((B, S), np.int32))
    P = tuple(_rand(r, (WORDS, H), dt, -0.01, 0.01) for _ in range(2))
    state = lambda: tuple(np.zeros((WORDS, H), dt) for _ in range(2))  # noqa: E731
    opt = (ADAM, np.array([0.001, 0.9, 0.999]), state(), state(), 0, sparse)
    sampler = (np.random.RandomState(0).get_state()[1].copy(), np.array([624], np.int64), p, np.cumsum(p), fast)
    accs = (_w2v_acc(B * C, B, H, dt), _w2v_acc(B * (S + 1), B, H, dt), np.zeros((WORDS, H), dt),
            np.zeros((WORDS, H), dt))
    return (False, data, P, opt, sampler, _w2v_work(B, H, dt), accs, np.zeros(n))


def _fast_sampler_args(r, n, v):
    p = _unigram(r, v)
    return (np.random.RandomState(0).get_state()[1].copy(), np.array([624], np.int64), p,
            np.cumsum(p), r.integers(0, v, n), np.empty((n, 5), np.int32))


def _ppmi(r, w, v):
    corpus = r.zipf(1.3, w) % v
    C = np.zeros((v, v), np.int32)
    np.add.at(C, (corpus[1:], corpus[:-1]), 1)
    C = C + C.T
    return C, int(C.sum()), C.sum(axis=0).astype(np.int64), 1e-8, np.empty((v, v), np.float32)



# convolution and pooling: ``layer`` names a layer of the book's nets, at ``batch`` images
#: (C, H, W, FN, filter size, stride, pad): SimpleConvNet's Conv1, DeepConvNet's Conv2
CONV_LAYERS = {"simple": (1, 28, 28, 30, 5, 1, 0), "deep": (16, 28, 28, 16, 3, 1, 1)}


def _conv_geometry(layer, n):
    c, h, w, fn, f, s, p = CONV_LAYERS[layer]
    oh, ow = (h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1
    return c, h, w, fn, f, s, p, oh, ow


def _conv(kind):
    def build(layer, n, dt, r):
        c, h, w, fn, f, s, p, oh, ow = _conv_geometry(layer, n)
        x, k = _rand(r, (n, c, h, w), dt), c * f * f
        if kind == "im2col":
            return x, f, f, s, p, np.empty((n * oh * ow, k), dt)
        if kind == "col2im":
            return _rand(r, (n * oh * ow, k), dt), f, f, s, p, np.empty((n, c, h, w), dt)
        if kind == "unfold":
            return x, f, f, s, p, np.empty((n, k, oh * ow), dt)
        if kind == "fold":
            return _rand(r, (n, k, oh * ow), dt), f, f, s, p, np.empty((n, c, h, w), dt)
        W = _rand(r, (fn, c, f, f), dt)
        if kind == "forward":
            return x, W, _rand(r, fn, dt), s, p, np.empty((n, k, oh * ow), dt), np.empty((n, fn, oh, ow), dt)
        cols = _rand(r, (n, k, oh * ow), dt)
        dx = kind == "backward"
        return (_rand(r, (n, fn, oh, ow), dt), cols, W, s, p, np.empty_like(W), np.empty(fn, dt),
                np.empty_like(cols) if dx else None, np.empty((n, c, h, w), dt) if dx else None)
    return build


def _conv2d(kind):
    # one thread's scratch, chunks of the layer's own size (fastprop.layers.conv.conv_chunk)
    def build(layer, n, dt, r):
        from fastprop.layers.conv import conv_chunk, conv_work_row
        c, h, w, fn, f, s, p, oh, ow = _conv_geometry(layer, n)
        x, W = _rand(r, (n, c, h, w), dt), _rand(r, (fn, c, f, f), dt)
        chunk = conv_chunk(x.shape, W.shape, s, p, np.dtype(dt).itemsize)
        work = np.empty((1, conv_work_row(x.shape, W.shape, s, p, chunk)), dt)
        if kind == "relu_pool":
            return x, W, _rand(r, fn, dt), s, p, chunk, work, 2, np.empty((n, fn, oh // 2, ow // 2), dt)
        if kind.startswith("forward"):
            return x, W, _rand(r, fn, dt), s, p, chunk, work, int(kind == "forward_relu"), np.empty((n, fn, oh, ow), dt)
        dx = np.empty_like(x) if kind == "backward" else np.empty((0, 0, 0, 0), dt)
        return x, W, _rand(r, (n, fn, oh, ow), dt), s, p, chunk, work, np.empty_like(W), np.empty(fn, dt), dx
    return build


def _pool(kind):
    # the 2x2, stride-2 pooling after the layer's convolution (ReLU'd outputs)
    def build(layer, n, dt, r):
        _, _, _, fn, _, _, _, oh, ow = _conv_geometry(layer, n)
        x = _rand(r, (n, fn, oh, ow), dt, 0.0, 1.0)
        po, pw = (oh - 2) // 2 + 1, (ow - 2) // 2 + 1
        arg_max = r.integers(0, 4, n * po * pw * fn).astype(np.intp)
        if kind == "forward":
            return x, 2, 2, 2, 0, np.empty((n, fn, po, pw), dt), arg_max
        if kind == "forward2":
            return x, np.empty((n, fn, po, pw), dt), np.empty((n, fn, po, pw), np.uint8)
        if kind == "backward2":
            arg = r.integers(0, 4, (n, fn, po, pw)).astype(np.uint8)
            return _rand(r, (n, fn, po, pw), dt), arg, np.empty_like(x)
        return _rand(r, (n, fn, po, pw), dt), arg_max, 2, 2, 2, 0, np.empty_like(x)
    return build


INPUTS.update({
    "im2col": {"default": _conv("im2col")},
    "col2im": {"default": _conv("col2im")},
    "unfold": {"default": _conv("unfold")},
    "fold": {"default": _conv("fold")},
    "conv_forward": {"default": _conv("forward")},
    "conv_backward": {"default": _conv("backward"), "no_dx": _conv("backward_no_dx")},
    "conv2d_forward": {"default": _conv2d("forward"), "relu": _conv2d("forward_relu"),
                       "relu_pool": _conv2d("relu_pool")},
    "conv2d_backward": {"default": _conv2d("backward"), "no_dx": _conv2d("backward_no_dx")},
    "pool_forward": {"default": _pool("forward")},
    "pool_backward": {"default": _pool("backward")},
    "pool2_forward": {"default": _pool("forward2")},
    "pool2_backward": {"default": _pool("backward2")},
})
# --------------------------------------------------------------------------- time layers (vol. 2)


def _rec_weights(r, d, h, g, dt):
    return _rand(r, (d, g * h), dt, -0.1, 0.1), _rand(r, (h, g * h), dt, -0.1, 0.1), _rand(r, g * h, dt)


def _rec_caches(kind, n, t, d, h, dt):
    g = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    c = [np.empty((n, t, h), dt), np.empty((t, n, d), dt), np.empty((t + 1, n, h), dt)]
    if kind == "lstm":
        c += [np.empty((t + 1, n, h), dt), np.empty((t, n, g * h), dt), np.empty((t, n, h), dt)]
    if kind == "gru":
        c += [np.empty((t, n, g * h), dt), np.empty((t, n, h), dt)]
    return c


def _rec_forward(kind):
    """``(xs, Wx, Wh, b, h0[, c0], caches...)`` with D = H (the book's Rnnlm)."""
    def build(n, t, h, dt, r):
        xs = _rand(r, (n, t, h), dt)
        states = [_rand(r, (n, h), dt) for _ in range(2 if kind == "lstm" else 1)]
        return (xs, *_rec_weights(r, h, h, {"rnn": 1, "lstm": 4, "gru": 3}[kind], dt), *states,
                *_rec_caches(kind, n, t, h, h, dt))
    return build


def _rec_backward(kind):
    """The caches of a twin forward on the same inputs, then the gradient arrays (dh, dc in/out)."""
    def build(n, t, h, dt, r):
        from fastprop.twins import gru, recurrent  # the oracle fills the caches, in setup only
        args = _rec_forward(kind)(n, t, h, dt, r)
        {"rnn": recurrent.rnn_forward, "lstm": recurrent.lstm_forward, "gru": gru.gru_forward}[kind](*args)
        k = 2 if kind == "lstm" else 1
        Wx, Wh = args[1], args[2]
        g = Wx.shape[1] // h
        grads = [np.empty_like(Wx), np.empty_like(Wh), np.empty(g * h, dt), np.empty((n, t, h), dt)]
        grads += [np.zeros((n, h), dt) for _ in range(k)]
        return (_rand(r, (n, t, h), dt), Wx, Wh, *args[4 + k + 1:], *grads,
                np.empty((t, n, g * h), dt), np.empty((t, n, h), dt))
    return build


REC_INPUTS = {
    "rnn_forward": {"default": _rec_forward("rnn")}, "rnn_backward": {"default": _rec_backward("rnn")},
    "lstm_forward": {"default": _rec_forward("lstm")}, "lstm_backward": {"default": _rec_backward("lstm")},
    "gru_forward": {"default": _rec_forward("gru")}, "gru_backward": {"default": _rec_backward("gru")},
    "to_time_major": {"default": lambda n, t, h, dt, r: (_rand(r, (n, t, h), dt), np.empty((t, n, h), dt))},
    "to_batch_major": {"default": lambda n, t, h, dt, r: (_rand(r, (t, n, h), dt), np.empty((n, t, h), dt))},
    "sigmoid": {"default": lambda n, t, h, dt, r: (0.5,)},
    "tanh": {"default": lambda n, t, h, dt, r: (0.5,)},
    "lstm_gate_coefficients": {"default": lambda n, t, h, dt, r: (h, np.dtype(dt))},
    "step_gemm": {"default": lambda n, t, h, dt, r: (_rand(r, (n, h), dt), _rand(r, (h, 4 * h), dt),
                                                     np.zeros((n, 4 * h), dt), np.empty((1, 4 * h), dt))},
    "all_zero": {"default": lambda n, t, h, dt, r: (np.zeros((n, h), dt),)},
}


def _ids(r, n, v):
    return r.integers(0, v, n).astype(np.intp)


SEQ_INPUTS = {
    "first_bad_id": {"default": lambda n, m, dt, r: (_ids(r, n * m, 1000), 1000, -1)},
    "time_softmax_cross_entropy": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt), _ids(r, n, m), -1, np.empty((n, m), dt), np.empty((n, m), dt), 1.0, None)},
    "bias_softmax_cross_entropy": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt), _rand(r, m, dt), _ids(r, n, m), -1, 1.0, np.empty(m, dt))},
    "time_softmax_cross_entropy_backward": {"default": lambda n, m, dt, r: (
        _rand(r, (n, m), dt, 0.0, 1.0), _ids(r, n, m), -1, 1.0, np.empty((n, m), dt))},
    "row_max": {"default": lambda n, m, dt, r: (_rand(r, n * m, dt),)},
    "exp_shift_sum": {"default": lambda n, m, dt, r: (_rand(r, n * m, dt), 1.0, np.empty(n * m))},
}
INPUTS.update(REC_INPUTS)
INPUTS.update(SEQ_INPUTS)

# --------------------------------------------------------------------------- seq2seq (vol. 2 ch. 7-8)
S2S_V, S2S_D = 59, 16   # ch08's date set: vocabulary 59, wordvec 16; questions of 29, answers of 10


def _s2s_parts(r, h, dt, din, feat):
    enc = (_rand(r, (S2S_V, S2S_D), dt), *_rec_weights(r, S2S_D, h, 4, dt))
    dec = (_rand(r, (S2S_V, S2S_D), dt), *_rec_weights(r, din, h, 4, dt), _rand(r, (feat, S2S_V), dt),
           _rand(r, S2S_V, dt))
    return enc, dec


def _attention_args(n, t, h, dt, r, backward):
    enc, dec = _rand(r, (n, t, h), dt), _rand(r, (n, 10, h), dt)
    a = np.empty((n, 10, t), dt)
    if not backward:
        return enc, dec, a, np.empty((n, 10, h), dt)
    from fastprop.twins import seq2seq  # the oracle fills the weights, in setup only
    seq2seq.attention_forward(enc, dec, a, np.empty((n, 10, h), dt))
    return enc, dec, a, _rand(r, (n, 10, h), dt), np.empty((n, t, h), dt), np.empty((n, 10, h), dt)


def _decode_args(n, t, h, dt, r):
    """ch08's AttentionDecoder generating 10 ids for n questions (kind 2)."""
    _, dec = _s2s_parts(r, h, dt, S2S_D, 2 * h)
    enc_hs = _rand(r, (n, t, h), dt)
    return (np.ascontiguousarray(enc_hs[:, -1]), enc_hs, _ids(r, n, S2S_V), dec, 2,
            np.empty((n, 10), np.intp))


S2S_INPUTS = {
    "attention_forward": {"default": lambda n, t, h, dt, r: _attention_args(n, t, h, dt, r, False)},
    "attention_backward": {"default": lambda n, t, h, dt, r: _attention_args(n, t, h, dt, r, True)},
    "encode_rows": {"default": lambda n, t, h, dt, r: (
        r.integers(0, S2S_V, (n, t)).astype(np.intp), _s2s_parts(r, h, dt, S2S_D, h)[0],
        np.empty((n, t, h), dt))},
    "greedy_decode": {"default": _decode_args},
}
INPUTS.update(S2S_INPUTS)


def _generate_args(v, h, dt, r):
    """ch07's ``RnnlmGen.generate`` on the ch06 Rnnlm (D = H): 100 words from id 0, no skips."""
    key = np.random.RandomState(0).get_state()[1].copy()
    out = np.zeros(100, np.int64)
    atol = float(max(np.sqrt(np.finfo(np.float64).eps), np.sqrt(np.finfo(dt).eps)))
    return (key, np.array([624], np.int64), np.empty(0, np.int64), _rand(r, (v, h), dt, -0.01, 0.01),
            (_rec_weights(r, h, h, 4, dt),), _rand(r, (h, v), dt, -0.1, 0.1), np.zeros(v, dt),
            np.zeros((1, h), dt), np.zeros((1, h), dt), atol, out)


INPUTS["generate_words"] = {"default": _generate_args}


DEFAULT_PARAMS = (([100, 1000], [50, 1000], DTYPES, IMPLS), ["batch", "width", "dtype", "impl"])
#: modules whose kernels take other parameters than DEFAULT_PARAMS
PARAMS = {
    "convert": (([100, 1000], DTYPES, IMPLS), ["batch", "dtype", "impl"]),
    "optim": (([50, 1000], DTYPES, IMPLS), ["width", "dtype", "impl"]),
    "fused_two_layer_lanes": (([30, 300], [10, 30], DTYPES, IMPLS), ["batch", "width", "dtype", "impl"]),
    "shuffle": (([300, 60000], [1, 10], IMPLS), ["n", "epochs", "impl"]),
    "loss_average": (([300, 3000], IMPLS), ["epochs", "impl"]),
    "sampling": (([100], [1000, 10000], IMPLS), ["batch", "vocab", "impl"]),
    "word2vec": (([100], [100], DTYPES, IMPLS), ["batch", "hidden", "dtype", "impl"]),
    "cooccurrence": (([100000], [300, 3000], IMPLS), ["words", "vocab", "impl"]),
    "conv": ((list(CONV_LAYERS), [10, 100], DTYPES, IMPLS), ["layer", "batch", "dtype", "impl"]),
    "pool": ((list(CONV_LAYERS), [10, 100], DTYPES, IMPLS), ["layer", "batch", "dtype", "impl"]),
    # the ch06 Rnnlm's LSTM: batch 20, 35 steps, D = H = 100
    "recurrent": (([20], [35], [100], DTYPES, IMPLS), ["batch", "time", "hidden", "dtype", "impl"]),
    "gru": (([20], [35], [100], DTYPES, IMPLS), ["batch", "time", "hidden", "dtype", "impl"]),
    # ch08's AttentionSeq2seq: batch 128 (training) and 100 questions (evaluation), 29 steps, H 256
    "seq2seq": (([100], [29], [256], DTYPES, IMPLS), ["batch", "time", "hidden", "dtype", "impl"]),
    # ch07's generate: the ch06 Rnnlm (V 10000, H 100), 100 words a call
    "generate": (([10000], [100], DTYPES, IMPLS), ["vocab", "hidden", "dtype", "impl"]),
}
TIMEOUTS = {"fused_two_layer": 120, "fused_multi_layer": 120}
# the 784-1000x5-10 fused step at batch 1000 is ~20x the batch-100 one: width 100 only
PARAMS["fused_multi_layer"] = (([100, 1000], [100], DTYPES, IMPLS), ["batch", "width", "dtype", "impl"])


# --------------------------------------------------------------------------- discovery


def kernels():
    """``{module: {name: kernel}}``: the public compiled functions defined in each module of
    ``fastprop.kernels`` (re-exports belong to the module that defines them)."""
    found = {}
    for info in sorted(pkgutil.iter_modules(fastprop.kernels.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"fastprop.kernels.{info.name}")
        found[info.name] = {name: obj for name, obj in vars(mod).items()
                            if not name.startswith("_") and _defined_in(obj, mod.__name__)}
    return found


def _defined_in(obj, module):
    if isinstance(obj, Dispatcher):
        return obj.py_func.__module__ == module
    return isinstance(obj, _Intrinsic) and obj._defn.__module__ == module


def class_name(module):
    """``fused_two_layer`` -> ``FusedTwoLayer``."""
    return "".join(part.capitalize() for part in module.split("_"))


def method_name(kernel, case):
    return f"time_{kernel}" if case == "default" else f"time_{kernel}_{case}"


class _KernelBench:
    """Base of the generated classes: ``cases`` maps a method name to ``(module, kernel
    name, build)``. Everything is built and compiled in ``setup`` (one call of each kernel
    or twin), never inside a timed region."""

    cases = {}

    def setup(self, *p):
        impl, shape = p[-1], p[:-1]

        def build():
            rng = np.random.default_rng(0)
            ready = {}
            for method, (module, name, make) in self.cases.items():
                where = "kernels" if impl == "fastprop" else "twins"
                fn = getattr(importlib.import_module(f"fastprop.{where}.{module}"), name)
                args = make(*shape, rng)
                fn(*args)  # compile (or load from Numba's cache) here, never while timed
                ready[method] = (fn, args)
            return ready

        self.ready = memo((type(self).__name__,) + p, build)

    def _run(self, method):
        fn, args = self.ready[method]
        fn(*args)


def _timer(method, module, name, make):
    def time(self, *p):
        self._run(method)
    time.__name__ = method
    # asv versions a benchmark by its source: name the kernel and show its input builder, so
    # a changed input starts a new history
    try:
        built = inspect.getsource(make)
    except (OSError, TypeError):
        built = repr(make)
    time.pretty_source = f"# fastprop.kernels.{module}.{name}, input:\n{built}"
    return time


def _make_classes():
    for module, found in kernels().items():
        cases = {method_name(name, case): (module, name, make)
                 for name in found if name in INPUTS for case, make in INPUTS[name].items()}
        if not cases:
            continue
        params, names = PARAMS.get(module, DEFAULT_PARAMS)
        body = {"__module__": __name__, "__doc__": f"The kernels of fastprop.kernels.{module} vs their twins.",
                "params": params, "param_names": names, "cases": cases}
        if module in TIMEOUTS:
            body["timeout"] = TIMEOUTS[module]
        for method, spec in cases.items():
            body[method] = _timer(method, *spec)
        globals()[class_name(module)] = type(class_name(module), (_KernelBench,), body)


_make_classes()
