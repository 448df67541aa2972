"""Optimizers against their formulas written out here, against PyTorch, and their contract
(dict/list params, in place, lazy state, float32, Python floats, validation)."""
import inspect
import math

import numpy as np
import pytest

from fastprop.kernels import optim as kernels
from fastprop.optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, Optimizer, RMSprop

# ---------------------------------------------------------------- the book's formulas, spelled out
# Each takes (p, g, state, opt, t) with float64 arrays (or Python floats), returns the new p and
# rebinds entries of ``state`` (a dict); ``t`` is the 1-based step (Adam's iter).


def f_sgd(p, g, s, o, t):
    return p - o.lr * g


def f_momentum(p, g, s, o, t):
    s["v"] = o.momentum * s.get("v", 0 * p) - o.lr * g
    return p + s["v"]


def f_nesterov(p, g, s, o, t):
    v = s.get("v", 0 * p)
    p = p + o.momentum * o.momentum * v
    p = p - (1 + o.momentum) * o.lr * g
    s["v"] = o.momentum * v - o.lr * g
    return p


def f_adagrad(p, g, s, o, t):
    s["h"] = s.get("h", 0 * p) + g * g
    return p - o.lr * g / (np.sqrt(s["h"]) + 1e-7)


def f_rmsprop(p, g, s, o, t):
    s["h"] = o.decay_rate * s.get("h", 0 * p) + (1 - o.decay_rate) * g * g
    return p - o.lr * g / (np.sqrt(s["h"]) + 1e-7)


def f_adam(p, g, s, o, t):
    lr_t = o.lr * math.sqrt(1.0 - o.beta2 ** t) / (1.0 - o.beta1 ** t)
    m, v = s.get("m", 0 * p), s.get("v", 0 * p)
    s["m"] = m + (1 - o.beta1) * (g - m)
    s["v"] = v + (1 - o.beta2) * (g ** 2 - v)
    return p - lr_t * s["m"] / (np.sqrt(s["v"]) + 1e-7)


