"""Convolution and Pooling (vol. 1 ch. 7): the book's im2col layers on compiled kernels."""
from __future__ import annotations

import numpy as np

from .. import threads, validate
from ..kernels import conv, conv2d, pool
from .base import Layer

#: GEMM columns (chunk * OH * row pitch) a chunk aims at. Measured per layer at 1 thread,
#: f32, batch 100: one 28x28 image (840 wide columns) runs fastest alone (SimpleConvNet's
#: conv 1.8 ms in chunks of 1 against 4.5 ms in chunks of 4), while an 8x8 layer (80
#: columns per image) wants 4-8 images per chunk (DeepConvNet conv6 backward 68 ms in
#: chunks of 1, 29 ms in chunks of 8): about 600 columns suits both
CHUNK_COLUMNS = 600
#: and at most this many bytes of one thread's scratch (a Zen 4 core has 2 MiB of L2)
CHUNK_BYTES = 1 << 20
#: at least this many chunks when the batch allows, so that two threads share the work evenly
MIN_CHUNKS = 8


def conv_work_row(x_shape, W_shape, stride: int, pad: int, chunk: int) -> int:
    """Elements of one thread's scratch in :mod:`fastprop.kernels.conv2d` for chunks of
    ``chunk`` samples: the (K, chunk*P') columns and (FN, chunk*P') GEMM result, where P'
    is OH*(W + 2*pad) at stride 1 (the wide columns, plus the padded images) and P else."""
    _, c, h, w = x_shape
    fn, _, fh, fw = W_shape
    oh, ow = spatial_out(h, fh, stride, pad), spatial_out(w, fw, stride, pad)
    k = c * fh * fw
    if stride == 1:
        hp, wp = h + 2 * pad, w + 2 * pad
        return (k + fn) * chunk * oh * wp + chunk * c * hp * wp + fw
    return (k + fn) * chunk * oh * ow


