"""Convolution in chunks of samples on every core (vol. 1 ch. 7-8): the layers' hot path.

:mod:`.conv` unfolds the whole batch into ``cols (N, K, P)`` and runs one small GEMM per
sample, one after the other. Here, as in oneDNN's ``gemm_convolution`` and PyTorch's
``slow_conv2d``, the batch is cut into chunks of ``chunk`` samples, the chunks are spread
over Numba's threads with ``prange`` (each BLAS call inside runs on one thread: call these
inside :func:`fastprop.threads.parallel_region`), and a chunk's columns live only in that
thread's buffer, sized by the caller to stay in L2:

* forward: ``cols (K, nb*P)`` of the chunk, one GEMM ``W (FN, K) @ cols`` whose long
  inner side is ``nb*P`` (a per-sample GEMM of conv5/conv6 in DeepConvNet is 64 x 576 x 64,
  too small for BLAS to reach its speed), then one pass from the GEMM's result into the
  NCHW output that adds the bias and, on request, applies the ReLU;
* backward: the chunk's columns recomputed from the saved input (nothing of size
  ``N*K*P`` is kept between forward and backward), ``dout`` of the chunk gathered into
  ``(FN, nb*P)``, one GEMM per chunk for its partial ``dW``, and for ``dx`` the columns'
  gradient ``W.T @ dout`` written over the chunk's columns and folded at once.

Same numbers whatever the thread count: the chunks are fixed by ``chunk`` (not by the
threads), each chunk's ``dW`` goes to its own slot and the slots are added in chunk
order; ``db`` adds each filter's pixels in the book's order (one sample after another),
filters split over the threads.

Shapes are the book's: ``x`` (N, C, H, W), ``W`` (FN, C, FH, FW), ``K = C*FH*FW``,
``P = OH*OW``; every array is C-contiguous and of one float dtype.
"""
import numpy as np
from numba import prange, uintp

from ._jit import jit
from .conv import _add_row_sums, _fill_chunk, _fold_chunk


@jit
def _pad_chunk(xf, n0, nb, c_, h, w, pad, hp, wp, tail, dst):
    """Samples ``n0 .. n0+nb-1`` zero-padded into the flat ``dst``: plane (j, c) is the
    (hp, wp) = (H + 2*pad, W + 2*pad) image at ``(j*C + c)*hp*wp``, then ``tail`` zeros
    (the last wide run of :func:`_fill_wide` reads up to FW - 1 elements past the end)."""
    zero = dst.dtype.type(0)
    for plane in range(nb * c_):
        src = uintp((n0 * c_ + plane) * h * w)
        for yy in range(hp):
            d = uintp((plane * hp + yy) * wp)
            iy = yy - pad
            if 0 <= iy < h:
                for e in range(pad):
                    dst[d + uintp(e)] = zero
                s = src + uintp(iy * w)
                d2 = d + uintp(pad)
                for e in range(uintp(w)):
                    dst[d2 + e] = xf[s + e]
                for e in range(pad + w, wp):
                    dst[d + uintp(e)] = zero
            else:
                for e in range(uintp(wp)):
                    dst[d + e] = zero
    end = nb * c_ * hp * wp
    for e in range(end, end + tail):
        dst[e] = zero


@jit
def _fill_wide(padded, nb, c_, hp, wp, fh, fw, oh, dst):
    """Stride-1 columns over the padded width: row k = (c, y, x) of sample j is the single
    run ``padded[(j*C + c)*hp*wp + y*wp + x :][:OH*wp]`` (output pixel (i, jj) at i*wp + jj;
    the columns jj >= OW read across a row end and are never used). One long copy per
    row instead of OH runs of OW with their padding tests."""
    pw = uintp(oh * wp)
    row = uintp(nb) * pw
    k = uintp(0)
    for c in range(c_):
        for y in range(fh):
            for xk in range(fw):
                for j in range(nb):
                    s = uintp((j * c_ + c) * hp * wp + y * wp + xk)
                    d = k * row + uintp(j) * pw
                    for e in range(pw):
                        dst[d + e] = padded[s + e]
                k += uintp(1)


