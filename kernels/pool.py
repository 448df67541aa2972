"""Max-pooling kernels (vol. 1 ch. 7): forward with the book's ``arg_max``, and backward.

The book pools through ``im2col``: its ``arg_max`` is the flat (N*OH*OW*C,) array of the
first maximum's offset ``y*pool_w + x`` in each window, window ``((n*OH + i)*OW + j)*C + c``.
These kernels keep that array bit for bit but never build the column matrix. Positions in
the padding count as 0, as the book's zero-padded im2col makes them.
"""
from ._jit import jit


@jit
def pool_forward(x, pool_h, pool_w, stride, pad, out, arg_max):
    """``out`` = the maximum of each window, ``arg_max`` = its first offset (ties: the
    first, like ``np.argmax``; a NaN counts as the maximum, like ``np.max``).

    Parameters
    ----------
    x : (N, C, H, W) float array, C-contiguous
    pool_h, pool_w, stride, pad : int (stride >= 1, pad >= 0, the window fits)
    out : (N, C, OH, OW) same dtype, written; ``OH = (H + 2*pad - pool_h) // stride + 1``
    arg_max : (N*OH*OW*C,) intp, written

    Returns
    -------
    out
    """
    n_, c_, h, w = x.shape
    oh, ow = out.shape[2], out.shape[3]
    zero = x.dtype.type(0)
    for n in range(n_):
        for c in range(c_):
            for i in range(oh):
                for j in range(ow):
                    best = zero
                    arg = 0
                    for y in range(pool_h):
                        yy = i * stride + y - pad
                        for xk in range(pool_w):
                            xx = j * stride + xk - pad
                            v = x[n, c, yy, xx] if 0 <= yy < h and 0 <= xx < w else zero
                            if (y == 0 and xk == 0) or v > best or (v != v and best == best):
                                best = v
                                arg = y * pool_w + xk
                    out[n, c, i, j] = best
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
    dx : (N, C, H, W) same dtype as ``dout``, written

    Returns
    -------
    dx

    Notes
    -----
    The book scatters into a zero matrix and calls ``col2im``, which adds window offsets
    in ``(y, x)`` order; looping over the offsets outermost adds overlapping windows'
    contributions (stride < pool size) in that same order, so the sums are the same bits.
    """
    n_, c_, h, w = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    zero = dx.dtype.type(0)
    for n in range(n_):
        for c in range(c_):
            for yy in range(h):
                for xx in range(w):
                    dx[n, c, yy, xx] = zero
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
                                dx[n, c, yy, xx] += dout[n, c, i, j]
    return dx
