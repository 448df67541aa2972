"""Vol. 2's spiral data set: shapes, dtypes, the seeded global RNG, and pinned values."""
import numpy as np
import pytest

from fastprop.datasets import spiral


@pytest.fixture(autouse=True)
def restore_global_rng():
    # load_data() reseeds NumPy's global RNG on purpose; do not leak that into other tests.
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def test_shapes_and_dtypes():
    x, t = spiral.load_data()
    assert x.shape == (300, 2) and x.dtype == np.float64
    assert t.shape == (300, 3) and t.dtype == np.dtype(int)


def test_one_hot_labels_class_by_class():
    _, t = spiral.load_data()
    np.testing.assert_array_equal(t.sum(axis=1), 1)
    np.testing.assert_array_equal(t.argmax(axis=1), np.repeat([0, 1, 2], 100))


def test_matches_vectorised_formula():
    # Same recipe written independently: one randn() per point, class-major order.
    np.random.seed(1984)
    noise = np.random.randn(300) * 0.2
    j = np.repeat(np.arange(3), 100)
    rate = np.tile(np.arange(100), 3) / 100
    theta = j * 4.0 + 4.0 * rate + noise
    x, _ = spiral.load_data()
    np.testing.assert_allclose(x[:, 0], rate * np.sin(theta), rtol=0, atol=1e-15)
    np.testing.assert_allclose(x[:, 1], rate * np.cos(theta), rtol=0, atol=1e-15)


def test_pinned_values():
    x, _ = spiral.load_data()
    assert np.array_equal(x[0], [0.0, 0.0]) and np.array_equal(x[100], [0.0, 0.0])   # radius 0
    np.testing.assert_allclose(x[1], [-0.00097698643152699, 0.009952160444476976], rtol=1e-14)
    np.testing.assert_allclose(x[99], [-0.587009158882911, -0.7971952379358379], rtol=1e-14)
    np.testing.assert_allclose(x[150], [-0.13912045724684738, 0.48025565938927584], rtol=1e-14)
    np.testing.assert_allclose(x[299], [-0.5974310265949212, 0.7894150799558737], rtol=1e-14)
    np.testing.assert_allclose(x.sum(), -13.916731190759947, rtol=1e-12)


def test_seeds_global_rng_like_the_book():
    np.random.seed(1984)
    np.random.randn(300)
    expected = np.random.rand()
    np.random.seed(0)                       # whatever state before, load_data() reseeds
    spiral.load_data()
    assert np.random.rand() == expected == pytest.approx(0.9515906201776954, abs=0)


def test_other_seed_differs_and_repeats():
    a, _ = spiral.load_data(seed=1)
    b, _ = spiral.load_data(seed=1)
    c, _ = spiral.load_data()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
