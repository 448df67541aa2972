"""fastprop.kernels.pool against its twins (the book's im2col max pooling), ties and NaN."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st
from test_conv import geometry, out_hw

from fastprop.kernels import pool as K
from fastprop.twins import pool as T


def _values(draw, r, shape):
    """Normal values, or small integers (many ties in a window), or some NaN."""
    kind = draw(st.sampled_from(["normal", "ties", "nan"]))
    if kind == "ties":
        return r.integers(-2, 3, shape).astype(np.float64)
    x = r.standard_normal(shape)
    if kind == "nan":
        x[r.random(shape) < 0.2] = np.nan
    return x


def _forward(draw, dt):
    r = parity.rng(draw)
    n, c, h, w, ph, pw, s, p = geometry(draw)
    oh, ow = out_hw(h, w, ph, pw, s, p)
    return [_values(draw, r, (n, c, h, w)).astype(dt), ph, pw, s, p,
            np.full((n, c, oh, ow), np.nan, dt), np.full(n * oh * ow * c, -1, np.intp)]


def _backward(draw, dt):
    r = parity.rng(draw)
    n, c, h, w, ph, pw, s, p = geometry(draw)
    oh, ow = out_hw(h, w, ph, pw, s, p)
    arg_max = r.integers(0, ph * pw, n * oh * ow * c).astype(np.intp)
    return [r.standard_normal((n, c, oh, ow)).astype(dt), arg_max, ph, pw, s, p,
            np.full((n, c, h, w), np.nan, dt)]


def _plane(draw):
    """(N, C, H, W) for the 2x2, stride-2 kernels: odd sizes leave a row/column out."""
    return (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 9)), draw(st.integers(2, 9)))


def _forward2(draw, dt):
    r = parity.rng(draw)
    n, c, h, w = _plane(draw)
    return [_values(draw, r, (n, c, h, w)).astype(dt), np.full((n, c, h // 2, w // 2), np.nan, dt),
            np.full((n, c, h // 2, w // 2), 255, np.uint8)]


def _backward2(draw, dt):
    r = parity.rng(draw)
    n, c, h, w = _plane(draw)
    shape = (n, c, h // 2, w // 2)
    arg = r.integers(0, 4, shape).astype(np.uint8)
    arg[r.random(shape) < 0.1] = 7  # selects nothing
    return [r.standard_normal(shape).astype(dt), arg, np.full((n, c, h, w), np.nan, dt)]


CASES = {
    "pool_forward": parity.Case(_forward, outputs=("out", "arg_max"), returns="out", exact=True),
    "pool_backward": parity.Case(_backward, outputs=("dx",), returns="dx", linear=True),
    "pool2_forward": parity.Case(_forward2, outputs=("out", "arg"), returns="out", exact=True),
    "pool2_backward": parity.Case(_backward2, outputs=("dx",), returns="dx", linear=True),
}

test_parity = parity.make_test("pool", CASES)


# --------------------------------------------------------------------------- pinned edge cases


def test_ties_take_the_first_maximum_like_the_books_argmax():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 0.0, 2.0, 2.0],
                    [-1.0, -1.0, 3.0, np.nan],
                    [-1.0, -1.0, np.nan, 3.0]]]])
    out, arg_max = np.empty((1, 1, 2, 2)), np.empty(4, np.intp)
    K.pool_forward(x, 2, 2, 2, 0, out, arg_max)
    # windows in the book's (n, i, j, c) order; NaN wins like np.max / np.argmax
    assert arg_max.tolist() == [0, 1, 0, 1]
    np.testing.assert_array_equal(out, [[[[1.0, 2.0], [-1.0, np.nan]]]])
    ref_out, ref_arg = np.empty_like(out), np.empty_like(arg_max)
    T.pool_forward(x, 2, 2, 2, 0, ref_out, ref_arg)
    np.testing.assert_array_equal(arg_max, ref_arg)


def test_padding_counts_as_zero_like_the_books_im2col():
    x = -np.ones((1, 1, 2, 2))
    out, arg_max = np.empty((1, 1, 2, 2)), np.empty(4, np.intp)
    K.pool_forward(x, 2, 2, 2, 1, out, arg_max)
    np.testing.assert_array_equal(out, np.zeros((1, 1, 2, 2)))
    # the first zero of each window: padding, except window (1, 1) = [[-1, 0], [0, 0]]
    assert arg_max.tolist() == [0, 0, 0, 1]
    ref_out, ref_arg = np.empty_like(out), np.empty_like(arg_max)
    T.pool_forward(x, 2, 2, 2, 1, ref_out, ref_arg)
    np.testing.assert_array_equal(arg_max, ref_arg)


@pytest.mark.parametrize("shape", [(2, 3, 6, 4, 2, 2, 2, 0), (1, 2, 5, 7, 3, 2, 1, 1), (2, 1, 6, 6, 3, 3, 2, 1)])
def test_backward_is_the_books_bit_for_bit(shape):
    n, c, h, w, ph, pw, s, p = shape
    oh, ow = out_hw(h, w, ph, pw, s, p)
    r = np.random.default_rng(7)
    x = r.integers(-2, 3, (n, c, h, w)).astype(np.float64)
    out, arg_max = np.empty((n, c, oh, ow)), np.empty(n * oh * ow * c, np.intp)
    K.pool_forward(x, ph, pw, s, p, out, arg_max)
    dout = r.standard_normal(out.shape)
    dx, ref = np.empty_like(x), np.empty_like(x)
    K.pool_backward(dout, arg_max, ph, pw, s, p, dx)
    T.pool_backward(dout, arg_max, ph, pw, s, p, ref)
    assert dx.tobytes() == ref.tobytes()


# ------------------------------------------- the 2x2 / stride 2 / pad 0 path (every book net)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["normal", "ties", "nan", "inf"])
@pytest.mark.parametrize("shape", [(2, 3, 6, 4), (3, 2, 7, 5), (1, 1, 2, 2), (2, 2, 3, 9), (4, 30, 24, 24)])
def test_2x2_stride_2_path_is_the_twins_bit_for_bit(shape, kind, dt):
    """pool_forward/pool_backward take a dedicated loop for 2x2 windows with stride 2 and
    no padding (odd sizes leave a last row/column no window covers): the same outputs
    as the book's im2col pooling, ties, NaN (the first wins), inf, -0.0 and out-of-range
    arg_max entries (they select nothing) included."""
    n, c, h, w = shape
    oh, ow = h // 2, w // 2
    r = np.random.default_rng(sum(shape))
    x = r.standard_normal(shape)
    if kind == "ties":
        x = r.integers(-2, 3, shape).astype(np.float64)
    elif kind == "nan":
        x[r.random(shape) < 0.2] = np.nan
    elif kind == "inf":
        x[r.random(shape) < 0.2] = np.inf
        x[r.random(shape) < 0.1] = -np.inf
        x[r.random(shape) < 0.05] = np.nan
    x = x.astype(dt)
    out, arg = np.full((n, c, oh, ow), 7, dt), np.full(n * oh * ow * c, -1, np.intp)
    ref_out, ref_arg = out.copy(), arg.copy()
    K.pool_forward(x, 2, 2, 2, 0, out, arg)
    T.pool_forward(x, 2, 2, 2, 0, ref_out, ref_arg)
    assert out.tobytes() == ref_out.tobytes() and arg.tolist() == ref_arg.tolist()

    dout = r.standard_normal(out.shape).astype(dt)
    dout.reshape(-1)[::7] = -0.0
    arg[::5] = 4  # out of range: no pixel gets that window's gradient
    arg[1::11] = -3
    dx, ref = np.full(shape, np.nan, dt), np.full(shape, np.nan, dt)
    K.pool_backward(dout, arg, 2, 2, 2, 0, dx)
    T.pool_backward(dout, arg, 2, 2, 2, 0, ref)
    assert dx.tobytes() == ref.tobytes()
