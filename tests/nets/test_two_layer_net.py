"""TwoLayerNet: the book's ch05 net (structure, seeded init, gradient check, training loop
against the book's code in plain NumPy, fastprop.bench.book), vol. 2's protocol, Sigmoid, float32."""
from collections import OrderedDict

import numpy as np
import pytest

from fastprop import TwoLayerNet, gradient_check, numerical_gradient

KEYS = ("W1", "b1", "W2", "b2")

# --------------------------------------------------------------------------- the book's net in NumPy


# the book's net as printed (fastprop.bench.book: also the benchmark baseline)
from fastprop.bench.book import BookTwoLayerNet  # noqa: E402
from fastprop.bench.book.vol1 import softmax as _softmax  # noqa: E402


def _separable(rng, n=200, d=20, c=4):
    """``c`` well separated Gaussian blobs in ``d`` dimensions."""
    centers = 3 * rng.standard_normal((c, d))
    t = rng.integers(0, c, n)
    x = centers[t] + 0.5 * rng.standard_normal((n, d))
    return x, t


# --------------------------------------------------------------------------- structure


def test_structure_shapes_dtypes_and_layer_order():
    net = TwoLayerNet(784, 50, 10)
    assert list(net.params) == list(KEYS)
    shapes = {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    for k in KEYS:
        assert net.params[k].shape == shapes[k] and net.params[k].dtype == np.float64
    assert not net.params["b1"].any() and not net.params["b2"].any()
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert isinstance(net.layers, OrderedDict)
    # the layers hold the params themselves
    assert net.layers["Affine1"].W is net.params["W1"] and net.layers["Affine1"].b is net.params["b1"]
    assert net.layers["Affine2"].W is net.params["W2"] and net.layers["Affine2"].b is net.params["b2"]
    x = np.random.rand(3, 784)
    out = net.predict(x)
    assert out.shape == (3, 10) and out.dtype == np.float64
    assert np.ndim(net.loss(x, np.array([1, 2, 3]))) == 0
    assert 0.0 <= net.accuracy(x, np.array([1, 2, 3])) <= 1.0


def test_seeded_init_draws_w1_then_w2():
    np.random.seed(42)
    net = TwoLayerNet(784, 50, 10)
    np.random.seed(42)
    W1 = 0.01 * np.random.randn(784, 50)
    W2 = 0.01 * np.random.randn(50, 10)
    np.testing.assert_array_equal(net.params["W1"], W1)
    np.testing.assert_array_equal(net.params["W2"], W2)
    np.random.seed(42)
    book = BookTwoLayerNet(784, 50, 10)
    for k in KEYS:
        np.testing.assert_array_equal(net.params[k], book.params[k])


def test_weight_init_std_scales_the_draw():
    np.random.seed(3)
    net = TwoLayerNet(5, 4, 3, weight_init_std=0.5)
    np.random.seed(3)
    np.testing.assert_array_equal(net.params["W1"], 0.5 * np.random.randn(5, 4))


# --------------------------------------------------------------------------- gradients


def _mnist_like(rng, n=3):
    return rng.random((n, 784)), rng.integers(0, 10, n)


def test_book_gradient_check_on_three_samples(rng):
    net = TwoLayerNet(784, 50, 10)
    x, t = _mnist_like(rng)
    diffs = gradient_check(net, x, t)
    assert set(diffs) == set(KEYS)
    for k in ("W1", "b1", "W2"):
        assert diffs[k] < 1e-6, (k, diffs[k])
    # the book's +1e-7 inside the log makes the numerical b2 gradient differ by ~1e-7
    assert diffs["b2"] < 2e-6


def test_remaining_b2_difference_is_the_books_epsilon(rng):
    net = TwoLayerNet(784, 50, 10)
    x, t = _mnist_like(rng)
    num = numerical_gradient(lambda _: net.loss(x, t), net.params["b2"])
    # d/dz of -log(y_t + eps) is y_t / (y_t + eps) * (y - onehot(t)) / N
    y = _softmax(net.predict(x))
    yt = y[np.arange(3), t]
    exact = ((y - np.eye(10)[t]) * (yt / (yt + 1e-7))[:, None]).sum(axis=0) / 3
    np.testing.assert_allclose(num, exact, rtol=0, atol=1e-9)
    grad = net.gradient(x, t)["b2"]
    np.testing.assert_allclose(grad, (y - np.eye(10)[t]).sum(axis=0) / 3, rtol=1e-12, atol=1e-15)


def test_one_hot_and_label_targets_give_the_same_gradient(rng):
    net = TwoLayerNet(784, 50, 10)
    x, t = _mnist_like(rng, n=5)
    g_labels = {k: v.copy() for k, v in net.gradient(x, t).items()}
    g_onehot = net.gradient(x, np.eye(10)[t])
    assert net.loss(x, t) == net.loss(x, np.eye(10)[t])
    for k in KEYS:
        np.testing.assert_array_equal(g_onehot[k], g_labels[k], err_msg=k)
    assert net.accuracy(x, t) == net.accuracy(x, np.eye(10)[t])


def test_numerical_gradient_is_nonzero_and_matches_gradient(rng):
    # moderate scores: with y_t near 0 the book's +1e-7 would dominate the difference
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    assert _softmax(net.predict(x))[np.arange(4), t].min() > 1e-2
    before = {k: v.copy() for k, v in net.params.items()}
    num = net.numerical_gradient(x, t)
    for k in KEYS:  # params restored bit for bit
        assert net.params[k].tobytes() == before[k].tobytes()
    grad = net.gradient(x, t)
    for k in KEYS:
        assert num[k].shape == net.params[k].shape
        assert np.abs(num[k]).max() > 1e-3, k
        np.testing.assert_allclose(grad[k], num[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_gradient_matches_the_books_net(rng):
    np.random.seed(7)
    net = TwoLayerNet(20, 8, 4, weight_init_std=0.5)
    np.random.seed(7)
    book = BookTwoLayerNet(20, 8, 4, weight_init_std=0.5)
    x, t = _separable(rng, n=16)
    assert net.loss(x, t) == pytest.approx(book.loss(x, t), rel=1e-13)
    g, gb = net.gradient(x, t), book.gradient(x, t)
    for k in KEYS:
        assert g[k].shape == gb[k].shape and g[k].dtype == np.float64
        np.testing.assert_allclose(g[k], gb[k], rtol=1e-12, atol=1e-15, err_msg=k)


def test_in_place_update_of_params_changes_next_predict(rng):
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0)
    x = rng.standard_normal((2, 6))
    y1 = net.predict(x).copy()
    net.params["W1"] *= -1.0
    y2 = net.predict(x)
    assert not np.allclose(y1, y2)
    h = np.maximum(x @ net.params["W1"] + net.params["b1"], 0)
    np.testing.assert_allclose(y2, h @ net.params["W2"] + net.params["b2"], rtol=1e-12)
    net.params["b2"] += 5.0
    np.testing.assert_allclose(net.predict(x), y2 + 5.0, rtol=1e-12)


def test_grads_are_stable_arrays(rng):
    net = TwoLayerNet(6, 5, 3)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    g1 = net.gradient(x, t)
    ids = {k: id(v) for k, v in g1.items()}
    g1_values = {k: v.copy() for k, v in g1.items()}
    g2 = net.gradient(2 * x, t)
    assert {k: id(v) for k, v in g2.items()} == ids
    assert any(not np.array_equal(g2[k], g1_values[k]) for k in KEYS)


# --------------------------------------------------------------------------- the ch05 training loop


def test_book_training_loop_decreases_loss_and_matches_numpy(rng):
    x_train, t_train = _separable(rng)
    iters_num, batch_size, learning_rate = 20, 16, 0.1
    batches = [rng.choice(x_train.shape[0], batch_size) for _ in range(iters_num)]

    def run(network):
        losses = []
        for batch_mask in batches:
            x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
            grad = network.gradient(x_batch, t_batch)
            for key in ('W1', 'b1', 'W2', 'b2'):
                network.params[key] -= learning_rate * grad[key]
            losses.append(network.loss(x_batch, t_batch))
        return losses

    np.random.seed(2024)
    network = TwoLayerNet(input_size=20, hidden_size=10, output_size=4)
    np.random.seed(2024)
    book = BookTwoLayerNet(input_size=20, hidden_size=10, output_size=4)
    losses = run(network)
    book_losses = run(book)

    full_before = np.log(4)  # the initial loss of a 0.01-scaled net
    assert losses[-1] < 0.9 * full_before
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    np.testing.assert_allclose(losses, book_losses, rtol=1e-10)
    for k in KEYS:
        np.testing.assert_allclose(network.params[k], book.params[k], rtol=1e-10, atol=1e-12, err_msg=k)
    assert network.accuracy(x_train, t_train) > 0.5


# --------------------------------------------------------------------------- vol. 2 protocol


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_vol2_forward_backward_fill_grads_like_gradient(rng, activation):
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, activation=activation)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    expected = {k: v.copy() for k, v in net.gradient(x, t).items()}
    ids = {k: id(v) for k, v in net.grads.items()}
    for g in net.grads.values():
        g[...] = 0.0
    loss = net.forward(x, t)
    assert loss == pytest.approx(net.loss(x, t), rel=1e-15)
    dx = net.backward()
    assert dx.shape == x.shape
    assert {k: id(v) for k, v in net.grads.items()} == ids
    for k in KEYS:
        np.testing.assert_allclose(net.grads[k], expected[k], rtol=1e-13, atol=1e-16, err_msg=k)
    net.forward(x, t)
    net.backward(2.0)  # vol. 2 scales by dout
    for k in KEYS:
        np.testing.assert_allclose(net.grads[k], 2 * expected[k], rtol=1e-13, atol=1e-16, err_msg=k)


def test_sigmoid_hidden_layer(rng):
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, activation="sigmoid")
    assert list(net.layers) == ["Affine1", "Sigmoid1", "Affine2"]
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    assert _softmax(net.predict(x))[np.arange(4), t].min() > 1e-2
    h = 1 / (1 + np.exp(-(x @ net.params["W1"] + net.params["b1"])))
    np.testing.assert_allclose(net.predict(x), h @ net.params["W2"] + net.params["b2"], rtol=1e-12)
    diffs = gradient_check(net, x, t)
    for k in KEYS:
        assert diffs[k] < 1e-6, (k, diffs[k])


