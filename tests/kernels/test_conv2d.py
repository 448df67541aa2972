"""fastprop.kernels.conv2d against its twins, and the same bits at every chunk-to-thread split."""
import numba
import numpy as np
import parity
import pytest
from hypothesis import strategies as st
from test_conv import geometry, out_hw

from fastprop.kernels import conv2d as K
from fastprop.layers.conv import conv_work_row
from fastprop.twins import conv2d as T


def _setup(draw, dt):
    """x, W, the geometry, a chunk (1 .. N+1: a batch not divisible by it, and one chunk
    larger than the batch) and a scratch of 1-3 rows (threads)."""
    r = parity.rng(draw)
    n, c, h, w, fh, fw, s, p = geometry(draw)
    n = draw(st.integers(1, 7))
    fn = draw(st.integers(1, 6))
    oh, ow = out_hw(h, w, fh, fw, s, p)
    chunk = draw(st.integers(1, n + 1))
    x = draw(parity.scales) * r.standard_normal((n, c, h, w))
    W = r.standard_normal((fn, c, fh, fw))
    work = np.full((draw(st.integers(1, 3)), conv_work_row(x.shape, W.shape, s, p, chunk)), np.nan, dt)
    return r, x.astype(dt), W.astype(dt), s, p, chunk, work, (n, fn, oh, ow)


