"""SigmoidWithLoss (vol. 2 ch. 4) and vol. 2's inverted Dropout."""
from __future__ import annotations

import numpy as np

from .. import global_rng, validate
from ..kernels import inverted_dropout, sigmoid_loss
from .base import Layer


def binary_labels(t, n: int, name: str = "t") -> np.ndarray:
    """Labels 0/1, one per score, as a new int64 (n,) array."""
    arr = np.asarray(t)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer labels 0 or 1 (real integers, not bool, float, "
                        f"complex, object or strings), got {validate.describe(arr)}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per score, got {arr.shape}")
    if ((arr != 0) & (arr != 1)).any():
        raise ValueError(f"{name} must hold labels 0 or 1, got values {np.unique(arr)[:5].tolist()}")
    return np.array(arr, dtype=np.int64, order="C")


def _scores(x, name: str = "x") -> np.ndarray:
    x = validate.batch(validate.as_real(x, name), name)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D (N,) scores, got shape {x.shape}")
    return x


class SigmoidWithLoss(Layer):
    """The sigmoid and the book's binary cross-entropy
    (``cross_entropy_error(np.c_[1 - y, y], t)``, ``+1e-7`` inside the log) in one pass.

    ``forward(x, t)`` takes (N,) scores and (N,) integer labels 0/1 and returns the mean
    loss; keeps ``loss``, ``y`` (the sigmoid) and ``t`` (a checked copy).
    ``backward(dout=1)`` returns ``(y - t) * dout / N``.
    """

    def __init__(self):
        super().__init__()
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t) -> float:
        x = _scores(x)
        t = binary_labels(t, x.shape[0])
        y = np.empty_like(x)
        self.loss = float(sigmoid_loss.sigmoid_with_loss_forward(x, t, y))
        self.y, self.t = y, t
        return self.loss

    def backward(self, dout=1) -> np.ndarray:
        self._require_forward(self.y)
        dout = validate.real_scalar(dout, "dout")
        y = _scores(self.y, "the saved y")
        t = binary_labels(self.t, y.shape[0], "the saved t")
        dx = np.empty_like(y)
        sigmoid_loss.sigmoid_with_loss_backward(y, t, dout, dx)
        return dx


class InvertedDropout(Layer):
    """vol. 2's Dropout: in training ``mask = (np.random.rand(*x.shape) > ratio) / (1 - ratio)``
    drawn from the global RNG exactly as the book draws it, ``out = x * mask``; at test
    time ``out = x``. ``backward`` returns ``dout * mask`` (``dout`` after a test forward).

    Parameters
    ----------
    dropout_ratio : float in [0, 1)

    Attributes
    ----------
    mask : the scaled mask, in the input's dtype (the book's float32 mask for float32 input;
        for float64 input the scale is kept in float64)
    train_flg : the mode ``forward`` uses when it is not given one (True)
    """

    def __init__(self, dropout_ratio: float = 0.5):
        super().__init__()
        self.dropout_ratio = validate.check_scalar(dropout_ratio, "dropout_ratio", float, low=0.0,
                                                   high=1.0, high_open=True)
        self.mask = None
        self.train_flg = True
        self._trained = None

    def forward(self, x, train_flg=None) -> np.ndarray:
        train = self.train_flg if train_flg is None else train_flg
        train = validate.flag(train, "train_flg")
        x = validate.as_real(x, "x")
        self._trained = train
        if not train:
            self._shape = x.shape
            return x
        ratio = validate.check_scalar(self.dropout_ratio, "dropout_ratio", float, low=0.0, high=1.0,
                                      high_open=True)
        mask = np.empty_like(x)
        out = np.empty_like(x)
        state, key, pos = global_rng.take()
        inverted_dropout.inverted_dropout_forward(key, pos, x.reshape(-1), ratio, 1.0 / (1.0 - ratio),
                                                  mask.reshape(-1), out.reshape(-1))
        global_rng.give_back(state, key, pos)
        self.mask, self._shape = mask, x.shape
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self._trained)
        if not self._trained:
            return self._dout(dout, self._shape, what="the shape of the forward input").copy()
        mask = validate.as_real(self.mask, "mask")
        self._saved_shape(mask, "mask", self._shape)
        dout = self._dout(dout, mask.shape, mask.dtype, "the shape of the forward input")
        dx = np.empty_like(dout)
        inverted_dropout.inverted_dropout_backward(dout.reshape(-1), mask.reshape(-1), dx.reshape(-1))
        return dx
