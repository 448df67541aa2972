"""Twins of :mod:`fastprop.kernels.optim` (the book's ``common/optimizer.py`` formulas)."""
import numpy as np

from fastprop.kernels.optim import ADAGRAD, MOMENTUM, NESTEROV, RMSPROP, SGD


def sgd_update(p, g, lr):
    p -= lr * g


def momentum_update(p, g, v, lr, momentum):
    v[...] = momentum * v - lr * g
    p += v


def nesterov_update(p, g, v, lr, momentum):
    p += momentum * momentum * v
    p -= (1 + momentum) * lr * g
    v *= momentum
    v -= lr * g


def adagrad_update(p, g, h, lr):
    h += g * g
    p -= lr * g / (np.sqrt(h) + 1e-7)


def rmsprop_update(p, g, h, lr, decay_rate):
    h *= decay_rate
    h += (1 - decay_rate) * g * g
    p -= lr * g / (np.sqrt(h) + 1e-7)


def adam_update(p, g, m, v, lr_t, beta1, beta2):
    m += (1 - beta1) * (g - m)
    v += (1 - beta2) * (g**2 - v)
    p -= lr_t * m / (np.sqrt(v) + 1e-7)


def adam_step_size(lr, beta1, beta2, t):
    return lr * np.sqrt(1.0 - beta2 ** float(t)) / (1.0 - beta1 ** float(t))


def apply_update(rule, p, g, s1, s2, hp, t):
    dt = p.dtype.type
    lr, c1, c2 = dt(hp[0]), dt(hp[1]), dt(hp[2])
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


def update_all(optimizer, P, G, t):
    rule, hp, S1, S2, _ = optimizer
    for k in range(len(P)):
        apply_update(rule, P[k], G[k], S1[k], S2[k], hp, t)
