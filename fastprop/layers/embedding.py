"""Embedding and EmbeddingDot (vol. 2 ch. 4): row gathers, and a compiled scatter-add for
the weight gradient instead of the book's ``np.add.at`` (repeated ids are summed)."""
from __future__ import annotations

import numpy as np

from .. import validate
from ..kernels import embedding
from .base import Layer


def word_ids(idx, vocab_size, name: str = "idx", bound: str | None = None) -> np.ndarray:
    """Word ids as a new C-contiguous int64 array (a copy: later edits of the caller's array
    cannot reach a kernel), each in ``[0, vocab_size)``; ``vocab_size=None`` (a corpus, with
    no weight to index) asks only for ids >= 0 that fit int64. ``bound`` says where
    ``vocab_size`` comes from in the message (default: the weight's rows).

    Raises
    ------
    TypeError
        Floats, bools, complex, object or strings: ids are real integers.
    ValueError
        An empty array, or an id outside ``[0, vocab_size)``.
    """
    try:
        arr = np.asarray(idx)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of integer word ids, got {validate.describe(idx)} "
                        f"({exc})") from None
    if arr.dtype.kind not in "iu":
        hint = " (cast with .astype(np.int64) if the floats are whole numbers)" if arr.dtype.kind == "f" else ""
        raise TypeError(f"{name} must hold integer word ids (real integers, not bool, float, complex, "
                        f"object or strings), got {validate.describe(arr)}{hint}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected at least one word id")
    lo, hi = arr.min(), arr.max()
    if vocab_size is None:
        if lo < 0:
            raise ValueError(f"{name} holds word id {lo}, expected word ids >= 0")
        if hi > np.iinfo(np.int64).max:
            raise ValueError(f"{name} holds word id {hi}, more than int64 holds (2**63 - 1)")
    elif lo < 0 or hi >= vocab_size:
        bad = lo if lo < 0 else hi
        where = bound if bound is not None else f"the weight has {vocab_size} rows"
        raise ValueError(f"{name} holds word id {bad}, expected ids in [0, {vocab_size}) ({where})")
    return np.array(arr, dtype=np.int64, order="C")


def _param(W) -> None:
    validate.param_dtype(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D (V, D) embedding weight, got shape {W.shape}")


class Embedding(Layer):
    """``out = W[idx]``; backward writes ``dW`` (zeroed, then every ``dout`` row added to its
    id's row) and returns None, as the book's.

    Parameters
    ----------
    W : (V, D) float32/float64 array, kept by reference (``params = [W]``)

    Attributes
    ----------
    idx : the checked int64 copy of the last forward's ids (any shape)
    """

    def __init__(self, W: np.ndarray):
        _param(W)
        super().__init__(W)
        self.idx = None

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))

    def forward(self, idx) -> np.ndarray:
        W = validate.weight(self.params[0], "W")
        ids = word_ids(idx, W.shape[0])
        out = np.empty((ids.size, W.shape[1]), dtype=W.dtype)
        embedding.embedding_forward(W, ids.reshape(-1), out)
        self.idx, self._shape = ids, ids.shape
        return out.reshape(ids.shape + (W.shape[1],))

    def backward(self, dout) -> None:
        self._require_forward(self.idx)
        W = self.params[0]
        _param(W)
        ids = word_ids(self.idx, W.shape[0], "the saved idx")
        self._saved_shape(ids, "idx", getattr(self, "_shape", None))
        dout = self._dout(dout, ids.shape + (W.shape[1],), W.dtype)
        embedding.embedding_backward(ids.reshape(-1), dout.reshape(ids.size, W.shape[1]), self._grad(0))
        return None


class EmbeddingDot(Layer):
    """``out[n] = W[idx[n]] . h[n]`` (vol. 2 ch. 4); backward writes ``dW`` and returns ``dh``.

    Parameters
    ----------
    W : (V, D) float32/float64 array, kept by reference (``params = [W]``)

    Attributes
    ----------
    cache : ``(h, target_W)`` of the last forward (the gathered rows, as the book keeps them)
    idx : the checked int64 copy of the last forward's ids
    """

    def __init__(self, W: np.ndarray):
        _param(W)
        super().__init__(W)
        self.cache = None
        self.idx = None

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))

    def forward(self, h, idx) -> np.ndarray:
        W = validate.weight(self.params[0], "W")
        h = validate.batch(validate.as_real(h, "h", W.dtype), "h")
        if h.ndim != 2 or h.shape[1] != W.shape[1]:
            raise ValueError(f"h must have shape (N, {W.shape[1]}) to match W of shape {W.shape}, "
                             f"got {h.shape}")
        ids = word_ids(idx, W.shape[0])
        if ids.shape != (h.shape[0],):
            raise ValueError(f"idx must have shape ({h.shape[0]},), one id per row of h, got {ids.shape}")
        rows = np.empty_like(h)
        out = np.empty(h.shape[0], dtype=W.dtype)
        embedding.embedding_dot_forward(W, h, ids, rows, out)
        self.cache, self.idx = (h, rows), ids
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.cache)
        cache = self.cache
        if not (isinstance(cache, tuple) and len(cache) == 2):
            raise TypeError(f"EmbeddingDot.cache must be the (h, target_W) pair of forward, got "
                            f"{validate.describe(cache)}")
        W = self.params[0]
        _param(W)
        h = validate.as_real(cache[0], "the saved h", W.dtype)
        rows = validate.as_real(cache[1], "the saved target_W", W.dtype)
        if h.ndim != 2 or h.shape[1] != W.shape[1] or rows.shape != h.shape:
            raise ValueError(f"the saved h {h.shape} and target_W {rows.shape} must both be "
                             f"(N, {W.shape[1]}) for W of shape {W.shape} (changed since forward?)")
        ids = word_ids(self.idx, W.shape[0], "the saved idx")
        if ids.shape != (h.shape[0],):
            raise ValueError(f"the saved idx must have shape ({h.shape[0]},), got {ids.shape}")
        dout = self._dout(dout, (h.shape[0],), W.dtype)
        dh = np.empty_like(h)
        embedding.embedding_dot_backward(h, rows, ids, dout, self._grad(0), dh)
        return dh
