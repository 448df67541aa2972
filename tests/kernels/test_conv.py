"""fastprop.kernels.conv against its twins (the book's im2col/col2im algorithm in NumPy)."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import conv as K
from fastprop.twins import conv as T


def geometry(draw):
    """(N, C, H, W, FH, FW, stride, pad) with the filter fitting the padded image."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, h + 2 * pad)), draw(st.integers(1, w + 2 * pad))
    return n, c, h, w, min(fh, 5), min(fw, 5), stride, pad


def out_hw(h, w, fh, fw, stride, pad):
    return (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1


def _im2col(draw, dt):
    r = parity.rng(draw)
    n, c, h, w, fh, fw, s, p = geometry(draw)
    oh, ow = out_hw(h, w, fh, fw, s, p)
    x = draw(parity.scales) * r.standard_normal((n, c, h, w))
    return [x.astype(dt), fh, fw, s, p, np.full((n * oh * ow, c * fh * fw), np.nan, dt)]


def _col2im(draw, dt):
    r = parity.rng(draw)
    n, c, h, w, fh, fw, s, p = geometry(draw)
    oh, ow = out_hw(h, w, fh, fw, s, p)
    col = r.standard_normal((n * oh * ow, c * fh * fw))
    return [col.astype(dt), fh, fw, s, p, np.full((n, c, h, w), np.nan, dt)]


def _unfold(draw, dt):
    args = _im2col(draw, dt)
    n, k = args[0].shape[0], args[-1].shape[1]
    args[-1] = np.full((n, k, args[-1].shape[0] // n), np.nan, dt)
    return args


def _fold(draw, dt):
    args = _col2im(draw, dt)
    n, k = args[-1].shape[0], args[0].shape[1]
    cols = args[0].reshape(n, -1, k).transpose(0, 2, 1)
    args[0] = np.ascontiguousarray(cols)
    return args


def _forward(draw, dt):
    r = parity.rng(draw)
    n, c, h, w, fh, fw, s, p = geometry(draw)
    fn = draw(st.integers(1, 4))
    oh, ow = out_hw(h, w, fh, fw, s, p)
    x = draw(parity.scales) * r.standard_normal((n, c, h, w))
    W, b = r.standard_normal((fn, c, fh, fw)), r.standard_normal(fn)
    return [x.astype(dt), W.astype(dt), b.astype(dt), s, p,
            np.full((n, c * fh * fw, oh * ow), np.nan, dt), np.full((n, fn, oh, ow), np.nan, dt)]


def _backward(draw, dt):
    r = parity.rng(draw)
    n, c, h, w, fh, fw, s, p = geometry(draw)
    fn = draw(st.integers(1, 4))
    oh, ow = out_hw(h, w, fh, fw, s, p)
    k = c * fh * fw
    cols = np.empty((n, k, oh * ow))
    K.unfold(r.standard_normal((n, c, h, w)), fh, fw, s, p, cols)
    dout = draw(parity.scales) * r.standard_normal((n, fn, oh, ow))
    need_dx = draw(st.booleans())
    return [dout.astype(dt), cols.astype(dt), r.standard_normal((fn, c, fh, fw)).astype(dt), s, p,
            np.full((fn, c, fh, fw), np.nan, dt), np.full(fn, np.nan, dt),
            np.full(cols.shape, np.nan, dt) if need_dx else None,
            np.full((n, c, h, w), np.nan, dt) if need_dx else None]


CASES = {
    "im2col": parity.Case(_im2col, outputs=("col",), returns="col", exact=True),
    "unfold": parity.Case(_unfold, outputs=("cols",), returns="cols", exact=True),
    "col2im": parity.Case(_col2im, outputs=("img",), returns="img", linear=True),
    "fold": parity.Case(_fold, outputs=("img",), returns="img", linear=True),
    "conv_forward": parity.Case(_forward, outputs=("cols", "out"), returns="out", linear=True),
    "conv_backward": parity.Case(_backward, outputs=("dW", "db", "dcols", "dx"), returns="dx",
                                 linear=True),
}

test_parity = parity.make_test("conv", CASES)


# --------------------------------------------------------------------------- pinned edge cases

# (N, C, H, W, FH, FW, stride, pad): stride 2, pad 1, 1x1 filters, non-square images,
# a filter as large as the padded image, stride larger than the filter
PINNED = [(2, 3, 7, 5, 3, 3, 2, 1), (1, 2, 4, 6, 1, 1, 1, 0), (2, 1, 5, 9, 2, 4, 1, 1),
          (1, 2, 3, 3, 5, 5, 1, 1), (3, 2, 8, 6, 2, 2, 3, 2), (2, 16, 6, 6, 3, 3, 1, 1)]


@pytest.mark.parametrize("shape", PINNED, ids=[str(p) for p in PINNED])
def test_im2col_and_col2im_are_the_books_bit_for_bit(shape):
    n, c, h, w, fh, fw, s, p = shape
    oh, ow = out_hw(h, w, fh, fw, s, p)
    r = np.random.default_rng(3)
    x = r.standard_normal((n, c, h, w))
    col, ref = np.empty((n * oh * ow, c * fh * fw)), np.empty((n * oh * ow, c * fh * fw))
    K.im2col(x, fh, fw, s, p, col)
    T.im2col(x, fh, fw, s, p, ref)
    assert col.tobytes() == ref.tobytes()
    img, img_ref = np.empty_like(x), np.empty_like(x)
    dcol = r.standard_normal(col.shape)
    K.col2im(dcol, fh, fw, s, p, img)
    T.col2im(dcol, fh, fw, s, p, img_ref)
    assert img.tobytes() == img_ref.tobytes()  # the book's order of the sums
    cols = np.empty((n, c * fh * fw, oh * ow))
    K.fold(np.ascontiguousarray(dcol.reshape(n, oh * ow, -1).transpose(0, 2, 1)), fh, fw, s, p, img)
    assert img.tobytes() == img_ref.tobytes()
    K.unfold(x, fh, fw, s, p, cols)
    np.testing.assert_array_equal(cols.transpose(0, 2, 1).reshape(col.shape), col)


def test_im2col_of_a_known_image():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    col = np.empty((4, 4))
    K.im2col(x, 2, 2, 2, 0, col)
    np.testing.assert_array_equal(col, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]])
    padded = np.empty((1, 9))
    K.im2col(np.arange(1.0, 2.0).reshape(1, 1, 1, 1), 3, 3, 1, 1, padded)
    np.testing.assert_array_equal(padded, [[0, 0, 0, 0, 1, 0, 0, 0, 0]])


def test_conv_forward_is_the_correlation_sum():
    r = np.random.default_rng(4)
    x, W, b = r.standard_normal((2, 3, 5, 4)), r.standard_normal((2, 3, 3, 2)), r.standard_normal(2)
    s, p = 2, 1
    oh, ow = out_hw(5, 4, 3, 2, s, p)
    out = np.empty((2, 2, oh, ow))
    K.conv_forward(x, W, b, s, p, np.empty((2, 18, oh * ow)), out)
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    expect = np.empty_like(out)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * s:i * s + 3, j * s:j * s + 2]
            expect[:, :, i, j] = np.einsum("nchw,fchw->nf", patch, W) + b
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("fn", [pytest.param(1, marks=pytest.mark.xfail(
    strict=True, reason="one filter: NumPy sums the single column pairwise, the kernel in "
                        "order (the last bits differ; known, not fixed)")), 2, 3, 4, 7, 30])
