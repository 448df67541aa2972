"""vol. 1's ``common/util.py``: the helpers of ch. 6 (``smooth_curve``, ``shuffle_dataset``).

The convolution helpers (``conv_output_size``, ``im2col``, ``col2im``) follow below.
"""
from __future__ import annotations

import numpy as np

from . import validate
from .kernels import conv as _conv

#: the book's smoothing window (a Kaiser window of 11 points, beta 2)
SMOOTH_WINDOW = 11


def smooth_curve(x) -> np.ndarray:
    """The book's smoothing of a loss curve: a normalised Kaiser window (11 points, beta 2)
    convolved with the curve mirrored at both ends.

    Parameters
    ----------
    x : 1-D sequence of real numbers, at least 11 long (shorter curves have nothing to
        mirror: the book's slicing breaks on them, here they are a ValueError)

    Returns
    -------
    (len(x),) float64 array
    """
    x = validate.as_real(x, "x", np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D curve, got shape {x.shape}")
    n = SMOOTH_WINDOW
    if x.shape[0] < n:
        raise ValueError(f"x must hold at least {n} points to be smoothed, got {x.shape[0]}")
    s = np.concatenate([x[n - 1:0:-1], x, x[-1:-n:-1]])
    w = np.kaiser(n, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t):
    """``x`` and ``t`` reordered by one ``np.random.permutation(len(x))`` (the book's draw).

    Parameters
    ----------
    x : (N, ...) array (the book handles 2-D and 4-D; any rank >= 1 works here)
    t : (N, ...) array

    Returns
    -------
    x, t : new arrays in the permuted order
    """
    validate.check_type(x, np.ndarray, "x", "a NumPy array")
    validate.check_type(t, np.ndarray, "t", "a NumPy array")
    if x.ndim == 0 or t.ndim == 0 or x.shape[0] != t.shape[0]:
        raise ValueError(f"x and t must have the same number of rows, got shapes {x.shape} and {t.shape}")
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


# --------------------------------------------------------------------------- convolution (ch. 7)


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> float:
    """The book's ``(input_size + 2*pad - filter_size) / stride + 1`` (true division, as
    the book writes it: 2.5 means the filter does not tile the input evenly).

    Parameters
    ----------
    input_size, filter_size, stride : int >= 1
    pad : int >= 0

    Returns
    -------
    float

    Raises
    ------
    TypeError
        An argument is not an integer (bools included).
    ValueError
        Out of range, or the padded input is smaller than the filter.
    """
    input_size = validate.check_scalar(input_size, "input_size", int, low=1)
    filter_size = validate.check_scalar(filter_size, "filter_size", int, low=1)
    stride = validate.check_scalar(stride, "stride", int, low=1)
    pad = validate.check_scalar(pad, "pad", int, low=0)
    if input_size + 2 * pad < filter_size:
        raise ValueError(f"input_size {input_size} with pad {pad} is smaller than filter_size "
                         f"{filter_size}")
    return (input_size + 2 * pad - filter_size) / stride + 1


def _conv_args(filter_h, filter_w, stride, pad):
    big = validate.MAX_INDEX  # beyond it the kernel's int64 index arithmetic could wrap
    return (validate.check_scalar(filter_h, "filter_h", int, low=1, high=big),
            validate.check_scalar(filter_w, "filter_w", int, low=1, high=big),
            validate.check_scalar(stride, "stride", int, low=1, high=big),
            validate.check_scalar(pad, "pad", int, low=0, high=big))


def _out_hw(shape, fh, fw, stride, pad, name):
    n, c, h, w = shape
    if h + 2 * pad < fh or w + 2 * pad < fw:
        raise ValueError(f"{name} of shape {tuple(shape)} with pad {pad} is smaller than the "
                         f"{fh} x {fw} filter")
    return (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1


def im2col(input_data, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The book's ``im2col``: every receptive field of a batch of images as one row.

    Parameters
    ----------
    input_data : (N, C, H, W) real array
    filter_h, filter_w, stride : int >= 1
    pad : int >= 0, zero padding on each side

    Returns
    -------
    col : (N*OH*OW, C*filter_h*filter_w) float64 (the book's ``np.zeros`` dtype), the same
        values as the book's, with ``OH = (H + 2*pad - filter_h) // stride + 1``
    """
    fh, fw, stride, pad = _conv_args(filter_h, filter_w, stride, pad)
    x = validate.as_real(input_data, "input_data", np.float64)
    if x.ndim != 4:
        raise ValueError(f"input_data must be a 4-D (N, C, H, W) array, got shape {x.shape}")
    oh, ow = _out_hw(x.shape, fh, fw, stride, pad, "input_data")
    shape = validate.allocation((x.shape[0] * oh * ow, x.shape[1] * fh * fw), np.float64,
                                f"im2col's filter {fh} x {fw}, stride {stride} and pad {pad}",
                                "a column matrix")
    col = np.empty(shape, dtype=np.float64)
    if col.size:
        _conv.im2col(x, fh, fw, stride, pad, col)
    return col


def col2im(col, input_shape, filter_h: int, filter_w: int, stride: int = 1,
           pad: int = 0) -> np.ndarray:
    """The book's ``col2im``: add each row of ``col`` back onto its receptive field.

    Parameters
    ----------
    col : (N*OH*OW, C*filter_h*filter_w) real array
    input_shape : 4 ints (N, C, H, W), the shape given to :func:`im2col`
    filter_h, filter_w, stride : int >= 1
    pad : int >= 0

    Returns
    -------
    (N, C, H, W) float64, C-contiguous (the book returns a view of a larger array; the
    values are the same, bit for bit)
    """
    fh, fw, stride, pad = _conv_args(filter_h, filter_w, stride, pad)
    validate.check_type(input_shape, (tuple, list), "input_shape", "4 integers (N, C, H, W)")
    if len(input_shape) != 4:  # a sequence of another length: a wrong value
        raise ValueError(f"input_shape must be 4 integers (N, C, H, W), got {input_shape!r}")
    shape = tuple(validate.check_scalar(v, "input_shape", int, low=1, high=validate.MAX_INDEX)
                  for v in input_shape)
    validate.allocation(shape, np.float64, f"input_shape={shape}", "an image batch")
    oh, ow = _out_hw(shape, fh, fw, stride, pad, "input_shape")
    col = validate.as_real(col, "col", np.float64)
    validate.same_shape(col, (shape[0] * oh * ow, shape[1] * fh * fw), "col",
                        "N*OH*OW rows of C*FH*FW for input_shape, filter, stride and pad")
    img = np.empty(shape, dtype=np.float64)
    _conv.col2im(col, fh, fw, stride, pad, img)
    return img
