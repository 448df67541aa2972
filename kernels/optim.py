"""In-place optimizer updates, one fused pass per parameter array, and the one table of
update rules.

Every ``*_update`` kernel takes 1-D C-contiguous views (``p.reshape(-1)``) of the parameter,
its gradient and its state, and scalars already in the array's dtype, so a float32 update
runs in float32 throughout. The formulas and the ``1e-7`` epsilons are the book's (vol. 1
``common/optimizer.py``).

:data:`RULES` names the rule codes. :func:`apply_update` runs rule ``rule`` on one array
from the hyper-parameters ``hp = (lr, c1, c2)`` (float64) and the step count ``t``; it is
what :mod:`fastprop.optimizers` calls for each array and what the fused steps call for
each parameter, so Adam's bias correction (:func:`adam_step_size`) happens in one place.
"""
import numpy as np

from ._jit import jit

#: rule codes, shared by the per-array updates, the fused steps, their twins and the CLI
SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = range(6)
RULES = {"sgd": SGD, "momentum": MOMENTUM, "nesterov": NESTEROV, "adagrad": ADAGRAD,
         "rmsprop": RMSPROP, "adam": ADAM}
#: state arrays per parameter that each rule keeps (v; h; h; m and v)
STATE_COUNT = {SGD: 0, MOMENTUM: 1, NESTEROV: 1, ADAGRAD: 1, RMSPROP: 1, ADAM: 2}
#: what ``hp[1]`` and ``hp[2]`` mean for each rule (``hp[0]`` is always the learning rate)
HYPER_NAMES = {SGD: ("lr",), MOMENTUM: ("lr", "momentum"), NESTEROV: ("lr", "momentum"),
               ADAGRAD: ("lr",), RMSPROP: ("lr", "decay_rate"), ADAM: ("lr", "beta1", "beta2")}


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


@jit
def adam_step_size(lr, beta1, beta2, t):
    """Adam's bias-corrected step size ``lr * sqrt(1 - beta2**t) / (1 - beta1**t)`` in
    float64 (the book folds the correction into the step size, not into ``m`` and ``v``)."""
    ft = np.float64(t)
    return lr * np.sqrt(1.0 - beta2 ** ft) / (1.0 - beta1 ** ft)


@jit
def apply_update(rule, p, g, s1, s2, hp, t):
    """Update one flat parameter array in place with rule ``rule``.

    Parameters
    ----------
    rule : int, one of :data:`RULES`' codes
    p, g : (n,) float32/float64, C-contiguous: the parameter (updated) and its gradient
    s1, s2 : (n,) same dtype, the rule's state (``v``; ``h``; Adam's ``m`` and ``v``); an
        unused one may be any 1-D array of the dtype (e.g. empty)
    hp : (3,) float64, ``(lr, c1, c2)``: the learning rate, then momentum / decay_rate /
        beta1, then beta2 (see :data:`HYPER_NAMES`)
    t : int, the step count (Adam's ``iter`` after this step's increment)

    Notes
    -----
    The scalars are cast to ``p``'s dtype here, so a float32 update stays float32; Adam's
    step size is computed in float64 first, then cast (as the book's float64 Python does).
    """
    dt = p.dtype.type
    lr = dt(hp[0])
    c1 = dt(hp[1])
    c2 = dt(hp[2])
    if rule == SGD:
        sgd_update(p, g, lr)
    elif rule == MOMENTUM:
        momentum_update(p, g, s1, lr, c1)
    elif rule == NESTEROV:
        nesterov_update(p, g, s1, lr, c1)
    elif rule == ADAGRAD:
        adagrad_update(p, g, s1, lr)
    elif rule == RMSPROP:
        rmsprop_update(p, g, s1, lr, c1)
    else:
        adam_update(p, g, s1, s2, dt(adam_step_size(hp[0], hp[1], hp[2], t)), c1, c2)


@jit
def update_all(optimizer, P, G, t):
    """:func:`apply_update` on every array of the tuples ``P`` (flat parameter views) and
    ``G`` (their gradients), with ``optimizer = (rule, hp, S1, S2, t0)`` as the fused steps
    carry it (``S1``, ``S2``: tuples of flat state arrays, one per parameter); ``t`` is the
    step count of this update."""
    rule, hp, S1, S2, _ = optimizer
    for k in range(len(P)):
        apply_update(rule, P[k], G[k], S1[k], S2[k], hp, t)
