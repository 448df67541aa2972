"""Convolution's bias as the book takes it: ``out = col @ col_W + self.b`` broadcasts, so a
scalar (vol. 1 ch07/apply_filter.py builds ``Convolution(w, 0)``) or any array that broadcasts
to (FN,) works; ``layer.b`` stays what was given and backward's ``db`` is a (FN,) array."""
import numpy as np
import pytest

from fastprop.layers import Convolution

X = np.arange(9.0).reshape(1, 1, 3, 3)
W = np.ones((1, 1, 2, 2))
SUMS = np.array([[[[8.0, 12.0], [20.0, 24.0]]]])  # each 2x2 window of 0..8 summed by hand


@pytest.mark.parametrize("b, add", [(0, 0.0), (0.5, 0.5), (np.float32(2), 2.0), (np.array([1.0]), 1.0),
                                    (np.array(3), 3.0), ([-1], -1.0)])
def test_scalar_and_broadcast_biases_work_as_in_the_book(b, add):
    layer = Convolution(W, b)
    out = layer.forward(X)
    assert out.shape == (1, 1, 2, 2) and out.dtype == np.float64
    np.testing.assert_array_equal(out, SUMS + add)
    assert layer.b is b  # kept as given, as the book keeps it
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    assert layer.db.shape == (1,) and layer.db.dtype == np.float64
    np.testing.assert_array_equal(layer.db, [4.0])
    np.testing.assert_array_equal(layer.dW, np.array([[[[8.0, 12.0], [20.0, 24.0]]]]))
    np.testing.assert_array_equal(dx, [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])


def test_scalar_bias_broadcasts_over_several_filters_and_db_is_stable():
    w = np.stack([W[0], 2 * W[0]])  # (2, 1, 2, 2)
    layer = Convolution(w, 1)
    out = layer.forward(X)
    np.testing.assert_array_equal(out[0, 0], SUMS[0, 0] + 1)
    np.testing.assert_array_equal(out[0, 1], 2 * SUMS[0, 0] + 1)
    layer.backward(np.ones((1, 2, 2, 2)))
    db = layer.db
    layer.backward(2 * np.ones((1, 2, 2, 2)))
    assert layer.db is db  # the same array written in place
    np.testing.assert_array_equal(db, [8.0, 8.0])


def test_float32_filters_with_a_scalar_bias_stay_float32():
    layer = Convolution(W.astype(np.float32), 0)
    out = layer.forward(X)
    assert out.dtype == np.float32
    layer.backward(np.ones_like(out))
    assert layer.db.dtype == np.float32


def test_a_per_filter_bias_is_still_the_parameter_by_reference():
    b = np.zeros(1)
    layer = Convolution(W, b)
    b += 10.0  # an optimizer's in-place update is seen by the next forward
    np.testing.assert_array_equal(layer.forward(X), SUMS + 10)
    layer.backward(np.ones((1, 1, 2, 2)))
    assert layer.grads[1].shape == b.shape


@pytest.mark.parametrize("b, exc, match", [
    (np.zeros(2), ValueError, r"broadcast to \(1,\)"),
    (np.zeros((1, 1, 1)), ValueError, r"broadcast to \(1,\)"),
    (None, TypeError, "NoneType"),
    ("0", TypeError, "str"),
    (1j, TypeError, "complex"),
])
def test_a_bias_that_cannot_broadcast_to_one_per_filter_is_refused(b, exc, match):
    with pytest.raises(exc, match=match):
        Convolution(W, b)


def test_a_bias_changed_after_construction_is_checked_at_forward():
    layer = Convolution(W, 0)
    layer.b = np.zeros(5)
    with pytest.raises(ValueError, match=r"broadcast to \(1,\)"):
        layer.forward(X)
