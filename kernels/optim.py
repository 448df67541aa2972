"""In-place optimizer updates, one fused pass per parameter array.

Every kernel takes 1-D C-contiguous views (``p.reshape(-1)``) of the parameter, its
gradient and its state, and scalars already converted to the array's dtype by the
caller, so a float32 update runs in float32 throughout. The formulas and the ``1e-7``
epsilons are the book's (vol. 1 ``common/optimizer.py``).
"""
import numpy as np

from ._jit import jit


@jit
def sgd_update(p, g, lr):
    """``p -= lr * g``"""
    for i in range(p.shape[0]):
        p[i] -= lr * g[i]


@jit
def momentum_update(p, g, v, lr, momentum):
    """``v = momentum * v - lr * g``; ``p += v``"""
    for i in range(p.shape[0]):
        vi = momentum * v[i] - lr * g[i]
        v[i] = vi
        p[i] += vi


@jit
def nesterov_update(p, g, v, lr, momentum):
    """Vol. 1's current order (the same trajectory as PyTorch's ``SGD(nesterov=True)``)::

        p += momentum * momentum * v
        p -= (1 + momentum) * lr * g
        v = momentum * v - lr * g
    """
    one = p.dtype.type(1)
    mm = momentum * momentum
    step = (one + momentum) * lr
    for i in range(p.shape[0]):
        gi = g[i]
        vi = v[i]
        p[i] += mm * vi
        p[i] -= step * gi
        vi *= momentum
        vi -= lr * gi
        v[i] = vi


@jit
def adagrad_update(p, g, h, lr):
    """``h += g * g``; ``p -= lr * g / (sqrt(h) + 1e-7)``"""
    eps = p.dtype.type(1e-7)
    for i in range(p.shape[0]):
        gi = g[i]
        hi = h[i] + gi * gi
        h[i] = hi
        p[i] -= lr * gi / (np.sqrt(hi) + eps)


@jit
def rmsprop_update(p, g, h, lr, decay_rate):
    """``h = decay_rate * h + (1 - decay_rate) * g * g``; ``p -= lr * g / (sqrt(h) + 1e-7)``"""
    eps = p.dtype.type(1e-7)
    one = p.dtype.type(1)
    for i in range(p.shape[0]):
        gi = g[i]
        hi = h[i] * decay_rate
        hi += (one - decay_rate) * gi * gi
        h[i] = hi
        p[i] -= lr * gi / (np.sqrt(hi) + eps)


@jit
def adam_update(p, g, m, v, lr_t, beta1, beta2):
    """One Adam step with the bias correction folded into ``lr_t`` by the caller::

        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        m += (1 - beta1) * (g - m)
        v += (1 - beta2) * (g**2 - v)
        p -= lr_t * m / (sqrt(v) + 1e-7)
    """
    eps = p.dtype.type(1e-7)
    one = p.dtype.type(1)
    for i in range(p.shape[0]):
        gi = g[i]
        mi = m[i] + (one - beta1) * (gi - m[i])
        vi = v[i] + (one - beta2) * (gi * gi - v[i])
        m[i] = mi
        v[i] = vi
        p[i] -= lr_t * mi / (np.sqrt(vi) + eps)
