"""fastprop.kernels.cooccurrence against its twins (the book's co-occurrence and PPMI)."""
import numpy as np
import parity
from hypothesis import strategies as st


def _co(draw, dt):
    r = parity.rng(draw)
    v = draw(st.integers(1, 30))
    n = draw(st.integers(1, 200))
    return [r.integers(0, v, n).astype(np.int64), draw(st.integers(1, 4)),
            np.full((v, v), 9, np.int32)]


def _ppmi(draw, dt):
    r = parity.rng(draw)
    v = draw(st.integers(1, 30))
    C = r.integers(0, 4, (v, v)).astype(np.int32)
    C = C + C.T
    C[r.integers(0, v)] = 0  # a word with no co-occurrence: 0/0 -> 0
    C[:, C.sum(axis=1) == 0] = 0
    S = C.sum(axis=0).astype(np.int64)
    return [C, int(C.sum()), S, 1e-8, np.zeros((v, v), np.float32)]


CASES = {
    "co_matrix": parity.Case(_co, outputs=("out",), returns="out", exact=True, dtypes=(np.float64,)),
    "ppmi": parity.Case(_ppmi, outputs=("out",), returns="out", dtypes=(np.float32,)),
}

test_parity = parity.make_test("cooccurrence", CASES)
