"""fastprop.kernels.inverted_dropout against ``np.random.rand`` on the same MT19937 state."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import inverted_dropout as K


def _forward(draw, dt):
    r = parity.rng(draw)
    n = draw(st.integers(1, 3000))
    rs = np.random.RandomState(int(r.integers(0, 2**31)))
    rs.random_sample(int(r.integers(0, 700)))
    _, key, pos = rs.get_state()[:3]
    ratio = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9]))
    return [key.copy(), np.array([pos], np.int64), r.standard_normal(n).astype(dt), ratio,
            1.0 / (1.0 - ratio), np.zeros(n, dt), np.zeros(n, dt)]


def _backward(draw, dt):
    r = parity.rng(draw)
    n = draw(st.integers(1, 3000))
    return [r.standard_normal(n).astype(dt), (2.0 * (r.random(n) > 0.5)).astype(dt), np.zeros(n, dt)]


def _same_kept_entries(run_k, run_t, dtype):
    """The mask holds only 0 and the scale, the same entries as NumPy's draws."""
    np.testing.assert_array_equal(run_k.args["mask"] != 0, run_t.args["mask"] != 0)


CASES = {
    "inverted_dropout_forward": parity.Case(_forward, outputs=("key", "pos", "mask", "out"),
                                            returns="out", check=_same_kept_entries),
    "inverted_dropout_backward": parity.Case(_backward, outputs=("dx",), returns="dx"),
}

test_parity = parity.make_test("inverted_dropout", CASES)


def test_the_mask_is_the_books_draw_on_the_global_state():
    """``np.random.rand(*x.shape) > ratio`` after seeding, scaled by 1/(1 - ratio) (float32:
    the book's ``flg.astype(np.float32) * scale``), and the global state advanced alike."""
    x = np.random.default_rng(0).standard_normal((3, 50)).astype(np.float32)
    np.random.seed(11)
    expected_mask = (np.random.rand(*x.shape) > 0.3).astype(np.float32) * (1 / (1.0 - 0.3))
    after = np.random.get_state()
    np.random.seed(11)
    _, key, pos = np.random.get_state()[:3]
    key, pos = key.copy(), np.array([pos], np.int64)
    mask, out = np.empty(x.size, np.float32), np.empty(x.size, np.float32)
    K.inverted_dropout_forward(key, pos, x.reshape(-1), 0.3, 1 / (1.0 - 0.3), mask, out)
    assert mask.tobytes() == expected_mask.reshape(-1).tobytes()
    assert out.tobytes() == (x * expected_mask).reshape(-1).tobytes()
    assert key.tobytes() == after[1].tobytes() and pos[0] == after[2]
