"""Convolution kernels (vol. 1 ch. 7): im2col, col2im, and the layer's forward and backward.

Shapes are the book's: ``x`` is (N, C, H, W), filters ``W`` (FN, C, FH, FW), and
``OH = (H + 2*pad - FH) // stride + 1`` (likewise ``OW``); ``K = C*FH*FW``, ``P = OH*OW``.
The book's column matrix ``col`` is (N*P, K): row ``n*P + i*OW + j`` holds the receptive
field of output pixel (i, j) of sample n in (c, y, x) order. :func:`im2col` and
:func:`col2im` produce and consume exactly that.

The layer kernels keep the same numbers in the transposed layout ``cols`` (N, K, P),
``cols[n, k, p] = col[n*P + p, k]``: there, filling and folding run along output rows,
contiguous in both ``x`` and ``cols`` (a vectorised copy at stride 1, where the book's
layout scatters runs of FW elements), and the GEMMs need no transposed copy:
``W (FN, K) @ cols[n] (K, P)`` lands straight in the NCHW output (the book's
``reshape(...).transpose(0, 3, 1, 2)`` copy never happens), and the weight gradient
accumulates ``dout_n (FN, P) @ cols[n].T`` into ``dW`` inside the GEMM (:func:`.blas.gemm_acc`).

Padding is never materialised: positions outside the image read as 0 (filling) or are
dropped (folding). Every array is written in its own dtype, so float32 stays float32.
"""
import numpy as np
from numba import uintp

from ._jit import jit
from .blas import gemm_acc


@jit
def _valid_range(size, offset, stride, pad, count):
    """``(lo, hi)``: the output positions ``j`` in ``[0, count)`` whose input position
    ``j*stride + offset - pad`` falls inside ``[0, size)`` (an empty range is lo == hi)."""
    lo_num = pad - offset
    lo = 0 if lo_num <= 0 else (lo_num + stride - 1) // stride
    hi_num = size - 1 + pad - offset
    hi = 0 if hi_num < 0 else hi_num // stride + 1
    hi = min(hi, count)
    lo = min(lo, hi)
    return lo, hi


@jit
def _copy_run(xf, src0, stride, lo, hi, count, dst, dst0):
    """``dst[dst0 + j] = xf[src0 + j*stride]`` for j in [lo, hi), 0 for the rest of
    [0, count): one output row of one filter entry.

    Flat arrays, no views (their reference counting costs more than a short copy), and
    unsigned indices from the first valid j on: a signed index makes Numba emit a
    negative-index test per element, which keeps LLVM from vectorising the copy."""
    zero = dst.dtype.type(0)
    for j in range(lo):
        dst[dst0 + j] = zero
    d = uintp(dst0 + lo)
    src = uintp(src0 + lo * stride)
    m = uintp(hi - lo)
    if stride == 1:
        for e in range(m):
            dst[d + e] = xf[src + e]
    else:
        st = uintp(stride)
        for e in range(m):
            dst[d + e] = xf[src + e * st]
    for j in range(hi, count):
        dst[dst0 + j] = zero


@jit
def _add_run(src, src0, lo, hi, img, dst0, stride):
    """``img[dst0 + j*stride] += src[src0 + j]`` for j in [lo, hi) (flat, unsigned
    indices from the first valid j on, as in :func:`_copy_run`)."""
    s = uintp(src0 + lo)
    d = uintp(dst0 + lo * stride)
    m = uintp(hi - lo)
    if stride == 1:
        for e in range(m):
            img[d + e] += src[s + e]
    else:
        st = uintp(stride)
        for e in range(m):
            img[d + e * st] += src[s + e]


