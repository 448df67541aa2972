"""Affine (fully connected) and MatMul kernels: BLAS GEMMs plus the fused small passes.

``np.dot(a, b, out)`` inside ``@njit`` calls SciPy's BLAS ``?gemm`` straight into ``out``
(no temporary); ``x.T`` of a C-contiguous ``x`` is an F-contiguous view, which BLAS
takes through its transpose flag, so ``x.T @ dout`` is never materialised.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .convert import cast_into
from .reductions import column_sum


@jit
def affine_forward(x, W, b, out, rows):
    """``out = x @ W + b`` with the bias broadcast fused into one pass over ``out``.

    Parameters
    ----------
    x : (N, D) float32/float64, C-contiguous
    W : (D, M) same dtype, C-contiguous
    b : (M,) same dtype, or None (then this is vol. 2's MatMul forward)
    out : (N, M) same dtype, written
    rows : int, the GEMM in blocks of this many rows of ``x`` (``<= 0``: one GEMM); blocks
        small enough for the BLAS's small-matrix kernel skip its packing of ``W``
        (:func:`fastprop.gemm_blocks.gemm_rows`). The sums are the same products; the BLAS may
        add them in another order, so results can differ in the last bits

    Returns
    -------
    out
    """
    n = x.shape[0]
    if rows <= 0 or rows >= n:
        np.dot(x, W, out)
    else:
        for r0 in range(0, n, rows):
            r1 = min(r0 + rows, n)
            np.dot(x[r0:r1], W, out[r0:r1])
    if b is not None:
        m = out.shape[1]
        for i in range(n):
            for j in range(m):
                out[i, j] += b[j]
    return out


@jit(parallel=True)
def affine_forward_cast(x, W, b, out, buf, runs, Wc, small_work, max_keep):
    """``out = x.astype(W.dtype) @ W + b`` chunk by chunk: no whole-size cast of ``x``.

    Parameters
    ----------
    x : (N, D) real array of any dtype, C-contiguous (float32 MNIST, uint8 pixels)
    W : (D, M) float32/float64, C-contiguous
    b : (M,) W's dtype, or None
    out : (N, M) W's dtype, C-contiguous, written
    buf : (T, R, D) W's dtype, scratch: one R-row chunk buffer per thread
    runs, Wc : None, or (T, D, 3) int64 and (T, D * M) W's dtype, scratch: then a chunk
        whose all-zero columns number more than ``D - max_keep`` is multiplied without
        them (:func:`column_runs`, :func:`pack_weight_rows`, :func:`pack_columns`); a
        thread that meets a chunk with fewer stops looking for the rest of the call
    small_work : int, a chunk's GEMM in row blocks of ``small_work // (K * M)`` rows (the
        BLAS's small-matrix kernels, :mod:`fastprop.gemm_blocks`; 0: one GEMM), by
        :func:`affine_forward`
    max_keep : int

    Returns
    -------
    out

    Notes
    -----
    For the book's evaluations (``network.accuracy(x_train, t_train)`` on 60000 float32
    images against float64 weights): NumPy, and fastprop's cast-then-GEMM, first write a
    376 MB float64 copy of the set (in fresh pages, every epoch), then read it back for the
    GEMM. Here each thread casts R rows into its own buffer, small enough to stay in its
    L2, and multiplies them from there: the set is read once and nothing the size of it is
    written. Chunk ``c`` goes to thread ``c % T`` (a static split), and each output row is
    one row-block GEMM of its own, the same sums as the whole-matrix GEMM's rows (without
    the zero terms of a packed chunk). Run it with BLAS at one thread
    (:func:`fastprop.threads.parallel_region`).
    """
    n = x.shape[0]
    T, R = buf.shape[0], buf.shape[1]
    chunks = (n + R - 1) // R
    for t in prange(T):
        look = True
        for c in range(t, chunks, T):
            r0 = c * R
            r1 = min(r0 + R, n)
            look = _cast_chunk(x, W, b, out[r0:r1], r0, r1, buf, runs, Wc, t, look, small_work, max_keep)
    return out


@jit
def _cast_chunk(x, W, b, out, r0, r1, buf, runs, Wc, t, look, small_work, max_keep):
    """One chunk of :func:`affine_forward_cast` on thread ``t``: ``out = x[r0:r1] @ W + b``
    from ``buf[t]``, without the chunk's all-zero columns when ``look`` and it has enough.

    Parameters
    ----------
    x, W, b, buf, runs, Wc, small_work, max_keep : as :func:`affine_forward_cast`
    out : (r1 - r0, M) W's dtype, written
    r0, r1 : the chunk's rows of ``x``, at most ``R`` of them
    t : the thread's index into ``buf``, ``runs`` and ``Wc``
    look : bool, whether to look for zero columns

    Returns
    -------
    bool, ``look`` for the thread's next chunk: False after a chunk with too few zero
    columns (an all-zero chunk says nothing about the next)
    """
    d = x.shape[1]
    m = W.shape[1]
    if look and runs is not None and Wc is not None:
        kk, nr = column_runs(x, r0, r1, runs[t])
        if kk == 0 or kk > max_keep or not pack_weight_rows(W, runs[t], nr, kk, Wc[t]):
            look = kk == 0
        else:
            flat = buf[t].reshape(buf.shape[1] * d)
            pack_columns(x, runs[t], nr, kk, flat, r0, r1)
            affine_forward(flat[:(r1 - r0) * kk].reshape(r1 - r0, kk), Wc[t][:kk * m].reshape(kk, m),
                           b, out, _block_rows(small_work, kk, m))
            return True
    bt = buf[t, :r1 - r0]
    for i in range(r1 - r0):
        for k in range(d):
            bt[i, k] = x[r0 + i, k]
    affine_forward(bt, W, b, out, _block_rows(small_work, d, m))
    return look


@jit
def _block_rows(small_work, k, m):
    """:func:`fastprop.gemm_blocks.gemm_rows` inside a kernel: rows a block for the
    small-matrix kernels (``small_work`` multiply-adds a block), 0 for one GEMM when blocks
    would be thinner than its ``MIN_ROWS`` (8)."""
    rows = small_work // max(1, k * m)
    return rows if rows >= 8 else 0


@jit(parallel=True)
def affine_forward_parts(x, W, b, out, rows, parts, src):
    """:func:`affine_forward` with the rows of ``x`` in ``parts`` contiguous parts, one per
    thread of Numba's pool (run it with BLAS at one thread:
    :func:`fastprop.threads.parallel_region`).

    Parameters
    ----------
    x, W, b, out, rows : as :func:`affine_forward`; ``x`` and ``out`` C-contiguous
    parts : int >= 1, the number of parts (the pool's thread count)
    src : (N, D) float32/float64 C-contiguous array, or None. Given, ``x`` is the buffer it
        is cast into first, each part casting its own rows (writing nothing where they are
        already equal, as :func:`fastprop.kernels.convert.cast_into`), so a part's rows are
        in the cache of the thread that multiplies them

    Returns
    -------
    out

    Notes
    -----
    One fork/join per GEMM instead of OpenBLAS's own split of a small GEMM over its
    threads, which synchronises inside the call: the book's (100, 784) @ (784, 50) forward
    took 116 us on OpenBLAS's two threads and 79 us as two parts here (quiet, Zen 4). With
    ``rows > 0`` the parts end on block boundaries, so every block is the very GEMM
    :func:`affine_forward` runs: the same sums, bit for bit.
    """
    n, d = x.shape
    blocks = (n + rows - 1) // rows if rows > 0 else n
    step = rows if rows > 0 else 1
    for p in prange(parts):
        r0 = min(n, (blocks * p // parts) * step)
        r1 = min(n, (blocks * (p + 1) // parts) * step)
        if r1 <= r0:
            continue
        if src is not None:
            cast_into(src.reshape(n * d)[r0 * d:r1 * d], x.reshape(n * d)[r0 * d:r1 * d])
        affine_forward(x[r0:r1], W, b, out[r0:r1], rows)
    return out


@jit
def affine_backward(x, W, dout, dW, db, dx):
    """Gradients of ``out = x @ W + b``; every output is optional except ``dW``.

    Parameters
    ----------
    x : (N, D) the forward input
    W : (D, M)
    dout : (N, M) upstream gradient
    dW : (D, M) written with ``x.T @ dout``
    db : (M,) written with ``dout.sum(axis=0)``, or None (MatMul has no bias)
    dx : (N, D) written with ``dout @ W.T``, or None to skip that GEMM (the first
        layer of a net never needs it)

    Returns
    -------
    dx (or None)
    """
    np.dot(x.T, dout, dW)
    if db is not None:
        column_sum(dout, db)
    if dx is not None:
        np.dot(dout, W.T, dx)
    return dx


@jit(parallel=True)
def affine_backward_parts(x, W, dout, dW, db, dx, parts):
    """:func:`affine_backward` (``dx`` wanted) on ``parts >= 2`` threads of Numba's pool:
    ``dW`` (and ``db``) on one, the rows of ``dx`` split over the others. The book's first
    layer has two GEMMs of the same size here, one per core: no split inside a GEMM, one
    fork/join (measured 232 -> 198 us against OpenBLAS's two threads, quiet, Zen 4). Each
    product is the one :func:`affine_backward` computes; run with BLAS at one thread.

    Returns
    -------
    dx
    """
    n = x.shape[0]
    q = max(1, parts - 1)
    for p in prange(q + 1):
        if p == 0:
            np.dot(x.T, dout, dW)
            if db is not None:
                column_sum(dout, db)
        else:
            r0 = n * (p - 1) // q
            r1 = n * p // q
            if r1 > r0:
                np.dot(dout[r0:r1], W.T, dx[r0:r1])
    return dx


@jit
def column_runs(src, r0, r1, runs):
    """Where the columns of ``src[r0:r1]`` that are not all zero are, as runs of adjacent
    columns.

    Parameters
    ----------
    src : (N, D) real array, C-contiguous (a batch of MNIST images: the border pixels
        are zero in every image of a batch of 100, a third of the 784 columns)
    r0, r1 : int, the rows looked at
    runs : (D, 3) int64, written: run ``r`` is ``[first column, length, position in the
        packed row]`` for ``r < R``

    Returns
    -------
    (K, R): the number of kept columns (NaN and inf count as nonzero) and of runs

    Notes
    -----
    A zero column adds exact zeros to every sum of ``x @ W`` and gives a zero row of
    ``x.T @ dout``, so the GEMMs can skip it (:func:`pack_weight_rows` checks the rows of
    ``W`` they skip are finite: ``0 * inf`` is NaN). The sums are the same terms without
    the zeros; the BLAS may add them in another order (last bits). The columns come as
    runs (an image's row of pixels) so that packing copies contiguous stretches.
    """
    d = src.shape[1]
    mass = np.zeros(d, np.float64)
    for i in range(r0, r1):
        for k in range(d):
            mass[k] += abs(np.float64(src[i, k]))  # vectorises; NaN stays NaN, a nonzero stays > 0
    kk = 0
    nr = 0
    k = 0
    while k < d:
        if mass[k] != 0:  # NaN != 0 too
            start = k
            while k < d and mass[k] != 0:
                k += 1
            runs[nr, 0] = start
            runs[nr, 1] = k - start
            runs[nr, 2] = kk
            kk += k - start
            nr += 1
        else:
            k += 1
    return kk, nr


@jit
def pack_columns(src, runs, nr, kk, xc, r0, r1):
    """Rows ``r0:r1`` of ``src``'s kept columns (:func:`column_runs`), cast, into the
    first ``r1 - r0`` packed (., K) rows of ``xc`` (flat, C-order)."""
    d = src.shape[1]
    flat = src.reshape(src.size)
    for i in range(r0, r1):
        for r in range(nr):
            # unsigned offsets: Numba then emits no negative-index wraparound, and the
            # copy of a run vectorises (with signed ones it ran at 1 ns an element)
            s = np.uint64(i * d + runs[r, 0])
            p = np.uint64((i - r0) * kk + runs[r, 2])
            for t in range(np.uint64(runs[r, 1])):
                xc[p + t] = flat[s + t]


@jit
def pack_weight_rows(W, runs, nr, kk, Wc):
    """``Wc[:kk * M]`` = the rows of ``W`` (D, M) for the kept columns, packed (K, M).

    Returns
    -------
    bool, whether every row left out is finite (else the caller must not skip them:
    ``0 * inf`` is NaN in the full product)
    """
    d, m = W.shape
    finite = True
    prev = 0
    for r in range(nr + 1):
        s = runs[r, 0] if r < nr else d
        for k in range(prev, s):  # the rows left out
            bad = 0.0  # times zero: 0 for a finite value, NaN for inf or NaN
            for c in range(m):
                bad += W[k, c] * 0.0
            if bad != 0.0:
                finite = False
        if r < nr:
            ln, p = runs[r, 1], runs[r, 2]
            for k in range(ln):
                o = np.uint64((p + k) * m)
                for c in range(np.uint64(m)):
                    Wc[o + c] = W[s + k, c]
            prev = s + ln
    return finite


@jit
def unpack_weight_rows(dWc, runs, nr, dW):
    """``dW`` (D, M) = zeros with the kept rows set from the packed ``dWc`` (K, M)."""
    d, m = dW.shape
    prev = 0
    for r in range(nr + 1):
        s = runs[r, 0] if r < nr else d
        for k in range(prev, s):
            for c in range(m):
                dW[k, c] = 0.0
        if r < nr:
            ln, p = runs[r, 1], runs[r, 2]
            for k in range(ln):
                for c in range(m):
                    dW[s + k, c] = dWc[(p + k) * m + c]
            prev = s + ln
