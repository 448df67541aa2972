"""fastprop.kernels.sigmoid_loss against its twins (the book's SigmoidWithLoss)."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import sigmoid_loss as K


def _forward(draw, dt):
    r = parity.rng(draw)
    n = draw(parity.batch)
    # in float32, 1 - y carries an absolute error of ~6e-8, so log(1 - y) is off by
    # 6e-8 / (1 - y): large scores are compared in float64, where 1 - y is still exact enough
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0] if dt == np.float64 else [1e-3, 1.0]))
    return [(scale * r.standard_normal(n)).astype(dt), r.integers(0, 2, n).astype(np.int64),
            np.zeros(n, dt)]


def _backward(draw, dt):
    r = parity.rng(draw)
    n = draw(parity.batch)
    y = 1 / (1 + np.exp(-3 * r.standard_normal(n)))
    return [y.astype(dt), r.integers(0, 2, n).astype(np.int64), draw(st.floats(-2, 2)),
            np.zeros(n, dt)]


CASES = {
    "sigmoid_with_loss_forward": parity.Case(_forward, outputs=("y",), floor=1.0),
    "sigmoid_with_loss_backward": parity.Case(_backward, outputs=("dx",), returns="dx", floor=1.0),
}

test_parity = parity.make_test("sigmoid_loss", CASES)


def test_saturated_scores_keep_the_books_epsilon():
    """A score of -100 with label 1: the loss is -log(0 + 1e-7), finite, as in the book."""
    y = np.empty(1)
    loss = K.sigmoid_with_loss_forward(np.array([-100.0]), np.array([1], np.int64), y)
    assert np.isclose(loss, -np.log(1e-7 + 1 / (1 + np.exp(100.0))))
