"""The book's rules without their accidents (issue: reliability, item 3)."""
import numpy as np
import pytest

from fastprop import TwoLayerNet
from fastprop import functions as F
from fastprop.gradient import numerical_gradient
from fastprop.layers import SoftmaxWithLoss
from fastprop.optimizers import SGD, Adam


@pytest.mark.parametrize("t, what", [
    (np.array([0, 1, 2, 0, 1, 2]), "six labels for two rows of three scores"),
    (np.eye(3)[[0, 2]].T.copy(), "a transposed one-hot"),
    (np.eye(3)[[0, 2]].reshape(3, 2), "one-hot rows reshaped"),
])
def test_targets_of_the_scores_size_but_not_their_shape_are_errors(t, what):
    x = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.raises(ValueError, match=r"shape"):
        SoftmaxWithLoss().forward(x, t)
    with pytest.raises(ValueError, match=r"shape"):
        F.cross_entropy_error(F.softmax(x), t)


def test_one_hot_of_the_scores_shape_and_a_single_samples_row_still_work():
    x = np.random.default_rng(0).standard_normal((2, 3))
    onehot = np.eye(3)[[0, 2]]
    labels = np.array([0, 2])
    assert SoftmaxWithLoss().forward(x, onehot) == SoftmaxWithLoss().forward(x, labels)
    y = F.softmax(x[0])
    assert F.cross_entropy_error(y, np.eye(3)[2]) == F.cross_entropy_error(y, np.array(2))


def test_accuracy_never_exceeds_one():
    net = TwoLayerNet(4, 5, 3)
    x = np.random.default_rng(0).random((2, 4))
    for bad in (np.zeros(6, int), np.zeros((3, 2)), np.zeros(4, int)):
        with pytest.raises(ValueError):
            net.accuracy(x, bad)
    acc = net.accuracy(x, np.argmax(net.predict(x), axis=1))
    assert acc == 1.0


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_numerical_gradient_restores_the_parameter_when_f_raises(exc):
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    calls = []

    def f(_):
        calls.append(1)
        if len(calls) == 4:
            raise exc("stop")
        return float(np.sum(x ** 2))

    with pytest.raises(exc):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("h", [float("nan"), float("inf"), 0.0, -1e-4])
def test_numerical_gradient_step_must_be_a_positive_finite_number(h):
    with pytest.raises(ValueError):
        numerical_gradient(lambda w: 0.0, np.zeros(3), h=h)


@pytest.mark.parametrize("make", [lambda v: SGD(lr=v), lambda v: Adam(lr=v), lambda v: Adam(beta1=v)])
@pytest.mark.parametrize("v", [float("nan"), float("inf"), -1.0])
def test_nan_inf_and_negative_hyper_parameters_are_errors(make, v):
    with pytest.raises(ValueError):
        make(v)


@pytest.mark.parametrize("size", [float("nan"), float("inf"), 10.0, True, "10"])
def test_sizes_must_be_integers(size):
    with pytest.raises(TypeError, match="integer"):
        TwoLayerNet(size, 5, 3)


def test_a_column_of_labels_is_labels_as_in_the_books_ch07_gradient_check():
    x = np.random.default_rng(0).standard_normal((1, 10))
    assert SoftmaxWithLoss().forward(x, np.array([[3]])) == SoftmaxWithLoss().forward(x, np.array([3]))
    x2 = np.random.default_rng(1).standard_normal((4, 3))
    col = np.array([[0], [2], [1], [1]])
    assert SoftmaxWithLoss().forward(x2, col) == SoftmaxWithLoss().forward(x2, col.ravel())
