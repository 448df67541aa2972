"""fastprop.functions against the book's common/functions.py (fastprop.bench.book and below)."""
import numpy as np
import pytest

from fastprop import functions as F
from fastprop.bench.book.vol1 import cross_entropy_error as book_cross_entropy_error  # as printed
from fastprop.bench.book.vol1 import softmax as book_softmax


def check(actual, expected, dtype=np.float64, rtol=1e-13):
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == dtype
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * 1e-3)


def test_identity_function_returns_its_argument():
    x = np.array([1.0, -2.0])
    assert F.identity_function(x) is x


def test_step_function():
    x = np.array([-1.0, 0.0, 1e-9, 2.0])
    out = F.step_function(x)
    assert out.shape == (4,) and out.dtype.kind == "i"
    assert out.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(F.step_function(x), np.array(x > 0, dtype=int))


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_sigmoid_any_shape(rng, shape):
    x = 4 * rng.standard_normal(shape)
    check(F.sigmoid(x), 1 / (1 + np.exp(-x)))


def test_sigmoid_saturates_without_warnings():
    with np.errstate(all="raise"):
        out = F.sigmoid(np.array([-1000.0, 1000.0, 0.0]))
    assert out.tolist() == [0.0, 1.0, 0.5]


def test_sigmoid_float32_and_int_input():
    x32 = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    out = F.sigmoid(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-x32.astype(np.float64))), rtol=1e-6)
    out_int = F.sigmoid(np.array([-1, 0, 2]))
    assert out_int.dtype == np.float64
    np.testing.assert_array_equal(out_int, F.sigmoid(np.array([-1.0, 0.0, 2.0])))


def test_sigmoid_grad(rng):
    x = 3 * rng.standard_normal((4, 6))
    s = 1 / (1 + np.exp(-x))
    check(F.sigmoid_grad(x), (1.0 - s) * s)
    assert F.sigmoid_grad(np.array([0.0]))[0] == 0.25


@pytest.mark.parametrize("shape", [(9,), (3, 5), (2, 3, 4)])
def test_relu_any_shape(rng, shape):
    x = rng.standard_normal(shape)
    out = F.relu(x)
    assert out.shape == shape and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.maximum(0, x))


def test_relu_nan_and_inf_like_numpy():
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5])
    out = F.relu(x)
    assert np.isnan(out[0])
    assert out[1:].tolist() == [np.inf, 0.0, 0.0, 0.0, 1.5]


def test_relu_grad_is_zero_at_exactly_zero():
    # Documented choice: fastprop follows the book's Relu layer (mask x <= 0), so the
    # subgradient at exactly 0 is 0 (the book's relu_grad uses x >= 0 and would give 1).
    x = np.array([-2.0, -0.0, 0.0, 1e-12, 3.0])
    g = F.relu_grad(x)
    assert g.shape == (5,) and g.dtype == np.float64
    assert g.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    g32 = F.relu_grad(x.astype(np.float32))
    assert g32.dtype == np.float32 and g32.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("shape", [(10,), (4, 10), (2, 3, 5), (1, 1)])
def test_softmax_along_last_axis(rng, shape):
    x = 5 * rng.standard_normal(shape)
    y = F.softmax(x)
    check(y, book_softmax(x))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-14)


def test_softmax_1d_matches_books_vol1_example():
    a = np.array([0.3, 2.9, 4.0])
    y = F.softmax(a)
    np.testing.assert_allclose(y, [0.01821127, 0.24519181, 0.73659691], rtol=0, atol=5e-9)
    assert np.sum(y) == pytest.approx(1.0, abs=1e-15)


def test_softmax_huge_logits():
    a = np.array([1010.0, 1000.0, 990.0])  # the book's overflow example
    with np.errstate(all="raise"):
        y = F.softmax(a)
    np.testing.assert_allclose(y, [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=5e-8)
    big = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    y = F.softmax(big)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-15)


def test_softmax_float32_stays_float32(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = F.softmax(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, book_softmax(x.astype(np.float64)), atol=1e-6)


def test_scalars_keep_their_0d_shape():
    # the book's sigmoid(0.0) is a scalar, not a length-1 array
    for f in (F.sigmoid, F.relu, F.relu_grad, F.sigmoid_grad):
        out = f(np.float64(2.0))
        assert np.shape(out) == ()
    assert float(F.sigmoid(0.0)) == 0.5
    assert float(F.relu(-3)) == 0.0


def test_softmax_rejects_0d():
    with pytest.raises(ValueError, match="0-d"):
        F.softmax(np.float64(1.0))


def test_cross_entropy_error_books_example():
    # vol. 1 ch. 4: t = one-hot "2", y = [0.1, 0.05, 0.6, 0.0, ...]
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert F.cross_entropy_error(y, t) == -np.log(0.6 + 1e-7)
    assert F.cross_entropy_error(y, t) == pytest.approx(0.510825457099338, abs=1e-12)
    y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    assert F.cross_entropy_error(y2, t) == pytest.approx(2.302584092994546, abs=1e-12)
    # the 1-D label form: t is a single index
    assert F.cross_entropy_error(y, np.array(2)) == F.cross_entropy_error(y, t)
    assert F.cross_entropy_error(y, np.array([2])) == F.cross_entropy_error(y, t)


def test_cross_entropy_error_keeps_books_epsilon():
    y = np.array([[0.0, 1.0]])
    assert F.cross_entropy_error(y, np.array([0])) == -np.log(1e-7)  # log(0) stays finite


def test_cross_entropy_error_batch_labels_and_onehot(rng):
    y = book_softmax(rng.standard_normal((8, 5)))
    labels = rng.integers(0, 5, 8)
    onehot = np.eye(5)[labels]
    expected = book_cross_entropy_error(y, labels)
    assert F.cross_entropy_error(y, labels) == pytest.approx(expected, rel=1e-14)
    assert F.cross_entropy_error(y, onehot) == pytest.approx(expected, rel=1e-14)
    assert book_cross_entropy_error(y, onehot) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_error_one_hot_rule_uses_argmax():
    # t.size == y.size means one-hot even for soft targets: read through argmax
    y = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    soft = np.array([[0.1, 0.2, 0.7], [0.4, 0.35, 0.25]])
    expected = -(np.log(0.3 + 1e-7) + np.log(0.6 + 1e-7)) / 2
    assert F.cross_entropy_error(y, soft) == pytest.approx(expected, rel=1e-15)
    assert book_cross_entropy_error(y, soft) == pytest.approx(expected, rel=1e-15)


def test_sum_squared_error_books_example():
    t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    assert F.sum_squared_error(np.array(y), np.array(t)) == pytest.approx(0.0975, abs=1e-15)
    y2 = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    assert F.sum_squared_error(np.array(y2), np.array(t)) == pytest.approx(0.5975, abs=1e-15)


def test_sum_squared_error_matches_numpy(rng):
    y, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert F.sum_squared_error(y, t) == 0.5 * np.sum((y - t) ** 2)


def test_softmax_loss_is_fused_softmax_then_cross_entropy(rng):
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    assert F.softmax_loss(x, t) == pytest.approx(book_cross_entropy_error(book_softmax(x), t), rel=1e-13)