# --------------------------------------------------------------------------- float32


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_float32_end_to_end(rng, activation):
    net = TwoLayerNet(20, 10, 4, weight_init_std=0.5, activation=activation, dtype=np.float32)
    assert net.dtype == np.float32
    for k in KEYS:
        assert net.params[k].dtype == np.float32, k
    x, t = _separable(rng, n=16)
    y = net.predict(x)  # float64 input is cast
    assert y.shape == (16, 4) and y.dtype == np.float32
    assert net.predict(x.astype(np.float32)).dtype == np.float32
    grads = net.gradient(x, t)
    for k in KEYS:
        assert grads[k].dtype == np.float32, k
    net.forward(x, t)
    net.backward()
    for k in KEYS:
        assert net.grads[k].dtype == np.float32, k
    for key in KEYS:
        net.params[key] -= np.float32(0.1) * net.grads[key]
        assert net.params[key].dtype == np.float32
    # and the numbers are the float64 net's to float32 precision
    net64 = TwoLayerNet(20, 10, 4, activation=activation)
    for k in KEYS:
        net64.params[k][...] = net.params[k]
    np.testing.assert_allclose(net.predict(x), net64.predict(x), rtol=1e-4, atol=1e-4)
    g64 = net64.gradient(x, t)
    g32 = net.gradient(x, t)
    for k in KEYS:
        scale = np.abs(g64[k]).max()
        np.testing.assert_allclose(g32[k], g64[k], rtol=0, atol=1e-4 * scale + 1e-7, err_msg=k)


def test_uint8_input_equals_float64_input(rng):
    net = TwoLayerNet(784, 20, 10)
    x = rng.integers(0, 256, (5, 784), dtype=np.uint8)
    t = rng.integers(0, 10, 5)
    np.testing.assert_array_equal(net.predict(x), net.predict(x.astype(np.float64)))
    assert net.loss(x, t) == net.loss(x.astype(np.float64), t)
