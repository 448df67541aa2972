"""Twins of :mod:`fastprop.kernels.inverted_dropout`: ``np.random.rand`` on the same state."""
import numpy as np


def inverted_dropout_forward(key, pos, x, ratio, scale, mask, out):
    rs = np.random.RandomState()
    rs.set_state(("MT19937", key, int(pos[0]), 0, 0.0))
    mask[...] = (rs.rand(*x.shape) > ratio).astype(mask.dtype) * mask.dtype.type(scale)
    out[...] = x * mask
    state = rs.get_state()
    key[...] = state[1]
    pos[0] = state[2]
    return out


def inverted_dropout_backward(dout, mask, dx):
    dx[...] = dout * mask
    return dx