@jit
def _fill_chunk(xf, n0, nb, c_, h, w, fh, fw, stride, pad, oh, ow, dst, dst0):
    """Columns of samples ``n0 .. n0+nb-1`` of the flat ``xf`` into the flat ``dst`` as a
    (K, nb*P) matrix from ``dst0`` on: entry ``(k, j*P + i*OW + jj)`` is the input under
    filter entry k at output pixel (i, jj) of sample ``n0 + j`` (0 in the padding). One
    sample (nb = 1) is its (K, P) block of :func:`unfold`; a chunk is what
    :mod:`.conv2d` multiplies at stride > 1."""
    p = oh * ow
    row = nb * p
    zero = dst.dtype.type(0)
    k = 0
    for c in range(c_):
        for y in range(fh):
            for xk in range(fw):
                lo, hi = _valid_range(w, xk, stride, pad, ow)
                for j in range(nb):
                    plane = ((n0 + j) * c_ + c) * h
                    for i in range(oh):
                        d0 = dst0 + k * row + j * p + i * ow
                        yy = i * stride + y - pad
                        if 0 <= yy < h:
                            _copy_run(xf, (plane + yy) * w + xk - pad, stride, lo, hi, ow, dst, d0)
                        else:
                            for e in range(ow):
                                dst[d0 + e] = zero
                k += 1


@jit
def unfold(x, filter_h, filter_w, stride, pad, cols):
    """im2col in the transposed layout: ``cols[n, k, i*OW + j]`` = ``col[n*P + i*OW + j, k]``.

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous
    filter_h, filter_w, stride, pad : int (stride >= 1, pad >= 0, the filter fits)
    cols : (N, C*filter_h*filter_w, OH*OW) array, C-contiguous, written

    Returns
    -------
    cols
    """
    n_, c_, h, w = x.shape
    oh = (h + 2 * pad - filter_h) // stride + 1
    ow = (w + 2 * pad - filter_w) // stride + 1
    k_, p = cols.shape[1], cols.shape[2]
    xf, cf = x.reshape(-1), cols.reshape(-1)
    for n in range(n_):
        _fill_chunk(xf, n, 1, c_, h, w, filter_h, filter_w, stride, pad, oh, ow, cf, n * k_ * p)
    return cols


@jit
def _fold_chunk(src, src0, n0, nb, c_, h, w, fh, fw, stride, pad, oh, ow, imf):
    """Overwrite samples ``n0 .. n0+nb-1`` of the flat image ``imf`` with the sum of the
    (K, nb*P) column gradients that start at ``src[src0]`` (flat, the layout of
    :func:`_fill_chunk`), at their input pixels.

    Offsets outermost: for one filter offset (y, x) the output-to-input pixel map is
    one-to-one, so every pixel adds its terms in the book's order (offset (y, x)
    ascending, from 0.0) whatever the order of (i, j) inside, and the sums are the same
    bits as the book's ``col2im``. Entries in the padding are dropped."""
    p = oh * ow
    row = nb * p
    zero = imf.dtype.type(0)
    for e in range(n0 * c_ * h * w, (n0 + nb) * c_ * h * w):
        imf[e] = zero
    k = 0
    for c in range(c_):
        for y in range(fh):
            for xk in range(fw):
                lo, hi = _valid_range(w, xk, stride, pad, ow)
                for j in range(nb):
                    plane = ((n0 + j) * c_ + c) * h
                    for i in range(oh):
                        yy = i * stride + y - pad
                        if 0 <= yy < h:
                            _add_run(src, src0 + k * row + j * p + i * ow, lo, hi, imf,
                                     (plane + yy) * w + xk - pad, stride)
                k += 1


@jit
def _fold_sample(cf, src0, n, filter_h, filter_w, stride, pad, img):
    """:func:`_fold_chunk` of one sample n of the (N, C, H, W) ``img`` from the (K, P)
    columns at ``cf[src0]``, the geometry read from the shapes."""
    c_, h, w = img.shape[1], img.shape[2], img.shape[3]
    oh = (h + 2 * pad - filter_h) // stride + 1
    ow = (w + 2 * pad - filter_w) // stride + 1
    _fold_chunk(cf, src0, n, 1, c_, h, w, filter_h, filter_w, stride, pad, oh, ow, img.reshape(-1))