CASES = [
    (SGD, dict(lr=0.1), f_sgd),
    (Momentum, dict(lr=0.1, momentum=0.9), f_momentum),
    (Nesterov, dict(lr=0.1, momentum=0.8), f_nesterov),
    (AdaGrad, dict(lr=0.1), f_adagrad),
    (RMSprop, dict(lr=0.01, decay_rate=0.9), f_rmsprop),
    (Adam, dict(lr=0.01, beta1=0.8, beta2=0.99), f_adam),
]
IDS = [c[0].__name__ for c in CASES]
STATE = {SGD: (), Momentum: ("v",), Nesterov: ("v",), AdaGrad: ("h",), RMSprop: ("h",), Adam: ("m", "v")}
SHAPES = {"W1": (5, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}


def _params(rng, dtype):
    return {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}


def _grad_seq(rng, n_steps, dtype=np.float64):
    return [{k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()} for _ in range(n_steps)]


def _run_formula(formula, opt, params0, grads_seq):
    p = {k: v.astype(np.float64) for k, v in params0.items()}
    state = {k: {} for k in p}
    for t, grads in enumerate(grads_seq, start=1):
        for k in p:
            p[k] = formula(p[k], grads[k].astype(np.float64), state[k], opt, t)
    return p


# ---------------------------------------------------------------- vs the formulas


@pytest.mark.parametrize("cls, kw, formula", CASES, ids=IDS)
@pytest.mark.parametrize("container", ["dict", "list"])
def test_matches_formula_float64(cls, kw, formula, container, rng):
    params = _params(rng, np.float64)
    grads_seq = _grad_seq(rng, 6)
    expected = _run_formula(formula, cls(**kw), params, grads_seq)

    opt = cls(**kw)
    keys = list(SHAPES)
    if container == "dict":
        p = {k: v.copy() for k, v in params.items()}
        for g in grads_seq:
            opt.update(p, g)
        got = p
    else:
        p = [params[k].copy() for k in keys]
        for g in grads_seq:
            opt.update(p, [g[k] for k in keys])
        got = dict(zip(keys, p))
    for k in keys:
        assert got[k].shape == SHAPES[k] and got[k].dtype == np.float64
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("cls, kw, formula", CASES, ids=IDS)
def test_float32_stays_float32(cls, kw, formula, rng):
    params = _params(rng, np.float32)
    grads_seq = _grad_seq(rng, 6, np.float32)
    expected = _run_formula(formula, cls(**kw), params, grads_seq)
    opt = cls(**kw)
    p = {k: v.copy() for k, v in params.items()}
    for g in grads_seq:
        opt.update(p, g)
    for k in SHAPES:
        assert p[k].dtype == np.float32
        for name in STATE[cls]:
            assert getattr(opt, name)[k].dtype == np.float32
        scale = max(1.0, float(np.abs(expected[k]).max()))
        np.testing.assert_allclose(p[k], expected[k], rtol=0, atol=2e-5 * scale, err_msg=k)


@pytest.mark.parametrize("cls, kw, formula", CASES, ids=IDS)
def test_in_place_and_lazy_state(cls, kw, formula, rng):
    opt = cls(**kw)
    for name in STATE[cls]:
        assert getattr(opt, name) == {}, "state is created on first use, not before"
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    ids = [id(a) for a in params]
    before = [a.copy() for a in params]
    grads = [np.ones((3, 2)), np.ones(2)]
    opt.update(params, grads)
    assert [id(a) for a in params] == ids
    assert all(not np.array_equal(a, b) for a, b in zip(params, before))
    state_ids = {}
    for name in STATE[cls]:
        d = getattr(opt, name)
        assert sorted(d) == [0, 1]
        assert d[0].shape == (3, 2) and d[1].shape == (2,)
        state_ids[name] = [id(d[0]), id(d[1])]
    opt.update(params, grads)
    assert [id(a) for a in params] == ids
    for name in STATE[cls]:
        d = getattr(opt, name)
        assert [id(d[0]), id(d[1])] == state_ids[name], "state is updated in place too"


def test_adam_iter_counts_update_calls():
    opt = Adam()
    assert opt.iter == 0
    p = {"a": np.zeros(3), "b": np.zeros(2)}
    for i in range(1, 4):
        opt.update(p, {"a": np.ones(3), "b": np.ones(2)})
        assert opt.iter == i
    opt.reset()
    assert opt.iter == 0 and opt.m == {} and opt.v == {}


# ---------------------------------------------------------------- layouts and dtypes the kernels do not take


@pytest.mark.parametrize("cls, kw, formula", CASES, ids=IDS)
def test_fallbacks_match_formula(cls, kw, formula, rng):
    base = rng.standard_normal((4, 6))
    grads_seq = [rng.standard_normal((6, 4)) for _ in range(4)]
    expected = _run_formula(formula, cls(**kw), {"W": base.T.copy()}, [{"W": g} for g in grads_seq])["W"]

    opt = cls(**kw)
    w = base.copy().T                       # F-ordered param: NumPy twin, in place
    strided = np.zeros((6, 8))[:, ::2]      # non-contiguous param
    strided[...] = base.T
    half = base.T.astype(np.float16)        # dtype the kernels do not compile
    p = {"w": w, "s": strided, "h": half}
    for g in grads_seq:
        # grads of another dtype / layout are converted to the param's
        opt.update(p, {"w": np.asfortranarray(g), "s": g.astype(np.float32), "h": g})
    assert p["w"] is w and p["s"] is strided and p["h"] is half
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(strided, _run_formula(
        formula, cls(**kw), {"W": base.T.copy()},
        [{"W": g.astype(np.float32).astype(np.float64)} for g in grads_seq])["W"], rtol=1e-12, atol=1e-14)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half, expected, rtol=0, atol=0.05 * max(1, np.abs(expected).max()))


def test_zero_dim_array_param_updated_in_place():
    p = np.array(3.0)
    SGD(lr=0.5).update([p], [np.array(2.0)])
    assert p.shape == () and p == 2.0


# ---------------------------------------------------------------- the book's 2-D toy demo with Python floats


def _df(x, y):
    return x / 10.0, 2.0 * y


def _python_float_trajectory(formula, opt, n=30):
    x, y, sx, sy, traj = -7.0, 2.0, {}, {}, []
    for t in range(1, n + 1):
        traj.append((x, y))
        gx, gy = _df(x, y)
        x, y = formula(x, gx, sx, opt, t), formula(y, gy, sy, opt, t)
    return traj, (x, y)


