"""vol. 2 ch. 2's count-based statistics: the co-occurrence matrix and PPMI, the book's
Python double loops compiled."""
import numpy as np

from ._jit import jit


@jit
def co_matrix(corpus, window_size, out):
    """``out[w, c] += 1`` for every context word ``c`` within ``window_size`` of each ``w``.

    Parameters
    ----------
    corpus : (T,) int64 word ids in ``[0, V)``
    window_size : int >= 1
    out : (V, V) int32, zeroed and written

    Returns
    -------
    out
    """
    out[...] = 0
    n = corpus.shape[0]
    for idx in range(n):
        w = corpus[idx]
        for i in range(1, window_size + 1):
            if idx - i >= 0:
                out[w, corpus[idx - i]] += 1
            if idx + i < n:
                out[w, corpus[idx + i]] += 1
    return out


@jit
def ppmi(C, total, col_sums, eps, out):
    """``out[i, j] = max(0, log2(C[i, j] * N / (S[j] * S[i]) + eps))`` in float32.

    Parameters
    ----------
    C : (V, V) integer co-occurrence counts
    total : int, ``N = C.sum()``
    col_sums : (V,) int64, ``S = C.sum(axis=0)``
    eps : float
    out : (V, V) float32, written

    Returns
    -------
    out

    Notes
    -----
    The products are integers and the division a float64 one, as NumPy computes the book's
    ``C[i, j] * N / (S[j] * S[i])``; a NaN (a word with no co-occurrence) becomes 0, as the
    book's ``max(0, nan)`` does.
    """
    for i in range(C.shape[0]):
        si = col_sums[i]
        for j in range(C.shape[1]):
            if C[i, j] == 0 and eps <= 1.0:
                out[i, j] = 0.0  # log2(0 + eps) <= 0 (or 0/0): no log for the common zero
                continue
            num = np.int64(C[i, j]) * total
            pmi = np.log2(num / (col_sums[j] * si) + eps)
            out[i, j] = pmi if pmi > 0 else 0.0
    return out
