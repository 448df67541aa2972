"""Affine (fully connected) and MatMul kernels: BLAS GEMMs plus the fused small passes.

``np.dot(a, b, out)`` inside ``@njit`` calls SciPy's BLAS ``?gemm`` straight into ``out``
(no temporary); ``x.T`` of a C-contiguous ``x`` is an F-contiguous view, which BLAS
takes through its transpose flag, so ``x.T @ dout`` is never materialised.
"""
import numpy as np

from ._jit import jit
from .reductions import column_sum


@jit
def affine_forward(x, W, b, out):
    """``out = x @ W + b`` with the bias broadcast fused into one pass over ``out``.

    Parameters
    ----------
    x : (N, D) float32/float64, C-contiguous
    W : (D, M) same dtype, C-contiguous
    b : (M,) same dtype, or None (then this is vol. 2's MatMul forward)
    out : (N, M) same dtype, written

    Returns
    -------
    out
    """
    np.dot(x, W, out)
    if b is not None:
        n, m = out.shape
        for i in range(n):
            for j in range(m):
                out[i, j] += b[j]
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
