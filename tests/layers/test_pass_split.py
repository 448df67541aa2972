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
