"""Twins of :mod:`fastprop.kernels.conv`: the book's im2col/col2im algorithm in NumPy."""
import numpy as np


def _out_size(size, f, stride, pad):
    return (size + 2 * pad - f) // stride + 1


def im2col(x, filter_h, filter_w, stride, pad, col):
    n, c, h, w = x.shape
    oh, ow = _out_size(h, filter_h, stride, pad), _out_size(w, filter_w, stride, pad)
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    blocks = np.zeros((n, c, filter_h, filter_w, oh, ow), dtype=col.dtype)
    for y in range(filter_h):
        for xk in range(filter_w):
            blocks[:, :, y, xk] = img[:, :, y:y + stride * oh:stride, xk:xk + stride * ow:stride]
    col[...] = blocks.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)
    return col


def col2im(col, filter_h, filter_w, stride, pad, img):
    n, c, h, w = img.shape
    oh, ow = _out_size(h, filter_h, stride, pad), _out_size(w, filter_w, stride, pad)
    blocks = col.reshape(n, oh, ow, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    full = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=img.dtype)
    for y in range(filter_h):
        for xk in range(filter_w):
            full[:, :, y:y + stride * oh:stride, xk:xk + stride * ow:stride] += blocks[:, :, y, xk]
    img[...] = full[:, :, pad:h + pad, pad:w + pad]
    return img


def _book_col(cols):
    n, k, p = cols.shape
    return cols.transpose(0, 2, 1).reshape(n * p, k)


def unfold(x, filter_h, filter_w, stride, pad, cols):
    n, k, p = cols.shape
    col = np.empty((n * p, k), dtype=cols.dtype)
    im2col(x, filter_h, filter_w, stride, pad, col)
    cols[...] = col.reshape(n, p, k).transpose(0, 2, 1)
    return cols


def fold(cols, filter_h, filter_w, stride, pad, img):
    return col2im(_book_col(cols), filter_h, filter_w, stride, pad, img)


def conv_forward(x, W, b, stride, pad, cols, out):
    fn = W.shape[0]
    n, _, oh, ow = out.shape
    unfold(x, W.shape[2], W.shape[3], stride, pad, cols)
    res = np.dot(_book_col(cols), W.reshape(fn, -1).T) + b
    out[...] = res.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
    return out


def conv_backward(dout, cols, W, stride, pad, dW, db, dcols, dx):
    fn, c, fh, fw = W.shape
    d2 = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
    db[...] = np.sum(d2, axis=0)
    dW[...] = np.dot(_book_col(cols).T, d2).transpose(1, 0).reshape(fn, c, fh, fw)
    if dx is None:
        return None
    n, k, p = cols.shape
    dcol = np.dot(d2, W.reshape(fn, -1))
    dcols[...] = dcol.reshape(n, p, k).transpose(0, 2, 1)
    col2im(dcol, fh, fw, stride, pad, dx)
    return dx