@jit
def _fold_wide(src, nb, c_, hp, wp, fh, fw, oh, tail, grad):
    """The transpose of :func:`_fill_wide`: ``grad`` (padded planes, flat) zeroed, then each
    row of the (K, nb*OH*wp) column gradient ``src`` added as one run, filter offsets in
    the book's order. The unused columns jj >= OW hold exact zeros (their ``dout`` was
    gathered as 0), so what they add changes nothing."""
    zero = grad.dtype.type(0)
    for e in range(nb * c_ * hp * wp + tail):
        grad[e] = zero
    pw = uintp(oh * wp)
    row = uintp(nb) * pw
    k = uintp(0)
    for c in range(c_):
        for y in range(fh):
            for xk in range(fw):
                for j in range(nb):
                    d = uintp((j * c_ + c) * hp * wp + y * wp + xk)
                    s = k * row + uintp(j) * pw
                    for e in range(pw):
                        grad[d + e] += src[s + e]
                k += uintp(1)


@jit
def _crop(grad, n0, nb, c_, h, w, pad, hp, wp, imf):
    """``img[n0 + j, c] = grad[(j*C + c)]``'s interior (the padding's gradient dropped)."""
    for plane in range(nb * c_):
        d0 = uintp((n0 * c_ + plane) * h * w)
        for iy in range(h):
            s = uintp((plane * hp + iy + pad) * wp + pad)
            d = d0 + uintp(iy * w)
            for e in range(uintp(w)):
                imf[d + e] = grad[s + e]


@jit
def _epilogue(res, b, relu, n0, nb, fn, oh, ow, rp, of):
    """``out[n0 + j, f, i, jj] = res[f, j*OH*rp + i*rp + jj] + b[f]`` (``rp``: the GEMM
    result's row pitch, OW, or the padded width of the wide columns), through the ReLU on
    request (the book's: x <= 0 gives 0, NaN stays NaN)."""
    zero = of.dtype.type(0)
    pw = oh * rp
    row = uintp(nb * pw)
    for f in range(fn):
        bf = b[f]
        for j in range(nb):
            for i in range(oh):
                s = uintp(f) * row + uintp(j * pw + i * rp)
                d = uintp((((n0 + j) * fn + f) * oh + i) * ow)
                if relu:
                    for q in range(uintp(ow)):
                        v = res[s + q] + bf
                        of[d + q] = zero if v <= zero else v
                else:
                    for q in range(uintp(ow)):
                        of[d + q] = res[s + q] + bf


@jit
def _max_nan(a, b):
    """``max(a, b)`` where a NaN wins (``np.max``'s rule)."""
    return a if (a >= b or a != a) else b


@jit
def _epilogue_pool(res, b, n0, nb, fn, oh, ow, rp, of):
    """``out[n0 + j, f, i, jj]`` = the 2x2, stride-2 max pool of ``relu(res + b[f])``
    (``relu(max(v) + b) == max(relu(v + b))``: both are increasing; a NaN wins the max
    and survives the ReLU, as in the book's layers)."""
    zero = of.dtype.type(0)
    ph, pw_ = oh // 2, ow // 2
    pitch = oh * rp
    row = uintp(nb * pitch)
    for f in range(fn):
        bf = b[f]
        for j in range(nb):
            for i in range(ph):
                s0 = uintp(f) * row + uintp(j * pitch + 2 * i * rp)
                s1 = s0 + uintp(rp)
                d = uintp((((n0 + j) * fn + f) * ph + i) * pw_)
                for q in range(uintp(pw_)):
                    e = uintp(2) * q
                    v = _max_nan(_max_nan(res[s0 + e], res[s0 + e + uintp(1)]),
                                 _max_nan(res[s1 + e], res[s1 + e + uintp(1)])) + bf
                    of[d + q] = zero if v <= zero else v


@jit
def _gather(df, n0, nb, fn, oh, ow, rp, dst):
    """``dst[f, j*OH*rp + i*rp + jj] = dout[n0 + j, f, i, jj]``, 0 for jj >= OW: the
    chunk's gradient in the layout of :func:`_epilogue`'s ``res``."""
    zero = dst.dtype.type(0)
    pw = oh * rp
    row = uintp(nb * pw)
    for j in range(nb):
        for f in range(fn):
            for i in range(oh):
                s = uintp((((n0 + j) * fn + f) * oh + i) * ow)
                d = uintp(f) * row + uintp(j * pw + i * rp)
                for q in range(uintp(ow)):
                    dst[d + q] = df[s + q]
                for q in range(ow, rp):
                    dst[d + uintp(q)] = zero


