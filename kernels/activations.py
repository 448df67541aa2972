"""Elementwise activations. All take 1-D C-contiguous views: the Python wrappers
flatten any shape with ``reshape(-1)``, so one compiled version serves every rank."""
from ._jit import jit
from .vmath import exp as vexp


@jit
def relu_forward(x, out, mask):
    """``mask = x <= 0``; ``out = 0 where mask else x`` in one pass.

    ``x <= 0`` (not ``x < 0``) is the book's convention: the subgradient at exactly
    0 is 0. NaN compares False, so NaN passes through like in NumPy.
    """
    zero = x.dtype.type(0)  # stay in the array's dtype (a literal 0 would upcast float32)
    for i in range(x.shape[0]):
        v = x[i]
        m = v <= zero
        mask[i] = m
        out[i] = zero if m else v
    return out


@jit
def relu_backward(dout, mask, dx):
    """``dx = dout`` with the saved ``mask`` positions zeroed, in one pass."""
    zero = dout.dtype.type(0)
    for i in range(dout.shape[0]):
        dx[i] = zero if mask[i] else dout[i]
    return dx


@jit
def sigmoid_forward(x, out):
    """``out = 1 / (1 + exp(-x))``; exp overflow gives inf and so exactly 0, like NumPy.

    ``exp`` is the vectorisable one of :mod:`.vmath` (within 1 ulp of NumPy's): the loop
    compiles to AVX-512 code instead of one libm call an element."""
    one = x.dtype.type(1)
    for i in range(x.shape[0]):
        out[i] = one / (one + vexp(-x[i]))
    return out


@jit
def sigmoid_backward(dout, out, dx):
    """``dx = dout * (1 - out) * out`` from the saved forward output (the book's order)."""
    one = out.dtype.type(1)
    for i in range(dout.shape[0]):
        y = out[i]
        dx[i] = dout[i] * (one - y) * y
    return dx
