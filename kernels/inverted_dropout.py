"""vol. 2's (inverted) Dropout: the book's ``np.random.rand(*x.shape) > ratio`` mask drawn
from the global MT19937 state (the doubles of ``random_sample``, in C order), scaled by
``1 / (1 - ratio)``, and applied, in one pass."""
import numpy as np

from ._jit import jit
from .mt19937 import N_WORDS, next_double, temper


@jit
def inverted_dropout_forward(key, pos, x, ratio, scale, mask, out):
    """``mask = (rand(x.size) > ratio) * scale``; ``out = x * mask``.

    Parameters
    ----------
    key : (624,) uint32, the MT19937 key of ``np.random.get_state()``; advanced in place
    pos : (1,) int64, its position; advanced in place
    x : (M,) float array (a flat view)
    ratio : float, the dropout ratio
    scale : float, ``1 / (1 - ratio)`` (in the mask's dtype)
    mask : (M,) same dtype, written
    out : (M,) same dtype, written

    Returns
    -------
    out
    """
    tempered = np.empty(N_WORDS, np.uint32)
    temper(key, tempered)
    zero = mask.dtype.type(0)
    s = mask.dtype.type(scale)
    for i in range(x.shape[0]):
        m = s if next_double(key, tempered, pos) > ratio else zero
        mask[i] = m
        out[i] = x[i] * m
    return out


@jit
def inverted_dropout_backward(dout, mask, dx):
    """``dx = dout * mask``."""
    for i in range(dout.shape[0]):
        dx[i] = dout[i] * mask[i]
    return dx
