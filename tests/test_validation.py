"""Bad input is caught in Python with a message naming what was expected and what
arrived; NaN/Inf flow through like NumPy; integer input is cast like NumPy would."""
import re

import numpy as np
import pytest

from fastprop import TwoLayerNet, numerical_gradient
from fastprop import functions as F
from fastprop.layers import Affine, MatMul, Relu, Repeat, Sigmoid, Softmax, SoftmaxWithLoss, Sum


def _affine(rng, d=784, m=50):
    return Affine(0.01 * rng.standard_normal((d, m)), np.zeros(m))


# --------------------------------------------------------------------------- shapes


def test_features_vs_w_rows(rng):
    layer = _affine(rng)
    with pytest.raises(ValueError, match=r"785 features.*expects 784"):
        layer.forward(rng.random((3, 785)))
    with pytest.raises(ValueError, match=r"(?s)(27, 28).*784"):
        layer.forward(rng.random((3, 1, 27, 28)))  # flattened: 756 features
    net = TwoLayerNet(784, 50, 10)
    with pytest.raises(ValueError, match=r"783 features.*expects 784"):
        net.predict(rng.random((2, 783)))
    with pytest.raises(ValueError, match=r"\(N, 6\).*\(3, 5\)"):
        MatMul(rng.standard_normal((6, 2))).forward(rng.random((3, 5)))


def test_dout_shape_vs_forward_output(rng):
    layer = _affine(rng, 8, 5)
    layer.forward(rng.random((3, 8)))
    with pytest.raises(ValueError, match=re.escape("(3, 5)") + ".*" + re.escape("(3, 4)")):
        layer.backward(rng.random((3, 4)))
    with pytest.raises(ValueError, match=re.escape("(3, 5)") + ".*" + re.escape("(2, 5)")):
        layer.backward(rng.random((2, 5)))
    mm = MatMul(rng.standard_normal((8, 5)))
    mm.forward(rng.random((3, 8)))
    with pytest.raises(ValueError, match=re.escape("(3, 5)") + ".*" + re.escape("(5, 3)")):
        mm.backward(rng.random((5, 3)))
    for layer in (Relu(), Sigmoid(), Softmax()):
        layer.forward(rng.random((3, 4)))
        with pytest.raises(ValueError, match=re.escape("(3, 4)") + ".*" + re.escape("(4, 3)")):
            layer.backward(rng.random((4, 3)))
    rep = Repeat(3)
    rep.forward(rng.random((1, 4)))
    with pytest.raises(ValueError, match=re.escape("(3, 4)") + ".*" + re.escape("(2, 4)")):
        rep.backward(rng.random((2, 4)))
    s = Sum()
    s.forward(rng.random((3, 4)))
    with pytest.raises(ValueError, match=re.escape("(3, 4)")):
        s.backward(rng.random((3, 4)))


def test_layer_specific_shapes(rng):
    with pytest.raises(ValueError, match=re.escape("(2, 4)")):
        Repeat(3).forward(rng.random((2, 4)))
    with pytest.raises(ValueError, match=re.escape("(2, 3, 4)")):
        Sum().forward(rng.random((2, 3, 4)))
    with pytest.raises(ValueError, match=re.escape("(2, 3, 4)")):
        SoftmaxWithLoss().forward(rng.random((2, 3, 4)), np.array([0, 1]))


def test_t_rows_vs_x_rows(rng):
    x = rng.random((4, 10))
    with pytest.raises(ValueError, match=re.escape("(4,)") + ".*" + re.escape("(3,)")):
        SoftmaxWithLoss().forward(x, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=re.escape("(3, 10)") + ".*" + re.escape("(4, 10)")):
        SoftmaxWithLoss().forward(x, np.eye(10)[[1, 2, 3]])  # one-hot with too few rows
    with pytest.raises(ValueError, match=re.escape("(4, 9)") + ".*" + re.escape("(4, 10)")):
        SoftmaxWithLoss().forward(x, np.eye(9)[[1, 2, 3, 4]])  # one-hot with too few classes
    with pytest.raises(ValueError, match=re.escape("(3, 10)") + ".*" + re.escape("(4, 10)")):
        F.cross_entropy_error(F.softmax(x), np.eye(10)[[1, 2, 3]])
    net = TwoLayerNet(10, 5, 10)
    with pytest.raises(ValueError, match=re.escape("(4,)") + ".*" + re.escape("(5,)")):
        net.loss(x, np.arange(5))
    with pytest.raises(ValueError, match=re.escape("(4,)") + ".*" + re.escape("(5,)")):
        net.gradient(x, np.arange(5))
    with pytest.raises(ValueError, match=re.escape("(4,)") + ".*" + re.escape("(5,)")):
        net.accuracy(x, np.arange(5))


