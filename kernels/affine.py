"""Affine (fully connected) and MatMul kernels: BLAS GEMMs plus the fused small passes.

``np.dot(a, b, out)`` inside ``@njit`` calls SciPy's BLAS ``?gemm`` straight into ``out``
(no temporary); ``x.T`` of a C-contiguous ``x`` is an F-contiguous view, which BLAS
takes through its transpose flag, so ``x.T @ dout`` is never materialised.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .reductions import column_sum


@jit
def affine_forward(x, W, b, out, rows):
    """``out = x @ W + b`` with the bias broadcast fused into one pass over ``out``.

    Parameters
    ----------
    x : (N, D) float32/float64, C-contiguous
    W : (D, M) same dtype, C-contiguous
    b : (M,) same dtype, or None (then this is vol. 2's MatMul forward)
    out : (N, M) same dtype, written
    rows : int, the GEMM in blocks of this many rows of ``x`` (``<= 0``: one GEMM); blocks
        small enough for the BLAS's small-matrix kernel skip its packing of ``W``
        (:func:`fastprop.gemm_blocks.gemm_rows`). The sums are the same products; the BLAS may
        add them in another order, so results can differ in the last bits

    Returns
    -------
    out
    """
    n = x.shape[0]
    if rows <= 0 or rows >= n:
        np.dot(x, W, out)
    else:
        for r0 in range(0, n, rows):
            r1 = min(r0 + rows, n)
            np.dot(x[r0:r1], W, out[r0:r1])
    if b is not None:
        m = out.shape[1]
        for i in range(n):
            for j in range(m):
                out[i, j] += b[j]
    return out


@jit(parallel=True)
def affine_forward_cast(x, W, b, out, buf):
    """``out = x.astype(W.dtype) @ W + b`` chunk by chunk: no whole-size cast of ``x``.

    Parameters
    ----------
    x : (N, D) real array of any dtype, C-contiguous (float32 MNIST, uint8 pixels)
    W : (D, M) float32/float64, C-contiguous
    b : (M,) W's dtype, or None
    out : (N, M) W's dtype, C-contiguous, written
    buf : (T, R, D) W's dtype, scratch: one R-row chunk buffer per thread

    Returns
    -------
    out

    Notes
    -----
    For the book's evaluations (``network.accuracy(x_train, t_train)`` on 60000 float32
    images against float64 weights): NumPy, and fastprop's cast-then-GEMM, first write a
    376 MB float64 copy of the set (in fresh pages, every epoch), then read it back for the
    GEMM. Here each thread casts R rows into its own buffer, small enough to stay in its
    L2, and multiplies them from there: the set is read once and nothing the size of it is
    written. Chunk ``c`` goes to thread ``c % T`` (a static split), and each output row is
    one row-block GEMM of its own, the same sums as the whole-matrix GEMM's rows. Run it
    with BLAS at one thread (:func:`fastprop.threads.parallel_region`).
    """
    n, d = x.shape
    T, R = buf.shape[0], buf.shape[1]
    m = out.shape[1]
    chunks = (n + R - 1) // R
    for t in prange(T):
        for c in range(t, chunks, T):
            r0 = c * R
            r1 = min(r0 + R, n)
            bt = buf[t, :r1 - r0]
            for i in range(r1 - r0):
                for k in range(d):
                    bt[i, k] = x[r0 + i, k]
            oc = out[r0:r1]
            np.dot(bt, W, oc)
            if b is not None:
                for i in range(r1 - r0):
                    for j in range(m):
                        oc[i, j] += b[j]
    return out


@jit
def affine_backward(x, W, dout, dW, db, dx):
    """Gradients of ``out = x @ W + b``; every output is optional except ``dW``.

    Parameters
    ----------
    x : (N, D) the forward input
    W : (D, M)
    dout : (N, M) upstream gradient
    dW : (D, M) written with ``x.T @ dout``
    db : (M,) written with ``dout.sum(axis=0)``, or None (MatMul has no bias)
    dx : (N, D) written with ``dout @ W.T``, or None to skip that GEMM (the first
        layer of a net never needs it)

    Returns
    -------
    dx (or None)
    """
    np.dot(x.T, dout, dW)
    if db is not None:
        column_sum(dout, db)
    if dx is not None:
        np.dot(dout, W.T, dx)
    return dx
