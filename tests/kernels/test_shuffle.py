"""fastprop.kernels.shuffle against its twin and against ``np.random.permutation`` itself."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels.shuffle import book_shuffles
from fastprop.twins import shuffle as T


def _book_shuffles(draw, dt):
    n = draw(st.integers(1, 2000))
    rs = np.random.RandomState(draw(parity.seeds))
    order = rs.permutation(n).astype(np.int64)
    _, key, pos = rs.get_state()[:3]
    pos = draw(st.sampled_from([pos, 0, 623, 624]))  # 624: the first draw refills the key
    return [key.copy(), np.array([pos], np.int64), order, np.empty((draw(st.integers(1, 5)), n), np.int64)]


CASES = {
    # integers only (the case dtype does not apply); the same generator: bit for bit
    "book_shuffles": parity.Case(_book_shuffles, outputs=("key", "pos", "out"), returns="out",
                                 dtypes=(np.float64,), exact=True, examples=25),
}

test_parity = parity.make_test("shuffle", CASES)


@pytest.mark.parametrize("n", [1, 2, 3, 17, 300, 70000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_book_shuffles_are_numpys_permutations(n, seed):
    """Bit for bit what ``np.random.permutation`` gives, and the generator left where it
    leaves it (a run that crosses several MT19937 refills)."""
    epochs = 3 if n > 1000 else 40
    np.random.seed(seed)
    order = np.random.permutation(n).astype(np.int64)
    state = np.random.get_state()
    key, pos = state[1].copy(), np.array([state[2]], np.int64)
    out = np.empty((epochs, n), np.int64)
    assert book_shuffles(key, pos, order, out) is out
    cur = order
    for e in range(epochs):
        cur = cur[np.random.permutation(n)]
        np.testing.assert_array_equal(out[e], cur, err_msg=f"epoch {e}")
    after = np.random.get_state()
    np.testing.assert_array_equal(key, after[1])
    assert pos[0] == after[2]
    key2, pos2, out2 = state[1].copy(), np.array([state[2]], np.int64), np.empty_like(out)
    T.book_shuffles(key2, pos2, order, out2)
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(key2, key)
    assert pos2[0] == pos[0]
