"""Softmax and the fused softmax-cross-entropy (forward loss and gradient in one pass).

Rows are max-shifted before ``exp`` so logits of any size (1e4, -1e4) neither overflow
nor underflow to a 0/0. The loss keeps the book's ``+1e-7`` inside the log (it bounds
the loss of a confidently wrong row at -log(1e-7) ~ 16.1), so results match the book.
The row loops themselves live in :mod:`.rows`, shared with the fused training steps.
"""
from ._jit import jit
from .rows import label_grad_row, label_loss_rows, softmax_rows, target_grad_row, target_loss_rows


@jit
def softmax(x, out):
    """Row-wise softmax of a 2-D array.

    Parameters
    ----------
    x : (N, C) float, C-contiguous (wrappers reshape any rank to (-1, C))
    out : (N, C) same dtype, written

    Returns
    -------
    out

    Notes
    -----
    ``y_ij = exp(x_ij - max_j x_ij) / sum_k exp(x_ik - max_j x_ij)``
    """
    softmax_rows(x, out)
    return out


@jit
def softmax_cross_entropy(x, t, y, dx, dout):
    """Softmax, mean cross-entropy over integer labels and its gradient, one pass a row.

    Parameters
    ----------
    x : (N, C) float logits
    t : (N,) intp labels in ``[0, C)`` (validated by the caller)
    y : (N, C) same dtype as x, written with the softmax
    dx : (N, C) written with ``(y - onehot(t)) * dout / N``, or None for the loss alone
    dout : float, upstream gradient of the loss (1 for a plain loss)

    Returns
    -------
    loss : float, ``-sum_i log(y[i, t_i] + 1e-7) / N``
    """
    softmax_rows(x, y)
    return label_loss_rows(y, t, None, dout, dx)


@jit
def softmax_cross_entropy_onehot(x, t, y, dx, dout):
    """As :func:`softmax_cross_entropy` for (N, C) one-hot (or soft) targets ``t``.

    Like the book, the loss reads the label as ``argmax`` of each target row (the
    first maximum), while the gradient uses the targets as given: ``(y - t) * dout / N``.
    """
    softmax_rows(x, y)
    return target_loss_rows(y, t, None, dout, dx)


@jit
def softmax_cross_entropy_backward(y, t, dout, dx):
    """``dx = (y - onehot(t)) * dout / N`` from the saved softmax; integer labels."""
    n = y.shape[0]
    for i in range(n):
        label_grad_row(y, i, t[i], dout, n, dx)
    return dx


@jit
def softmax_cross_entropy_onehot_backward(y, t, dout, dx):
    """``dx = (y - t) * dout / N`` from the saved softmax; one-hot/soft targets."""
    n = y.shape[0]
    for i in range(n):
        target_grad_row(y, i, t, i, dout, n, dx)
    return dx
