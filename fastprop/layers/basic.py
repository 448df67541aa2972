"""Computational-graph nodes: vol. 1's MulLayer/AddLayer (ch. 5's apple example) and
vol. 2's Repeat and Sum nodes (ch. 1, text only in the book)."""
from __future__ import annotations

import numpy as np

from .. import validate
from ..kernels import reductions
from .base import Layer


class MulLayer:
    """``out = x * y`` on Python numbers or arrays (the book's apple example)."""

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout):
        if self.x is None:
            raise ValueError("MulLayer.backward() called before forward()")
        return dout * self.y, dout * self.x


class AddLayer:
    """``out = x + y``; the gradient passes through to both inputs."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout * 1, dout * 1


class Repeat(Layer):
    """Copy a (1, D) row ``N`` times (vol. 2 ch. 1); backward sums over axis 0."""

    def __init__(self, N: int):
        super().__init__()
        self.N = validate.positive_int(N, "N")
        self.D = None

    def forward(self, x) -> np.ndarray:
        x = validate.as_real(x, "x")
        if x.ndim != 2 or x.shape[0] != 1:
            raise ValueError(f"Repeat expects a (1, D) row, got shape {x.shape}")
        self.D = x.shape[1]
        return np.repeat(x, self.N, axis=0)

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.D)
        dout = self._dout(dout, (self.N, self.D))
        dx = np.empty((1, self.D), dtype=dout.dtype)
        reductions.column_sum(dout, dx.reshape(-1))
        return dx


class Sum(Layer):
    """Sum an (N, D) array over axis 0 keeping dims (vol. 2 ch. 1); backward repeats."""

    def __init__(self):
        super().__init__()
        self.N = None

    def forward(self, x) -> np.ndarray:
        x = validate.as_real(x, "x")
        if x.ndim != 2:
            raise ValueError(f"Sum expects a 2-D (N, D) array, got shape {x.shape}")
        self.N = x.shape[0]
        out = np.empty((1, x.shape[1]), dtype=x.dtype)
        reductions.column_sum(x, out.reshape(-1))
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.N)
        dout = validate.as_real(dout, "dout")
        if dout.ndim != 2 or dout.shape[0] != 1:
            raise ValueError(f"dout must be a (1, D) row, got shape {dout.shape}")
        return np.repeat(dout, self.N, axis=0)
