"""Softmax (vol. 2) and SoftmaxWithLoss (both volumes): max-shifted softmax, the book's
cross-entropy (``+1e-7`` inside the log) and its gradient, fused in one kernel pass."""
from __future__ import annotations

import numpy as np

from .. import validate
from ..kernels import softmax
from .base import Layer


def as_2d_scores(x, name: str = "x") -> np.ndarray:
    """Scores as a C-contiguous (N, C) float array: a 1-D ``x`` is one sample."""
    x = validate.batch(validate.as_real(x, name), name)
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 1-D (one sample) or 2-D (N, C) scores, got shape {x.shape}")
    return x


class Softmax(Layer):
    """vol. 2's Softmax layer: row-wise softmax forward, its Jacobian-vector product backward."""

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x) -> np.ndarray:
        shape = np.shape(x)
        x = as_2d_scores(x)
        out = np.empty_like(x)
        softmax.softmax(x, out)
        self.out = out.reshape(shape)
        return self.out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.out)
        out = validate.as_real(self.out, "out")
        dout = self._dout(dout, out.shape, out.dtype)
        dx = out * dout
        return dx - out * dx.sum(axis=-1, keepdims=True)


class SoftmaxWithLoss(Layer):
    """Softmax followed by the mean cross-entropy, fused in one kernel.

    ``t`` holds integer labels (N,) or one-hot rows (N, C): the book's rule
    ``t.size == y.size`` means one-hot, made strict (the targets must have the scores'
    shape; six labels for two rows of three scores are an error, not one-hot weights).
    Keeps ``loss``, ``y``, ``t`` (a checked copy of the targets). ``backward(dout=1)``
    returns ``(y - t) * dout / N`` (vol. 2 scales by ``dout``; vol. 1 ignores it, which is
    the same for the default ``dout=1``). The targets are checked again at backward, as
    they are then.
    """

    def __init__(self):
        super().__init__()
        self.loss = None
        self.y = None
        self.t = None

    def _run(self, x, t, dout, with_dx):
        x = as_2d_scores(x)
        t, onehot = validate.targets(t, x.shape, x.dtype)
        y = np.empty_like(x)
        dx = np.empty_like(x) if with_dx else None
        kernel = softmax.softmax_cross_entropy_onehot if onehot else softmax.softmax_cross_entropy
        self.loss = kernel(x, t, y, dx, dout)
        self.y, self.t = y, t
        return dx

    def forward(self, x, t) -> float:
        self._run(x, t, 1.0, False)
        return self.loss

    def forward_backward(self, x, t, dout=1.0):
        """Loss and ``dx`` in one pass (what a training step wants); sets the same attributes."""
        dx = self._run(x, t, validate.real_scalar(dout, "dout"), True)
        return self.loss, dx

    def backward(self, dout=1) -> np.ndarray:
        self._require_forward(self.y)
        dout = validate.real_scalar(dout, "dout")
        y = validate.as_real(self.y, "y")
        if y.ndim != 2:
            raise ValueError(f"the saved softmax y must be 2-D (N, C), got shape {y.shape}")
        t, onehot = validate.targets(self.t, y.shape, y.dtype)
        dx = np.empty_like(y)
        if onehot:
            softmax.softmax_cross_entropy_onehot_backward(y, t, dout, dx)
        else:
            softmax.softmax_cross_entropy_backward(y, t, dout, dx)
        return dx
