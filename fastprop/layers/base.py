"""What every layer shares: the ``params``/``grads`` lists and the checks each one repeats
(backward before forward, the upstream gradient's shape and dtype, stable gradient arrays)."""
from __future__ import annotations

import numpy as np

from .. import validate


class Layer:
    """Base of fastprop's layers.

    Attributes
    ----------
    params : list of ndarray
        The caller's parameter arrays (vol. 2's convention; empty for parameter-free layers).
    grads : list of ndarray
        Gradient arrays of the parameters' shapes and dtypes, written in place by backward.
    """

    def __init__(self, *params: np.ndarray):
        self.params = list(params)
        self.grads = [np.zeros(p.shape, dtype=p.dtype) for p in params]

    def _require_forward(self, saved) -> None:
        """ValueError when ``saved`` (what forward keeps) is still None."""
        if saved is None:
            raise ValueError(f"{type(self).__name__}.backward() called before forward()")

    @staticmethod
    def _dout(dout, shape, dtype=None, what: str = "the shape of the forward output") -> np.ndarray:
        """The upstream gradient as a C-contiguous float array of ``shape`` (cast to ``dtype``)."""
        dout = validate.as_real(dout, "dout", dtype)
        validate.same_shape(dout, shape, "dout", what)
        return dout

    def _saved_shape(self, a: np.ndarray, name: str, shape) -> None:
        """ValueError naming the saved attribute ``name`` when it no longer has the shape
        forward gave it (``shape``; None when forward never recorded one): it was replaced,
        so the message blames it, not the upstream gradient."""
        if shape is not None and a.shape != tuple(shape):
            raise ValueError(f"{type(self).__name__}.{name} has shape {a.shape}, but forward saved it "
                             f"with shape {tuple(shape)} (replaced since forward? run forward again)")

    def _grad(self, i: int) -> np.ndarray:
        """``grads[i]``, kept as a stable C-contiguous writeable array of ``params[i]``'s shape
        and dtype (re-made only when the parameter was replaced by one of another shape or
        dtype, or the gradient array by one a kernel cannot write)."""
        p, g = self.params[i], self.grads[i]
        if not (isinstance(g, np.ndarray) and g.shape == p.shape and g.dtype == p.dtype
                and g.flags.c_contiguous and g.flags.writeable):
            g = self.grads[i] = np.zeros(p.shape, dtype=p.dtype)
        return g
