"""vol. 2's time-distributed layers: ``TimeEmbedding``, ``TimeAffine``, ``Simple_TimeAffine``,
``TimeSoftmaxWithLoss``, ``Simple_TimeSoftmaxWithLoss``, ``TimeSigmoidWithLoss``, ``TimeDropout``.

Each treats the (N, T) axes as N*T rows and makes one kernel call: an embedding gather and
scatter-add (:mod:`fastprop.kernels.sequence`), one GEMM pair (:mod:`fastprop.kernels.affine`),
one fused softmax-cross-entropy pass with the ``ignore_label`` mask.
"""
from __future__ import annotations

import numpy as np

from .. import gemm_blocks, validate
from ..kernels import activations, affine, embedding, sequence
from .affine import _param
from .base import Layer
from .softmax import SoftmaxWithLoss


def word_ids(xs, V: int, name: str = "xs", ignore=None) -> np.ndarray:
    """Integer ids of shape (N, T) in ``[0, V)`` (or equal to ``ignore``) as a new intp array."""
    arr = np.asarray(xs)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer ids (a real integer array such as the corpus "
                        f"slices), got {validate.describe(arr)}")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty (N, T) array of ids, got shape {arr.shape}")
    if arr.dtype.kind == "u" and arr.dtype.itemsize >= np.dtype(np.intp).itemsize and arr.max() > np.iinfo(np.intp).max:
        raise ValueError(f"{name} holds id {int(arr.max())}, expected ids in [0, {V})")
    ids = np.array(arr, dtype=np.intp, order="C")
    # one compiled pass (0 stands for "no ignore label": it is a valid id anyway)
    ign = ignore if ignore is not None and -2**63 <= ignore < 2**63 else 0  # no intp id equals a larger one
    i = sequence.first_bad_id(ids.reshape(-1), V, ign)
    if i >= 0:
        v = int(ids.reshape(-1)[i])
        extra = f" or {ignore} (ignore_label)" if ignore is not None else ""
        raise ValueError(f"{name} holds id {v}, expected ids in [0, {V}){extra}")
    return ids


class TimeEmbedding(Layer):
    """``out[n, t] = W[xs[n, t]]``; backward scatter-adds ``dout`` into ``grads[0]`` and
    returns None (ids have no gradient), as the book."""

    def __init__(self, W: np.ndarray):
        _param(W)
        super().__init__(W)
        self.layers = None  # the book's per-step Embedding layers: none, one kernel call
        self.idx = None

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))

    def forward(self, xs) -> np.ndarray:
        W = np.ascontiguousarray(validate.weight(self.params[0], "W"))
        ids = word_ids(xs, W.shape[0])
        N, T = ids.shape
        out = np.empty((N, T, W.shape[1]), W.dtype)
        embedding.embedding_forward(W, ids.reshape(-1), out.reshape(N * T, -1))
        self.idx, self._shape = ids, ids.shape
        return out

    def backward(self, dout) -> None:
        self._require_forward(self.idx)
        W = validate.weight(self.params[0], "W")
        ids = word_ids(self.idx, W.shape[0], "idx")  # as it is now
        self._saved_shape(ids, "idx", getattr(self, "_shape", None))
        N, T = ids.shape
        dout = self._dout(dout, (N, T, W.shape[1]), W.dtype)
        embedding.embedding_backward(ids.reshape(-1), dout.reshape(N * T, -1), self._grad(0))
        return None


