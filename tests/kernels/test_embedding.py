"""fastprop.kernels.embedding against its twins (``np.add.at``), repeated ids included."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import embedding as K

vocab = st.integers(1, 30)


def _ids(r, v, n):
    ids = r.integers(0, v, n)
    ids[: n // 2] = ids[0]  # many repeats: the scatter-add must sum every one
    return ids.astype(np.int64)


def _forward(draw, dt):
    r = parity.rng(draw)
    v, d, n = draw(vocab), draw(parity.width), draw(parity.batch)
    W = r.standard_normal((v, d)).astype(dt)
    if draw(st.booleans()):
        W = np.asfortranarray(W)  # a tied W.T is F-contiguous
    return [W, _ids(r, v, n), np.zeros((n, d), dt)]


def _backward(draw, dt):
    r = parity.rng(draw)
    v, d, n = draw(vocab), draw(parity.width), draw(parity.batch)
    return [_ids(r, v, n), r.standard_normal((n, d)).astype(dt), np.full((v, d), 7.0, dt)]


def _dot_forward(draw, dt):
    r = parity.rng(draw)
    v, d, n = draw(vocab), draw(parity.width), draw(parity.batch)
    return [r.standard_normal((v, d)).astype(dt), r.standard_normal((n, d)).astype(dt),
            _ids(r, v, n), np.zeros((n, d), dt), np.zeros(n, dt)]


def _dot_backward(draw, dt):
    r = parity.rng(draw)
    v, d, n = draw(vocab), draw(parity.width), draw(parity.batch)
    return [r.standard_normal((n, d)).astype(dt), r.standard_normal((n, d)).astype(dt),
            _ids(r, v, n), r.standard_normal(n).astype(dt), np.full((v, d), 7.0, dt),
            np.zeros((n, d), dt)]


CASES = {
    "embedding_forward": parity.Case(_forward, outputs=("out",), returns="out", exact=True),
    "embedding_backward": parity.Case(_backward, outputs=("dW",), returns="dW", linear=True),
    "embedding_dot_forward": parity.Case(_dot_forward, outputs=("rows", "out"), returns="out",
                                         linear=True),
    "embedding_dot_backward": parity.Case(_dot_backward, outputs=("dW", "dh"), returns="dh",
                                          linear=True),
}

test_parity = parity.make_test("embedding", CASES)


def test_scatter_add_sums_repeated_ids_in_order_like_add_at():
    """float64 sums in the order the ids come: bit for bit ``np.add.at``."""
    r = np.random.default_rng(0)
    ids = np.array([3, 1, 3, 3, 0, 1], np.int64)
    dout = r.standard_normal((6, 5))
    dW = np.empty((4, 5))
    K.embedding_backward(ids, dout, dW)
    expected = np.zeros((4, 5))
    np.add.at(expected, ids, dout)
    assert dW.tobytes() == expected.tobytes()
    assert not dW[2].any()  # an id that never occurs gets a zero row
