"""fastprop.kernels.optim against its twins: the per-rule updates, the one rule table
(``apply_update``, ``update_all``) and Adam's step size."""
import math

import numpy as np
import parity
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastprop.kernels import optim as K
from fastprop.twins import optim as T

sizes = st.integers(1, 64 * 40)
lrs = st.sampled_from([0.001, 0.01, 0.1, 1.0])
momenta = st.sampled_from([0.0, 0.5, 0.9, 0.99])
betas2 = st.sampled_from([0.9, 0.99, 0.999])
steps = st.integers(1, 10_000)


def _param(draw, dt):
    r = parity.rng(draw)
    n = draw(sizes)
    return r, n, r.standard_normal(n).astype(dt), r.standard_normal(n).astype(dt)


def _state(r, n, dt, rule):
    """Mid-run state: v and m of either sign, h and Adam's v non-negative."""
    if rule in ("momentum", "nesterov"):
        return [(0.1 * r.standard_normal(n)).astype(dt)]
    if rule in ("adagrad", "rmsprop"):
        return [np.abs(r.standard_normal(n)).astype(dt)]
    if rule == "adam":
        return [(0.1 * r.standard_normal(n)).astype(dt), (0.01 * r.random(n)).astype(dt)]
    return []


def _rule_update(rule):
    def args(draw, dt):
        r, n, p, g = _param(draw, dt)
        lr = draw(lrs)
        if rule in ("momentum", "nesterov"):
            scalars = [lr, draw(momenta)]
        elif rule == "rmsprop":
            scalars = [lr, draw(momenta)]
        elif rule == "adam":
            beta1, beta2 = draw(momenta), draw(betas2)
            scalars = [K.adam_step_size(lr, beta1, beta2, draw(steps)), beta1, beta2]
        else:
            scalars = [lr]
        # the kernels' contract: scalars already in the array dtype
        return [p, g, *_state(r, n, dt, rule), *(dt(s) for s in scalars)]
    return args


_STATE_NAMES = {"sgd": (), "momentum": ("v",), "nesterov": ("v",), "adagrad": ("h",),
                "rmsprop": ("h",), "adam": ("m", "v")}


def _hp(draw, dt):
    """``(lr, c1, c2)`` as a float64 array holding ``dt``-rounded values: a float32 kernel
    casts them to float32, so the float64 twin gets the same rounded inputs (beta2 = 0.999
    as a float32 is 0.99900001, and 1 - beta2 differs from 0.001 by 1.3e-5 relative)."""
    return np.array([draw(lrs), draw(momenta), draw(betas2)]).astype(dt).astype(np.float64)


def _states(r, sizes_, dt, rule):
    """Two tuples of flat state arrays, one per parameter; unused ones empty (as the fused
    caller passes them)."""
    name = {v: k for k, v in K.RULES.items()}[rule]
    per = [_state(r, n, dt, name) for n in sizes_]
    empty = np.empty(0, dt)
    return tuple(tuple(s[j] if len(s) > j else empty for s in per) for j in range(2))


def _apply_update(draw, dt):
    r, n, p, g = _param(draw, dt)
    rule = draw(st.sampled_from(sorted(K.RULES.values())))
    (s1,), (s2,) = _states(r, [n], dt, rule)
    return [rule, p, g, s1, s2, _hp(draw, dt), draw(steps)]


def _update_all(draw, dt):
    r = parity.rng(draw)
    shapes = [draw(st.integers(1, 400)) for _ in range(4)]  # W1, b1, W2, b2, flat
    P = tuple(r.standard_normal(n).astype(dt) for n in shapes)
    G = tuple(r.standard_normal(n).astype(dt) for n in shapes)
    rule = draw(st.sampled_from(sorted(K.RULES.values())))
    S1, S2 = _states(r, shapes, dt, rule)
    t = draw(steps)
    return [(rule, _hp(draw, dt), S1, S2, t - 1), P, G, t]


def _step_size(draw, dt):
    return [draw(lrs), draw(momenta), draw(betas2), draw(steps)]


CASES = {
    **{f"{rule}_update": parity.Case(_rule_update(rule), outputs=("p",) + _STATE_NAMES[rule],
                                     inplace=True)
       for rule in K.RULES},
    "apply_update": parity.Case(_apply_update, outputs=("p", "s1", "s2"), inplace=True),
    "update_all": parity.Case(_update_all, outputs=("P", "optimizer[2]", "optimizer[3]"),
                              inplace=True),
    # the same float64 formula on both sides: bit for bit
    "adam_step_size": parity.Case(_step_size, dtypes=(np.float64,), exact=True),
}

test_parity = parity.make_test("optim", CASES)


# --------------------------------------------------------------------------- trajectories

OPTIMIZERS = {
    # name: (state arrays, scalar hyper-parameters)
    "sgd_update": (0, (0.01,)),
    "momentum_update": (1, (0.01, 0.9)),
    "nesterov_update": (1, (0.01, 0.9)),
    "adagrad_update": (1, (0.01,)),
    "rmsprop_update": (1, (0.01, 0.99)),
    "adam_update": (2, None),  # lr_t depends on the step
}


