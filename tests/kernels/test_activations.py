"""fastprop.kernels.activations against its twins, and the book's Relu/Sigmoid edge cases."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import activations as K

sizes = st.integers(1, 64 * 40)  # the layers pass flat views of (batch, width) blocks


def _relu_forward(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    x = draw(parity.scales) * r.standard_normal(n)
    x[r.random(n) < 0.1] = 0.0  # exact zeros are the interesting points
    return [x.astype(dt), np.zeros(n, dt), np.zeros(n, np.bool_)]


def _relu_backward(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    return [r.standard_normal(n).astype(dt), r.random(n) < 0.5, np.zeros(n, dt)]


def _sigmoid_forward(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0]))
    return [(scale * r.standard_normal(n)).astype(dt), np.zeros(n, dt)]


def _sigmoid_backward(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0]))
    out = 1 / (1 + np.exp(-scale * r.standard_normal(n)))  # a saved forward output
    return [r.standard_normal(n).astype(dt), out.astype(dt), np.zeros(n, dt)]


CASES = {
    "relu_forward": parity.Case(_relu_forward, outputs=("out", "mask"), returns="out"),
    "relu_backward": parity.Case(_relu_backward, outputs=("dx",), returns="dx"),
    "sigmoid_forward": parity.Case(_sigmoid_forward, outputs=("out",), returns="out"),
    "sigmoid_backward": parity.Case(_sigmoid_backward, outputs=("dx",), returns="dx"),
}

test_parity = parity.make_test("activations", CASES)


# --------------------------------------------------------------------------- pinned edge cases


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_relu_at_exactly_zero_masks_and_has_zero_gradient(kdtype):
    x = np.array([-1.0, 0.0, -0.0, 1e-300 if kdtype == np.float64 else 1e-30, 2.0], dtype=kdtype)
    out, mask = np.empty_like(x), np.zeros(x.shape, dtype=np.bool_)
    K.relu_forward(x, out, mask)
    assert mask.tolist() == [True, True, True, False, False]
    assert out.tolist() == [0.0, 0.0, 0.0, float(x[3]), 2.0]
    assert out.dtype == kdtype
    dx = np.empty_like(x)
    K.relu_backward(np.full_like(x, 3.0), mask, dx)
    assert dx.tolist() == [0.0, 0.0, 0.0, 3.0, 3.0]


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_nan_and_inf_pass_through_relu_and_sigmoid_like_numpy(kdtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -3.0, 3.0], dtype=kdtype)
    out, mask = np.empty_like(x), np.zeros(x.shape, dtype=np.bool_)
    K.relu_forward(x, out, mask)
    # the book's Relu: mask = x <= 0 (False for NaN), out[mask] = 0
    book_mask = x <= 0
    book_out = x.copy()
    book_out[book_mask] = 0
    np.testing.assert_array_equal(mask, book_mask)
    np.testing.assert_array_equal(out, book_out)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0

    s = np.empty_like(x)
    with np.errstate(over="ignore"):
        book_s = 1 / (1 + np.exp(-x))
    K.sigmoid_forward(x, s)
    np.testing.assert_array_equal(s, book_s)
    assert np.isnan(s[0]) and s[1] == 1.0 and s[2] == 0.0


@pytest.mark.parametrize("kdtype", parity.DTYPES)
def test_sigmoid_of_plus_minus_1000_saturates_exactly(kdtype):
    x = np.array([-1000.0, 1000.0, -50.0, 50.0], dtype=kdtype)
    s = np.empty_like(x)
    K.sigmoid_forward(x, s)
    assert s[0] == 0.0 and s[1] == 1.0
    assert np.all(np.isfinite(s))
    dx = np.empty_like(x)
    K.sigmoid_backward(np.ones_like(x), s, dx)
    assert dx[0] == 0.0 and dx[1] == 0.0
