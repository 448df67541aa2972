"""vol. 2 ch. 4's SigmoidWithLoss: the sigmoid and the binary cross-entropy (the book's
``+1e-7`` inside the log) in one pass, and the gradient ``(y - t) * dout / N``."""
from ._jit import jit
from .rows import sigmoid_grad_at, sigmoid_loss_at


@jit
def sigmoid_with_loss_forward(x, t, y):
    """``y = 1 / (1 + exp(-x))`` and the mean of ``-log(y + 1e-7)`` (label 1) or
    ``-log(1 - y + 1e-7)`` (label 0): the book's ``cross_entropy_error(np.c_[1 - y, y], t)``.

    Parameters
    ----------
    x : (N,) float array, scores
    t : (N,) int64 labels, 0 or 1
    y : (N,) same dtype as ``x``, written

    Returns
    -------
    float, the mean loss
    """
    n = x.shape[0]
    total = 0.0
    for i in range(n):
        total += sigmoid_loss_at(x, t[i], y, i)
    return -total / n


@jit
def sigmoid_with_loss_backward(y, t, dout, dx):
    """``dx = (y - t) * dout / N``.

    Parameters
    ----------
    y : (N,) float array, the saved sigmoid output
    t : (N,) int64 labels, 0 or 1
    dout : float
    dx : (N,) same dtype, written

    Returns
    -------
    dx
    """
    n = y.shape[0]
    for i in range(n):
        dx[i] = sigmoid_grad_at(y, t[i], dout, n, i)
    return dx
