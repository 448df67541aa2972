"""Affine (vol. 1) and MatMul (vol. 2): a BLAS GEMM with the small passes fused around it."""
from __future__ import annotations

import math

import numpy as np

from .. import gemm_blocks, threads, validate
from ..kernels import affine, convert
from .base import Layer


def _param(W, b=None):
    """Construction-time checks of ``W`` (and ``b``): 2-D float weight, (M,) bias."""
    validate.param_dtype(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D (D, M) weight, got shape {W.shape}")
    if b is not None:
        validate.param_dtype(b, "b")
        if b.shape != (W.shape[1],):
            raise ValueError(f"b must have shape ({W.shape[1]},) to match W of shape {W.shape}, "
                             f"got {b.shape}")


#: a cast input of at least this many bytes (as the parameters' dtype) goes through the
#: chunked cast-and-GEMM kernel instead of a whole cast copy (about 16 MB: far past the
#: training batches, which keep their cast copy for backward; below an evaluation set)
CHUNKED_CAST_BYTES = 1 << 24
#: bytes of one thread's chunk buffer there: half of a core's L2 here (2 MiB), the rest
#: for the weights and the output rows
CHUNK_BYTES = 1 << 20


#: float inputs the compiled casts take (Numba has no float16: NumPy casts that one)
_KERNEL_INPUTS = (np.dtype(np.float32), np.dtype(np.float64))


def _cast_in_chunks(x, dt) -> bool:
    """A C-contiguous real ndarray of another dtype, large enough for the chunked path."""
    return (isinstance(x, np.ndarray) and x.dtype != dt and x.ndim >= 2
            and (x.dtype in _KERNEL_INPUTS or x.dtype.kind in "iu") and x.flags.c_contiguous
            and x.size * dt.itemsize >= CHUNKED_CAST_BYTES)


#: a GEMM of at least this many multiply-adds (n * k * m), with more than one thread,
#: runs as one part per thread of Numba's pool on a one-thread BLAS
#: (:func:`fastprop.kernels.affine.affine_forward_parts`, ``affine_backward_parts``)
#: instead of on OpenBLAS's threads. The book's (100, 784) @ (784, 50) is 3.9 M.
PARTS_WORK = 1_000_000


#: ... and has at most this many rows: a training batch. An evaluation-sized GEMM splits
#: well on OpenBLAS's threads (it synchronises rarely against its work), and keeping it
#: there spares ``fastprop train``'s first evaluation the parallel kernel's compile
PARTS_MAX_ROWS = 1024


def _in_parts(n: int, k: int, m: int) -> bool:
    return 2 <= n <= PARTS_MAX_ROWS and n * k * m >= PARTS_WORK


#: an input whose all-zero columns are at least this share of them is multiplied with
#: those columns (and ``W``'s rows for them) left out (:func:`fastprop.kernels.affine.column_runs`)
PACK_SHARE = 0.15
#: ... for GEMMs of at least this many multiply-adds and inputs at least this wide
PACK_WORK = 500_000
PACK_MIN_WIDTH = 64
#: rows of a chunk of an evaluation-sized input looked at for zero columns at a time: an
#: MNIST chunk of 100 images has a third of its columns zero (the 1-thread batch above)
PACK_CHUNK_ROWS = 100
#: after an input that had too few zero columns, this many calls go straight to the full GEMM
PACK_BACKOFF = 64


class Affine(Layer):
    """``out = x @ W + b`` for (N, ...) input, flattened to (N, D) like the book.

    Parameters
    ----------
    W : (D, M) float32/float64 array, kept by reference (C- or F-contiguous: a tied
        ``embed_W.T`` works)
    b : (M,) array

    Attributes
    ----------
    W, b : the caller's arrays (``params = [W, b]``); ``x`` (the 2-D input),
        ``original_x_shape``, ``dW``, ``db`` (``grads = [dW, db]``, stable arrays written in
        place by every backward). The compute dtype is ``W``'s; integer input is cast to it.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray):
        _param(W, b)
        super().__init__(W, b)
        self.x = None
        self.original_x_shape = None
        self._xbuf = None
        self._packed = None  # (the input, its packed columns (N, K), K) of the last packed forward
        self._pack_bufs = None
        self._pack_skip = 0
        self._uncast = False  # self.x is the caller's input, not cast (packed forward)

    W = property(lambda self: self.params[0], lambda self, v: self.params.__setitem__(0, v))
    b = property(lambda self: self.params[1], lambda self, v: self.params.__setitem__(1, v))
    dW = property(lambda self: self.grads[0])
    db = property(lambda self: self.grads[1])

    def _buffer(self, shape, dt) -> np.ndarray:
        """The layer's kept cast buffer, (re)allocated when the shape or dtype changes."""
        buf = self._xbuf
        if buf is None or buf.shape != shape or buf.dtype != dt:
            buf = self._xbuf = np.empty(shape, dtype=dt)
        return buf

    def _converted(self, x, dt) -> np.ndarray:
        """``x`` as C-contiguous ``dt``. A cast (float32 MNIST into float64 parameters,
        uint8 pixels) goes into a buffer kept by the layer: a fresh array per call costs
        more in page faults than the cast itself, and re-casting the batch that is already
        there (``gradient`` then ``loss`` on one batch) writes nothing
        (:func:`fastprop.kernels.convert.cast_into`)."""
        arr = validate.as_real(x, "x", None) if not isinstance(x, np.ndarray) else x
        if arr.dtype == dt and arr.flags.c_contiguous:
            return arr
        validate.real_dtype(arr, "x")
        buf = self._buffer(arr.shape, dt)
        if arr.flags.c_contiguous and arr.dtype in _KERNEL_INPUTS:
            convert.cast_into(arr.reshape(-1), buf.reshape(-1))  # leaves an unchanged batch clean
        else:
            np.copyto(buf, arr, casting="unsafe")
        return buf

    def forward(self, x) -> np.ndarray:
        n_threads = threads.poll()
        W, b = self.params
        W = validate.weight(W, "W")
        dt = W.dtype
        if _cast_in_chunks(x, dt):
            return self._forward_chunked(x, W, b)
        self._packed, self._uncast = None, False
        out = self._forward_packed(x, W, b, dt, n_threads)
        if out is not None:
            return out
        src = None  # a batch the parts kernel casts, each part its own rows
        if (n_threads > 1 and isinstance(x, np.ndarray) and x.dtype != dt and x.dtype in _KERNEL_INPUTS
                and x.flags.c_contiguous and x.ndim >= 2
                and _in_parts(x.shape[0], x.size // max(1, x.shape[0]), W.shape[1])):
            src = validate.batch(x, "x")
            x = self._buffer(x.shape, dt)
        x = validate.batch(self._converted(x, dt) if src is None else x, "x")
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self._check_features(x, W)
        b = validate.bias(b, W.shape[1], dt)
        n, k, m = x.shape[0], x.shape[1], W.shape[1]
        out = np.empty((n, m), dtype=dt)
        if n_threads > 1 and _in_parts(n, k, m):
            with threads.parallel_region() as parts:
                affine.affine_forward_parts(x, W, b, out, gemm_blocks.gemm_rows(n, k, m, blas_threads=1), parts,
                                            None if src is None else src.reshape(n, k))
        else:
            affine.affine_forward(x, W, b, out, gemm_blocks.gemm_rows(n, k, m))
        self.x, self._shape = x, x.shape
        return out

    def _forward_packed(self, x, W, b, dt, n_threads):
        """The GEMM without the input's all-zero columns, or None (not worth it, or not
        possible: then the caller runs the full GEMM).

        The book's MNIST batches: a third of the 784 pixels are zero in every image of a
        batch of 100 (the borders), so a third of the forward GEMM's and of the ``dW``
        GEMM's work adds zeros. Measured on Zen 4, 1 thread, real MNIST batches, the book's
        first layer: forward (cast included) 188 -> 146 us, forward + backward 566 -> 471
        us. The kept columns are packed while they are cast (the cast the float32 input
        needs anyway); rows of ``W`` for the dropped columns must be finite (``0 * inf``
        is NaN in the full product)."""
        if n_threads > 1:
            # on two threads the forward's parts and backward's dW || dx were as fast
            # without it (the packing runs on one thread, and dx, which it cannot shorten,
            # sets the backward's pace): measured 331 vs 334 us forward + backward
            return None
        if self._pack_skip > 0:
            self._pack_skip -= 1
            return None
        if not (isinstance(x, np.ndarray) and x.dtype in _KERNEL_INPUTS and x.flags.c_contiguous
                and x.ndim >= 2 and x.shape[0] > 0):
            return None
        n = x.shape[0]
        d, m = W.shape
        if x.size != n * d or d < PACK_MIN_WIDTH or n * d * m < PACK_WORK:
            return None
        b = validate.bias(b, m, dt)
        bufs = self._pack_bufs
        if bufs is None or bufs[0].size < n * d or bufs[0].dtype != dt or bufs[1].shape[0] < d or bufs[2].size < d * m:
            bufs = self._pack_bufs = (np.empty(n * d, dt), np.empty((d, 3), np.int64), np.empty(d * m, dt),
                                      np.empty(d * m, dt))
        xc, runs, Wc, _ = bufs
        src = x.reshape(n, d)
        kk, nr = affine.column_runs(src, 0, n, runs)
        if kk == 0 or kk > d * (1 - PACK_SHARE):
            self._pack_skip = PACK_BACKOFF if kk else 0
            return None
        if not affine.pack_weight_rows(W, runs, nr, kk, Wc):
            return None
        xv, Wv = xc[:n * kk].reshape(n, kk), Wc[:kk * m].reshape(kk, m)
        out = np.empty((n, m), dtype=dt)
        affine.pack_columns(src, runs, nr, kk, xc, 0, n)
        affine.affine_forward(xv, Wv, b, out, gemm_blocks.gemm_rows(n, kk, m))
        # the book keeps the input it was given (x); the packed copy is what backward uses
        self.original_x_shape = x.shape
        self.x, self._shape = src, src.shape
        self._packed = (src, xv, kk, nr)
        self._uncast = True
        return out

    def _backward_packed(self, dout, need_dx):
        src, xv, kk, nr = self._packed
        n, d = src.shape
        W = validate.weight(self.params[0], "W", xv.dtype)
        if W.shape[0] != d:
            raise ValueError(f"W has shape {W.shape} but the forward input had {d} "
                             "features (W was replaced since forward? run forward again)")
        m = W.shape[1]
        validate.bias(self.params[1], m, xv.dtype)
        dout = self._dout(dout, (n, m), xv.dtype)
        dW, db = self._grad(0), self._grad(1)
        _, runs, _, dWc = self._pack_bufs
        dWv = dWc[:kk * m].reshape(kk, m)
        dx = np.empty((n, d), dtype=xv.dtype) if need_dx else None
        if dx is not None and threads.poll() > 1 and _in_parts(n, d, m):
            with threads.parallel_region() as parts:
                affine.affine_backward_parts(xv, W, dout, dWv, db, dx, max(2, parts))
        else:
            affine.affine_backward(xv, W, dout, dWv, db, dx)
        affine.unpack_weight_rows(dWc, runs, nr, dW)
        return dx

    def _check_features(self, x, W):
        if x.shape[1] != W.shape[0]:
            raise ValueError(
                f"x has {x.shape[1]} features per sample (shape {self.original_x_shape}), "
                f"but W expects {W.shape[0]} (W has shape {W.shape})")

    def _forward_chunked(self, x, W, b):
        """A large batch of another dtype (an evaluation over a whole float32 set): cast
        and multiplied a cache-sized chunk at a time on every core
        (:func:`fastprop.kernels.affine.affine_forward_cast`). ``x`` keeps the caller's
        array (as the book's layer does); a backward casts it then."""
        validate.real_dtype(x, "x")
        x = validate.batch(x, "x")
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self._check_features(x, W)
        dt = W.dtype
        b = validate.bias(b, W.shape[1], dt)
        out = np.empty((x.shape[0], W.shape[1]), dtype=dt)
        d, m = W.shape
        small = gemm_blocks.SMALL_KERNEL_WORK if gemm_blocks.has_small_kernels() else 0
        pack = d >= PACK_MIN_WIDTH
        # each chunk's GEMM runs on one BLAS thread: blocks for the small kernels, or L2-sized
        rows = (PACK_CHUNK_ROWS if pack else gemm_blocks.gemm_rows(x.shape[0], d, m, blas_threads=1)
                or max(16, CHUNK_BYTES // (d * dt.itemsize)))
        with threads.parallel_region(linger=False) as n:
            buf = np.empty((n, rows, d), dtype=dt)
            runs = np.empty((n, d, 3), np.int64) if pack else None
            Wc = np.empty((n, d * m), dtype=dt) if pack else None
            affine.affine_forward_cast(x, W, b, out, buf, runs, Wc, small, int(d * (1 - PACK_SHARE)))
        self.x, self._shape = x, x.shape
        return out

    def backward(self, dout, need_dx: bool = True):
        """Write ``dW``, ``db`` in place and return ``dx`` in the input's original shape.

        ``need_dx=False`` skips the ``dout @ W.T`` GEMM (a net's first layer) and returns None.
        """
        self._require_forward(self.x)
        if self._packed is not None and self._packed[0] is self.x:
            dx = self._backward_packed(dout, need_dx)
        else:
            dx = self._backward_full(dout, need_dx)
        if dx is None:
            return None
        shape = self.original_x_shape
        return dx.reshape(shape) if shape is not None and math.prod(shape) == dx.size else dx

    def _backward_full(self, dout, need_dx):
        x = self._saved_input()
        self._saved_shape(x, "x", getattr(self, "_shape", None))
        W = validate.weight(self.params[0], "W")
        if _cast_in_chunks(x, W.dtype) or (self._uncast and x.dtype != W.dtype):
            # the input as given, kept by an evaluation-sized or a packed forward
            x = self._converted(x, W.dtype)
        W = validate.weight(W, "W", x.dtype)
        if W.shape[0] != x.shape[1]:
            raise ValueError(f"W has shape {W.shape} but the forward input had {x.shape[1]} "
                             "features (W was replaced since forward? run forward again)")
        validate.bias(self.params[1], W.shape[1], x.dtype)
        dout = self._dout(dout, (x.shape[0], W.shape[1]), x.dtype)
        dW, db = self._grad(0), self._grad(1)
        dx = np.empty_like(x) if need_dx else None
        n, k, m = x.shape[0], x.shape[1], W.shape[1]
        if dx is not None and threads.poll() > 1 and _in_parts(n, k, m):
            with threads.parallel_region() as parts:
                affine.affine_backward_parts(x, W, dout, dW, db, dx, max(2, parts))
        else:
            affine.affine_backward(x, W, dout, dW, db, dx)
        return dx

    def _saved_input(self) -> np.ndarray:
        x = validate.as_real(self.x, "x")
        if x.ndim != 2:
            raise ValueError(f"the saved input x must be 2-D, got shape {x.shape}")
        return x


class MatMul(Layer):
    """vol. 2's ``out = x @ W`` node: ``params = [W]``, ``grads = [dW]`` written in place."""

    def __init__(self, W: np.ndarray):
        _param(W)
        super().__init__(W)
        self.x = None

    def forward(self, x) -> np.ndarray:
        W = validate.weight(self.params[0], "W")
        x = validate.batch(validate.as_real(x, "x", W.dtype), "x")
        if x.ndim != 2 or x.shape[1] != W.shape[0]:
            raise ValueError(f"x must have shape (N, {W.shape[0]}) to multiply W of shape {W.shape}, "
                             f"got {x.shape}")
        out = np.empty((x.shape[0], W.shape[1]), dtype=W.dtype)
        affine.affine_forward(x, W, None, out, gemm_blocks.gemm_rows(x.shape[0], x.shape[1], W.shape[1]))
        self.x = x
        return out

    def backward(self, dout) -> np.ndarray:
        self._require_forward(self.x)
        x = validate.as_real(self.x, "x")
        W = validate.weight(self.params[0], "W", x.dtype)
        if x.ndim != 2 or W.shape[0] != x.shape[1]:
            raise ValueError(f"W has shape {W.shape} but the forward input had shape {x.shape} "
                             "(W was replaced since forward? run forward again)")
        dout = self._dout(dout, (x.shape[0], W.shape[1]), x.dtype)
        dW = self._grad(0)
        dx = np.empty_like(x)
        affine.affine_backward(x, W, dout, dW, None, dx)
        return dx