@jit
def _layout(c_, h, w, fw, stride, pad, ow):
    """``(wide, hp, wp, rp, plane)``: stride 1 uses the wide columns of :func:`_fill_wide`
    (padded planes of hp x wp = (H + 2*pad) x (W + 2*pad), ``plane = C*hp*wp`` per
    sample, GEMM rows of pitch ``rp = wp``); other strides the exact (K, nb*P) columns
    of :func:`.conv._fill_chunk` (``rp = OW``, no padded copy)."""
    if stride == 1:
        hp, wp = h + 2 * pad, w + 2 * pad
        return True, hp, wp, wp, c_ * hp * wp
    return False, 0, 0, ow, 0


@jit
def _spans(n_, chunk, work):
    """(number of chunks, lanes): one lane per row of ``work`` (the caller gives one row
    per thread), never more lanes than chunks."""
    nchunks = (n_ + chunk - 1) // chunk
    return nchunks, max(1, min(work.shape[0], nchunks))


#: what :func:`conv2d_forward` writes after the GEMM
BIAS, BIAS_RELU, BIAS_RELU_POOL = 0, 1, 2


@jit(parallel=True)
def conv2d_forward(x, W, b, stride, pad, chunk, work, epilogue, out):
    """``out = conv(x, W) + b``, ``chunk`` samples at a time, with the ReLU and the 2x2 max
    pool on request in the same pass.

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous
    W : (FN, C, FH, FW) same dtype, C-contiguous
    b : (FN,) same dtype
    stride, pad : int (stride >= 1, pad >= 0, the filter fits)
    chunk : int >= 1, samples per GEMM (``fastprop.layers.conv.conv_chunk``)
    work : (T, R) same dtype, C-contiguous, scratch: one row per thread (T = the thread
        count of the parallel region; more rows are unused), R >= (K + FN)*chunk*P at
        stride > 1 and R >= (K + FN)*chunk*OH*(W + 2*pad) + chunk*C*(H + 2*pad)*(W + 2*pad)
        + FW at stride 1 (``fastprop.layers.conv.conv_work_row``)
    epilogue : int, :data:`BIAS` (the layer), :data:`BIAS_RELU` (then the book's ReLU: x <= 0
        gives 0, NaN stays NaN) or :data:`BIAS_RELU_POOL` (then the book's 2x2, stride-2 max
        pooling: inference, the convolution's output never leaves the chunk's buffer)
    out : (N, FN, OH, OW) same dtype, C-contiguous, written; (N, FN, OH // 2, OW // 2) with
        the pooling (an odd last row or column dropped, as the book's pooling does)

    Returns
    -------
    out

    Notes
    -----
    ``out[n].reshape(FN, P) = W.reshape(FN, K) @ cols_n + b[:, None]`` with ``cols_n`` the
    (K, P) im2col of sample n. One compiled kernel for the three epilogues: a parallel
    kernel takes seconds to compile, so each specialisation counts.
    """
    n_, c_, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    k = c_ * fh * fw
    wide, hp, wp, rp, plane = _layout(c_, h, w, fw, stride, pad, ow)
    nchunks, nt = _spans(n_, chunk, work)
    wm = W.reshape(fn, k)
    xf, of = x.reshape(-1), out.reshape(-1)
    for t in prange(nt):
        buf = work[t]
        for ci in range(t * nchunks // nt, (t + 1) * nchunks // nt):
            n0 = ci * chunk
            nb = min(chunk, n_ - n0)
            m = nb * oh * rp
            cols = buf[:k * m]
            res = buf[k * m:(k + fn) * m]
            if wide:
                padded = buf[(k + fn) * m:(k + fn) * m + nb * plane + fw]
                _pad_chunk(xf, n0, nb, c_, h, w, pad, hp, wp, fw, padded)
                _fill_wide(padded, nb, c_, hp, wp, fh, fw, oh, cols)
            else:
                _fill_chunk(xf, n0, nb, c_, h, w, fh, fw, stride, pad, oh, ow, cols, 0)
            np.dot(wm, cols.reshape(k, m), res.reshape(fn, m))
            if epilogue == BIAS_RELU_POOL:
                _epilogue_pool(res, b, n0, nb, fn, oh, ow, rp, of)
            else:
                _epilogue(res, b, epilogue == BIAS_RELU, n0, nb, fn, oh, ow, rp, of)
    return out


@jit(parallel=True)
def conv2d_backward(x, W, dout, stride, pad, chunk, work, dW, db, dx):
    """Gradients of :func:`conv2d_forward` (without its ReLU) from the saved input.

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous, the forward's input
    W : (FN, C, FH, FW) same dtype
    dout : (N, FN, OH, OW) same dtype, C-contiguous, upstream gradient
    stride, pad : int, the forward's
    chunk : int >= 1, samples per GEMM (any value gives the same numbers to rounding;
        one value gives the same bits at every thread count)
    work : (T, R) same dtype, C-contiguous, scratch: one row per thread (T = the thread
        count of the parallel region; more rows are unused), R >= (K + FN)*chunk*P at
        stride > 1 and R >= (K + FN)*chunk*OH*(W + 2*pad) + chunk*C*(H + 2*pad)*(W + 2*pad)
        + FW at stride 1 (``fastprop.layers.conv.conv_work_row``)
    dW : (FN, C, FH, FW) written, the book's ``col.T @ dout`` in the filters' shape
    db : (FN,) written, the sum of ``dout`` over N, OH, OW in the book's order
    dx : (N, C, H, W) same dtype, written (the book's ``col2im`` of ``dout @ col_W.T``), or
        an empty array (size 0, any 4-D shape) to skip it (a net's first layer): one
        compiled kernel for both, not a second specialisation for None

    Returns
    -------
    dx
    """
    n_, c_, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = dout.shape[2], dout.shape[3]
    p, k = oh * ow, c_ * fh * fw
    wide, hp, wp, rp, plane = _layout(c_, h, w, fw, stride, pad, ow)
    nchunks, nt = _spans(n_, chunk, work)
    wm = W.reshape(fn, k)
    xf, df = x.reshape(-1), dout.reshape(-1)
    slots = np.empty((nchunks, fn, k), dtype=x.dtype)
    need_dx = dx.size > 0
    for t in prange(nt):
        buf = work[t]
        for ci in range(t * nchunks // nt, (t + 1) * nchunks // nt):
            n0 = ci * chunk
            nb = min(chunk, n_ - n0)
            m = nb * oh * rp
            cols = buf[:k * m]
            dc = buf[k * m:(k + fn) * m]
            padded = buf[(k + fn) * m:(k + fn) * m + nb * plane + fw]
            if wide:
                _pad_chunk(xf, n0, nb, c_, h, w, pad, hp, wp, fw, padded)
                _fill_wide(padded, nb, c_, hp, wp, fh, fw, oh, cols)
            else:
                _fill_chunk(xf, n0, nb, c_, h, w, fh, fw, stride, pad, oh, ow, cols, 0)
            _gather(df, n0, nb, fn, oh, ow, rp, dc)
            d2 = dc.reshape(fn, m)
            np.dot(d2, cols.reshape(k, m).T, slots[ci])
            if need_dx:
                # the columns are used up: their gradient goes in the same buffer
                np.dot(wm.T, d2, cols.reshape(k, m))
                if wide:
                    _fold_wide(cols, nb, c_, hp, wp, fh, fw, oh, fw, padded)
                    _crop(padded, n0, nb, c_, h, w, pad, hp, wp, dx.reshape(-1))
                else:
                    _fold_chunk(cols, 0, n0, nb, c_, h, w, fh, fw, stride, pad, oh, ow, dx.reshape(-1))
    # the chunks' dW, added in chunk order (the same bits at any thread count), and db,
    # four filters at a time, each filter's pixels in the book's order: both serial, they
    # are a few hundred thousand adds (~0.1 ms), less than a parallel region's compile
    # time and barrier are worth
    sf = slots.reshape(nchunks, fn * k)
    dwf = dW.reshape(-1)
    dwf[:] = sf[0]
    for ci in range(1, nchunks):
        for e in range(fn * k):
            dwf[e] += sf[ci, e]
    db[:] = db.dtype.type(0)
    for n in range(n_):
        _add_row_sums(df, n * fn * p, fn, p, db)
    return dx