class TimeAffine(Layer):
    """``out = x @ W + b`` on every (n, t) row of an (N, T, D) input; keeps ``x`` (3-D).
    ``W`` may be F-contiguous (the tied ``embed_W.T`` of BetterRnnlm)."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        _param(W, b)
        super().__init__(W, b)
        self.x = None

    def _rows(self, x, W):
        x = validate.batch(validate.as_real(x, "x", W.dtype), "x")
        if x.ndim != 3 or x.shape[2] != W.shape[0] or x.shape[1] == 0:
            raise ValueError(f"x must have shape (N, T, {W.shape[0]}) to multiply W of shape {W.shape}, "
                             f"got {x.shape}")
        return x

    def forward(self, x) -> np.ndarray:
        W = validate.weight(self.params[0], "W")
        x = self._rows(x, W)
        N, T, _ = x.shape
        b = validate.bias(self.params[1], W.shape[1], W.dtype)
        out = np.empty((N, T, W.shape[1]), W.dtype)
        affine.affine_forward(x.reshape(N * T, -1), W, b, out.reshape(N * T, -1),
                              gemm_blocks.gemm_rows(N * T, x.shape[2], W.shape[1]))
        self.x, self._shape = x, x.shape
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.x)
        W = validate.weight(self.params[0], "W")
        x = self._rows(self.x, W)
        self._saved_shape(x, "x", getattr(self, "_shape", None))
        if x.dtype != W.dtype:
            raise ValueError("W changed dtype since forward; run forward again")
        validate.bias(self.params[1], W.shape[1], W.dtype)
        N, T, D = x.shape
        dout = self._dout(dout, (N, T, W.shape[1]), W.dtype)
        dx = np.empty_like(x)
        affine.affine_backward(x.reshape(N * T, D), W, dout.reshape(N * T, -1), self._grad(0),
                               self._grad(1), dx.reshape(N * T, D))
        return dx


class Simple_TimeAffine(TimeAffine):  # noqa: N801  (the book's name)
    """The book's step-by-step TimeAffine, with its attributes ``W``, ``b``, ``dW``, ``db``.

    The book sums ``Affine.dW`` of T per-step layers (vol. 2's Affine has no ``dW``; fastprop's
    has); here the sum over steps is one GEMM, the same numbers as :class:`TimeAffine`.
    """

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))
    b = property(lambda self: self.params[1], lambda self, v: self.params.__setitem__(1, v))
    dW = property(lambda self: self.grads[0])
    db = property(lambda self: self.grads[1])


def _scores(xs, name="xs"):
    xs = validate.batch(validate.as_real(xs, name), name)
    if xs.ndim != 3 or 0 in xs.shape:
        raise ValueError(f"{name} must be non-empty (N, T, V) scores, got shape {xs.shape}")
    return xs


class TimeSoftmaxWithLoss(Layer):
    """Softmax and mean cross-entropy over N*T rows, skipping labels equal to ``ignore_label``
    (-1); ``ts`` are (N, T) labels or (N, T, V) one-hot rows (read through argmax, as the book).

    The loss is the book's ``-sum(mask * log y[t]) / sum(mask)`` (no ``+1e-7``); with every
    label ignored it is NaN (the book's 0/0) and the gradient is zero.
    """

    def __init__(self):
        super().__init__()
        self.cache = None
        self.loss = None
        self.ignore_label = -1

    def _labels(self, ts, shape):
        N, T, V = shape
        ignore = validate.check_scalar(self.ignore_label, "ignore_label", int, low=-2**63, high=2**63 - 1)
        arr = np.asarray(ts)
        if arr.ndim == 3 and arr.shape == shape:
            validate.real_dtype(arr, "ts")
            arr = arr.argmax(axis=2)
        if arr.shape != (N, T):
            raise ValueError(f"ts must have shape ({N}, {T}) (labels) or {shape} (one-hot) to match xs, "
                             f"got {arr.shape}")
        return word_ids(arr, V, "ts", ignore).reshape(-1), ignore

    def _run(self, xs, ts, dout, with_dx, overwrite=False, dsum=None):
        if overwrite:
            validate.float_array(xs, "xs", " (to be overwritten)")
            xs = validate.output(_scores(xs), xs.shape, xs.dtype, "xs")
        else:
            xs = _scores(xs)
        N, T, V = xs.shape
        t, ignore = self._labels(ts, xs.shape)
        x2 = xs.reshape(N * T, V)
        y = x2 if overwrite else np.empty_like(x2)
        dx = (y if overwrite else np.empty_like(y)) if with_dx else None
        self.loss = sequence.time_softmax_cross_entropy(x2, t, ignore, y, dx, dout, dsum)
        # written over by the gradient, the softmax is gone: backward must not reuse it
        self.cache = None if dx is y else (t, y, ignore, (N, T, V))
        self._recorded = (ignore, (N, T, V))  # what backward's cache must still say
        return None if dx is None else dx.reshape(N, T, V)

    def _run_biased(self, scores, b, ts, dsum=None):
        """The language models' head (:mod:`fastprop.nets.rnnlm`): the loss of
        ``scores + b``, where ``scores`` is the model's own (N, T, V) buffer of ``h @ W``;
        with ``dsum`` (V,) the gradient is written over ``scores`` (returned) and its
        column sum into ``dsum``. ``cache`` is None afterwards: no softmax is kept."""
        validate.float_array(scores, "scores")
        scores = validate.output(_scores(scores), scores.shape, scores.dtype, "scores")
        N, T, V = scores.shape
        b = validate.bias(b, V, scores.dtype)
        if dsum is not None:
            dsum = validate.output(dsum, (V,), scores.dtype, "dsum")
        t, ignore = self._labels(ts, scores.shape)
        self.cache = None
        self.loss = sequence.bias_softmax_cross_entropy(scores.reshape(N * T, V), b, t, ignore, 1.0, dsum)
        return None if dsum is None else scores

    def forward(self, xs, ts) -> float:
        self._run(xs, ts, 1.0, False)
        return self.loss

    def forward_backward(self, xs, ts, dout=1.0, overwrite: bool = False):
        """Loss and ``dxs`` in one pass over the scores (what a training step wants).

        ``overwrite=True`` writes the softmax and then the gradient over ``xs`` itself (a
        writeable C-contiguous float array: no second N*T*V array) and returns it; ``cache`` is
        then None, since the softmax is gone.
        """
        dout = validate.real_scalar(dout, "dout")
        dx = self._run(xs, ts, dout, True, validate.flag(overwrite, "overwrite"))
        return self.loss, dx

    def backward(self, dout=1) -> np.ndarray:
        self._require_forward(self.cache)
        dout = validate.real_scalar(dout, "dout")
        cache = self.cache
        if not (isinstance(cache, tuple) and len(cache) == 4):
            raise ValueError("TimeSoftmaxWithLoss.cache must be the (ts, y, ignore_label, shape) forward "
                             f"saved, got {validate.describe(cache)} (replaced since forward? run forward again)")
        t, y, ignore, shape = cache
        recorded = getattr(self, "_recorded", None)
        if recorded is not None and not (type(ignore) is int and type(shape) is tuple
                                         and (ignore, shape) == recorded):
            raise ValueError(f"TimeSoftmaxWithLoss.cache holds ignore_label {ignore!r} and shape {shape!r}, "
                             f"but forward saved {recorded[0]} and {recorded[1]} (replaced since forward? "
                             "run forward again)")
        N, T, V = shape
        y = validate.as_real(y, "y")
        if y.shape != (N * T, V):
            raise ValueError(f"the saved softmax must have shape {(N * T, V)}, got {y.shape}")
        t = word_ids(np.asarray(t).reshape(N, T) if np.size(t) == N * T else t, V, "ts", ignore).reshape(-1)
        dx = np.empty_like(y)
        sequence.time_softmax_cross_entropy_backward(y, t, ignore, dout, dx)
        return dx.reshape(N, T, V)


class Simple_TimeSoftmaxWithLoss(Layer):  # noqa: N801  (the book's name)
    """The book's per-step version: the mean over T of SoftmaxWithLoss of each step, which is
    SoftmaxWithLoss (``+1e-7`` in the log, no ignore label) over the N*T rows; one kernel."""

    def __init__(self):
        super().__init__()
        self.cache = None
        self._loss = SoftmaxWithLoss()

    def forward(self, xs, ts) -> float:
        xs = _scores(xs)
        N, T, V = xs.shape
        ts = np.asarray(ts)
        if ts.shape == (N, T, V):
            ts = ts.reshape(N * T, V)
        elif ts.shape == (N, T):
            ts = ts.reshape(N * T)
        else:
            raise ValueError(f"ts must have shape ({N}, {T}) or {xs.shape}, got {ts.shape}")
        loss = self._loss.forward(xs.reshape(N * T, V), ts)
        self.cache = (N, T, V)
        return loss

    def backward(self, dout=1) -> np.ndarray:
        self._require_forward(self.cache)
        return self._loss.backward(dout).reshape(self.cache)


class TimeSigmoidWithLoss(Layer):
    """Sigmoid and the mean binary cross-entropy (the book's ``+1e-7``) over (N, T) scores with
    0/1 labels; ``backward`` returns ``(y - t) * dout / (N T)``."""

    def __init__(self):
        super().__init__()
        self.xs_shape = None
        self.layers = None
        self._yt = None

    def forward(self, xs, ts) -> float:
        xs = validate.batch(validate.as_real(xs, "xs"), "xs")
        if xs.ndim != 2 or xs.shape[1] == 0:
            raise ValueError(f"xs must be (N, T) scores, got shape {xs.shape}")
        t = word_ids(ts, 2, "ts") if np.shape(ts) == xs.shape else None
        if t is None:
            raise ValueError(f"ts must have the shape of xs {xs.shape}, got {np.shape(ts)}")
        y = np.empty_like(xs)
        activations.sigmoid_forward(xs.reshape(-1), y.reshape(-1))
        p = np.where(t == 1, y, 1 - y)
        self.xs_shape = xs.shape
        self._yt = (y, t)
        return float(-np.sum(np.log(p + 1e-7)) / xs.size)

    def backward(self, dout=1) -> np.ndarray:
        self._require_forward(self._yt)
        dout = validate.real_scalar(dout, "dout")
        y, t = self._yt
        return (y - t.astype(y.dtype)) * y.dtype.type(dout / y.size)


class TimeDropout(Layer):
    """vol. 2's inverted dropout: in training ``mask = (np.random.rand(*xs.shape) > ratio) /
    (1 - ratio)`` from the global RNG (the book's draw), ``out = xs * mask``; at test time
    (``train_flg = False``) the identity."""

    def __init__(self, dropout_ratio: float = 0.5):
        super().__init__()
        self.dropout_ratio = validate.check_scalar(dropout_ratio, "dropout_ratio", low=0.0, high=1.0,
                                                   high_open=True)
        self.mask = None
        self.train_flg = True
        self._shape = None

    def forward(self, xs) -> np.ndarray:
        xs = validate.as_real(xs, "xs")
        ratio = validate.check_scalar(self.dropout_ratio, "dropout_ratio", low=0.0, high=1.0, high_open=True)
        train = validate.flag(self.train_flg, "train_flg")
        self._shape = (xs.shape, train)
        if not train:
            return xs.copy()
        flg = np.random.rand(*xs.shape) > ratio
        self.mask = flg.astype(xs.dtype) * xs.dtype.type(1 / (1.0 - ratio))
        return xs * self.mask

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self._shape)
        shape, train = self._shape
        if not train:
            return self._dout(dout, shape).copy()
        mask = validate.as_real(self.mask, "mask")
        self._saved_shape(mask, "mask", shape)
        dout = self._dout(dout, mask.shape, mask.dtype, "the shape of the forward input")
        return dout * mask