@pytest.mark.parametrize("bad, shown", [(-1, "-1"), (10, "10"), (255, "255")])
def test_labels_out_of_range(rng, bad, shown):
    t = np.array([1, bad, 3])
    with pytest.raises(ValueError, match=rf"label {shown}\b.*\[0, 10\)"):
        SoftmaxWithLoss().forward(rng.random((3, 10)), t)
    with pytest.raises(ValueError, match=rf"label {shown}\b.*\[0, 10\)"):
        TwoLayerNet(4, 3, 10).gradient(rng.random((3, 4)), t)
    y = F.softmax(rng.random((3, 10)))
    with pytest.raises(ValueError, match=rf"label {shown}\b.*\[0, 10\)"):
        F.cross_entropy_error(y, t)


def test_labels_wrong_length(rng):
    with pytest.raises(ValueError, match=re.escape("(3,)") + ".*" + re.escape("(2,)")):
        SoftmaxWithLoss().forward(rng.random((3, 5)), np.array([0, 1]))
    with pytest.raises(ValueError, match=re.escape("(3,)") + ".*" + re.escape("(4,)")):
        F.cross_entropy_error(F.softmax(rng.random((3, 5))), np.array([0, 1, 2, 3]))


def test_float_labels_are_a_type_error(rng):
    with pytest.raises(TypeError, match=r"integer class labels.*float64"):
        SoftmaxWithLoss().forward(rng.random((3, 5)), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"integer class labels.*float64"):
        F.cross_entropy_error(F.softmax(rng.random((3, 5))), np.array([0.0, 1.0, 2.0]))


# --------------------------------------------------------------------------- dtypes


BAD_ARRAYS = [
    ("complex", lambda: np.ones((2, 4), dtype=np.complex128), "complex128"),
    ("object", lambda: np.array([[1.0, 2.0, 3.0, 4.0]] * 2, dtype=object), "object"),
    ("string", lambda: np.full((2, 4), "1.0"), "<U3"),
]


@pytest.mark.parametrize("kind, make, dtype_name", BAD_ARRAYS, ids=[b[0] for b in BAD_ARRAYS])
def test_non_real_arrays_are_a_type_error(rng, kind, make, dtype_name):
    msg = rf"real numeric.*{re.escape(dtype_name)}"
    calls = [
        lambda x: _affine(rng, 4, 3).forward(x),
        lambda x: MatMul(rng.standard_normal((4, 3))).forward(x),
        lambda x: Relu().forward(x),
        lambda x: Sigmoid().forward(x),
        lambda x: Softmax().forward(x),
        lambda x: Sum().forward(x),
        lambda x: SoftmaxWithLoss().forward(x, np.array([0, 1])),
        lambda x: F.sigmoid(x),
        lambda x: F.relu(x),
        lambda x: F.softmax(x),
        lambda x: TwoLayerNet(4, 3, 2).predict(x),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=msg):
            call(make())
    # as dout too
    layer = _affine(rng, 4, 3)
    layer.forward(rng.random((2, 4)))
    with pytest.raises(TypeError, match=msg):
        layer.backward(make()[:, :3])


def test_complex_labels_and_one_hot_are_type_errors(rng):
    with pytest.raises(TypeError):
        SoftmaxWithLoss().forward(rng.random((2, 3)), np.array([0, 1], dtype=np.complex128))
    with pytest.raises(TypeError, match="complex128"):
        SoftmaxWithLoss().forward(rng.random((2, 3)), np.eye(3, dtype=np.complex128)[[0, 1]])


def test_parameters_must_be_float_arrays(rng):
    with pytest.raises(TypeError, match=r"W.*float32 or float64.*int64"):
        Affine(np.ones((3, 2), dtype=np.int64), np.zeros(2))
    with pytest.raises(TypeError, match=r"b.*float32 or float64.*int64"):
        Affine(np.ones((3, 2)), np.zeros(2, dtype=np.int64))
    with pytest.raises(TypeError, match=r"W.*NumPy array.*list"):
        Affine([[1.0, 2.0]], np.zeros(2))
    with pytest.raises(ValueError, match=re.escape("(3, 2)") + ".*" + re.escape("(3,)")):
        Affine(np.ones((3, 2)), np.zeros(3))
    with pytest.raises(TypeError, match=r"W.*float32 or float64.*complex128"):
        MatMul(np.ones((3, 2), dtype=np.complex128))


# --------------------------------------------------------------------------- order and emptiness


@pytest.mark.parametrize("make", [
    Relu, Sigmoid, Softmax, SoftmaxWithLoss, Sum, lambda: Repeat(2),
    lambda: Affine(np.ones((3, 2)), np.zeros(2)), lambda: MatMul(np.ones((3, 2)))],
    ids=["Relu", "Sigmoid", "Softmax", "SoftmaxWithLoss", "Sum", "Repeat", "Affine", "MatMul"])
def test_backward_before_forward(make):
    layer = make()
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name}\.backward\(\) called before forward\(\)"):
        if isinstance(layer, SoftmaxWithLoss):
            layer.backward()
        else:
            layer.backward(np.ones((2, 2)))


def test_net_backward_before_forward():
    with pytest.raises(ValueError, match="before forward"):
        TwoLayerNet(4, 3, 2).backward()


