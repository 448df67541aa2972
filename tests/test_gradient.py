"""numerical_gradient (the book's central differences, in place) and gradient checks of
every layer against it in float64."""
import numpy as np
import pytest

from fastprop import gradient_check, numerical_gradient
from fastprop.layers import Affine, MatMul, Relu, Repeat, Sigmoid, Softmax, SoftmaxWithLoss, Sum

TOL = 1e-6  # mean |backprop - numerical|, float64


def mean_abs_diff(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.mean(np.abs(a - b)))


# --------------------------------------------------------------------------- numerical_gradient


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_sum_of_squares_gives_2x(rng, shape):
    x = rng.standard_normal(shape)
    g = numerical_gradient(lambda z: np.sum(z ** 2), x)
    assert g.shape == shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x, rtol=0, atol=1e-8)


def test_books_function_2_examples():
    # vol. 1 ch. 4: f(x0, x1) = x0**2 + x1**2 at (3, 4), (0, 2), (3, 0)
    def function_2(x):
        return np.sum(x ** 2)

    for point, expected in [([3.0, 4.0], [6.0, 8.0]), ([0.0, 2.0], [0.0, 4.0]), ([3.0, 0.0], [6.0, 0.0])]:
        g = numerical_gradient(function_2, np.array(point))
        np.testing.assert_allclose(g, expected, atol=1e-8)


def test_nonlinear_function(rng):
    x = rng.standard_normal((3, 3))
    g = numerical_gradient(lambda z: np.sum(np.sin(z) * z[::-1]), x)
    analytic = np.cos(x) * x[::-1] + np.sin(x)[::-1]
    np.testing.assert_allclose(g, analytic, atol=1e-8)


def test_perturbs_x_in_place_and_restores_every_bit(rng):
    x = rng.standard_normal((3, 4)) * 1e-6  # |v| << h: (v + h) - h != v in float
    h = 1e-4
    assert any((float(v) + h) - h != v for v in x.reshape(-1))  # restoring by arithmetic would show
    before = x.copy()
    seen = []

    def f(z):
        assert z is x  # perturbed in place, as the book does (f may close over x)
        seen.append(z.copy())
        return float(np.sum(z ** 3))

    numerical_gradient(f, x)
    assert x.tobytes() == before.tobytes()
    assert len(seen) == 2 * x.size
    # call 2k perturbs element k by +h, call 2k+1 by -h, the rest untouched
    for k in range(x.size):
        plus, minus = seen[2 * k].reshape(-1), seen[2 * k + 1].reshape(-1)
        flat = before.reshape(-1)
        assert plus[k] == flat[k] + h and minus[k] == flat[k] - h
        others = np.arange(x.size) != k
        np.testing.assert_array_equal(plus[others], flat[others])
        np.testing.assert_array_equal(minus[others], flat[others])


def test_fortran_ordered_and_strided_arrays(rng):
    x = np.asfortranarray(rng.standard_normal((3, 5)))
    g = numerical_gradient(lambda z: np.sum(z ** 2), x)
    assert g.shape == (3, 5)
    np.testing.assert_allclose(g, 2 * x, atol=1e-8)
    base = rng.standard_normal((4, 6))
    view = base[:, ::2]
    g = numerical_gradient(lambda z: np.sum(z ** 2 * np.arange(1, 4)), view)
    np.testing.assert_allclose(g, 2 * view * np.arange(1, 4), atol=1e-7)


def test_float32_x(rng):
    x = rng.standard_normal(6).astype(np.float32)
    g = numerical_gradient(lambda z: float(np.sum(z.astype(np.float64) ** 2)), x)
    assert g.dtype == np.float32
    # x +- h rounds to float32 (spacing ~1e-7 against h = 1e-4): ~1e-3 relative error
    np.testing.assert_allclose(g, 2 * x.astype(np.float64), rtol=5e-3, atol=1e-3)


@pytest.mark.parametrize("bad", [np.arange(4), np.arange(4, dtype=np.uint8), [1.0, 2.0], 3.0,
                                 np.ones(3, dtype=np.complex128)])
def test_rejects_non_float_arrays(bad):
    with pytest.raises(TypeError, match="float32/float64"):
        numerical_gradient(lambda z: 0.0, bad)