@pytest.mark.parametrize("kdtype", parity.DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@settings(max_examples=30, deadline=None)
@given(size=sizes, seed=parity.seeds)
def test_optimizer_steps(name, kdtype, size, seed):
    """Five steps from zero state, kernel and twin each on its own trajectory."""
    n_state, hyper = OPTIMIZERS[name]
    r = np.random.default_rng(seed)
    p = np.ascontiguousarray(r.standard_normal(size), dtype=kdtype)
    state = [np.zeros(size, dtype=kdtype) for _ in range(n_state)]
    p0 = p.copy()
    p_t = p.astype(np.float64)
    state_t = [s.astype(np.float64) for s in state]
    kernel, twin = getattr(K, name), getattr(T, name)
    lr, beta1, beta2 = 0.001, 0.9, 0.999
    # float32 rounding of a state such as m + (1 - beta1) * (g - m) scales with the terms,
    # not with a result that may nearly cancel: take the largest value each array has held
    seen = [np.abs(p_t).max()] + [0.0] * n_state
    for step in range(1, 6):
        g = np.ascontiguousarray(r.standard_normal(size), dtype=kdtype)
        g_before = g.copy()
        if hyper is None:
            lr_t = lr * np.sqrt(1.0 - beta2 ** step) / (1.0 - beta1 ** step)
            scalars = (lr_t, beta1, beta2)
        else:
            scalars = hyper
        k_scalars = [kdtype(s) for s in scalars]  # the contract: scalars in the array dtype
        assert kernel(p, g, *state, *k_scalars) is None
        twin(p_t, g.astype(np.float64), *state_t, *[float(s) for s in k_scalars])
        np.testing.assert_array_equal(g, g_before, err_msg=f"{name} modified the gradient")
        assert p.dtype == kdtype and all(s.dtype == kdtype for s in state)
        what = f"{name} step {step} ({np.dtype(kdtype)})"
        seen = [max(m, np.abs(a).max()) for m, a in zip(seen, [p_t] + state_t)]
        parity.assert_close(p, p_t, kdtype, what + " param", floor=seen[0])
        for s, s_t, floor in zip(state, state_t, seen[1:]):
            parity.assert_close(s, s_t, kdtype, what + " state", floor=floor)
    # it did move the parameter (a no-op kernel would match a no-op twin)
    assert np.count_nonzero(p != p0) > size // 2


def test_sgd_update_pinned():
    p = np.array([1.0, -2.0, 3.0])
    K.sgd_update(p, np.array([10.0, 10.0, -10.0]), 0.5)
    assert p.tolist() == [-4.0, -7.0, 8.0]


def test_adam_update_pinned_first_step():
    # the first bias-corrected Adam step moves each parameter by about lr * sign(g)
    p = np.zeros(3)
    m, v = np.zeros(3), np.zeros(3)
    g = np.array([0.5, -3.0, 1e-3])
    lr, beta1, beta2 = 0.001, 0.9, 0.999
    lr_t = lr * np.sqrt(1 - beta2) / (1 - beta1)
    K.adam_update(p, g, m, v, lr_t, beta1, beta2)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(v, 0.001 * g * g, rtol=1e-12)
    np.testing.assert_allclose(p, -lr_t * 0.1 * g / (np.sqrt(0.001) * np.abs(g) + 1e-7), rtol=1e-12)
    np.testing.assert_allclose(p[:2], -lr * np.sign(g[:2]), rtol=1e-5)  # |g| >> 1e-7


# --------------------------------------------------------------------------- the rule table


@pytest.mark.parametrize("kdtype", parity.DTYPES)
@pytest.mark.parametrize("rule", sorted(K.RULES))
def test_apply_update_is_the_per_rule_kernel_bit_for_bit(rule, kdtype):
    """``apply_update(code, ...)`` runs exactly the rule's own kernel, with the scalars cast
    to the array dtype and Adam's step size from :func:`adam_step_size`."""
    r = np.random.default_rng(7)
    n = 257
    p, g = r.standard_normal(n).astype(kdtype), r.standard_normal(n).astype(kdtype)
    state = _state(r, n, kdtype, rule)
    hp = np.array([0.01, 0.9, 0.999])
    t = 17
    s1, s2 = (state + [np.empty(0, kdtype)] * 2)[:2]
    a = [p.copy(), s1.copy(), s2.copy()]
    K.apply_update(K.RULES[rule], a[0], g, a[1], a[2], hp, t)
    b = [p.copy()] + [s.copy() for s in state]
    dt = np.dtype(kdtype).type
    scalars = {"sgd": [dt(hp[0])], "adagrad": [dt(hp[0])],
               "adam": [dt(K.adam_step_size(hp[0], hp[1], hp[2], t)), dt(hp[1]), dt(hp[2])]}
    getattr(K, f"{rule}_update")(b[0], g, *b[1:], *scalars.get(rule, [dt(hp[0]), dt(hp[1])]))
    assert a[0].tobytes() == b[0].tobytes()
    for got, want in zip(a[1:], b[1:]):
        assert got.tobytes() == want.tobytes()
    assert not np.array_equal(a[0], p)


def test_rule_codes_name_every_per_rule_kernel():
    assert sorted(K.RULES.values()) == list(range(len(K.RULES)))
    for rule in K.RULES:
        assert callable(getattr(K, f"{rule}_update"))
        assert len(_STATE_NAMES[rule]) == K.STATE_COUNT[K.RULES[rule]]


def test_adam_step_size_is_the_books_float64_formula_bit_for_bit():
    for lr, beta1, beta2 in [(0.001, 0.9, 0.999), (0.01, 0.5, 0.99), (1.0, 0.0, 0.9)]:
        for t in range(1, 51):
            book = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
            got = K.adam_step_size(lr, beta1, beta2, t)
            assert got == book and type(got) is float, (lr, beta1, beta2, t, got, book)
