"""fastprop.kernels.convert against its twin: the cast that leaves an unchanged buffer clean."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels.convert import cast_into
from fastprop.twins import convert as T

SOURCES = [np.float32, np.float64, np.uint8, np.int64]  # images as loaded, or cast
TARGETS = [np.float32, np.float64]


def _cast_into(draw, dt):
    r = parity.rng(draw)
    n = draw(st.integers(1, 5000))
    src, dst = draw(st.sampled_from(SOURCES)), draw(st.sampled_from(TARGETS))
    x = (r.random(n) * 200).astype(src)
    out = x.astype(dst)
    kind = draw(st.sampled_from(["unchanged", "a_few_differ", "new"]))
    if kind == "a_few_differ":  # the sampled compare may miss them: the full compare must not
        out[r.integers(0, n, draw(st.integers(1, 3)))] += 1
    elif kind == "new":
        out = (r.random(n) * 200).astype(dst)
    return [x, out]


CASES = {
    # dst is drawn inside (float32 or float64 buffers): the case dtype does not apply, and
    # a copy is exact
    "cast_into": parity.Case(_cast_into, outputs=("out",), dtypes=(np.float64,), exact=True),
}

test_parity = parity.make_test("convert", CASES)


@pytest.mark.parametrize("src", SOURCES)
@pytest.mark.parametrize("dst", TARGETS)
def test_cast_into(src, dst):
    rng = np.random.default_rng(0)
    x = (rng.random(500) * 200).astype(src)
    out_k, out_t = np.zeros(500, dst), np.zeros(500, dst)
    assert cast_into(x, out_k) is True and T.cast_into(x, out_t) is True
    np.testing.assert_array_equal(out_k, out_t)
    np.testing.assert_array_equal(out_k, x.astype(dst))
    assert cast_into(x, out_k) is False and T.cast_into(x, out_t) is False  # nothing new
    x2 = x.copy()
    x2[[3, 499]] = 7
    assert cast_into(x2, out_k) is True
    np.testing.assert_array_equal(out_k, x2.astype(dst))


def test_cast_into_rewrites_nan():
    x = np.array([np.nan, 1.0, np.inf], np.float32)
    out = np.zeros(3)
    cast_into(x, out)
    assert cast_into(x, out) is True  # NaN != NaN: always written, the result is still x
    np.testing.assert_array_equal(out, x.astype(np.float64))
