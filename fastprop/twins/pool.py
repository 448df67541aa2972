"""Twins of :mod:`fastprop.kernels.pool`: the book's im2col-based max pooling in NumPy."""
import numpy as np

from .conv import col2im, im2col


def pool_forward(x, pool_h, pool_w, stride, pad, out, arg_max):
    n, c, oh, ow = out.shape
    col = np.empty((n * oh * ow, c * pool_h * pool_w), dtype=x.dtype)
    im2col(x, pool_h, pool_w, stride, pad, col)
    col = col.reshape(-1, pool_h * pool_w)
    arg_max[...] = np.argmax(col, axis=1)
    out[...] = np.max(col, axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
    return out


def pool_backward(dout, arg_max, pool_h, pool_w, stride, pad, dx):
    d = dout.transpose(0, 2, 3, 1)
    size = pool_h * pool_w
    dmax = np.zeros((d.size, size), dtype=dx.dtype)
    hit = (arg_max >= 0) & (arg_max < size)
    dmax[np.arange(arg_max.size)[hit], arg_max[hit]] = d.reshape(-1)[hit]
    dcol = dmax.reshape(d.shape[0] * d.shape[1] * d.shape[2], -1)
    col2im(dcol, pool_h, pool_w, stride, pad, dx)
    return dx


def pool2_forward(x, out, arg):
    n, c, oh, ow = out.shape
    am = np.empty(n * oh * ow * c, np.intp)
    pool_forward(x, 2, 2, 2, 0, out, am)
    arg[...] = am.reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
    return out


def pool2_backward(dout, arg, dx):
    n, c, oh, ow = dout.shape
    am = arg.transpose(0, 2, 3, 1).reshape(-1).astype(np.intp)
    am[am > 3] = -1  # selects nothing, as in the kernel
    return pool_backward(dout, am, 2, 2, 2, 0, dx)
