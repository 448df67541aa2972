"""The book's per-epoch shuffle, many epochs in one call, with NumPy's own random numbers.

vol. 2's Trainer draws ``np.random.permutation(data_size)`` every epoch and applies it to
the already shuffled data. On a small set that call is most of an epoch's Python time
(most of it the per-element loop; asv: BookShuffles). This kernel runs the same
algorithm on the same generator state, so the permutations, and the state it leaves
behind, are exactly NumPy's:

* the legacy global generator is MT19937 (``np.random.get_state()`` gives its 624-word
  key and position);
* ``permutation(n)`` shuffles ``arange(n)`` from the back (``i = n-1 .. 1``) swapping
  ``i`` with ``j = random_interval(i)``: a 32-bit draw masked to the smallest
  ``2**b - 1 >= i``, redrawn while above ``i``.

The caller (:func:`fastprop.trainer`) reads and writes the generator state around the call;
tests/test_shuffle.py compares with ``np.random.permutation`` bit for bit.
"""
import numpy as np

from ._jit import jit
from .mt19937 import N_WORDS, temper, twist


@jit
def book_shuffles(key, pos, order, out):
    """``out.shape[0]`` epochs of the book's ``x = x[np.random.permutation(len(x))]``.

    Parameters
    ----------
    key : (624,) uint32, the MT19937 key of ``np.random.get_state()``; advanced in place
    pos : (1,) int64, its position; advanced in place
    order : (n,) int64, which original rows the data holds now (``arange(n)`` at first);
        left unchanged
    out : (epochs, n) int64, row e written with the order after epoch e's shuffle

    Returns
    -------
    out

    ``n`` must be below ``2**32`` (NumPy switches to 64-bit draws above; the caller checks).
    """
    n = order.shape[0]
    p = pos[0]
    tempered = np.empty(N_WORDS, np.uint32)  # outputs of the current key, tempered in one pass
    temper(key, tempered)
    for e in range(out.shape[0]):
        # the permutation itself, then the gather (x[perm] of the previous order)
        for i in range(n):
            out[e, i] = i
        for i in range(n - 1, 0, -1):
            hi = np.uint32(i)
            mask = hi  # the smallest 2**b - 1 >= i
            mask |= mask >> np.uint32(1)
            mask |= mask >> np.uint32(2)
            mask |= mask >> np.uint32(4)
            mask |= mask >> np.uint32(8)
            mask |= mask >> np.uint32(16)
            while True:
                if p >= N_WORDS:
                    twist(key)
                    temper(key, tempered)
                    p = 0
                v = tempered[p] & mask
                p += 1
                if v <= hi:
                    break
            j = np.int64(v)
            t = out[e, i]
            out[e, i] = out[e, j]
            out[e, j] = t
        prev = order if e == 0 else out[e - 1]
        row = out[e]
        for i in range(n):
            row[i] = prev[row[i]]
    pos[0] = p
    return out