def test_rejects_bad_f_and_h():
    with pytest.raises(TypeError, match="callable"):
        numerical_gradient(3, np.ones(2))
    with pytest.raises(ValueError, match="positive"):
        numerical_gradient(lambda z: 0.0, np.ones(2), h=0.0)


# --------------------------------------------------------------------------- layers


def _check_layer(rng, layer, x, *, loss=None):
    """Backprop of ``L = sum(out * R)`` (or ``loss``) against central differences in
    ``x`` and every parameter (perturbed in place through the layer's references)."""
    if loss is not None:
        L = loss
        L()
        dx = layer.backward()
    else:
        R = rng.standard_normal(np.shape(layer.forward(x)))

        def L(_=None):
            return float(np.sum(layer.forward(x) * R))

        layer.forward(x)
        dx = layer.backward(R.copy())
    grads = [g.copy() for g in layer.grads]
    assert dx.shape == x.shape and dx.dtype == np.float64
    num_dx = numerical_gradient(L, x)
    assert mean_abs_diff(dx, num_dx) < TOL
    assert np.abs(num_dx).max() > 1e-3  # the check compared something
    for i, (p, g) in enumerate(zip(layer.params, grads)):
        num = numerical_gradient(L, p)
        assert mean_abs_diff(g, num) < TOL, f"param {i}"
        assert np.abs(num).max() > 1e-3


def test_affine_gradient_check(rng):
    W, b = rng.standard_normal((12, 5)), rng.standard_normal(5)
    _check_layer(rng, Affine(W, b), rng.standard_normal((4, 3, 4)))


def test_matmul_gradient_check(rng):
    _check_layer(rng, MatMul(rng.standard_normal((6, 3))), rng.standard_normal((5, 6)))


def test_relu_gradient_check(rng):
    x = rng.standard_normal((5, 7))
    x = np.where(np.abs(x) < 1e-2, np.sign(x + 1e-12) * 1e-2, x)  # stay off the kink
    assert np.all(np.abs(x) >= 1e-2)
    _check_layer(rng, Relu(), x)


def test_sigmoid_gradient_check(rng):
    _check_layer(rng, Sigmoid(), 2 * rng.standard_normal((5, 7)))


def test_repeat_gradient_check(rng):
    _check_layer(rng, Repeat(6), rng.standard_normal((1, 4)))


def test_sum_gradient_check(rng):
    _check_layer(rng, Sum(), rng.standard_normal((6, 4)))


def test_softmax_gradient_check(rng):
    _check_layer(rng, Softmax(), 2 * rng.standard_normal((4, 5)))


@pytest.mark.parametrize("targets", ["labels", "onehot"])
def test_softmax_with_loss_gradient_check(rng, targets):
    # (y - t)/N is the gradient of -log(y_t), the loss has -log(y_t + 1e-7): the two differ
    # by ~1e-7 / y_t relative, so keep y_t away from 0 (moderate logits)
    x = 0.5 * rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, 6)
    t = labels if targets == "labels" else np.eye(5)[labels]
    layer = SoftmaxWithLoss()
    _check_layer(rng, layer, x, loss=lambda _=None: layer.forward(x, t))


# --------------------------------------------------------------------------- gradient_check


class _TinyNet:
    """A one-parameter-dict net with a deliberately wrong (or right) gradient."""

    def __init__(self, wrong):
        self.params = {"W": np.array([1.0, -2.0, 0.5])}
        self.wrong = wrong

    def loss(self, x, t):
        return float(np.sum((self.params["W"] * x - t) ** 2))

    def numerical_gradient(self, x, t):
        return {"W": numerical_gradient(lambda _: self.loss(x, t), self.params["W"])}

    def gradient(self, x, t):
        g = 2 * (self.params["W"] * x - t) * x
        return {"W": g + 0.1 if self.wrong else g}


def test_gradient_check_reports_mean_abs_diff_and_raises_above_tol():
    x, t = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0])
    ok = gradient_check(_TinyNet(wrong=False), x, t, tol=1e-6)
    assert set(ok) == {"W"} and ok["W"] < 1e-8
    diffs = gradient_check(_TinyNet(wrong=True), x, t)
    assert diffs["W"] == pytest.approx(0.1, abs=1e-8)
    with pytest.raises(AssertionError, match="W"):
        gradient_check(_TinyNet(wrong=True), x, t, tol=1e-6)
