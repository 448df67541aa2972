"""The book's ``common/functions.py``: same names and results, compiled where it pays."""
import numpy as np

from . import _validate as V
from .kernels import activations as _act
from .kernels import softmax as _sm


def identity_function(x):
    return x


def step_function(x):
    """1 where ``x > 0``, else 0, as an int array (the book's ``np.array(x > 0, dtype=int)``)."""
    return np.array(V.as_real(x, "x") > 0, dtype=int)


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise, any shape; float32 stays float32."""
    x = V.as_real(x, "x")
    out = np.empty_like(x)
    _act.sigmoid_forward(x.reshape(-1), out.reshape(-1))
    return out


def sigmoid_grad(x):
    """``(1 - sigmoid(x)) * sigmoid(x)``"""
    s = sigmoid(x)
    return (1.0 - s) * s


def relu(x):
    """``max(0, x)`` elementwise, any shape."""
    x = V.as_real(x, "x")
    out = np.empty_like(x)
    mask = np.empty(x.shape, dtype=np.bool_)
    _act.relu_forward(x.reshape(-1), out.reshape(-1), mask.reshape(-1))
    return out


def relu_grad(x):
    """1 where ``x > 0``, else 0.

    Notes
    -----
    The book's ``relu_grad`` uses ``x >= 0`` while its ``Relu`` layer masks ``x <= 0``;
    fastprop follows the layer everywhere, so the (sub)gradient at exactly 0 is 0.
    """
    x = V.as_real(x, "x")
    return (x > 0).astype(x.dtype)


def softmax(x):
    """Softmax along the last axis, for any rank >= 1 (max-shifted: no overflow)."""
    x = V.as_real(x, "x")
    if x.ndim == 0:
        raise ValueError("softmax needs at least one axis, got a 0-d array")
    out = np.empty_like(x)
    if x.size:
        c = x.shape[-1]
        _sm.softmax(x.reshape(-1, c), out.reshape(-1, c))
    return out


def sum_squared_error(y, t):
    """``0.5 * sum((y - t)**2)``"""
    y, t = V.as_real(y, "y"), V.as_real(t, "t")
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(y, t):
    """Mean cross-entropy of probabilities ``y`` against labels or one-hot ``t``.

    The book's rules: a 1-D ``y`` is one sample; ``t.size == y.size`` means one-hot
    (read through ``argmax``); ``1e-7`` inside the log keeps ``log(0)`` finite.
    """
    y = V.as_real(y, "y")
    t = np.asarray(t)
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if y.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D (N, C) probabilities, got shape {y.shape}")
    V.batch(y, "y")
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = V.labels(t.reshape(-1) if t.ndim == 2 and t.shape[0] == 1 else t, y.shape[0], y.shape[1])
    n = y.shape[0]
    return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n


def softmax_loss(x, t):
    """``cross_entropy_error(softmax(x), t)`` in one fused pass."""
    from .layers import SoftmaxWithLoss

    return SoftmaxWithLoss().forward(x, t)
