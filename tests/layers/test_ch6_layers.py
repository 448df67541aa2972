"""Dropout and BatchNormalization against the book's classes (fastprop.bench.book.vol1): the same masks and
RNG state, the same numbers, the book's attributes, and bad input refused before a kernel."""
import numpy as np
import pytest

from fastprop import layers
from fastprop.bench.book.vol1 import BatchNormalization as BookBatchNormalization
from fastprop.bench.book.vol1 import Dropout as BookDropout
from fastprop.layers import batchnorm as bn_module
from fastprop.layers import dropout as dropout_module


@pytest.fixture
def no_kernels(monkeypatch):
    """Every kernel of the two layers replaced by one that fails the test if it is called."""
    def forbidden(*args):
        raise AssertionError("a kernel was called before the input was refused")

    for module, names in ((bn_module.batchnorm, ("batchnorm_forward_train", "batchnorm_forward_test",
                                                 "batchnorm_backward")),
                          (dropout_module.dropout, ("dropout_forward", "dropout_backward"))):
        for name in names:
            monkeypatch.setattr(module, name, forbidden)


# --------------------------------------------------------------------------- Dropout


@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 4, 4), (9,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_draws_the_books_mask_and_leaves_the_rng_where_the_book_does(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    book, ours = BookDropout(0.3), layers.Dropout(0.3)
    np.random.seed(21)
    yb = book.forward(x)
    after_book = np.random.get_state()
    np.random.seed(21)
    yo = ours.forward(x)
    after_ours = np.random.get_state()
    assert np.array_equal(after_book[1], after_ours[1]) and after_book[2] == after_ours[2]
    np.testing.assert_array_equal(ours.mask, book.mask)
    assert yo.dtype == dtype and yo.tobytes() == yb.tobytes()
    dx = ours.backward(dout)
    assert dx.tobytes() == book.backward(dout).tobytes()
    # inference: x * (1 - ratio), no draw, the last mask kept
    np.random.seed(1)
    state = np.random.get_state()
    mask = ours.mask
    yt = ours.forward(x, train_flg=False)
    assert yt.dtype == dtype and yt.tobytes() == book.forward(x, train_flg=False).tobytes()
    assert np.random.get_state()[2] == state[2] and ours.mask is mask


def test_dropout_integer_input_computes_in_float64():
    np.random.seed(0)
    out = layers.Dropout(0.5).forward(np.arange(6).reshape(2, 3))
    assert out.dtype == np.float64


@pytest.mark.parametrize("ratio, exc", [(1.0, ValueError), (-0.01, ValueError), (float("nan"), ValueError),
                                        (True, TypeError), ("0.5", TypeError), (None, TypeError)])
def test_dropout_ratio_outside_0_1_is_refused(ratio, exc):
    with pytest.raises(exc, match="dropout_ratio"):
        layers.Dropout(ratio)


def test_dropout_ratio_changed_after_construction_is_checked_before_the_kernel(no_kernels):
    layer = layers.Dropout(0.5)
    layer.dropout_ratio = 2.0
    with pytest.raises(ValueError, match="dropout_ratio"):
        layer.forward(np.ones((2, 2)))
    with pytest.raises(TypeError, match="train_flg"):
        layers.Dropout().forward(np.ones((2, 2)), train_flg="yes")


def test_dropout_mask_replaced_by_a_float_array_is_a_type_error(no_kernels):
    layer = layers.Dropout()
    layer.mask = np.ones((2, 2))
    with pytest.raises(TypeError, match="bool"):
        layer.backward(np.ones((2, 2)))


def test_dropout_mask_replaced_by_another_shape_is_blamed_not_dout():
    layer = layers.Dropout(0.5)
    layer.forward(np.ones((2, 3)))
    layer.mask = np.ones((3, 2), dtype=bool)
    with pytest.raises(ValueError, match=r"Dropout.mask has shape \(3, 2\), but the last training "
                                         r"forward's input had shape \(2, 3\)"):
        layer.backward(np.ones((2, 3)))
    layer.mask = np.ones((2, 3), dtype=bool)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\) \(the last training forward's input\)"):
        layer.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(layer.backward(np.full((2, 3), 2.0)), np.full((2, 3), 2.0))


# --------------------------------------------------------------------------- BatchNormalization


def _bn_pair(rng, d, dtype=np.float64, **kw):
    gamma, beta = rng.standard_normal(d) + 1, rng.standard_normal(d)
    return (BookBatchNormalization(gamma.copy(), beta.copy(), **kw),
            layers.BatchNormalization(gamma.astype(dtype), beta.astype(dtype), **kw))


@pytest.mark.parametrize("shape", [(16, 6), (4, 2, 3, 3)])
def test_batchnorm_is_the_books_bit_for_bit_in_float64(shape, rng):
    d = int(np.prod(shape[1:]))
    book, ours = _bn_pair(rng, d, momentum=0.8)
    for step in range(3):
        x = 3 * rng.standard_normal(shape) + step
        dout = rng.standard_normal(shape)
        yb, yo = book.forward(x), ours.forward(x)
        assert yo.shape == shape and yo.tobytes() == yb.tobytes()
        for name in ("xc", "xn", "std", "running_mean", "running_var"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(book, name), err_msg=name)
        assert ours.input_shape == book.input_shape and ours.batch_size == book.batch_size == shape[0]
        dxb, dxo = book.backward(dout), ours.backward(dout)
        assert dxo.shape == shape and dxo.tobytes() == dxb.tobytes()
        np.testing.assert_array_equal(ours.dgamma, book.dgamma)
        np.testing.assert_array_equal(ours.dbeta, book.dbeta)
    x = rng.standard_normal(shape)
    assert ours.forward(x, train_flg=False).tobytes() == book.forward(x, train_flg=False).tobytes()
    assert ours.params[0] is ours.gamma and ours.grads[1] is ours.dbeta


def test_batchnorm_running_statistics_lazily_created_and_only_moved_by_training(rng):
    layer = layers.BatchNormalization(np.ones(3), np.zeros(3))
    assert layer.running_mean is None and layer.running_var is None
    x = rng.standard_normal((5, 3))
    out = layer.forward(x, train_flg=False)  # zeros at first, as in the book
    np.testing.assert_allclose(out, x / np.sqrt(1e-6), rtol=1e-12)
    assert not layer.running_mean.any() and layer.xn is None
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    before = layer.running_mean.copy()
    layer.forward(x + 5, train_flg=False)
    np.testing.assert_array_equal(layer.running_mean, before)


def test_batchnorm_never_writes_the_callers_running_arrays(rng):
    rm, rv = np.zeros(4), np.ones(4)
    layer = layers.BatchNormalization(np.ones(4), np.zeros(4), 0.9, rm, rv)
    layer.forward(rng.standard_normal((6, 4)))
    assert not rm.any() and (rv == 1).all() and layer.running_mean is not rm


def test_batchnorm_float32_end_to_end(rng):
    book, ours = _bn_pair(rng, 5, np.float32)
    x = rng.standard_normal((8, 5))
    y = ours.forward(x.astype(np.float32))
    assert y.dtype == np.float32 and ours.running_var.dtype == np.float32 and ours.std.dtype == np.float32
    np.testing.assert_allclose(y, book.forward(x), atol=1e-5)
    dx = ours.backward(np.ones((8, 5), np.float32))
    assert dx.dtype == np.float32 and ours.dgamma.dtype == np.float32
    # float64 input to a float32 layer is cast to the parameters' dtype
    assert ours.forward(x).dtype == np.float32


@pytest.mark.parametrize("make, exc, match", [
    (lambda: layers.BatchNormalization(np.ones(4), np.zeros(3)), ValueError, "beta"),
    (lambda: layers.BatchNormalization(np.ones((2, 2)), np.zeros(4)), ValueError, "gamma"),
    (lambda: layers.BatchNormalization([1.0, 1.0], np.zeros(2)), TypeError, "gamma"),
    (lambda: layers.BatchNormalization(np.ones(2, np.int64), np.zeros(2)), TypeError, "gamma"),
    (lambda: layers.BatchNormalization(np.ones(2), np.zeros(2, np.float32)), ValueError, "beta"),
    (lambda: layers.BatchNormalization(np.ones(3), np.zeros(3), 0.9, np.zeros(4), np.ones(4)),
     ValueError, "running_mean"),
    (lambda: layers.BatchNormalization(np.ones(3), np.zeros(3), 0.9, np.zeros(3), np.ones((3, 1))),
     ValueError, "running_var"),
    (lambda: layers.BatchNormalization(np.ones(3), np.zeros(3), 0.9, np.zeros(3)), ValueError, "both"),
    (lambda: layers.BatchNormalization(np.ones(3), np.zeros(3), momentum=1.5), ValueError, "momentum"),
    (lambda: layers.BatchNormalization(np.ones(3), np.zeros(3), momentum=True), TypeError, "momentum"),
])
def test_batchnorm_bad_construction(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_batchnorm_bad_input_is_refused_before_any_kernel(no_kernels, rng):
    layer = layers.BatchNormalization(np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"\(N, D\) or \(N, C, H, W\)"):
        layer.forward(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="gamma has 4"):
        layer.forward(np.ones((3, 5)))
    with pytest.raises(ValueError, match="gamma has 4"):
        layer.forward(np.ones((3, 2, 2, 2)))
    with pytest.raises(ValueError, match="empty batch"):
        layer.forward(np.ones((0, 4)))
    with pytest.raises(TypeError, match="real"):
        layer.forward(np.ones((3, 4), np.complex128))
    layer.running_mean, layer.running_var = np.zeros(5), np.zeros(5)
    with pytest.raises(ValueError, match="running_mean"):
        layer.forward(np.ones((3, 4)))
    layer.running_mean, layer.running_var = np.zeros(4), None
    with pytest.raises(TypeError, match="running_var"):
        layer.forward(np.ones((3, 4)), train_flg=False)
    layer.running_var = np.zeros(4)
    layer.gamma = np.ones(3)
    with pytest.raises(ValueError, match="gamma"):
        layer.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match="before forward"):
        layers.BatchNormalization(np.ones(4), np.zeros(4)).backward(np.ones((3, 4)))


def test_batchnorm_backward_after_only_inference_is_a_value_error(rng):
    layer = layers.BatchNormalization(np.ones(4), np.zeros(4))
    layer.forward(rng.standard_normal((3, 4)), train_flg=False)
    with pytest.raises(ValueError, match="before forward"):
        layer.backward(np.ones((3, 4)))
