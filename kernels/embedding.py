"""vol. 2 ch. 4's Embedding and EmbeddingDot: row gathers, and the scatter-add that replaces
the book's ``np.add.at`` (rows of repeated ids are summed, in the order the ids come, so the
sums are the book's bit for bit)."""
from ._jit import jit
from .rows import dot_row, gather_rows


@jit
def embedding_forward(W, idx, out):
    """``out = W[idx]``.

    Parameters
    ----------
    W : (V, D) float array (C- or F-contiguous)
    idx : (M,) int64 ids in ``[0, V)``
    out : (M, D) array of ``W``'s dtype, written

    Returns
    -------
    out
    """
    return gather_rows(W, idx, out)


@jit
def embedding_backward(idx, dout, dW):
    """``dW[...] = 0; np.add.at(dW, idx, dout)``: every row of ``dout`` added to its id's row.

    Parameters
    ----------
    idx : (M,) int64 ids in ``[0, V)``
    dout : (M, D) float array
    dW : (V, D) same dtype, written (zeroed first)

    Returns
    -------
    dW
    """
    dW[...] = 0
    for m in range(idx.shape[0]):
        src = dout[m]
        dst = dW[idx[m]]
        for j in range(dW.shape[1]):
            dst[j] += src[j]
    return dW


@jit
def embedding_dot_forward(W, h, idx, rows, out):
    """``rows = W[idx]``; ``out[n] = rows[n] . h[n]``.

    Parameters
    ----------
    W : (V, D) float array
    h : (N, D) same dtype
    idx : (N,) int64 ids in ``[0, V)``
    rows : (N, D) written with the gathered rows (kept for backward, as the book's cache)
    out : (N,) written with the scores

    Returns
    -------
    out
    """
    for n in range(idx.shape[0]):
        for j in range(h.shape[1]):
            rows[n, j] = W[idx[n], j]
        out[n] = dot_row(rows, n, h, n)
    return out


@jit
def embedding_dot_backward(h, rows, idx, dout, dW, dh):
    """The book's EmbeddingDot backward: ``dW = 0; np.add.at(dW, idx, dout[:, None] * h)``
    and ``dh = dout[:, None] * rows``.

    Parameters
    ----------
    h, rows : (N, D) float arrays, the forward input and the gathered rows
    idx : (N,) int64 ids in ``[0, V)``
    dout : (N,) float array
    dW : (V, D) written (zeroed first)
    dh : (N, D) written

    Returns
    -------
    dh
    """
    dW[...] = 0
    for n in range(idx.shape[0]):
        g = dout[n]
        dst = dW[idx[n]]
        for j in range(h.shape[1]):
            dst[j] += g * h[n, j]
            dh[n, j] = g * rows[n, j]
    return dh
