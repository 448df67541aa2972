"""Twins of :mod:`fastprop.kernels.conv2d`: the book's whole-batch im2col convolution in
NumPy (``chunk`` changes only how the kernels split the work, so the twins ignore it)."""
import numpy as np

from . import conv as _conv


def conv2d_forward(x, W, b, stride, pad, chunk, work, epilogue, out):
    n, fn = out.shape[:2]
    oh = (x.shape[2] + 2 * pad - W.shape[2]) // stride + 1
    ow = (x.shape[3] + 2 * pad - W.shape[3]) // stride + 1
    cols = np.empty((n, W[0].size, oh * ow), dtype=out.dtype)
    full = np.empty((n, fn, oh, ow), dtype=out.dtype)
    _conv.conv_forward(x, W, b, stride, pad, cols, full)
    if epilogue >= 1:
        full[full <= 0] = 0
    if epilogue == 2:
        ph, pw = oh // 2, ow // 2
        full = full[:, :, :2 * ph, :2 * pw].reshape(n, fn, ph, 2, pw, 2).max(axis=(3, 5))
    out[...] = full
    return out


def conv2d_backward(x, W, dout, stride, pad, chunk, work, dW, db, dx):
    n, fn, oh, ow = dout.shape
    cols = np.empty((n, W[0].size, oh * ow), dtype=x.dtype)
    _conv.unfold(x, W.shape[2], W.shape[3], stride, pad, cols)
    if dx.size == 0:
        _conv.conv_backward(dout, cols, W, stride, pad, dW, db, None, None)
        return dx
    return _conv.conv_backward(dout, cols, W, stride, pad, dW, db, np.empty_like(cols), dx)

