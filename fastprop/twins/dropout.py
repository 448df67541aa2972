"""Twins of :mod:`fastprop.kernels.dropout` (the book's Dropout, vol. 1)."""


def dropout_forward(x, rand, ratio, out, mask):
    mask[...] = rand > ratio
    out[...] = x * mask
    return out


def dropout_backward(dout, mask, dx):
    dx[...] = dout * mask
    return dx
