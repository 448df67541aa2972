"""Relu and Sigmoid (vol. 1 ch. 5): one compiled pass each way, on flat views of any shape."""
from __future__ import annotations

import numpy as np

from .. import threads, validate
from ..kernels import activations
from .base import Layer


class Relu(Layer):
    """``out = max(x, 0)``; keeps ``mask = (x <= 0)``, so the gradient at exactly 0 is 0."""

    def __init__(self):
        super().__init__()
        self.mask = None
        self._shape = None  # the forward input's shape, which mask must keep

    def forward(self, x) -> np.ndarray:
        x = validate.as_real(x, "x")
        out = np.empty_like(x)
        self.mask = np.empty(x.shape, dtype=np.bool_)
        self._shape = x.shape
        xf, of, mf = x.reshape(-1), out.reshape(-1), self.mask.reshape(-1)
        threads.in_parts(xf.size, xf.size,  # a conv net's activation: a part per thread
                         lambda lo, hi: activations.relu_forward(xf[lo:hi], of[lo:hi], mf[lo:hi]))
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.mask)
        mask = self.mask  # as it is now, not as it was at forward
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            raise TypeError(f"Relu.mask must be a bool array (x <= 0 of the forward input), "
                            f"got {validate.describe(mask)}")
        mask = np.ascontiguousarray(mask)
        self._saved_shape(mask, "mask", self._shape)
        dout = self._dout(dout, mask.shape, what="the shape of the forward input")
        dx = np.empty_like(dout)
        df, mf, xf = dout.reshape(-1), mask.reshape(-1), dx.reshape(-1)
        threads.in_parts(df.size, df.size,
                         lambda lo, hi: activations.relu_backward(df[lo:hi], mf[lo:hi], xf[lo:hi]))
        return dx


class Sigmoid(Layer):
    """``out = 1 / (1 + exp(-x))``; keeps ``out`` for the backward pass."""

    def __init__(self):
        super().__init__()
        self.out = None
        self._shape = None

    def forward(self, x) -> np.ndarray:
        x = validate.as_real(x, "x")
        out = np.empty_like(x)
        activations.sigmoid_forward(x.reshape(-1), out.reshape(-1))
        self.out, self._shape = out, x.shape
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.out)
        out = validate.as_real(self.out, "out")
        self._saved_shape(out, "out", self._shape)
        dout = self._dout(dout, out.shape, out.dtype)
        dx = np.empty_like(dout)
        activations.sigmoid_backward(dout.reshape(-1), out.reshape(-1), dx.reshape(-1))
        return dx