def test_conv_backward_db_is_the_books_sum_bit_for_bit(fn, dt):
    """db adds the pixels in the book's order (``np.sum(dout.transpose(0, 2, 3, 1)
    .reshape(-1, FN), axis=0)``: one sample's pixels after another), whatever the number
    of filters (the kernel sums four filters at a time, then the rest one by one)."""
    n, c, h, w, fh = 3, 2, 9, 7, 3
    oh, ow = out_hw(h, w, fh, fh, 1, 0)
    r = np.random.default_rng(fn)
    x, W = r.standard_normal((n, c, h, w)).astype(dt), r.standard_normal((fn, c, fh, fh)).astype(dt)
    dout = (r.standard_normal((n, fn, oh, ow)) * 10.0 ** r.integers(-3, 4, (n, fn, oh, ow))).astype(dt)
    cols = np.empty((n, c * fh * fh, oh * ow), dt)
    K.unfold(x, fh, fh, 1, 0, cols)
    dW, db = np.empty_like(W), np.full(fn, np.nan, dt)
    K.conv_backward(dout, cols, W, 1, 0, dW, db, None, None)
    book = np.sum(dout.transpose(0, 2, 3, 1).reshape(-1, fn), axis=0)
    assert db.dtype == dt and db.tobytes() == book.tobytes()
