"""fastprop.kernels.fused_two_layer_lanes (the batch-in-lanes step for tiny layers, no
BLAS) against its twin, which is the BLAS kernel's twin: the same numbers to rounding."""
import numpy as np
import parity
import pytest
from test_fused_two_layer import OUTPUTS, data, draw_train_args, train_args

from fastprop.kernels import fused_two_layer_lanes as K
from fastprop.kernels.optim import SGD
from fastprop.nets.fused import padded_batch
from fastprop.twins.fused_two_layer import two_layer_train_steps as blas_twin


def _lanes_args(draw, dt):
    # the scratch is padded as fastprop.nets.fused pads it (a multiple of 8 rows)
    return draw_train_args(draw, dt, pad=padded_batch, max_in=6, max_hidden=12)


def f32_floor(a):
    return 1.0 if a["params"][0].dtype == np.float32 else 0.0


CASES = {
    "two_layer_train_steps_lanes": parity.Case(
        _lanes_args, outputs=OUTPUTS + ("losses",), scratch=("scratch",), returns="losses",
        rtol=1e-11, floor=f32_floor, examples=25),
}

test_parity = parity.make_test("fused_two_layer_lanes", CASES)
run = parity.runner("fused_two_layer_lanes", CASES)


@pytest.mark.parametrize("opt", range(6))
@pytest.mark.parametrize("sigmoid", [False, True])
@pytest.mark.parametrize("onehot", [False, True])
@pytest.mark.parametrize("B, D, H", [(7, 3, 6), (25, 3, 6), (32, 3, 6), (9, 1, 4), (8, 2, 1)])
def test_small_kernel_matches_twin_float64(opt, sigmoid, onehot, B, D, H):
    """The tiny-layer kernel (batch in lanes, padded to 8 columns) against the twin,
    including one-input and one-hidden-unit nets (their loops are written apart)."""
    x, lab = data(d=D, classes=3)
    idx = np.random.default_rng(B).integers(0, 300, 10 * B).astype(np.intp)
    args = train_args(np.float64, x, lab, onehot, idx, H, 3, 10, opt, sigmoid, pad=padded_batch(B))
    k, t = run("two_layer_train_steps_lanes", args)
    np.testing.assert_allclose(k.args["losses"], t.args["losses"], rtol=1e-12)
    for a, b in zip(k.args["params"] + k.args["grads"], t.args["params"] + t.args["grads"]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * np.abs(b).max())
    k_state = k.args["optimizer"][2] + k.args["optimizer"][3]
    t_state = t.args["optimizer"][2] + t.args["optimizer"][3]
    for a, b in zip(k_state, t_state):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * max(np.abs(b).max(), 1e-300))


@pytest.mark.parametrize("sigmoid", [False, True])
def test_kernel_float32_close_to_float64_twin(sigmoid):
    """float32 end to end at vol. 2's 2-10-3/b30 (SGD lr 1.0, scratch padded to 8 rows),
    against the twin run in float64 from the float64 draw of the same parameters."""
    x, lab = data(d=2)
    idx = np.arange(300, dtype=np.intp)
    args32 = train_args(np.float32, x, lab, False, idx, 10, 3, 10, SGD, sigmoid, hp=(1.0, 0, 0),
                        pad=padded_batch(30))
    args64 = train_args(np.float64, x, lab, False, idx, 10, 3, 10, SGD, sigmoid, hp=(1.0, 0, 0))
    K.two_layer_train_steps_lanes(*args32)
    blas_twin(*args64)
    assert all(p.dtype == np.float32 for p in args32[1] + args32[2] + args32[4])
    np.testing.assert_allclose(args32[-1], args64[-1], rtol=1e-5)
    for a, b in zip(args32[1], args64[1]):
        np.testing.assert_allclose(a, b, atol=1e-5 * max(np.abs(b).max(), 1))
