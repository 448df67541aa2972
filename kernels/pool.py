"""Max-pooling kernels (vol. 1 ch. 7): forward with the book's ``arg_max``, and backward.

The book pools through ``im2col``: its ``arg_max`` is the flat (N*OH*OW*C,) array of the
first maximum's offset ``y*pool_w + x`` in each window, window ``((n*OH + i)*OW + j)*C + c``.
These kernels keep that array bit for bit but never build the column matrix. Positions in
the padding count as 0, as the book's zero-padded im2col makes them.

Indices are flat and unsigned inside the loops: a signed index makes Numba test for a
negative value at every access (see :mod:`.conv`).
"""
import numpy as np
from numba import uintp

from ._jit import jit


@jit
def _pool_plane_inside(xf, plane, h, w, pool_h, pool_w, stride, oh, ow, of, out0, arg_max, arg0, arg_step):
    """:func:`pool_forward` of one (n, c) plane whose windows all lie inside the image
    (pad 0): no bounds tests, no branches in the window loop."""
    for i in range(oh):
        for j in range(ow):
            base = uintp(plane + i * stride * w + j * stride)
            best = xf[base]
            arg = 0
            nan = False
            for y in range(pool_h):
                for xk in range(pool_w):
                    v = xf[base + uintp(y * w + xk)]
                    # no branch: random data would mispredict half of them
                    take = v > best
                    best = v if take else best
                    arg = (y * pool_w + xk) if take else arg
                    nan |= v != v
            if nan:  # rare: redo with np.max/np.argmax's rule (the first NaN wins)
                for e in range(pool_h * pool_w):
                    v = xf[base + uintp((e // pool_w) * w + e % pool_w)]
                    if v != v:
                        best = v
                        arg = e
                        break
            of[uintp(out0 + i * ow + j)] = best
            arg_max[uintp(arg0 + (i * ow + j) * arg_step)] = arg


@jit
def _first_nan(xf, r0, r1, q, best, arg):
    """The first NaN of the 2x2 window at ``r0 + q`` / ``r1 + q`` and its offset, else
    ``(best, arg)`` unchanged (an inf - inf row flagged by the caller has none)."""
    for e in range(4):
        v = xf[(r0 if e < 2 else r1) + q + uintp(e % 2)]
        if v != v:
            return v, e
    return best, arg


@jit
def _pool2_forward(x, out, arg_max):
    """:func:`pool_forward` for 2x2 windows, stride 2, no padding: :func:`pool2_forward`,
    then its offsets written in the book's ``(n, i, j, c)`` order."""
    n_, c_, oh, ow = out.shape
    arg = np.empty((n_, c_, oh, ow), np.uint8)
    pool2_forward(x, out, arg)
    p = oh * ow
    af = arg.reshape(-1)
    for n in range(n_):
        for c in range(c_):
            src = uintp((n * c_ + c) * p)
            dst = uintp(n * p * c_ + c)
            for k in range(uintp(p)):
                arg_max[dst + k * uintp(c_)] = af[src + k]
    return out


@jit
def _pool2_backward(dout, arg_max, dx):
    """:func:`pool_backward` for 2x2 windows, stride 2, no padding: the book-order offsets
    gathered into :func:`pool2_backward`'s form (any value other than 0 .. 3, negative ones
    included, becomes 4: selects nothing), then that kernel."""
    n_, c_, oh, ow = dout.shape
    arg = np.empty((n_, c_, oh, ow), np.uint8)
    p = oh * ow
    af = arg.reshape(-1)
    for n in range(n_):
        for c in range(c_):
            src = uintp(n * p * c_ + c)
            dst = uintp((n * c_ + c) * p)
            for k in range(uintp(p)):
                v = arg_max[src + k * uintp(c_)]
                af[dst + k] = np.uint8(v) if 0 <= v < 4 else np.uint8(4)
    return pool2_backward(dout, arg, dx)


@jit
def pool2_forward(x, out, arg):
    """The book's every pooling (2x2 windows, stride 2, no padding) with the maxima's
    offsets kept compact: ``arg[n, c, i, j]`` = ``y*2 + x`` of window (i, j)'s first
    maximum, in the output's own order (the book's ``arg_max`` is the same numbers in
    ``(n, i, j, c)`` order, as intp: :func:`fastprop.layers.Pooling` builds it when it is
    read). One write per output and per offset, both contiguous, where the book's order
    strides the offsets by C: 1.19-1.37 -> 0.69-0.88 ms float64, 0.84-1.72 -> 0.24-0.46 ms
    float32 at (100, 30, 24, 24), 1 thread.

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous (H, W >= 2; an odd last row/column is
        left out, as the book's OH = (H - 2) // 2 + 1 leaves it)
    out : (N, C, H // 2, W // 2) same dtype, C-contiguous, written
    arg : (N, C, H // 2, W // 2) uint8, C-contiguous, written (0 .. 3)

    Returns
    -------
    out
    """
    n_, c_, h, w = x.shape
    oh, ow = out.shape[2], out.shape[3]
    xf = x.reshape(-1)
    of = out.reshape(-1)
    af = arg.reshape(-1)
    one = uintp(1)
    for plane in range(n_ * c_):
        src = uintp(plane * h * w)
        o0 = uintp(plane * oh * ow)
        for i in range(oh):
            r0 = src + uintp(2 * i * w)
            r1 = r0 + uintp(w)
            o = o0 + uintp(i * ow)
            bad = False
            for j in range(ow):
                q = uintp(2 * j)
                v0, v1, v2, v3 = xf[r0 + q], xf[r0 + q + one], xf[r1 + q], xf[r1 + q + one]
                # no branch: random data would mispredict half of them
                best, a = v0, np.uint8(0)
                take = v1 > best
                best, a = (v1 if take else best), (np.uint8(1) if take else a)
                take = v2 > best
                best, a = (v2 if take else best), (np.uint8(2) if take else a)
                take = v3 > best
                best, a = (v3 if take else best), (np.uint8(3) if take else a)
                bad |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3)
                of[o + uintp(j)] = best
                af[o + uintp(j)] = a
            if bad:  # rare: redo this row with np.max/np.argmax's rule (the first NaN wins)
                for j in range(ow):
                    k = o + uintp(j)
                    best, e = _first_nan(xf, r0, r1, uintp(2 * j), of[k], int(af[k]))
                    of[k] = best
                    af[k] = np.uint8(e)
    return out


@jit
def pool2_backward(dout, arg, dx):
    """``dx`` of :func:`pool2_forward`: each upstream gradient at its window's maximum
    (``0 + dout``, as the book's zero matrix plus ``col2im`` gives), zeros elsewhere. Each
    pair of image rows is zeroed and filled while it is in L1, so ``dx`` is written once
    (the book-order kernel before it zeroed all of ``dx``, then added into it): 1.3-2.6 ->
    0.7-0.87 ms float64 at (100, 30, 24, 24), 1 thread.

    Parameters
    ----------
    dout : (N, C, OH, OW) float array, C-contiguous
    arg : (N, C, OH, OW) uint8 from :func:`pool2_forward` (values above 3 select nothing)
    dx : (N, C, H, W) same dtype as ``dout``, C-contiguous, written; OH = H // 2, OW = W // 2

    Returns
    -------
    dx
    """
    n_, c_, h, w = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    df = dout.reshape(-1)
    af = arg.reshape(-1)
    xf = dx.reshape(-1)
    zero = dx.dtype.type(0)
    for plane in range(n_ * c_):
        d0 = uintp(plane * h * w)
        o0 = uintp(plane * oh * ow)
        for i in range(oh):
            r0 = d0 + uintp(2 * i * w)
            for e in range(uintp(2 * w)):
                xf[r0 + e] = zero
            o = o0 + uintp(i * ow)
            for j in range(ow):
                a = uintp(af[o + uintp(j)])
                if a < uintp(4):
                    xf[r0 + uintp(2 * j) + (a & uintp(1)) + (a >> uintp(1)) * uintp(w)] = zero + df[o + uintp(j)]
        for e in range(d0 + uintp(2 * oh * w), d0 + uintp(h * w)):  # an odd last row
            xf[e] = zero
    return dx


@jit
def pool_forward(x, pool_h, pool_w, stride, pad, out, arg_max):
    """``out`` = the maximum of each window, ``arg_max`` = its first offset (ties: the
    first, like ``np.argmax``; a NaN counts as the maximum, like ``np.max``).

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous
    pool_h, pool_w, stride, pad : int (stride >= 1, pad >= 0, the window fits)
    out : (N, C, OH, OW) same dtype, C-contiguous, written; ``OH = (H + 2*pad - pool_h) // stride + 1``
    arg_max : (N*OH*OW*C,) intp, written

    Returns
    -------
    out
    """
    if pool_h == 2 and pool_w == 2 and stride == 2 and pad == 0:
        return _pool2_forward(x, out, arg_max)
    n_, c_, h, w = x.shape
    oh, ow = out.shape[2], out.shape[3]
    zero = x.dtype.type(0)
    xf = x.reshape(-1)
    of = out.reshape(-1)
    for n in range(n_):
        for c in range(c_):
            plane = (n * c_ + c) * h * w
            if pad == 0:
                _pool_plane_inside(xf, plane, h, w, pool_h, pool_w, stride, oh, ow, of,
                                   (n * c_ + c) * oh * ow, arg_max, n * oh * ow * c_ + c, c_)
                continue
            for i in range(oh):
                y0 = i * stride - pad
                for j in range(ow):
                    x0 = j * stride - pad
                    best = zero
                    arg = 0
                    for y in range(pool_h):
                        yy = y0 + y
                        for xk in range(pool_w):
                            xx = x0 + xk
                            v = xf[plane + yy * w + xx] if 0 <= yy < h and 0 <= xx < w else zero
                            if (y == 0 and xk == 0) or v > best or (v != v and best == best):
                                best = v
                                arg = y * pool_w + xk
                    of[((n * c_ + c) * oh + i) * ow + j] = best
                    arg_max[((n * oh + i) * ow + j) * c_ + c] = arg
    return out


@jit
def pool_backward(dout, arg_max, pool_h, pool_w, stride, pad, dx):
    """``dx``: each upstream gradient added at its window's maximum, in the book's order.

    Parameters
    ----------
    dout : (N, C, OH, OW) float array, C-contiguous
    arg_max : (N*OH*OW*C,) integer array from :func:`pool_forward` (values other than
        ``0 .. pool_h*pool_w - 1`` select nothing)
    pool_h, pool_w, stride, pad : int, the forward's
    dx : (N, C, H, W) same dtype as ``dout``, C-contiguous, written

    Returns
    -------
    dx

    Notes
    -----
    The book scatters into a zero matrix and calls ``col2im``, which adds window offsets
    in ``(y, x)`` order; looping over the offsets outermost adds overlapping windows'
    contributions (stride < pool size) in that same order, so the sums are the same bits.
    Windows that do not overlap give each pixel at most one term, so there one pass over
    the windows writes the same numbers.
    """
    if pool_h == 2 and pool_w == 2 and stride == 2 and pad == 0:
        return _pool2_backward(dout, arg_max, dx)
    n_, c_, h, w = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    zero = dx.dtype.type(0)
    size = pool_h * pool_w
    df = dout.reshape(-1)
    xf = dx.reshape(-1)
    xf[:] = zero
    disjoint = stride >= pool_h and stride >= pool_w
    for n in range(n_):
        for c in range(c_):
            plane = (n * c_ + c) * h * w
            if disjoint:
                for i in range(oh):
                    for j in range(ow):
                        k = arg_max[uintp(((n * oh + i) * ow + j) * c_ + c)]
                        if 0 <= k < size:
                            yy = i * stride - pad + k // pool_w
                            xx = j * stride - pad + k % pool_w
                            if 0 <= yy < h and 0 <= xx < w:
                                xf[uintp(plane + yy * w + xx)] += df[uintp(((n * c_ + c) * oh + i) * ow + j)]
                continue
            for y in range(pool_h):
                for xk in range(pool_w):
                    k = y * pool_w + xk
                    for i in range(oh):
                        yy = i * stride + y - pad
                        if yy < 0 or yy >= h:
                            continue
                        for j in range(ow):
                            xx = j * stride + xk - pad
                            if 0 <= xx < w and arg_max[((n * oh + i) * ow + j) * c_ + c] == k:
                                xf[plane + yy * w + xx] += df[((n * c_ + c) * oh + i) * ow + j]
    return dx