def conv_chunk(x_shape, W_shape, stride: int, pad: int, itemsize: int) -> int:
    """Samples per chunk of :mod:`fastprop.kernels.conv2d`: about :data:`CHUNK_COLUMNS`
    GEMM columns, one thread's scratch within :data:`CHUNK_BYTES`, and :data:`MIN_CHUNKS`
    chunks when the batch allows. It depends on the shapes only, never on the thread
    count, so the sums are the same bits at any count."""
    _, _, h, w = x_shape
    fh, fw = W_shape[2], W_shape[3]
    pitch = w + 2 * pad if stride == 1 else spatial_out(w, fw, stride, pad)
    columns = spatial_out(h, fh, stride, pad) * pitch
    per_sample = conv_work_row(x_shape, W_shape, stride, pad, 1) * itemsize
    chunk = min(-(-CHUNK_COLUMNS // columns), CHUNK_BYTES // per_sample, -(-x_shape[0] // MIN_CHUNKS))
    return max(1, chunk)


def conv_workspace(work, threads_: int, row: int, dtype) -> np.ndarray:
    """A (threads, >= row) scratch of ``dtype``: ``work`` when it is big enough, else a new one."""
    if (work is None or work.dtype != dtype or work.shape[0] < threads_ or work.shape[1] < row):
        work = np.empty((threads_, row), dtype=dtype)
    return work


def spatial_out(size: int, f: int, stride: int, pad: int) -> int:
    """``(size + 2*pad - f) // stride + 1``: output positions along one axis."""
    return (size + 2 * pad - f) // stride + 1


def hyper(value, name: str, low: int = 1) -> int:
    """A stride, pad or pool size: an int (not a bool or float) of at least ``low`` and at
    most :data:`fastprop.validate.MAX_INDEX` (what a kernel's int64 arithmetic holds)."""
    return validate.check_scalar(value, name, int, low=low, high=validate.MAX_INDEX)


def image_batch(x, name: str, dtype=None) -> np.ndarray:
    """``x`` as a C-contiguous (N, C, H, W) float array with N >= 1."""
    x = validate.batch(validate.as_real(x, name, dtype), name)
    if x.ndim != 4:
        raise ValueError(f"{name} must be a 4-D (N, C, H, W) batch of images, got shape {x.shape}")
    return x


def check_fits(x_shape, fh: int, fw: int, pad: int, what: str) -> None:
    """ValueError when the (padded) image is smaller than the filter or pooling window."""
    h, w = x_shape[2], x_shape[3]
    if h + 2 * pad < fh or w + 2 * pad < fw:
        raise ValueError(f"the input images are {h} x {w} (shape {tuple(x_shape)}) with pad {pad}, "
                         f"smaller than the {fh} x {fw} {what}")


def filters(W, name: str = "W", dtype=None) -> np.ndarray:
    """A 4-D (FN, C, FH, FW) float32/float64 filter bank, C-contiguous (a copy for this
    call only when it is not), of ``dtype`` when given."""
    dt = validate.param_dtype(W, name)
    if W.ndim != 4:
        raise ValueError(f"{name} must be a 4-D (FN, C, FH, FW) filter array, got shape {W.shape}")
    if min(W.shape) == 0:
        raise ValueError(f"{name} must not be empty, got shape {W.shape}")
    if dtype is not None and dt != dtype:
        raise ValueError(f"{name} has dtype {dt} but the computation is {np.dtype(dtype)} (it changed "
                         "since forward? run forward again)")
    return np.ascontiguousarray(W)


def _is_param_bias(b, fn: int) -> bool:
    """True for a (FN,) float32/float64 array: a parameter the optimizer updates in place."""
    return isinstance(b, np.ndarray) and b.shape == (fn,) and b.dtype in validate.FLOAT_DTYPES


def conv_bias(b, fn: int, dtype, name: str = "b") -> np.ndarray:
    """The bias as the kernel adds it: a C-contiguous (FN,) array in ``dtype``.

    The book adds ``self.b`` by broadcasting, so any real scalar or array that broadcasts to
    (FN,) works there (ch07/apply_filter.py passes ``0``); the same here. A (FN,) float
    array is validated as a parameter (copied only when its dtype or layout differs).
    """
    if _is_param_bias(b, fn):
        return validate.bias(b, fn, dtype, name)
    if b is None or isinstance(b, (str, bytes)):
        raise TypeError(f"{name} must be a real number or an array that broadcasts to ({fn},), "
                        f"got {validate.describe(b)}")
    arr = validate.as_real(b, name, dtype)
    try:
        arr = np.broadcast_to(arr, (fn,))
    except ValueError:
        raise ValueError(f"{name} must broadcast to ({fn},) (one bias per filter of W, or a scalar), "
                         f"got shape {arr.shape}") from None
    return np.ascontiguousarray(arr)


class Convolution(Layer):
    """The book's ``Convolution(W, b, stride=1, pad=0)``: im2col, one GEMM, the bias.

    Parameters
    ----------
    W : (FN, C, FH, FW) float32/float64 filters, kept by reference (``params[0]``)
    b : (FN,) bias of the same dtype (``params[1]``), or anything real that broadcasts to
        (FN,), a scalar included, as the book's ``+ self.b`` takes it (kept as given; ``db``
        is then a (FN,) array of W's dtype)
    stride : int >= 1
    pad : int >= 0, zero padding on each side

    Attributes
    ----------
    W, b, stride, pad : as given (``layer.W = ...`` rebinds ``params[0]``)
    x : the last forward input as computed on (W's dtype, C-contiguous)
    col : the book's (N*OH*OW, C*FH*FW) im2col matrix of ``x`` (built on access from ``x``:
        the kernels never keep the whole batch's columns; assigning it replaces what
        backward uses)
    col_W : ``W.reshape(FN, -1).T``, a view of the filters
    dW, db : ``grads``, stable arrays written in place by every backward

    Notes
    -----
    ``out[n, f, i, j] = b[f] + sum_{c,y,x} W[f, c, y, x] * xpad[n, c, i*stride + y, j*stride + x]``
    with ``OH = (H + 2*pad - FH) // stride + 1``.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0):
        filters(W)
        conv_bias(b, W.shape[0], W.dtype)
        super().__init__(W)
        self.params.append(b)  # as given, as the book keeps it (ch07/apply_filter.py passes 0)
        self.grads.append(np.zeros(W.shape[0], dtype=b.dtype if _is_param_bias(b, W.shape[0]) else W.dtype))
        self.stride = hyper(stride, "stride")
        self.pad = hyper(pad, "pad", 0)
        self.x = None
        self.col_W = None
        self._col = None       # a book-layout col assigned by the caller, if any
        self._recorded = None  # (stride, pad, x shape, W shape) of the last forward
        self._work = None      # the chunked kernels' per-thread scratch (reused)

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))
    b = property(lambda self: self.params[1], lambda self, v: self.params.__setitem__(1, v))
    dW = property(lambda self: self.grads[0])
    db = property(lambda self: self.grads[1])

    @property
    def col(self):
        if self._col is not None:
            return self._col
        if self.x is None or self._recorded is None:
            return None
        stride, pad, _, w_shape = self._recorded
        fh, fw = w_shape[2], w_shape[3]
        n, _, h, w = self.x.shape
        p = spatial_out(h, fh, stride, pad) * spatial_out(w, fw, stride, pad)
        col = np.empty((n * p, self.x.shape[1] * fh * fw), dtype=self.x.dtype)
        return conv.im2col(self.x, fh, fw, stride, pad, col)

    @col.setter
    def col(self, value):
        self._col = value

    def _geometry(self, x_shape, W):
        stride, pad = hyper(self.stride, "stride"), hyper(self.pad, "pad", 0)
        fn, c, fh, fw = W.shape
        if x_shape[1] != c:
            raise ValueError(f"x has {x_shape[1]} channels (shape {tuple(x_shape)}), but W expects "
                             f"{c} (W has shape {W.shape})")
        check_fits(x_shape, fh, fw, pad, "filter")
        oh, ow = spatial_out(x_shape[2], fh, stride, pad), spatial_out(x_shape[3], fw, stride, pad)
        return stride, pad, oh, ow

    def _inputs(self, x, pool: bool = False):
        """What forward and infer check before a kernel runs: ``(x, W, b, stride, pad,
        out)`` with ``out`` allocated after its size was checked (halved when ``pool``)."""
        threads.poll()
        W = filters(self.params[0])
        dt = W.dtype
        x = image_batch(x, "x", dt)
        stride, pad, oh, ow = self._geometry(x.shape, W)
        b = conv_bias(self.params[1], W.shape[0], dt)
        shape = (x.shape[0], W.shape[0], oh // 2, ow // 2) if pool else (x.shape[0], W.shape[0], oh, ow)
        validate.allocation(shape, dt, f"Convolution's pad {pad} and stride {stride}", "an output")
        return x, W, b, stride, pad, np.empty(shape, dtype=dt)

    def forward(self, x) -> np.ndarray:
        x, W, b, stride, pad, out = self._inputs(x)
        self._recorded = None
        self._run(conv2d.conv2d_forward, x, W, b, stride, pad, conv2d.BIAS, out)
        self.x, self._col = x, None
        self._recorded = (stride, pad, x.shape, W.shape)
        self.col_W = self.params[0].reshape(W.shape[0], -1).T
        return out

    def infer(self, x, pool: bool = False) -> np.ndarray:
        """Inference through this convolution and the ReLU after it (and, when ``pool``,
        the book's 2x2, stride-2 max pooling after that) in one compiled pass over each
        chunk: the same numbers as the three layers, nothing kept for backward (``x`` and
        ``col`` stay as the last :meth:`forward` left them)."""
        x, W, b, stride, pad, out = self._inputs(x, pool)
        epilogue = conv2d.BIAS_RELU_POOL if pool else conv2d.BIAS_RELU
        self._run(conv2d.conv2d_forward, x, W, b, stride, pad, epilogue, out)
        return out

    def backward(self, dout, need_dx: bool = True):
        """Write ``dW``, ``db`` in place and return ``dx`` (N, C, H, W).

        ``need_dx=False`` skips the input gradient (a net's first layer) and returns None.
        """
        self._require_forward(self.x)
        need_dx = validate.flag(need_dx, "need_dx")
        x = image_batch(self.x, "the saved input x")
        W = filters(self.params[0], "W", x.dtype)
        stride, pad, oh, ow = self._geometry(x.shape, W)
        n, k, p = x.shape[0], W[0].size, oh * ow
        if self._col is None:
            self._check_geometry((stride, pad, x.shape, W.shape))
        conv_bias(self.params[1], W.shape[0], x.dtype)
        dout = self._dout(dout, (n, W.shape[0], oh, ow), x.dtype)
        dW, db = self._grad(0), self._bias_grad(W.shape[0], x.dtype)
        dx = np.empty_like(x) if need_dx else None
        if self._col is None:  # the columns, chunk by chunk, from the saved input
            # an empty dx tells the kernel to skip it (one compiled kernel, not two)
            skip = np.empty((0, 0, 0, 0), dtype=x.dtype)
            self._run(conv2d.conv2d_backward, x, W, dout, stride, pad, dW, db, skip if dx is None else dx)
            return dx
        cols = self._assigned_cols((n, k, p), x.dtype)
        dcols = None if dx is None else np.empty_like(cols)
        conv.conv_backward(dout, cols, W, stride, pad, dW, db, dcols, dx)
        return dx

    def _run(self, kernel, x, W, *args):
        """``kernel(x, W, args[:3]..., chunk, work, args[3:]...)`` on every core the thread
        policy gives, in chunks sized by :func:`conv_chunk`."""
        stride, pad = args[1], args[2]
        chunk = conv_chunk(x.shape, W.shape, stride, pad, x.dtype.itemsize)
        row = conv_work_row(x.shape, W.shape, stride, pad, chunk)
        with threads.parallel_region() as nt:
            self._work = work = conv_workspace(self._work, nt, row, x.dtype)
            kernel(x, W, *args[:3], chunk, work, *args[3:])

    def _bias_grad(self, fn: int, dtype) -> np.ndarray:
        """``grads[1]``: of the bias's shape and dtype when it is a (FN,) parameter array, else
        (a scalar or broadcast bias) a stable (FN,) array of the computation's dtype."""
        if _is_param_bias(self.params[1], fn):
            return self._grad(1)
        g = self.grads[1]
        if not (isinstance(g, np.ndarray) and g.shape == (fn,) and g.dtype == dtype
                and g.flags.c_contiguous and g.flags.writeable):
            g = self.grads[1] = np.zeros(fn, dtype=dtype)
        return g

    def _check_geometry(self, geometry) -> None:
        """Backward differentiates the convolution forward ran: a stride, pad or filter size
        changed since then (even to one with as many output positions) is refused, not
        differentiated through a different convolution of the saved input."""
        if self._recorded is not None and geometry != self._recorded:
            names = ("stride", "pad", "the saved input x's shape", "W's shape")
            what = "; ".join(f"{name} is {now} but forward ran with {then}" for name, now, then
                             in zip(names, geometry, self._recorded) if now != then)
            raise ValueError(f"Convolution changed since forward ({what}): the saved input "
                             "belongs to forward's geometry; run forward again")

    def _assigned_cols(self, shape, dtype) -> np.ndarray:
        """The columns backward reads from a ``col`` the caller assigned, checked against
        the input, filters, stride and pad as they are now."""
        n, k, p = shape
        col = validate.as_real(self._col, "col", dtype)
        validate.same_shape(col, (n * p, k), "col", "N*OH*OW rows of C*FH*FW, from x, W, stride, pad")
        return np.ascontiguousarray(col.reshape(n, p, k).transpose(0, 2, 1))


class Pooling(Layer):
    """The book's max ``Pooling(pool_h, pool_w, stride=1, pad=0)``.

    Parameters
    ----------
    pool_h, pool_w : int >= 1, the window
    stride : int >= 1 (the book's nets pass 2)
    pad : int >= 0; padded positions count as 0, as in the book's zero-padded im2col

    Attributes
    ----------
    pool_h, pool_w, stride, pad : as given
    x : the last forward input (float, C-contiguous)
    arg_max : (N*OH*OW*C,) intp, the book's flat index of each window's first maximum.
        For the book's 2x2, stride-2 pooling forward keeps the offsets compact (one byte per
        window, in the output's order: :func:`fastprop.kernels.pool.pool2_forward`) and
        builds this array when it is first read; from then on (or once assigned) it is the
        array backward uses, as in the book.

    Notes
    -----
    ``OH = (H + 2*pad - pool_h) // stride + 1``. The book's class computes OH without the
    pad and so fails for pad > 0; here pad counts as in its im2col (the same for pad = 0).
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0):
        super().__init__()
        self.pool_h = hyper(pool_h, "pool_h")
        self.pool_w = hyper(pool_w, "pool_w")
        self.stride = hyper(stride, "stride")
        self.pad = hyper(pad, "pad", 0)
        self.x = None
        self._arg = None       # the compact offsets of the last 2x2, stride-2 forward
        self.arg_max = None
        self._recorded = None  # (pool_h, pool_w, stride, pad, x shape) arg_max was found with

    @property
    def arg_max(self):
        if self._arg_max is None and self._arg is not None:  # built on first read
            a = self._arg
            n, c = a.shape[0], a.shape[1]
            self._arg_max = np.ascontiguousarray(a.reshape(n, c, -1).transpose(0, 2, 1), dtype=np.intp).reshape(-1)
            self._arg = None
        return self._arg_max

    @arg_max.setter
    def arg_max(self, value):
        self._arg_max, self._arg = value, None

    def _geometry(self, x_shape):
        ph, pw = hyper(self.pool_h, "pool_h"), hyper(self.pool_w, "pool_w")
        stride, pad = hyper(self.stride, "stride"), hyper(self.pad, "pad", 0)
        check_fits(x_shape, ph, pw, pad, "pooling window")
        return ph, pw, stride, pad, spatial_out(x_shape[2], ph, stride, pad), spatial_out(x_shape[3], pw, stride, pad)

    def forward(self, x) -> np.ndarray:
        x = image_batch(x, "x")
        ph, pw, stride, pad, oh, ow = self._geometry(x.shape)
        n, c = x.shape[0], x.shape[1]
        validate.allocation((n, c, oh, ow), x.dtype, f"Pooling's pad {pad} and stride {stride}", "an output")
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        if (ph, pw, stride, pad) == (2, 2, 2, 0):  # the book's: offsets kept compact
            arg = np.empty((n, c, oh, ow), dtype=np.uint8)
            threads.in_parts(x.size, n, lambda lo, hi: pool.pool2_forward(x[lo:hi], out[lo:hi], arg[lo:hi]))
            self.x, self.arg_max, self._arg = x, None, arg
            self._recorded = (ph, pw, stride, pad, x.shape)
            return out
        arg_max = np.empty(n * oh * ow * c, dtype=np.intp)
        per = oh * ow * c  # samples split over the threads (arg_max is sample-major)
        threads.in_parts(x.size, n, lambda lo, hi: pool.pool_forward(
            x[lo:hi], ph, pw, stride, pad, out[lo:hi], arg_max[lo * per:hi * per]))
        self.x, self.arg_max = x, arg_max
        self._recorded = (ph, pw, stride, pad, x.shape)
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.x)
        x = image_batch(self.x, "the saved input x")
        ph, pw, stride, pad, oh, ow = self._geometry(x.shape)
        now = (ph, pw, stride, pad, x.shape)
        if self._recorded is not None and now != self._recorded:
            names = ("pool_h", "pool_w", "stride", "pad", "the saved input x's shape")
            what = "; ".join(f"{name} is {a} but forward ran with {b}"
                             for name, a, b in zip(names, now, self._recorded) if a != b)
            raise ValueError(f"Pooling changed since forward ({what}): arg_max holds forward's "
                             "window maxima; run forward again")
        n, c = x.shape[0], x.shape[1]
        if self._arg is not None:  # forward's compact offsets, never read or replaced since
            arg = self._arg
            if not (type(arg) is np.ndarray and arg.dtype == np.uint8 and arg.shape == (n, c, oh, ow)
                    and arg.flags.c_contiguous):
                raise ValueError(f"Pooling's saved window offsets do not fit the saved input x "
                                 f"{x.shape}: got {validate.describe(arg)}; run forward again")
            dout = self._dout(dout, (n, c, oh, ow), x.dtype)
            dx = np.empty_like(x)
            threads.in_parts(x.size, n, lambda lo, hi: pool.pool2_backward(dout[lo:hi], arg[lo:hi], dx[lo:hi]))
            return dx
        arg_max = self.arg_max
        if not isinstance(arg_max, np.ndarray) or arg_max.dtype.kind not in "iu":
            raise TypeError(f"Pooling.arg_max must be an integer array (the forward's window maxima), "
                            f"got {validate.describe(arg_max)}")
        validate.same_shape(arg_max, (n * oh * ow * c,), "arg_max", "one index per window, N*OH*OW*C")
        arg_max = np.ascontiguousarray(arg_max, dtype=np.intp)
        dout = self._dout(dout, (n, c, oh, ow), x.dtype)
        dx = np.empty_like(x)
        per = oh * ow * c
        threads.in_parts(x.size, n, lambda lo, hi: pool.pool_backward(
            dout[lo:hi], arg_max[lo * per:hi * per], ph, pw, stride, pad, dx[lo:hi]))
        return dx
