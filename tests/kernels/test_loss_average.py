"""fastprop.kernels.loss_average against its twin and the book Trainer's own loop."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels.loss_average import average_losses
from fastprop.twins import loss_average as T


def _average_losses(draw, dt):
    r = parity.rng(draw)
    max_iters, epochs = draw(st.integers(1, 20)), draw(st.integers(1, 8))
    state = np.array([draw(st.sampled_from([0.0, 1.25])), draw(st.sampled_from([0.0, 2.0]))])
    return [r.random(epochs * max_iters) * 3, max_iters, draw(st.integers(0, 25)), state,
            np.full(epochs * max_iters, np.nan), np.full(epochs, np.nan)]


CASES = {
    # float64 bookkeeping whatever the net's dtype; the same sums in the same order
    "average_losses": parity.Case(_average_losses, outputs=("state", "averages", "epoch_means"),
                                  dtypes=(np.float64,), exact=True),
}

test_parity = parity.make_test("loss_average", CASES)


@pytest.mark.parametrize("eval_interval", [0, 1, 3, 10, 25])
def test_average_losses_equals_the_python_loop(eval_interval):
    """The same sums in the same order: equal bit for bit, state carried between calls."""
    rng = np.random.default_rng(eval_interval)
    max_iters = 10
    losses = rng.random(7 * max_iters) * 3
    k_state, t_state = np.array([1.25, 2.0]), np.array([1.25, 2.0])
    k_avg, t_avg = np.full(70, np.nan), np.full(70, np.nan)
    k_means, t_means = np.empty(7), np.empty(7)
    nk = average_losses(losses, max_iters, eval_interval, k_state, k_avg, k_means)
    nt = T.average_losses(losses, max_iters, eval_interval, t_state, t_avg, t_means)
    assert nk == nt == (0 if eval_interval == 0 else 7 * len(range(0, max_iters, eval_interval)))
    np.testing.assert_array_equal(k_avg, t_avg)
    np.testing.assert_array_equal(k_means, t_means)
    np.testing.assert_array_equal(k_state, t_state)
    # the book's own loop, written out
    total, count, avgs = 1.25, 2, []
    for e in range(7):
        for it in range(max_iters):
            total += float(losses[e * max_iters + it])
            count += 1
            if eval_interval and it % eval_interval == 0:
                avgs.append(total / count)
                total, count = 0, 0
    assert k_avg[:nk].tolist() == avgs
    assert (k_state[0], k_state[1]) == (total, count)
