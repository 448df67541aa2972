"""Twins of :mod:`fastprop.kernels.conv2d`: the book's whole-batch im2col convolution in
NumPy (``chunk`` changes only how the kernels split the work, so the twins ignore it)."""
import numpy as np

from . import conv as _conv


def conv2d_forward(x, W, b, stride, pad, chunk, work, relu, out):
    n, fn, oh, ow = out.shape
    cols = np.empty((n, W[0].size, oh * ow), dtype=out.dtype)
    _conv.conv_forward(x, W, b, stride, pad, cols, out)
    if relu:
        out[out <= 0] = 0
    return out


def conv2d_backward(x, W, dout, stride, pad, chunk, work, dW, db, dx):
    n, fn, oh, ow = dout.shape
    cols = np.empty((n, W[0].size, oh * ow), dtype=x.dtype)
    _conv.unfold(x, W.shape[2], W.shape[3], stride, pad, cols)
    dcols = None if dx is None else np.empty_like(cols)
    return _conv.conv_backward(dout, cols, W, stride, pad, dW, db, dcols, dx)


def conv2d_relu_pool(x, W, b, stride, pad, chunk, work, out):
    n, fn, ph, pw = out.shape
    oh = (x.shape[2] + 2 * pad - W.shape[2]) // stride + 1
    ow = (x.shape[3] + 2 * pad - W.shape[3]) // stride + 1
    full = np.empty((n, fn, oh, ow), dtype=out.dtype)
    conv2d_forward(x, W, b, stride, pad, chunk, work, True, full)
    windows = full[:, :, :2 * ph, :2 * pw].reshape(n, fn, ph, 2, pw, 2)
    out[...] = windows.max(axis=(3, 5))
    return out
