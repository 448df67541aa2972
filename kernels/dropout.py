"""vol. 1 Dropout: the masked multiply of the forward (mask from the book's uniform draws)
and of the backward. Both take 1-D C-contiguous views; the layer flattens any shape.

The uniform numbers themselves come from ``np.random.rand`` in the caller (the global
legacy generator, exactly as the book draws them); what is fused here is the comparison
with the ratio, the mask and the multiply, one pass instead of three NumPy calls and two
temporaries.
"""
from ._jit import jit


@jit
def dropout_forward(x, rand, ratio, out, mask):
    """``mask = rand > ratio``; ``out = x * mask`` in one pass.

    Parameters
    ----------
    x : (n,) float32/float64
    rand : (n,) float64, uniform draws in [0, 1) (the book's ``np.random.rand(*x.shape)``)
    ratio : float, the dropout ratio (compared in float64, like the book's comparison of
        float64 draws with a Python float)
    out : (n,) ``x``'s dtype, written
    mask : (n,) bool, written

    Returns
    -------
    out

    Notes
    -----
    ``out`` is ``x`` times 1 or 0 rather than a select, as in the book's ``x * mask``: a
    dropped NaN or inf stays NaN, a dropped negative number gives -0.0.
    """
    one = x.dtype.type(1)
    zero = x.dtype.type(0)
    for i in range(x.shape[0]):
        m = rand[i] > ratio
        mask[i] = m
        out[i] = x[i] * (one if m else zero)
    return out


@jit
def dropout_backward(dout, mask, dx):
    """``dx = dout * mask`` (times 1 or 0, like the book's product with a bool array)."""
    one = dout.dtype.type(1)
    zero = dout.dtype.type(0)
    for i in range(dout.shape[0]):
        dx[i] = dout[i] * (one if mask[i] else zero)
    return dx
