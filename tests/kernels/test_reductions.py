"""fastprop.kernels.reductions against its twin."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import reductions as K


def _column_sum(draw, dt):
    n, m = draw(st.integers(0, 64)), draw(parity.width)  # zero rows included
    x = draw(parity.scales) * parity.rng(draw).standard_normal((n, m))
    return [x.astype(dt), np.full(m, np.nan, dt)]


CASES = {
    "column_sum": parity.Case(_column_sum, outputs=("out",), returns="out", linear=True),
}

test_parity = parity.make_test("reductions", CASES)


def test_column_sum_of_one_row_is_that_row_and_of_zero_rows_is_zero():
    x = np.array([[1.5, -2.0, 3.25]])
    out = np.full(3, np.nan)
    K.column_sum(x, out)
    assert out.tolist() == [1.5, -2.0, 3.25]
    empty = np.empty((0, 4))
    out = np.full(4, np.nan)
    K.column_sum(empty, out)
    assert out.tolist() == [0.0, 0.0, 0.0, 0.0]
    for dt in parity.DTYPES:
        out = np.full(4, np.nan, dtype=dt)
        K.column_sum(np.empty((0, 4), dtype=dt), out)
        assert out.dtype == dt and not out.any()
