"""The book's ``common/functions.py``: same names and results, compiled where it pays."""
import numpy as np

from . import validate
from .kernels import activations
from .kernels import softmax as softmax_kernels


def identity_function(x):
    return x


def step_function(x):
    """1 where ``x > 0``, else 0, as an int array (the book's ``np.array(x > 0, dtype=int)``)."""
    return np.array(validate.as_real(x, "x") > 0, dtype=int)


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise, any shape; float32 stays float32."""
    x = validate.as_real(x, "x")
    out = np.empty_like(x)
    activations.sigmoid_forward(x.reshape(-1), out.reshape(-1))
    return out


def sigmoid_grad(x):
    """``(1 - sigmoid(x)) * sigmoid(x)``"""
    s = sigmoid(x)
    return (1.0 - s) * s


def relu(x):
    """``max(0, x)`` elementwise, any shape."""
    x = validate.as_real(x, "x")
    out = np.empty_like(x)
    mask = np.empty(x.shape, dtype=np.bool_)
    activations.relu_forward(x.reshape(-1), out.reshape(-1), mask.reshape(-1))
    return out


def relu_grad(x):
    """1 where ``x > 0``, else 0.

    Notes
    -----
    The book's ``relu_grad`` uses ``x >= 0`` while its ``Relu`` layer masks ``x <= 0``;
    fastprop follows the layer everywhere, so the (sub)gradient at exactly 0 is 0.
    """
    x = validate.as_real(x, "x")
    return (x > 0).astype(x.dtype)


def softmax(x):
    """Softmax along the last axis, for any rank >= 1 (max-shifted: no overflow)."""
    x = validate.as_real(x, "x")
    if x.ndim == 0:
        raise ValueError("softmax needs at least one axis, got a 0-d array")
    out = np.empty_like(x)
    if x.size:
        c = x.shape[-1]
        softmax_kernels.softmax(x.reshape(-1, c), out.reshape(-1, c))
    return out


def sum_squared_error(y, t):
    """``0.5 * sum((y - t)**2)``"""
    y, t = validate.as_real(y, "y"), validate.as_real(t, "t")
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(y, t):
    """Mean cross-entropy of probabilities ``y`` against labels or one-hot ``t``.

    The book's rules: a 1-D ``y`` is one sample; ``t.size == y.size`` means one-hot
    (read through ``argmax``); ``1e-7`` inside the log keeps ``log(0)`` finite.
    """
    y = validate.as_real(y, "y")
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, y.size)
    if y.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D (N, C) probabilities, got shape {y.shape}")
    validate.batch(y, "y")
    t, onehot = validate.targets(t, y.shape, y.dtype)
    if onehot:
        t = t.argmax(axis=1)
    n = y.shape[0]
    return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n


def softmax_loss(x, t):
    """``cross_entropy_error(softmax(x), t)`` in one fused pass."""
    from .layers import SoftmaxWithLoss

    return SoftmaxWithLoss().forward(x, t)
