"""fastprop.kernels.mt19937 against the reference algorithm and against ``np.random`` itself."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import mt19937 as K


def _state(draw):
    rs = np.random.RandomState(draw(parity.seeds))
    rs.random_sample(draw(st.integers(0, 700)))  # anywhere in the key, refills included
    _, key, pos = rs.get_state()[:3]
    tempered = np.empty(624, np.uint32)
    K.temper(key, tempered)
    return key.copy(), tempered, np.array([pos], np.int64)


def _twist(draw, dt):
    return [_state(draw)[0]]


def _temper(draw, dt):
    return [_state(draw)[0], np.empty(624, np.uint32)]


def _draw(draw, dt):
    key, tempered, pos = _state(draw)
    pos[0] = draw(st.sampled_from([int(pos[0]), 0, 622, 623, 624]))  # 624: refill first
    return [key, tempered, pos]


CASES = {
    # integers only (the case dtype does not apply); the same generator: bit for bit
    "twist": parity.Case(_twist, outputs=("key",), dtypes=(np.float64,), exact=True, examples=10),
    "temper": parity.Case(_temper, outputs=("out",), dtypes=(np.float64,), exact=True, examples=10),
    "next_u32": parity.Case(_draw, outputs=("key", "tempered", "pos"), dtypes=(np.float64,), exact=True,
                            examples=20),
    "next_double": parity.Case(_draw, outputs=("key", "tempered", "pos"), dtypes=(np.float64,), exact=True,
                               examples=20),
}

test_parity = parity.make_test("mt19937", CASES)


def test_next_double_is_random_sample_bit_for_bit():
    rs = np.random.RandomState(7)
    _, key, pos = rs.get_state()[:3]
    key, pos = key.copy(), np.array([pos], np.int64)
    tempered = np.empty(624, np.uint32)
    K.temper(key, tempered)
    got = [K.next_double(key, tempered, pos) for _ in range(1000)]  # crosses refills
    assert got == rs.random_sample(1000).tolist()
    _, key2, pos2 = rs.get_state()[:3]
    np.testing.assert_array_equal(key, key2)
    assert pos[0] == pos2