def test_zero_sized_batches(rng):
    empty = np.empty((0, 4))
    with pytest.raises(ValueError, match=r"empty batch.*\(0, 4\)"):
        Affine(np.ones((4, 2)), np.zeros(2)).forward(empty)
    with pytest.raises(ValueError, match=r"empty batch.*\(0, 1, 2, 2\)"):
        Affine(np.ones((4, 2)), np.zeros(2)).forward(np.empty((0, 1, 2, 2)))
    with pytest.raises(ValueError, match="empty batch"):
        MatMul(np.ones((4, 2))).forward(empty)
    with pytest.raises(ValueError, match="empty batch"):
        SoftmaxWithLoss().forward(empty, np.empty(0, dtype=np.intp))
    net = TwoLayerNet(4, 3, 2)
    for call in (lambda: net.predict(empty), lambda: net.loss(empty, np.empty(0, dtype=int)),
                 lambda: net.gradient(empty, np.empty(0, dtype=int))):
        with pytest.raises(ValueError, match="empty batch"):
            call()
    with pytest.raises(ValueError, match="empty batch"):
        F.cross_entropy_error(np.empty((0, 3)), np.empty(0, dtype=int))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"input_size must be >= 1, got 0"):
        TwoLayerNet(0, 50, 10)
    with pytest.raises(ValueError, match=r"hidden_size.*-5"):
        TwoLayerNet(784, -5, 10)
    with pytest.raises(TypeError, match=r"output_size must be an integer.*2\.5"):
        TwoLayerNet(784, 50, 2.5)
    with pytest.raises(TypeError, match=r"input_size must be an integer.*bool"):
        TwoLayerNet(True, 50, 10)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"weight_init_std must be a finite number"):
            TwoLayerNet(784, 50, 10, weight_init_std=bad)
    with pytest.raises(ValueError, match=r"more than the"):
        TwoLayerNet(10**6, 10**5, 10)  # refused before allocating 800 GB
    with pytest.raises(TypeError, match=r"float32 or float64.*int32"):
        TwoLayerNet(784, 50, 10, dtype=np.int32)
    with pytest.raises(ValueError, match=r"\['relu', 'sigmoid'\].*'tanh'"):
        TwoLayerNet(784, 50, 10, activation="tanh")
    with pytest.raises(TypeError, match=r"weight_init_std.*str"):
        TwoLayerNet(784, 50, 10, weight_init_std="0.01")
    with pytest.raises(ValueError, match=r"N must be >= 1, got 0"):
        Repeat(0)


def test_numerical_gradient_rejects_int_arrays():
    with pytest.raises(TypeError, match=r"float32/float64.*int64"):
        numerical_gradient(lambda z: 0.0, np.arange(3))


# --------------------------------------------------------------------------- NaN/Inf and casts


def test_nan_and_inf_flow_through_like_numpy(rng):
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0)
    x = rng.random((3, 4))
    x[1, 2] = np.nan
    y = net.predict(x)
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()
    assert np.isnan(net.loss(x, np.array([0, 1, 0])))
    grads = net.gradient(x, np.array([0, 1, 0]))
    assert np.isnan(grads["W2"]).any()

    with np.errstate(invalid="ignore"):
        logits = np.array([[np.inf, 0.0], [1.0, 2.0], [np.nan, 1.0]])
        expected = np.exp(logits - logits.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
    y = F.softmax(logits)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_allclose(y[1], expected[1], rtol=1e-15)
    layer = SoftmaxWithLoss()
    loss = layer.forward(logits, np.array([0, 1, 1]))
    assert np.isnan(loss)
    assert np.isnan(layer.backward()[[0, 2]]).all()

    a = Affine(np.ones((2, 2)), np.zeros(2))
    out = a.forward(np.array([[np.inf, 1.0], [1.0, 1.0]]))
    assert out[0].tolist() == [np.inf, np.inf] and out[1].tolist() == [2.0, 2.0]
    out = Relu().forward(np.array([np.nan, -np.inf, np.inf]))
    assert np.isnan(out[0]) and out[1:].tolist() == [0.0, np.inf]


@pytest.mark.parametrize("int_dtype", [np.uint8, np.int32, np.int64, np.bool_])
def test_integer_input_is_cast_like_numpy(rng, int_dtype):
    x = rng.integers(0, 256, (5, 784)).astype(int_dtype)
    t = rng.integers(0, 10, 5)
    net = TwoLayerNet(784, 50, 10)
    np.testing.assert_array_equal(net.predict(x), net.predict(x.astype(np.float64)))
    assert net.loss(x, t) == net.loss(x.astype(np.float64), t)
    g_int = {k: v.copy() for k, v in net.gradient(x, t).items()}
    g_float = net.gradient(x.astype(np.float64), t)
    for k in g_int:
        np.testing.assert_array_equal(g_int[k], g_float[k])
    np.testing.assert_array_equal(F.sigmoid(x[:, :5]), F.sigmoid(x[:, :5].astype(np.float64)))
    net32 = TwoLayerNet(784, 50, 10, dtype=np.float32)
    assert net32.predict(x).dtype == np.float32
    np.testing.assert_array_equal(net32.predict(x), net32.predict(x.astype(np.float32)))
