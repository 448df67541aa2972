"""fastprop.kernels.fused_two_layer against its twin: the whole two-layer training step
(forward, loss, backward, optimizer update) over many gathered batches, and on one ready
batch. ``test_fused_two_layer_lanes.py`` builds its arguments with :func:`train_args`."""
import numpy as np
import parity
import pytest
from hypothesis import strategies as st

from fastprop.kernels import fused_two_layer as K
from fastprop.kernels.optim import RULES, SGD
from fastprop.twins import fused_two_layer as T

OUTPUTS = ("params", "grads", "optimizer[2]", "optimizer[3]")
HP = (0.05, 0.9, 0.999)  # lr, then momentum / decay_rate / beta1, then beta2


def data(n=300, d=20, classes=4, seed=0):
    """float32 samples and learnable uint8 labels (the dtypes a book script passes)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(np.float32)
    return x, x[:, :classes].argmax(axis=1).astype(np.uint8)


def train_args(dt, X, labels, onehot, idx, H, O, steps, rule, sigmoid, hp=HP, t0=3, seed=1,
               pad=None, bias=0.0):
    """Arguments of ``two_layer_train_steps(_lanes)``: a D-H-O net drawn from ``seed``,
    zero gradients and optimizer state, scratch of ``pad`` (default: the batch) rows."""
    rng = np.random.default_rng(seed)
    D = X.shape[1]
    params = ((0.1 * rng.standard_normal((D, H))).astype(dt), (bias * rng.standard_normal(H)).astype(dt),
              (0.1 * rng.standard_normal((H, O))).astype(dt), (bias * rng.standard_normal(O)).astype(dt))
    grads = tuple(np.zeros_like(p) for p in params)
    S1, S2 = (tuple(np.zeros(p.size, dt) for p in params) for _ in range(2))
    targets = np.eye(O, dtype=dt)[labels] if onehot else np.empty((0, 0), dt)
    rows = pad or len(idx) // steps
    scratch = tuple(np.zeros(s, dt) for s in ((rows, D), (rows, H), (rows, O), (rows, O), (rows, H)))
    optimizer = (rule, np.array(hp, np.float64), S1, S2, t0)
    return [(X, labels, targets, onehot, idx), params, grads, optimizer, scratch, sigmoid, np.zeros(steps)]


def draw_train_args(draw, dt, pad=lambda B: B, max_in=24, max_hidden=16):
    """A drawn net, data set, optimizer and batch schedule. float32 runs SGD only, as the
    fused float32 path is checked end to end (the adaptive rules divide by sqrt(h) + 1e-7,
    where float32 and float64 trajectories part faster than a fixed tolerance allows)."""
    D, H, O = draw(st.integers(1, max_in)), draw(st.integers(1, max_hidden)), draw(st.integers(2, 5))
    B, steps = draw(st.integers(1, 32)), draw(st.integers(1, 10))
    X, labels = data(draw(st.integers(B, 300)), D, O, draw(parity.seeds))
    idx = parity.rng(draw).integers(0, X.shape[0], B * steps).astype(np.intp)
    rule = draw(st.sampled_from(sorted(RULES.values()))) if dt == np.float64 else SGD
    hp = (draw(st.sampled_from([0.01, 0.05, 0.1])), 0.9, 0.999)
    return train_args(dt, X, labels, draw(st.booleans()), idx, H, O, steps, rule, draw(st.booleans()),
                      hp, draw(st.integers(0, 5)), draw(parity.seeds), pad(B), bias=0.1)


def _pruned(draw, args):
    """Half the time, None where the call does not read (the targets of a labels batch,
    SGD's state): how :mod:`fastprop.nets.fused` calls the BLAS kernel, which then
    compiles without those paths."""
    if draw(st.booleans()):
        (X, labels, targets, onehot, idx), params, grads, opt, *rest = args
        if not onehot:
            targets = None
        if opt[0] == SGD:
            opt = (opt[0], opt[1], None, None, opt[4])
        args = [(X, labels, targets, onehot, idx), params, grads, opt, *rest]
    return args


def draw_blas_train_args(draw, dt):
    return _pruned(draw, draw_train_args(draw, dt))


def _step_args(draw, dt):
    """One ready (B, D) batch in the parameter dtype; its rows say which labels it has."""
    args = draw_blas_train_args(draw, dt)
    (X, labels, targets, onehot, idx), *rest, losses = args
    B = rest[3][0].shape[0]
    rows = idx[:B]
    x = X[rows].astype(dt)
    return [(x, labels, targets, onehot, rows)] + rest[:5]


def f32_floor(a):
    # float32 against float64 over several steps: an atol of 1e-5 * max(|output|, 1)
    return 1.0 if a["params"][0].dtype == np.float32 else 0.0


CASES = {
    "two_layer_train_steps": parity.Case(draw_blas_train_args, outputs=OUTPUTS + ("losses",), scratch=("scratch",),
                                         returns="losses", rtol=1e-11, floor=f32_floor, examples=25),
    "two_layer_train_step": parity.Case(_step_args, outputs=OUTPUTS, scratch=("scratch",), rtol=1e-11,
                                        floor=f32_floor, examples=25),
}

test_parity = parity.make_test("fused_two_layer", CASES)
run = parity.runner("fused_two_layer", CASES)


# --------------------------------------------------------------------------- pinned grids


@pytest.mark.parametrize("opt", range(6))
@pytest.mark.parametrize("sigmoid", [False, True])
@pytest.mark.parametrize("onehot", [False, True])
def test_kernel_matches_twin_float64(opt, sigmoid, onehot):
    x, lab = data()
    idx = np.random.permutation(300)[:250].astype(np.intp)
    k, t = run("two_layer_train_steps", train_args(np.float64, x, lab, onehot, idx, 8, 4, 10, opt, sigmoid))
    np.testing.assert_allclose(k.args["losses"], t.args["losses"], rtol=1e-12)
    for a, b in zip(k.args["params"] + k.args["grads"], t.args["params"] + t.args["grads"]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * np.abs(b).max())


@pytest.mark.parametrize("sigmoid", [False, True])
def test_kernel_float32_close_to_float64_twin(sigmoid):
    """float32 end to end at 20-8-4/b25 (SGD), against the twin run in float64 from the
    float64 draw of the same parameters."""
    x, lab = data(d=20)
    idx = np.arange(250, dtype=np.intp)
    args32 = train_args(np.float32, x, lab, False, idx, 8, 4, 10, SGD, sigmoid, hp=(0.1, 0, 0))
    args64 = train_args(np.float64, x, lab, False, idx, 8, 4, 10, SGD, sigmoid, hp=(0.1, 0, 0))
    K.two_layer_train_steps(*args32)
    T.two_layer_train_steps(*args64)
    assert all(p.dtype == np.float32 for p in args32[1] + args32[2] + args32[4])
    np.testing.assert_allclose(args32[-1], args64[-1], rtol=1e-5)
    for a, b in zip(args32[1], args64[1]):
        np.testing.assert_allclose(a, b, atol=1e-5 * max(np.abs(b).max(), 1))


@pytest.mark.parametrize("opt", range(6))
@pytest.mark.parametrize("sigmoid", [False, True])
def test_one_ready_batch_is_one_gathered_step_bit_for_bit(opt, sigmoid):
    """``two_layer_train_step`` on ``X[idx]`` is ``two_layer_train_steps`` for one step: the
    same loss and the same parameters, state and gradients, bit for bit."""
    X, lab = data()  # float32, gathered and cast on the way; the ready batch is cast first
    idx = np.random.permutation(300)[:25].astype(np.intp)
    many = train_args(np.float64, X, lab, False, idx, 8, 4, 1, opt, sigmoid)
    one = train_args(np.float64, X, lab, False, idx, 8, 4, 1, opt, sigmoid)
    K.two_layer_train_steps(*many)
    loss = K.two_layer_train_step((X[idx].astype(np.float64), lab, one[0][2], False, idx), *one[1:6])
    assert loss == many[-1][0]
    for a, b in zip(many[1] + many[2] + many[3][2] + many[3][3], one[1] + one[2] + one[3][2] + one[3][3]):
        assert a.tobytes() == b.tobytes()