def _forward(draw, dt):
    r, x, W, s, p, chunk, work, oshape = _setup(draw, dt)
    b = r.standard_normal(oshape[1]).astype(dt)
    epilogue = draw(st.sampled_from([K.BIAS, K.BIAS_RELU, K.BIAS_RELU_POOL]))
    n, fn, oh, ow = oshape
    if epilogue == K.BIAS_RELU_POOL:
        oshape = (n, fn, oh // 2, ow // 2)
    return [x, W, b, s, p, chunk, work, epilogue, np.full(oshape, np.nan, dt)]


def _backward(draw, dt):
    r, x, W, s, p, chunk, work, oshape = _setup(draw, dt)
    dout = (draw(parity.scales) * r.standard_normal(oshape)).astype(dt)
    need_dx = draw(st.booleans())
    return [x, W, dout, s, p, chunk, work, np.full(W.shape, np.nan, dt), np.full(oshape[1], np.nan, dt),
            np.full(x.shape, np.nan, dt) if need_dx else np.empty((0, 0, 0, 0), dt)]


CASES = {
    "conv2d_forward": parity.Case(_forward, outputs=("out",), scratch=("work",), returns="out",
                                  linear=True),
    "conv2d_backward": parity.Case(_backward, outputs=("dW", "db", "dx"), scratch=("work",),
                                   returns="dx", linear=True),
}

test_parity = parity.make_test("conv2d", CASES)


# --------------------------------------------------------------------------- threads and chunks

# (N, C, H, W, FN, FH, FW, stride, pad): DeepConvNet's conv2 and first conv, SimpleConvNet's,
# stride 2, pad 2, non-square filters and images, batch 1
SHAPES = [(10, 16, 12, 12, 16, 3, 3, 1, 1), (9, 1, 28, 28, 16, 3, 3, 1, 1), (7, 1, 28, 28, 30, 5, 5, 1, 0),
          (5, 3, 9, 7, 4, 3, 2, 2, 2), (1, 2, 6, 8, 3, 2, 4, 1, 2), (6, 4, 7, 7, 5, 3, 3, 2, 0)]


def _run_all(shape, dt, chunk, threads, relu):
    n, c, h, w, fn, fh, fw, s, p = shape
    oh, ow = out_hw(h, w, fh, fw, s, p)
    r = np.random.default_rng(sum(shape))
    x = r.standard_normal((n, c, h, w)).astype(dt)
    W = r.standard_normal((fn, c, fh, fw)).astype(dt)
    b = r.standard_normal(fn).astype(dt)
    dout = r.standard_normal((n, fn, oh, ow)).astype(dt)
    work = np.empty((threads, conv_work_row(x.shape, W.shape, s, p, chunk)), dt)
    out, dW, db, dx = np.empty((n, fn, oh, ow), dt), np.empty_like(W), np.empty(fn, dt), np.empty_like(x)
    saved = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        K.conv2d_forward(x, W, b, s, p, chunk, work, K.BIAS_RELU if relu else K.BIAS, out)
        K.conv2d_backward(x, W, dout, s, p, chunk, work, dW, db, dx)
    finally:
        numba.set_num_threads(saved)
    ref = [np.empty_like(out), np.empty_like(dW), np.empty_like(db), np.empty_like(dx)]
    args64 = [a.astype(np.float64) for a in (x, W, b, dout)]
    T.conv2d_forward(args64[0], args64[1], args64[2], s, p, chunk, None, int(relu), ref[0])
    T.conv2d_backward(args64[0], args64[1], args64[3], s, p, chunk, None, ref[1], ref[2], ref[3])
    return (out, dW, db, dx), ref, (x, W, dout)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_every_chunk_and_thread_count_gives_the_twins_numbers(shape, dt):
    """Chunks of 1, 2, 3 and the whole batch, on 1 and 2 threads: the twin's numbers to
    the harness's tolerance; for one chunk size, the same bits on 1 and 2 threads."""
    for chunk in sorted({1, 2, 3, shape[0]}):
        runs = {}
        for threads in (1, 2):
            got, ref, (x, W, dout) = _run_all(shape, dt, chunk, threads, relu=threads == 2)
            # error scales: the largest sum of |terms| of each output
            scale = [np.abs(x).max() * np.abs(W).sum(axis=(1, 2, 3)).max(),
                     np.abs(x).max() * np.abs(dout).sum(axis=(0, 2, 3)).max(), None,
                     np.abs(dout).max() * np.abs(W).sum(axis=(0, 2, 3)).max()]
            for name, a, e, sc in zip(("out", "dW", "db", "dx"), got, ref, scale):
                assert a.dtype == dt and a.shape == e.shape
                parity.assert_close(a, e, dt, f"{name} chunk {chunk} threads {threads}", floor=sc or 0.0)
            runs[threads] = got
        for a, b in zip(runs[1][1:], runs[2][1:]):
            assert a.tobytes() == b.tobytes(), f"chunk {chunk}: 1 and 2 threads differ"


def test_forward_relu_is_the_books_and_keeps_nan():
    x = np.array([[[[1.0, -2.0], [np.nan, 0.0]]]])
    W, b = np.ones((1, 1, 1, 1)), np.zeros(1)
    out = np.empty_like(x)
    K.conv2d_forward(x, W, b, 1, 0, 1, np.empty((1, conv_work_row(x.shape, W.shape, 1, 0, 1))), K.BIAS_RELU, out)
    np.testing.assert_array_equal(out, [[[[1.0, 0.0], [np.nan, 0.0]]]])
    assert not np.signbit(out[0, 0, 1, 1])


def test_backward_db_is_the_books_sum_bit_for_bit():
    """db adds one sample's pixels after another, as the book's ``np.sum(axis=0)``, at
    every chunk size and thread count (the filters, not the samples, are split)."""
    n, c, h, w, fn = 5, 2, 9, 7, 7
    r = np.random.default_rng(1)
    x, W = r.standard_normal((n, c, h, w)), r.standard_normal((fn, c, 3, 3))
    dout = r.standard_normal((n, fn, 7, 5)) * 10.0 ** r.integers(-3, 4, (n, fn, 7, 5))
    book = np.sum(dout.transpose(0, 2, 3, 1).reshape(-1, fn), axis=0)
    for chunk in (1, 2, 5):
        db = np.full(fn, np.nan)
        work = np.empty((2, conv_work_row(x.shape, W.shape, 1, 0, chunk)))
        K.conv2d_backward(x, W, dout, 1, 0, chunk, work, np.empty_like(W), db, np.empty((0, 0, 0, 0)))
        assert db.tobytes() == book.tobytes()


def test_the_pooling_epilogue_is_conv_relu_pool_bit_for_bit():
    """The fused inference pass gives the same bits as the forward kernel (with its ReLU)
    followed by the book's pooling, NaN included, odd output sizes dropping a row/column."""
    from fastprop.kernels import pool

    r = np.random.default_rng(2)
    for dt in (np.float64, np.float32):
        x = r.standard_normal((5, 3, 9, 8)).astype(dt)
        x[1, 0, 4, 4] = np.nan
        W, b = r.standard_normal((4, 3, 3, 3)).astype(dt), r.standard_normal(4).astype(dt)
        for pad, chunk in ((0, 2), (1, 3), (2, 5)):
            oh, ow = out_hw(9, 8, 3, 3, 1, pad)
            work = np.empty((2, conv_work_row(x.shape, W.shape, 1, pad, chunk)), dt)
            full = np.empty((5, 4, oh, ow), dt)
            K.conv2d_forward(x, W, b, 1, pad, chunk, work, K.BIAS_RELU, full)
            ref = np.empty((5, 4, oh // 2, ow // 2), dt)
            pool.pool_forward(full, 2, 2, 2, 0, ref, np.empty(ref.size, np.intp))
            got = np.full_like(ref, -1.0)
            K.conv2d_forward(x, W, b, 1, pad, chunk, work, K.BIAS_RELU_POOL, got)
            assert got.tobytes() == ref.tobytes()