@pytest.mark.parametrize("cls, kw, formula", [
    (SGD, dict(lr=0.95), f_sgd),            # the book's optimizer_compare_naive.py settings
    (Momentum, dict(lr=0.1), f_momentum),
    (Nesterov, dict(lr=0.1), f_nesterov),
    (AdaGrad, dict(lr=1.5), f_adagrad),
    (RMSprop, dict(lr=0.1), f_rmsprop),
    (Adam, dict(lr=0.3), f_adam),
], ids=IDS)
def test_python_float_dict_demo(cls, kw, formula):
    opt = cls(**kw)
    params = {"x": -7.0, "y": 2.0}
    grads = {"x": 0, "y": 0}
    traj = []
    for _ in range(30):
        traj.append((params["x"], params["y"]))
        grads["x"], grads["y"] = _df(params["x"], params["y"])
        opt.update(params, grads)
    assert type(params["x"]) is float and type(params["y"]) is float
    exp_traj, exp_last = _python_float_trajectory(formula, cls(**kw))
    np.testing.assert_allclose(traj, exp_traj, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose((params["x"], params["y"]), exp_last, rtol=1e-12, atol=1e-300)
    if cls is SGD:
        # plain float64 arithmetic: bit-for-bit the Python-float trajectory
        assert traj == exp_traj and (params["x"], params["y"]) == exp_last


def test_numpy_scalar_params_keep_their_type():
    params = [np.float32(1.0), 2]
    SGD(lr=0.5).update(params, [np.float32(1.0), 1.0])
    assert type(params[0]) is np.float32 and params[0] == 0.5
    assert type(params[1]) is float and params[1] == 1.5


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("make, exc, words", [
    (lambda: SGD(lr=-0.1), ValueError, ["lr", ">= 0", "-0.1"]),
    (lambda: SGD(lr=float("nan")), ValueError, ["lr", "nan"]),
    (lambda: SGD(lr="0.1"), TypeError, ["lr", "real number", "str"]),
    (lambda: SGD(lr=True), TypeError, ["lr", "bool"]),
    (lambda: Momentum(momentum=1.0), ValueError, ["momentum", "[0, 1)", "1.0"]),
    (lambda: Nesterov(momentum=-0.5), ValueError, ["momentum", "[0, 1)"]),
    (lambda: Momentum(momentum=None), TypeError, ["momentum", "NoneType"]),
    (lambda: RMSprop(decay_rate=1.5), ValueError, ["decay_rate", "[0, 1)"]),
    (lambda: Adam(beta1=1.0), ValueError, ["beta1", "[0, 1)"]),
    (lambda: Adam(beta2=-1e-3), ValueError, ["beta2", "[0, 1)"]),
    (lambda: AdaGrad(lr=[0.1]), TypeError, ["lr", "list"]),
])
def test_bad_hyperparameters(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for w in words:
        assert w in str(info.value)


def test_hyperparameters_validated_on_assignment_too():
    opt = Momentum()
    opt.lr = np.float32(0.5)           # NumPy numbers are fine, stored as Python floats
    assert opt.lr == 0.5 and type(opt.lr) is float
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1
    with pytest.raises(ValueError, match="momentum"):
        opt.momentum = 1
    assert repr(opt) == "Momentum(lr=0.5, momentum=0.9)"


@pytest.mark.parametrize("params, grads, exc, words", [
    ({"W": np.zeros(2)}, [np.zeros(2)], TypeError, ["dict", "list"]),
    ([np.zeros(2)], {"W": np.zeros(2)}, TypeError, ["list", "dict"]),
    ({"W": np.zeros(2), "b": np.zeros(1)}, {"W": np.zeros(2)}, ValueError, ["missing", "'b'"]),
    ({"W": np.zeros(2)}, {"W": np.zeros(2), "c": np.zeros(1)}, ValueError, ["unexpected", "'c'"]),
    ([np.zeros(2)], [np.zeros(2), np.zeros(1)], ValueError, ["1 entries", "2"]),
    ({"W": np.zeros((2, 3))}, {"W": np.zeros((3, 2))}, ValueError, ["'W'", "(3, 2)", "(2, 3)"]),
    ([np.zeros(2), np.zeros(3)], [np.zeros(2), np.zeros(2)], ValueError, ["grads[1]", "(3,)"]),
    ({"W": np.zeros(2, dtype=np.int64)}, {"W": np.zeros(2)}, TypeError, ["'W'", "int64", "floating"]),
    ({"W": np.zeros(2)}, {"W": np.zeros(2, dtype=complex)}, TypeError, ["'W'", "complex128"]),
    ({"W": "abc"}, {"W": np.zeros(2)}, TypeError, ["'W'", "str"]),
    ((1.0,), (1.0,), TypeError, ["tuple"]),
    ({"x": 1.0}, {"x": np.zeros(2)}, TypeError, ["grads['x']", "number"]),
    (np.zeros(2), np.zeros(2), TypeError, ["dict", "list", "ndarray"]),
])
def test_bad_containers(params, grads, exc, words):
    with pytest.raises(exc) as info:
        Adam().update(params, grads)
    for w in words:
        assert w in str(info.value)


def test_read_only_param_is_an_error():
    p = np.zeros(3)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SGD().update([p], [np.ones(3)])


def test_nothing_changes_when_a_later_entry_is_bad():
    opt = Adam()
    a = np.ones(3)
    with pytest.raises(ValueError, match="grads\\['b'\\]"):
        opt.update({"a": a, "b": np.ones(2)}, {"a": np.ones(3), "b": np.ones(3)})
    assert np.array_equal(a, np.ones(3)) and opt.iter == 0 and opt.m == {} and opt.v == {}


@pytest.mark.parametrize("cls", [SGD, Adam])
@pytest.mark.parametrize("bad", ["shape", "strided", "list", "float32", "int"])
def test_later_steps_check_and_convert_as_the_first(cls, bad):
    """After the first step (state exists: the per-step path), a gradient that path does not
    take as it is goes the general way: a wrong shape is an error that leaves arrays, state
    and step count as they were; a strided, list, float32 or integer gradient is converted,
    giving the numbers of a clean one."""
    given = {"shape": np.ones(3), "strided": np.ones(4)[::2], "list": [1.0, 1.0],
             "float32": np.ones(2, np.float32), "int": np.ones(2, np.int64)}[bad]
    opt, ref = cls(), cls()
    a, b, ra, rb = np.ones(3), np.ones(2), np.ones(3), np.ones(2)
    for o, pa, pb in ((opt, a, b), (ref, ra, rb)):
        o.update({"a": pa, "b": pb}, {"a": np.ones(3), "b": np.ones(2)})
    if bad == "shape":
        saved = a.copy(), b.copy(), getattr(opt, "iter", None)
        with pytest.raises(ValueError, match="grads\\['b'\\]"):
            opt.update({"a": a, "b": b}, {"a": np.ones(3), "b": given})
        assert np.array_equal(a, saved[0]) and np.array_equal(b, saved[1])
        assert getattr(opt, "iter", None) == saved[2]
        return
    opt.update({"a": a, "b": b}, {"a": np.ones(3), "b": given})
    ref.update({"a": ra, "b": rb}, {"a": np.ones(3), "b": np.ones(2)})
    np.testing.assert_array_equal(a, ra)
    np.testing.assert_array_equal(b, rb)


def test_state_shape_change_needs_reset():
    opt = Momentum()
    opt.update([np.zeros(3)], [np.ones(3)])
    with pytest.raises(ValueError, match="reset"):
        opt.update([np.zeros(4)], [np.ones(4)])
    opt.reset()
    opt.update([np.zeros(4)], [np.ones(4)])
    assert opt.v[0].shape == (4,)


# ---------------------------------------------------------------- state access for fused steps


@pytest.mark.parametrize("cls, kw, formula", CASES, ids=IDS)
def test_kernel_state_drives_the_same_update(cls, kw, formula, rng):
    """Calling the kernel by hand with the contract (rule, hyper, kernel_state, step_count)
    is update() exactly."""
    p0 = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(3)]
    a, b = cls(**kw), cls(**kw)
    pa, pb = p0.copy(), p0.copy()
    assert b.rule == kernels.RULES[type(b).__name__.lower()]
    for g in grads:
        a.update([pa], [g])
        b.begin_step()
        state = b.kernel_state(0, pb) + (np.empty(0, np.float32),) * 2
        kernels.apply_update(b.rule, pb.reshape(-1), g.reshape(-1), state[0].reshape(-1),
                             state[1].reshape(-1), np.array(b.hyper()), b.step_count())
    np.testing.assert_array_equal(pa, pb)
    for name in STATE[cls]:
        np.testing.assert_array_equal(getattr(a, name)[0], getattr(b, name)[0])
        assert b.kernel_state(0, pb)[STATE[cls].index(name)] is getattr(b, name)[0]
    if cls is Adam:
        assert a.iter == b.iter == 3


@pytest.mark.parametrize("cls, kw", [(Momentum, dict(lr=0.05, momentum=0.8)),
                                     (RMSprop, dict(lr=0.05, decay_rate=0.9)),
                                     (Adam, dict(lr=0.05, beta1=0.8, beta2=0.99))])
def test_hyper_parameter_assignment_order_does_not_change_the_update(cls, kw, rng):
    """The kernel's scalars come from hyper() by name: a subclass that assigns its
    hyper-parameters in another order runs the same update."""
    names = list(kw)

    class Reordered(cls):
        def __init__(self):
            Optimizer.__init__(self)  # the state dicts
            for name in reversed(names):  # the last hyper-parameter first
                setattr(self, name, kw[name])
            if cls is Adam:
                self.iter = 0

    def order(opt):
        return [k for k in vars(opt) if k in names]

    assert order(Reordered()) == names[::-1] and order(cls(**kw)) == names
    p0 = rng.standard_normal(7)
    grads = [rng.standard_normal(7) for _ in range(4)]
    pa, pb = p0.copy(), p0.copy()
    a, b = cls(**kw), Reordered()
    for g in grads:
        a.update([pa], [g])
        b.update([pb], [g])
    np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(pa, p0)


# ---------------------------------------------------------------- PyTorch cross-check


TORCH_CASES = [
    (lambda: SGD(lr=0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    (lambda: Momentum(lr=0.1, momentum=0.9), lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda: Nesterov(lr=0.1, momentum=0.9),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    (lambda: AdaGrad(lr=0.1), lambda t, p: t.optim.Adagrad(p, lr=0.1, eps=1e-7)),
    (lambda: RMSprop(lr=0.01, decay_rate=0.99),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-7)),
]


@pytest.mark.parametrize("ours, theirs", TORCH_CASES, ids=["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop"])
def test_matches_torch(ours, theirs, rng):
    torch = pytest.importorskip("torch")
    p0 = rng.standard_normal((4, 5))
    grads = [rng.standard_normal((4, 5)) for _ in range(20)]

    tp = torch.nn.Parameter(torch.tensor(p0.copy(), dtype=torch.float64))
    topt = theirs(torch, [tp])
    opt, p = ours(), [p0.copy()]
    for g in grads:
        tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        opt.update(p, [g])
        np.testing.assert_allclose(p[0], tp.detach().numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- with the library's TwoLayerNet


@pytest.mark.parametrize("cls, kw", [(c, k) for c, k, _ in CASES], ids=IDS)
def test_two_layer_net_dict_updates_are_seen_by_layers(cls, kw, rng):
    nets = pytest.importorskip("fastprop.nets")
    net = nets.TwoLayerNet(6, 5, 3, weight_init_std=0.5)
    x = rng.standard_normal((20, 6))
    t = rng.integers(0, 3, 20)
    ids = {k: id(v) for k, v in net.params.items()}
    opt = cls(**kw)
    first = net.loss(x, t)
    for _ in range(30):
        opt.update(net.params, net.gradient(x, t))
    assert {k: id(v) for k, v in net.params.items()} == ids
    assert net.loss(x, t) < first


@pytest.mark.parametrize("cls", [SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam])
def test_each_class_spells_out_its_hyper_parameters_by_name(cls):
    """The signature names the hyper-parameters the kernel reads (HYPER_NAMES), the base
    sets them by keyword, and hyper() hands them over in the kernel's order."""
    names = kernels.HYPER_NAMES[cls.rule]
    assert tuple(inspect.signature(cls).parameters) == names
    values = {n: 0.5 ** (i + 1) for i, n in enumerate(names)}
    opt = cls(**values)
    assert opt.hyper() == tuple(values[n] for n in names) + (0.0,) * (3 - len(names))
    with pytest.raises(TypeError, match="no hyper-parameter 'momentum'"):
        Optimizer.__init__(SGD.__new__(SGD), lr=0.1, momentum=0.9)
