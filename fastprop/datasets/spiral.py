"""Vol. 2's spiral data set (``dataset/spiral.py``): three interleaved noisy spiral arms."""
import numpy as np

from .. import validate

N = 100        # points per class
DIM = 2        # input dimensions
CLS_NUM = 3    # classes


def load_data(seed=1984):
    """The spiral set, bit-for-bit as the book makes it.

    Seeds NumPy's *global* RNG with ``np.random.seed(seed)``, as the book does, so code that
    draws more random numbers afterwards (weight init, shuffling) sees the same stream as the
    book's.

    Parameters
    ----------
    seed : int
        Seed for ``np.random.seed``.

    Returns
    -------
    x : ndarray, shape (300, 2), float64
        Points; class ``j``'s point ``i`` sits at radius ``i/N`` and angle
        ``4j + 4 i/N + 0.2 * randn()``.
    t : ndarray, shape (300, 3), int
        One-hot class labels, rows ordered class by class.
    """
    # None reseeds from the OS as np.random.seed(None) does; any other seed must be one it takes
    np.random.seed(None if seed is None else validate.seed(seed))
    x = np.zeros((N * CLS_NUM, DIM))
    t = np.zeros((N * CLS_NUM, CLS_NUM), dtype=int)
    # One randn() per point in this exact loop order: that order *is* the data set.
    for j in range(CLS_NUM):
        for i in range(N):
            rate = i / N
            radius = 1.0 * rate
            theta = j * 4.0 + 4.0 * rate + np.random.randn() * 0.2
            ix = N * j + i
            x[ix] = np.array([radius * np.sin(theta), radius * np.cos(theta)]).flatten()
            t[ix, j] = 1
    return x, t
