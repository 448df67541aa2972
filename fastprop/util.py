"""vol. 1's ``common/util.py``: the helpers of ch. 6 (``smooth_curve``, ``shuffle_dataset``).

The convolution helpers (``conv_output_size``, ``im2col``, ``col2im``) follow below.
"""
from __future__ import annotations

import numpy as np

from . import validate

#: the book's smoothing window (a Kaiser window of 11 points, beta 2)
SMOOTH_WINDOW = 11


def smooth_curve(x) -> np.ndarray:
    """The book's smoothing of a loss curve: a normalised Kaiser window (11 points, beta 2)
    convolved with the curve mirrored at both ends.

    Parameters
    ----------
    x : 1-D sequence of real numbers, at least 11 long (shorter curves have nothing to
        mirror: the book's slicing breaks on them, here they are a ValueError)

    Returns
    -------
    (len(x),) float64 array
    """
    x = validate.as_real(x, "x", np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D curve, got shape {x.shape}")
    n = SMOOTH_WINDOW
    if x.shape[0] < n:
        raise ValueError(f"x must hold at least {n} points to be smoothed, got {x.shape[0]}")
    s = np.concatenate([x[n - 1:0:-1], x, x[-1:-n:-1]])
    w = np.kaiser(n, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t):
    """``x`` and ``t`` reordered by one ``np.random.permutation(len(x))`` (the book's draw).

    Parameters
    ----------
    x : (N, ...) array (the book handles 2-D and 4-D; any rank >= 1 works here)
    t : (N, ...) array

    Returns
    -------
    x, t : new arrays in the permuted order
    """
    if not isinstance(x, np.ndarray) or not isinstance(t, np.ndarray):
        raise TypeError(f"x and t must be NumPy arrays, got {validate.describe(x)} and "
                        f"{validate.describe(t)}")
    if x.ndim == 0 or t.ndim == 0 or x.shape[0] != t.shape[0]:
        raise ValueError(f"x and t must have the same number of rows, got shapes {x.shape} and {t.shape}")
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]