@jit
def fold(cols, filter_h, filter_w, stride, pad, img):
    """col2im from the transposed layout of :func:`unfold` into ``img`` (overwritten),
    bit for bit the book's ``col2im`` of the same numbers.

    Parameters
    ----------
    cols : (N, C*filter_h*filter_w, OH*OW) float array, C-contiguous
    filter_h, filter_w, stride, pad : int, as given to :func:`unfold`
    img : (N, C, H, W) array, C-contiguous, written

    Returns
    -------
    img
    """
    n_, k_, p = cols.shape
    cf = cols.reshape(-1)
    for n in range(n_):
        _fold_sample(cf, n * k_ * p, n, filter_h, filter_w, stride, pad, img)
    return img


@jit
def _transpose_into(src, src0, rows, cols, dst, dst0):
    """``dst[dst0 + c*rows + r] = src[src0 + r*cols + c]``: a (rows, cols) block, flat,
    transposed in 16 x 16 tiles (both sides then stay in cache lines already loaded;
    unsigned indices throughout, see :func:`_copy_run`)."""
    s0, d0 = uintp(src0), uintp(dst0)
    nr, nc = uintp(rows), uintp(cols)
    b = uintp(16)
    for rb in range(uintp(0), nr, b):
        re = min(rb + b, nr)
        for cb in range(uintp(0), nc, b):
            ce = min(cb + b, nc)
            for c in range(cb, ce):
                for r in range(rb, re):
                    dst[d0 + c * nr + r] = src[s0 + r * nc + c]


@jit
def im2col(x, filter_h, filter_w, stride, pad, col):
    """The book's ``im2col`` into a preallocated ``col`` (a pure copy: the same bits).

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous
    filter_h, filter_w, stride, pad : int (stride >= 1, pad >= 0, the filter fits)
    col : (N*OH*OW, C*filter_h*filter_w) float array, C-contiguous, written

    Returns
    -------
    col

    Notes
    -----
    Written row by row in memory order: each (c, y) of a row is a run of ``filter_w``
    input elements, copied without per-element tests when the whole run is inside the
    image (flat, unsigned indices, as in :func:`_copy_run`).
    """
    n_, c_, h, w = x.shape
    oh = (h + 2 * pad - filter_h) // stride + 1
    ow = (w + 2 * pad - filter_w) // stride + 1
    k_ = c_ * filter_h * filter_w
    xf = x.reshape(-1)
    cf = col.reshape(-1)
    zero = col.dtype.type(0)
    ufw = uintp(filter_w)
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                d = uintp(((n * oh + i) * ow + j) * k_)
                x0 = j * stride - pad
                inside = x0 >= 0 and x0 + filter_w <= w
                for c in range(c_):
                    for y in range(filter_h):
                        yy = i * stride + y - pad
                        row0 = ((n * c_ + c) * h + yy) * w
                        if yy < 0 or yy >= h:
                            for e in range(ufw):
                                cf[d + e] = zero
                        elif inside:
                            s = uintp(row0 + x0)
                            for e in range(ufw):
                                cf[d + e] = xf[s + e]
                        else:
                            for xk in range(filter_w):
                                xx = x0 + xk
                                cf[d + uintp(xk)] = xf[row0 + xx] if 0 <= xx < w else zero
                        d += ufw
    return col


@jit
def col2im(col, filter_h, filter_w, stride, pad, img):
    """The book's ``col2im`` into a preallocated (N, C, H, W) ``img`` (overwritten), bit
    for bit (see :func:`_fold_chunk` for the order of the sums).

    Parameters
    ----------
    col : (N*OH*OW, C*filter_h*filter_w) float array, C-contiguous
    filter_h, filter_w, stride, pad : int, as given to :func:`im2col`
    img : (N, C, H, W) float array, C-contiguous, written

    Returns
    -------
    img
    """
    n_, k_ = img.shape[0], col.shape[1]
    p = col.shape[0] // n_
    buf = np.empty(k_ * p, dtype=img.dtype)
    cf = col.reshape(-1)
    for n in range(n_):
        _transpose_into(cf, n * p * k_, p, k_, buf, 0)
        _fold_sample(buf, 0, n, filter_h, filter_w, stride, pad, img)
    return img


