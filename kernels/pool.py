"""Max-pooling kernels (vol. 1 ch. 7): forward with the book's ``arg_max``, and backward.

The book pools through ``im2col``: its ``arg_max`` is the flat (N*OH*OW*C,) array of the
first maximum's offset ``y*pool_w + x`` in each window, window ``((n*OH + i)*OW + j)*C + c``.
These kernels keep that array bit for bit but never build the column matrix. Positions in
the padding count as 0, as the book's zero-padded im2col makes them.

Indices are flat and unsigned inside the loops: a signed index makes Numba test for a
negative value at every access (see :mod:`.conv`).
"""
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
