"""vol. 1 Dropout (ch. 6): the book's mask from the global NumPy RNG, no scaling in
training, ``x * (1 - ratio)`` at test time."""
from __future__ import annotations

import numpy as np

from .. import validate
from ..kernels import dropout
from .base import Layer


def check_ratio(ratio, name: str = "dropout_ratio") -> float:
    """A dropout ratio in [0, 1) as a float (TypeError for non-numbers and bools)."""
    return validate.check_scalar(ratio, name, float, low=0.0, high=1.0, high_open=True)


class Dropout(Layer):
    """Drop each element with probability ``dropout_ratio`` while training (vol. 1).

    Parameters
    ----------
    dropout_ratio : float in [0, 1)

    Attributes
    ----------
    dropout_ratio : float (checked again at every forward, as it is then)
    mask : bool array of the input's shape, ``np.random.rand(*x.shape) > dropout_ratio``
        from the last training forward

    Notes
    -----
    The mask is drawn with ``np.random.rand(*x.shape)`` itself, so a seeded run draws the
    book's masks and leaves the global generator where the book leaves it. Training does
    not rescale (the book's ``x * mask``); inference multiplies by ``1 - dropout_ratio``.
    vol. 2's inverted dropout is a different layer.
    """

    def __init__(self, dropout_ratio: float = 0.5):
        super().__init__()
        self.dropout_ratio = check_ratio(dropout_ratio)
        self.mask = None
        self._shape = None  # the input shape of the last training forward (what mask must match)

    def forward(self, x, train_flg: bool = True) -> np.ndarray:
        x = validate.as_real(x, "x")
        train = validate.flag(train_flg, "train_flg")
        ratio = check_ratio(self.dropout_ratio, "Dropout.dropout_ratio")
        if not train:
            return x * (1.0 - ratio)
        rand = np.asarray(np.random.rand(*x.shape), dtype=np.float64)
        out = np.empty_like(x)
        mask = np.empty(x.shape, dtype=np.bool_)
        dropout.dropout_forward(x.reshape(-1), rand.reshape(-1), ratio, out.reshape(-1),
                                mask.reshape(-1))
        self.mask, self._shape = mask, x.shape
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.mask)
        mask = self.mask  # as it is now, not as it was at forward
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            raise TypeError("Dropout.mask must be a bool array (rand > dropout_ratio of the "
                            f"last training forward), got {validate.describe(mask)}")
        mask = np.ascontiguousarray(mask)
        if self._shape is not None and mask.shape != self._shape:
            raise ValueError(f"Dropout.mask has shape {mask.shape}, but the last training forward's input had "
                             f"shape {self._shape} (mask replaced since forward? run forward again)")
        what = "the last training forward's input" if self._shape is not None else "the shape of Dropout.mask"
        dout = self._dout(dout, mask.shape, what=what)
        dx = np.empty_like(dout)
        dropout.dropout_backward(dout.reshape(-1), mask.reshape(-1), dx.reshape(-1))
        return dx
