"""Twins of :mod:`fastprop.kernels.sampling`: NumPy's own ``choice`` on the same state."""
import numpy as np


def pairwise_sum_without(a, skip, frames, vals):
    b = a.copy()
    b[skip] = 0
    return float(b.sum())


def negative_samples(key, pos, word_p, target, out):
    rs = np.random.RandomState()
    rs.set_state(("MT19937", key, int(pos[0]), 0, 0.0))
    v, size = word_p.shape[0], out.shape[1]
    for i in range(target.shape[0]):
        p = word_p.copy()
        p[target[i]] = 0
        p /= p.sum()
        out[i, :] = rs.choice(v, size=size, replace=False, p=p)
    state = rs.get_state()
    key[...] = state[1]
    pos[0] = state[2]
    return out