@jit
def conv_forward(x, W, b, stride, pad, cols, out):
    """``out = conv(x, W) + b``: :func:`unfold` into ``cols``, then one GEMM per sample.

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous
    W : (FN, C, FH, FW) same dtype, C-contiguous
    b : (FN,) same dtype
    stride, pad : int
    cols : (N, K, P) same dtype, written (the layer keeps it for backward)
    out : (N, FN, OH, OW) same dtype, written

    Returns
    -------
    out

    Notes
    -----
    ``out[n].reshape(FN, P) = W.reshape(FN, K) @ cols[n] + b[:, None]``.
    """
    fn, c_, fh, fw = W.shape
    n_, k, p = cols.shape
    unfold(x, fh, fw, stride, pad, cols)
    wm = W.reshape(fn, k)
    for n in range(n_):
        on = out[n].reshape(fn, p)
        np.dot(wm, cols[n], on)
        for f in range(fn):
            bf = b[f]
            for q in range(p):
                on[f, q] += bf
    return out


@jit
def _add_row_sums(df, base, rows, p, db):
    """``db[f] += sum(df[base + f*p : base + (f+1)*p])`` for each row f, adding in order
    (the book's ``np.sum(dout, axis=0)`` adds the samples' pixels one after another).
    Four rows at a time: four independent chains instead of one, which is what bounds a
    sequential sum (measured 1.4-2.2x faster than one row at a time at (30, 576))."""
    b0 = uintp(base)
    f = 0
    while f + 4 <= rows:
        r = b0 + uintp(f * p)
        s0, s1, s2, s3 = db[f], db[f + 1], db[f + 2], db[f + 3]
        for q in range(p):
            e = r + uintp(q)
            s0 += df[e]
            s1 += df[e + uintp(p)]
            s2 += df[e + uintp(2 * p)]
            s3 += df[e + uintp(3 * p)]
        db[f], db[f + 1], db[f + 2], db[f + 3] = s0, s1, s2, s3
        f += 4
    for g in range(f, rows):
        r = b0 + uintp(g * p)
        s = db[g]
        for q in range(p):
            s += df[r + uintp(q)]
        db[g] = s


@jit
def conv_backward(dout, cols, W, stride, pad, dW, db, dcols, dx):
    """Gradients of :func:`conv_forward`; the input gradient is optional.

    Parameters
    ----------
    dout : (N, FN, OH, OW) float array, C-contiguous, upstream gradient
    cols : (N, K, P) the forward's unfolded input, K = C*FH*FW
    W : (FN, C, FH, FW)
    stride, pad : int, the forward's
    dW : (FN, C, FH, FW) written with the book's ``col.T @ dout`` in the filters' shape
    db : (FN,) written with the sum of ``dout`` over N, OH, OW (in the book's order)
    dcols : (N, K, P) scratch for ``W.T @ dout_n``, or None
    dx : (N, C, H, W) written with ``col2im`` of ``dcols``, or None to skip both (a net's
        first layer never needs its input gradient)

    Returns
    -------
    dx (or None)
    """
    fn = W.shape[0]
    n_, k, p = cols.shape
    fh, fw = W.shape[2], W.shape[3]
    wm = W.reshape(fn, k)
    dwm = dW.reshape(fn, k)
    zero = dW.dtype.type(0)
    dwm[:] = zero
    db[:] = zero
    one = dW.dtype.type(1)
    df = dout.reshape(-1)
    for n in range(n_):
        dn = dout[n].reshape(fn, p)
        gemm_acc(dn, cols[n].T, dwm, one)
        _add_row_sums(df, n * fn * p, fn, p, db)
        if dx is not None:
            np.dot(wm.T, dn, dcols[n])
            _fold_sample(dcols.reshape(-1), n * k * p, n, fh, fw, stride, pad, dx)
    return dx
