"""ReLU and max pooling split over the policy's threads (``threads.run_split``): the same arrays
as on one thread, bit for bit, for every part boundary."""
import numpy as np
import pytest

from fastprop import threads
from fastprop.layers import Pooling, Relu


@pytest.fixture
def counted(monkeypatch):
    """Splits from 64 elements on, counting the calls that split."""
    calls = []
    real = threads.run_split

    def run_split(work, n):
        calls.append(n)
        real(work, n)

    monkeypatch.setattr(threads, "SPLIT_ELEMENTS", 64)
    monkeypatch.setattr(threads, "run_split", run_split)
    return calls


def _both(make, run):
    out = {}
    for n in (1, 2, 3):
        with threads.thread_limit(n):
            out[n] = run(make())
    return out


@pytest.mark.parametrize("shape", [(5, 3, 6, 7), (1, 2, 9, 9), (2, 1, 6, 6), (7, 33)])
def test_relu_split_is_the_one_thread_result(shape, counted, rng):
    x = rng.standard_normal(shape)
    x.reshape(-1)[::7] = 0.0
    x.reshape(-1)[3] = np.nan
    d = rng.standard_normal(shape)

    def run(layer):
        y = layer.forward(x)
        return y, layer.mask.copy(), layer.backward(d)

    res = _both(Relu, run)
    for n in (2, 3):
        for a, b in zip(res[1], res[n]):
            np.testing.assert_array_equal(a, b)
    assert counted, "nothing was split"


@pytest.mark.parametrize("geom", [(2, 2, 2, 0), (3, 3, 2, 1), (2, 3, 1, 0), (3, 3, 3, 1)])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_pooling_split_is_the_one_thread_result(geom, n, counted, rng):
    ph, pw, stride, pad = geom
    x = rng.standard_normal((n, 3, 9, 8))
    x[0, 1, 2, 3] = np.nan
    x[-1, 0, :2, :2] = 1.0  # ties: the first offset wins

    def run(layer):
        y = layer.forward(x)
        d = rng.standard_normal(y.shape) if not hasattr(run, "d") else run.d
        run.d = d
        return y, layer.arg_max.copy(), layer.backward(d)

    res = _both(lambda: Pooling(ph, pw, stride, pad), run)
    for k in (2, 3):
        for a, b in zip(res[1], res[k]):
            np.testing.assert_array_equal(a, b)
    assert bool(counted) == (n > 1)  # one sample: nothing to split


@pytest.mark.parametrize("shape", [(3, 2, 9, 8), (2, 3, 24, 24), (1, 1, 2, 2)])
def test_pooling_compact_offsets_give_the_books_arg_max_and_backward(shape, rng):
    """The 2x2, stride-2 forward keeps one byte per window; backward from it, and the
    book's ``arg_max`` built when read, are what the book-order path gives (NaN, ties and
    an odd last row/column included); an assigned ``arg_max`` is what backward then uses."""
    x = rng.standard_normal(shape)
    x[0, 0, 0, 1] = np.nan
    x[-1, -1, -2:, -2:] = 1.0  # a tie: the first offset wins
    compact, book = Pooling(2, 2, 2), Pooling(2, 2, 2)
    y = compact.forward(x)
    np.testing.assert_array_equal(y, book.forward(x))
    assert compact._arg is not None and compact._arg_max is None
    d = rng.standard_normal(y.shape)
    ref = book.backward(d) if book.arg_max is not None else None  # book: arg_max read first
    np.testing.assert_array_equal(compact.backward(d), ref)
    # odd sizes: the row/column no window covers gets 0, as the book's col2im leaves it
    assert not np.isnan(compact.backward(d)).any()
    np.testing.assert_array_equal(compact.arg_max, book.arg_max)
    assert compact.arg_max.dtype == np.intp and compact._arg is None
    moved = compact.arg_max.copy()
    moved[:] = 3
    compact.arg_max = moved  # the book's code may replace it: backward follows it
    other = Pooling(2, 2, 2)
    other.forward(x)
    other.arg_max = moved.copy()
    np.testing.assert_array_equal(compact.backward(d), other.backward(d))
    assert not np.array_equal(compact.backward(d), ref)


def test_pooling_compact_offsets_that_no_longer_fit_are_refused(rng):
    p = Pooling(2, 2, 2)
    y = p.forward(rng.standard_normal((3, 2, 6, 6)))
    p._arg = p._arg[:1]  # a saved state changed behind the layer's back: refused, not read
    with pytest.raises(ValueError, match="window offsets"):
        p.backward(np.ones_like(y))
