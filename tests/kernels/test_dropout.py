"""fastprop.kernels.dropout against its twins, and the book's Dropout edge cases."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import dropout as K

sizes = st.integers(1, 64 * 40)  # the layer passes flat views of any shape
ratios = st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.999])


def _forward(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    x = draw(parity.scales) * r.standard_normal(n)
    rand = r.random(n)
    ratio = draw(ratios)
    rand[r.random(n) < 0.05] = ratio  # draws exactly at the ratio are dropped (strict >)
    return [x.astype(dt), rand, ratio, np.full(n, np.nan, dt), np.zeros(n, np.bool_)]


def _backward(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    return [r.standard_normal(n).astype(dt), r.random(n) < 0.5, np.full(n, np.nan, dt)]


CASES = {
    "dropout_forward": parity.Case(_forward, outputs=("out", "mask"), returns="out"),
    "dropout_backward": parity.Case(_backward, outputs=("dx",), returns="dx"),
}

test_parity = parity.make_test("dropout", CASES)


# --------------------------------------------------------------------------- pinned edge cases


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_the_mask_is_strictly_above_the_ratio_and_the_product_is_the_books(kdtype):
    x = np.array([1.0, -2.0, np.nan, np.inf, -np.inf, 3.0, 0.0], dtype=kdtype)
    rand = np.array([0.3, 0.1, 0.2, 0.25, 0.9, 0.5, 0.7])
    out, mask = np.empty_like(x), np.zeros(x.shape, np.bool_)
    K.dropout_forward(x, rand, 0.3, out, mask)
    book_mask = rand > 0.3
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in the book
        book_out = x * book_mask
    assert mask.tolist() == [False, False, False, False, True, True, True]
    np.testing.assert_array_equal(mask, book_mask)
    # bit for bit, NaN and signed zeros included: a dropped -2 is -0.0, a dropped inf NaN
    assert out.tobytes() == book_out.tobytes()
    assert out.dtype == kdtype
    assert np.signbit(out[1]) and np.isnan(out[2]) and np.isnan(out[3]) and out[4] == -np.inf


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_backward_is_dout_times_the_mask(kdtype):
    dout = np.array([1.5, -2.0, np.nan, 4.0], dtype=kdtype)
    mask = np.array([True, False, False, True])
    dx = np.empty_like(dout)
    K.dropout_backward(dout, mask, dx)
    assert dx.tobytes() == (dout * mask).tobytes()
    assert dx.tolist()[0] == 1.5 and np.signbit(dx[1]) and np.isnan(dx[2])


def test_ratio_zero_keeps_every_positive_draw_and_drops_a_zero_draw():
    x = np.arange(1.0, 5.0)
    rand = np.array([0.0, 1e-300, 0.5, 0.9999])
    out, mask = np.empty_like(x), np.zeros(4, np.bool_)
    K.dropout_forward(x, rand, 0.0, out, mask)
    assert mask.tolist() == [False, True, True, True]
    assert out.tolist() == [0.0, 2.0, 3.0, 4.0]
