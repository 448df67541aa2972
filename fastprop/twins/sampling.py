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


_MAX_TRIES = 64


def unigram_negative_samples(key, pos, word_p, cdf, target, out):
    rs = np.random.RandomState()
    rs.set_state(("MT19937", key, int(pos[0]), 0, 0.0))
    v, size = cdf.shape[0], out.shape[1]
    for i in range(target.shape[0]):
        found, tries = [], 0
        while len(found) < size:
            u = rs.random_sample()
            if tries >= _MAX_TRIES:  # the row's own distribution, taken words removed
                p = word_p.copy()
                p[[target[i]] + found] = 0
                c = np.cumsum(p)
                k = int(np.searchsorted(c, u * c[-1], side="right"))
                found.append(int(np.flatnonzero(p)[-1]) if k >= v else k)
                continue
            k = int(np.searchsorted(cdf, u * cdf[-1], side="right"))
            if k < v and k != target[i] and k not in found:
                found.append(k)
                tries = 0
            else:
                tries += 1
        out[i, :] = found
    state = rs.get_state()
    key[...] = state[1]
    pos[0] = state[2]
    return out
