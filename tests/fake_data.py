"""Small learnable stand-ins for data sets the tests cannot download."""
import numpy as np


def fake_mnist(n_train=600, n_test=100, seed=0):
    """``((x_train, t_train), (x_test, t_test))`` shaped like ``load_mnist()``'s (float32
    pixels, uint8 labels), with one pixel per row that gives the label away."""
    rng = np.random.default_rng(seed)

    def part(n):
        t = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.random((n, 784)).astype(np.float32) * 0.1
        x[np.arange(n), t * 78] = 1.0
        return x, t

    return part(n_train), part(n_test)
