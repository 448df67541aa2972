"""Every compiled kernel against its NumPy twin in :mod:`fastprop.reference`, in one process.

1. The table: every public function of every module of ``fastprop.kernels`` (found by
   walking the package, so kernels added later are covered) has a twin of the same name
   and the same signature.
2. Values: hypothesis over shapes, float64 to ~1e-12 relative, float32 kernels against the
   float64 twin with an atol scaled to the output, and pinned edge cases.
"""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core.dispatcher import Dispatcher

import fastprop.kernels
from fastprop import reference

# --------------------------------------------------------------------------- the table


def _kernel_modules():
    for info in sorted(pkgutil.iter_modules(fastprop.kernels.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{fastprop.kernels.__name__}.{info.name}")


def _public_functions(module):
    """Public functions *defined* in ``module`` (re-exports such as affine's
    ``column_sum`` belong to the module that defines them)."""
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        func = obj.py_func if isinstance(obj, Dispatcher) else obj
        if inspect.isfunction(func) and func.__module__ == module.__name__:
            yield name, obj, func


KERNELS = [(mod.__name__.rsplit(".", 1)[1], name, obj, func)
           for mod in _kernel_modules() for name, obj, func in _public_functions(mod)]
KERNEL_BY_NAME = {name: obj for _, name, obj, _ in KERNELS}


def test_kernel_table_is_not_empty():
    modules = {m for m, *_ in KERNELS}
    assert {"activations", "affine", "reductions", "softmax"} <= modules
    assert {"relu_forward", "affine_backward", "column_sum", "softmax_cross_entropy"} <= set(KERNEL_BY_NAME)


def test_every_public_kernel_has_a_twin_with_the_same_signature():
    problems = []
    for module, name, obj, func in KERNELS:
        where = f"fastprop.kernels.{module}.{name}"
        if not isinstance(obj, Dispatcher):
            problems.append(f"{where} is a plain Python function, not a compiled kernel")
        twin = getattr(reference, name, None)
        if twin is None:
            problems.append(f"{where} has no twin fastprop.reference.{name}")
            continue
        if isinstance(twin, Dispatcher) or not inspect.isfunction(twin):
            problems.append(f"fastprop.reference.{name} must be a plain NumPy function")
            continue
        ks, ts = inspect.signature(func), inspect.signature(twin)
        if ks != ts:
            problems.append(f"{where}{ks} != fastprop.reference.{name}{ts}")
    assert not problems, "\n".join(problems)


# Kernels whose values this file compares with their twins. kernels/step.py (the fused
# train step) is value-tested by its own author; every other new kernel belongs here.
VALUE_TESTED = {
    "column_sum", "affine_forward", "affine_backward", "relu_forward", "relu_backward",
    "sigmoid_forward", "sigmoid_backward", "softmax", "softmax_cross_entropy",
    "softmax_cross_entropy_onehot", "softmax_cross_entropy_backward",
    "softmax_cross_entropy_onehot_backward", "sgd_update", "momentum_update",
    "nesterov_update", "adagrad_update", "rmsprop_update", "adam_update", "cast_into",
    "book_shuffles", "average_losses",
}


def test_every_kernel_has_a_value_parity_test():
    untested = sorted(f"{m}.{n}" for m, n, *_ in KERNELS if m != "step" and n not in VALUE_TESTED)
    assert not untested, f"kernels without a value parity test in this file: {untested}"


def test_no_two_kernel_modules_define_the_same_name():
    seen = {}
    for module, name, *_ in KERNELS:
        assert name not in seen, f"{name} defined in both {seen[name]} and {module}"
        seen[name] = module


# --------------------------------------------------------------------------- harness


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def run_pair(name, args, outputs, kdtype=np.float64, cast_scalars=False):
    """Run kernel ``name`` and its twin on separate copies of ``args``.

    Float arrays go to the kernel as C-contiguous ``kdtype`` and to the twin as float64
    copies of the same (rounded) values, so float32 is compared against exact math.
    ``cast_scalars`` converts float scalars to ``kdtype`` first (the optimizer contract).
    Arguments not listed in ``outputs`` must come back unchanged, bit for bit.

    Returns ``(kernel_args, kernel_result, twin_args, twin_result)``.
    """
    kdtype = np.dtype(kdtype)
    k_args, t_args = [], []
    for a in args:
        if _is_float_array(a):
            ka = np.ascontiguousarray(a, dtype=kdtype)
            k_args.append(ka.copy())
            t_args.append(ka.astype(np.float64))
        elif isinstance(a, np.ndarray):
            k_args.append(np.ascontiguousarray(a).copy())
            t_args.append(a.copy())
        elif cast_scalars and isinstance(a, float):
            k_args.append(kdtype.type(a))
            t_args.append(float(kdtype.type(a)))
        else:
            k_args.append(a)
            t_args.append(a)
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in k_args]
    k_res = KERNEL_BY_NAME[name](*k_args)
    t_res = getattr(reference, name)(*t_args)
    for i, (a, b) in enumerate(zip(k_args, before)):
        if i not in outputs and isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} modified input argument {i}")
    for i in outputs:
        if isinstance(k_args[i], np.ndarray):
            assert k_args[i].dtype == (kdtype if _is_float_array(args[i]) else args[i].dtype)
    return k_args, k_res, t_args, t_res


def assert_close(actual, expected, kdtype=np.float64, what="", floor=0.0):
    """float64: rtol 1e-12 with an atol of 1e-12 * max|expected|; float32: atol 1e-5 * max|expected|.

    ``floor`` is a lower bound on that scale where the output is a difference of larger
    terms (``y - t`` near 0, a sum with cancellation): rounding scales with the terms.
    """
    if expected is None:
        assert actual is None, what
        return
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, what
    if expected.dtype.kind == "b":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size else 1.0
    scale = max(scale, floor) or 1.0
    if np.dtype(kdtype) == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * scale, err_msg=what)
    else:
        if expected.ndim == 0:
            # a scalar loss sums log(y + 1e-7) terms whose float32 rounding is ~1e-7
            # absolute even when the loss itself is ~1e-7 (every y near 1)
            scale = max(scale, 1.0)
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5 * scale, err_msg=what)


def compare(name, args, outputs, kdtype=np.float64, cast_scalars=False, floor=0.0, abs_floor=False):
    """``abs_floor``: for the (bi)linear kernels (GEMMs, sums) take each output's error
    scale from the twin run on ``|inputs|``, i.e. from the sum of |terms|."""
    k_args, k_res, t_args, t_res = run_pair(name, args, outputs, kdtype, cast_scalars)
    floors = {i: floor for i in outputs}
    if abs_floor:
        abs_args = [np.abs(a) if _is_float_array(a) else a for a in t_args]
        abs_args = [a.copy() if isinstance(a, np.ndarray) else a for a in abs_args]
        getattr(reference, name)(*abs_args)
        floors = {i: float(abs_args[i].max()) if abs_args[i] is not None and abs_args[i].size else 0.0
                  for i in outputs}
    for i in outputs:
        assert_close(k_args[i], t_args[i], kdtype, f"{name} output argument {i} ({np.dtype(kdtype)})",
                     floors[i])
    # kernels return one of their outputs: the same error scale applies to it
    ret_floor = max(floors.values()) if abs_floor and floors else floor
    assert_close(k_res, t_res, kdtype, f"{name} return value ({np.dtype(kdtype)})", ret_floor)
    return k_args, k_res


# --------------------------------------------------------------------------- strategies

DTYPES = [np.float64, np.float32]
FAST = settings(max_examples=40, deadline=None)

batch = st.integers(1, 64)
width = st.integers(1, 40)
classes = st.integers(2, 12)
seeds = st.integers(0, 2**32 - 1)
scales = st.sampled_from([1e-3, 1.0, 1e2])


def _softmax64(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- affine / reductions


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=batch, d=width, m=width, seed=seeds, scale=scales, with_bias=st.booleans())
def test_affine_forward(kdtype, n, d, m, seed, scale, with_bias):
    r = np.random.default_rng(seed)
    x, W = scale * r.standard_normal((n, d)), r.standard_normal((d, m))
    b = r.standard_normal(m) if with_bias else None
    out = np.full((n, m), np.nan)
    k_args, k_res = compare("affine_forward", [x, W, b, out], outputs=[3], kdtype=kdtype, abs_floor=True)
    assert k_res is k_args[3]


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=batch, d=width, m=width, seed=seeds, scale=scales,
       want_db=st.booleans(), want_dx=st.booleans())
def test_affine_backward(kdtype, n, d, m, seed, scale, want_db, want_dx):
    r = np.random.default_rng(seed)
    x, W, dout = r.standard_normal((n, d)), r.standard_normal((d, m)), scale * r.standard_normal((n, m))
    dW = np.full((d, m), np.nan)
    db = np.full(m, np.nan) if want_db else None
    dx = np.full((n, d), np.nan) if want_dx else None
    k_args, k_res = compare("affine_backward", [x, W, dout, dW, db, dx], outputs=[3, 4, 5], kdtype=kdtype,
                            abs_floor=True)
    if want_dx:
        assert k_res is k_args[5]
    else:
        assert k_res is None
    # and the math itself, not only agreement with the twin
    expected_dW = k_args[0].astype(np.float64).T @ k_args[2].astype(np.float64)
    assert_close(k_args[3], expected_dW, kdtype,
                 floor=float((np.abs(k_args[0]).T.astype(np.float64) @ np.abs(k_args[2])).max()))


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=st.integers(0, 64), m=width, seed=seeds, scale=scales)
def test_column_sum(kdtype, n, m, seed, scale):
    x = scale * np.random.default_rng(seed).standard_normal((n, m))
    k_args, k_res = compare("column_sum", [x, np.full(m, np.nan)], outputs=[1], kdtype=kdtype,
                            abs_floor=True)
    assert k_res is k_args[1]


def test_column_sum_of_one_row_is_that_row_and_of_zero_rows_is_zero():
    x = np.array([[1.5, -2.0, 3.25]])
    out = np.full(3, np.nan)
    KERNEL_BY_NAME["column_sum"](x, out)
    assert out.tolist() == [1.5, -2.0, 3.25]
    empty = np.empty((0, 4))
    out = np.full(4, np.nan)
    KERNEL_BY_NAME["column_sum"](empty, out)
    assert out.tolist() == [0.0, 0.0, 0.0, 0.0]
    for dt in DTYPES:
        out = np.full(4, np.nan, dtype=dt)
        KERNEL_BY_NAME["column_sum"](np.empty((0, 4), dtype=dt), out)
        assert out.dtype == dt and not out.any()


def test_affine_forward_without_bias_is_a_plain_matmul():
    x = np.arange(6.0).reshape(2, 3)
    W = np.arange(12.0).reshape(3, 4) - 5
    out = np.empty((2, 4))
    KERNEL_BY_NAME["affine_forward"](x, W, None, out)
    np.testing.assert_array_equal(out, x @ W)
    out_b = np.empty((2, 4))
    b = np.array([1.0, -1.0, 0.5, 100.0])
    KERNEL_BY_NAME["affine_forward"](x, W, b, out_b)
    np.testing.assert_array_equal(out_b, x @ W + b)


def test_affine_backward_none_variants_leave_the_rest_identical():
    r = np.random.default_rng(5)
    x, W, dout = r.standard_normal((7, 4)), r.standard_normal((4, 3)), r.standard_normal((7, 3))
    full = [np.zeros((4, 3)), np.empty(3), np.zeros((7, 4))]
    assert KERNEL_BY_NAME["affine_backward"](x, W, dout, *full) is full[2]
    np.testing.assert_allclose(full[0], x.T @ dout, rtol=1e-12)
    np.testing.assert_allclose(full[1], dout.sum(0), rtol=1e-12)
    np.testing.assert_allclose(full[2], dout @ W.T, rtol=1e-12)
    for db_on, dx_on in [(False, True), (True, False), (False, False)]:
        dW = np.full((4, 3), np.nan)
        db = np.full(3, np.nan) if db_on else None
        dx = np.full((7, 4), np.nan) if dx_on else None
        res = KERNEL_BY_NAME["affine_backward"](x, W, dout, dW, db, dx)
        np.testing.assert_array_equal(dW, full[0])
        if db_on:
            np.testing.assert_array_equal(db, full[1])
        if dx_on:
            assert res is dx
            np.testing.assert_array_equal(dx, full[2])
        else:
            assert res is None


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(size=st.integers(1, 64 * 40), seed=seeds, scale=scales)
def test_relu(kdtype, size, seed, scale):
    r = np.random.default_rng(seed)
    x = scale * r.standard_normal(size)
    x[r.random(size) < 0.1] = 0.0  # exact zeros are the interesting points
    k_args, k_res = compare("relu_forward", [x, np.zeros(size), np.zeros(size, dtype=np.bool_)],
                            outputs=[1, 2], kdtype=kdtype)
    assert k_res is k_args[1]
    mask = k_args[2]
    dout = r.standard_normal(size)
    k_args, k_res = compare("relu_backward", [dout, mask, np.zeros(size)], outputs=[2], kdtype=kdtype)
    assert k_res is k_args[2]


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(size=st.integers(1, 64 * 40), seed=seeds, scale=st.sampled_from([1e-3, 1.0, 30.0]))
def test_sigmoid(kdtype, size, seed, scale):
    r = np.random.default_rng(seed)
    x = scale * r.standard_normal(size)
    k_args, k_res = compare("sigmoid_forward", [x, np.zeros(size)], outputs=[1], kdtype=kdtype)
    assert k_res is k_args[1]
    out = k_args[1]
    dout = r.standard_normal(size)
    compare("sigmoid_backward", [dout, out, np.zeros(size)], outputs=[2], kdtype=kdtype)


@pytest.mark.parametrize("kdtype", DTYPES)
def test_relu_at_exactly_zero_masks_and_has_zero_gradient(kdtype):
    x = np.array([-1.0, 0.0, -0.0, 1e-300 if kdtype == np.float64 else 1e-30, 2.0], dtype=kdtype)
    out, mask = np.empty_like(x), np.zeros(x.shape, dtype=np.bool_)
    KERNEL_BY_NAME["relu_forward"](x, out, mask)
    assert mask.tolist() == [True, True, True, False, False]
    assert out.tolist() == [0.0, 0.0, 0.0, float(x[3]), 2.0]
    assert out.dtype == kdtype
    dx = np.empty_like(x)
    KERNEL_BY_NAME["relu_backward"](np.full_like(x, 3.0), mask, dx)
    assert dx.tolist() == [0.0, 0.0, 0.0, 3.0, 3.0]


@pytest.mark.parametrize("kdtype", DTYPES)
def test_nan_and_inf_pass_through_relu_and_sigmoid_like_numpy(kdtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -3.0, 3.0], dtype=kdtype)
    out, mask = np.empty_like(x), np.zeros(x.shape, dtype=np.bool_)
    KERNEL_BY_NAME["relu_forward"](x, out, mask)
    # the book's Relu: mask = x <= 0 (False for NaN), out[mask] = 0
    book_mask = x <= 0
    book_out = x.copy()
    book_out[book_mask] = 0
    np.testing.assert_array_equal(mask, book_mask)
    np.testing.assert_array_equal(out, book_out)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0

    s = np.empty_like(x)
    with np.errstate(over="ignore"):
        book_s = 1 / (1 + np.exp(-x))
    KERNEL_BY_NAME["sigmoid_forward"](x, s)
    np.testing.assert_array_equal(s, book_s)
    assert np.isnan(s[0]) and s[1] == 1.0 and s[2] == 0.0


@pytest.mark.parametrize("kdtype", DTYPES)
def test_sigmoid_of_plus_minus_1000_saturates_exactly(kdtype):
    x = np.array([-1000.0, 1000.0, -50.0, 50.0], dtype=kdtype)
    s = np.empty_like(x)
    KERNEL_BY_NAME["sigmoid_forward"](x, s)
    assert s[0] == 0.0 and s[1] == 1.0
    assert np.all(np.isfinite(s))
    dx = np.empty_like(x)
    KERNEL_BY_NAME["sigmoid_backward"](np.ones_like(x), s, dx)
    assert dx[0] == 0.0 and dx[1] == 0.0


# --------------------------------------------------------------------------- softmax / loss


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=batch, c=classes, seed=seeds, scale=st.sampled_from([1e-3, 1.0, 1e2, 1e4]))
def test_softmax(kdtype, n, c, seed, scale):
    x = scale * np.random.default_rng(seed).standard_normal((n, c))
    k_args, k_res = compare("softmax", [x, np.zeros((n, c))], outputs=[1], kdtype=kdtype)
    assert k_res is k_args[1]
    np.testing.assert_allclose(k_args[1].sum(axis=1), 1.0, rtol=1e-5 if kdtype == np.float32 else 1e-12)


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=batch, c=classes, seed=seeds, scale=st.sampled_from([1e-3, 1.0, 1e2]),
       with_dx=st.booleans(), dout=st.sampled_from([1.0, 0.5, -2.0]))
def test_softmax_cross_entropy(kdtype, n, c, seed, scale, with_dx, dout):
    r = np.random.default_rng(seed)
    x = scale * r.standard_normal((n, c))
    t = r.integers(0, c, n).astype(np.intp)
    dx = np.zeros((n, c)) if with_dx else None
    grad_scale = abs(dout) / n  # dx = (y - t) * dout / n with y, t in [0, 1]
    k_args, loss = compare("softmax_cross_entropy", [x, t, np.zeros((n, c)), dx, dout],
                           outputs=[2, 3], kdtype=kdtype, floor=grad_scale)
    # the loss is the book's cross_entropy_error(softmax(x), t)
    y64 = _softmax64(k_args[0].astype(np.float64))
    book = -np.sum(np.log(y64[np.arange(n), t] + 1e-7)) / n
    assert_close(loss, book, kdtype)

    onehot = np.eye(c)[t]
    dx1 = np.zeros((n, c)) if with_dx else None
    k1, loss1 = compare("softmax_cross_entropy_onehot", [x, onehot, np.zeros((n, c)), dx1, dout],
                        outputs=[2, 3], kdtype=kdtype, floor=grad_scale)
    # one-hot and labels: the same loss, softmax and gradient (bit for bit in float64;
    # in float32 the label path may round y - 1 once more or less)
    assert loss1 == loss
    np.testing.assert_array_equal(k1[2], k_args[2])
    if with_dx and kdtype == np.float64:
        np.testing.assert_array_equal(k1[3], k_args[3])
    elif with_dx:
        assert_close(k1[3], k_args[3].astype(np.float64), kdtype, floor=grad_scale)


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=batch, c=classes, seed=seeds, dout=st.sampled_from([1.0, 0.5, -2.0]))
def test_softmax_cross_entropy_backward(kdtype, n, c, seed, dout):
    r = np.random.default_rng(seed)
    y = _softmax64(r.standard_normal((n, c)))
    t = r.integers(0, c, n).astype(np.intp)
    g = abs(dout) / n  # dx = (y - t) * dout / n with y, t in [0, 1]
    compare("softmax_cross_entropy_backward", [y, t, dout, np.zeros((n, c))], outputs=[3],
            kdtype=kdtype, floor=g)
    soft = r.random((n, c))
    soft /= soft.sum(axis=1, keepdims=True)  # soft targets: the gradient uses them as given
    compare("softmax_cross_entropy_onehot_backward", [y, soft, dout, np.zeros((n, c))],
            outputs=[3], kdtype=kdtype, floor=g)
    k_args, _ = compare("softmax_cross_entropy_onehot_backward", [y, np.eye(c)[t], dout, np.zeros((n, c))],
                        outputs=[3], kdtype=kdtype, floor=g)
    expected = (k_args[0].astype(np.float64) - np.eye(c)[t]) * dout / n
    assert_close(k_args[3], expected, kdtype, floor=g)


@pytest.mark.parametrize("kdtype", DTYPES)
@FAST
@given(n=batch, c=classes, seed=seeds)
def test_softmax_cross_entropy_soft_targets(kdtype, n, c, seed):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, c))
    soft = r.random((n, c))
    soft /= soft.sum(axis=1, keepdims=True)
    compare("softmax_cross_entropy_onehot", [x, soft, np.zeros((n, c)), np.zeros((n, c)), 1.0],
            outputs=[2, 3], kdtype=kdtype, floor=1.0 / n)


@pytest.mark.parametrize("kdtype", DTYPES)
def test_softmax_of_huge_logits_is_finite_and_sums_to_one(kdtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, 1e4]], dtype=kdtype)
    y = np.empty_like(x)
    KERNEL_BY_NAME["softmax"](x, y)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0], [0, 0, 1]], atol=1e-7)
    # and the fused loss stays finite: -log(0 + 1e-7) for a confidently wrong row
    t = np.array([1, 0, 2, 2], dtype=np.intp)
    dx = np.empty_like(x)
    loss = KERNEL_BY_NAME["softmax_cross_entropy"](x, t, np.empty_like(x), dx, 1.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    expected = -(np.log(1e-7) + np.log(1 / 3 + 1e-7) + np.log(1e-7) + np.log(1 + 1e-7)) / 4
    assert loss == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kdtype", DTYPES)
def test_all_equal_rows_give_uniform_softmax(kdtype):
    for c in (2, 3, 10):
        x = np.full((4, c), 7.5, dtype=kdtype)
        y = np.empty_like(x)
        KERNEL_BY_NAME["softmax"](x, y)
        np.testing.assert_array_equal(y, np.full((4, c), kdtype(1) / kdtype(c)))
        t = np.zeros(4, dtype=np.intp)
        dx = np.empty_like(x)
        loss = KERNEL_BY_NAME["softmax_cross_entropy"](x, t, np.empty_like(x), dx, 1.0)
        assert loss == pytest.approx(-np.log(1 / c + 1e-7), rel=1e-6)
        expected = np.full((4, c), 1 / c) / 4
        expected[:, 0] -= 1 / 4
        np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-7)


def test_one_hot_and_label_targets_pinned_example():
    x = np.array([[0.3, 2.9, 4.0], [0.0, 0.0, 0.0]])
    t = np.array([2, 1], dtype=np.intp)
    onehot = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    y_l, y_o, dx_l, dx_o = (np.empty((2, 3)) for _ in range(4))
    loss_l = KERNEL_BY_NAME["softmax_cross_entropy"](x, t, y_l, dx_l, 1.0)
    loss_o = KERNEL_BY_NAME["softmax_cross_entropy_onehot"](x, onehot, y_o, dx_o, 1.0)
    y = _softmax64(x)
    book = -(np.log(y[0, 2] + 1e-7) + np.log(y[1, 1] + 1e-7)) / 2
    assert loss_l == pytest.approx(book, rel=1e-14)
    assert loss_o == loss_l
    np.testing.assert_allclose(dx_l, (y - onehot) / 2, rtol=1e-13)
    np.testing.assert_array_equal(dx_o, dx_l)
    # the loss without dx is the same number
    assert KERNEL_BY_NAME["softmax_cross_entropy"](x, t, np.zeros((2, 3)), None, 1.0) == loss_l


# --------------------------------------------------------------------------- optimizers

OPTIMIZERS = {
    # name: (state arrays, scalar hyper-parameters)
    "sgd_update": (0, (0.01,)),
    "momentum_update": (1, (0.01, 0.9)),
    "nesterov_update": (1, (0.01, 0.9)),
    "adagrad_update": (1, (0.01,)),
    "rmsprop_update": (1, (0.01, 0.99)),
    "adam_update": (2, None),  # lr_t depends on the step
}


@pytest.mark.parametrize("kdtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 64 * 40), seed=seeds)
def test_optimizer_steps(name, kdtype, size, seed):
    if name not in KERNEL_BY_NAME:
        pytest.skip(f"{name} is not (yet) a kernel")
    n_state, hyper = OPTIMIZERS[name]
    r = np.random.default_rng(seed)
    p = np.ascontiguousarray(r.standard_normal(size), dtype=kdtype)
    state = [np.zeros(size, dtype=kdtype) for _ in range(n_state)]
    p0 = p.copy()
    p_t = p.astype(np.float64)
    state_t = [s.astype(np.float64) for s in state]
    kernel, twin = KERNEL_BY_NAME[name], getattr(reference, name)
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
        assert_close(p, p_t, kdtype, what + " param", floor=seen[0])
        for s, s_t, floor in zip(state, state_t, seen[1:]):
            assert_close(s, s_t, kdtype, what + " state", floor=floor)
    # it did move the parameter (a no-op kernel would match a no-op twin)
    assert np.count_nonzero(p != p0) > size // 2


def test_sgd_update_pinned():
    if "sgd_update" not in KERNEL_BY_NAME:
        pytest.skip("no sgd_update kernel")
    p = np.array([1.0, -2.0, 3.0])
    KERNEL_BY_NAME["sgd_update"](p, np.array([10.0, 10.0, -10.0]), 0.5)
    assert p.tolist() == [-4.0, -7.0, 8.0]


def test_adam_update_pinned_first_step():
    if "adam_update" not in KERNEL_BY_NAME:
        pytest.skip("no adam_update kernel")
    # the first bias-corrected Adam step moves each parameter by about lr * sign(g)
    p = np.zeros(3)
    m, v = np.zeros(3), np.zeros(3)
    g = np.array([0.5, -3.0, 1e-3])
    lr, beta1, beta2 = 0.001, 0.9, 0.999
    lr_t = lr * np.sqrt(1 - beta2) / (1 - beta1)
    KERNEL_BY_NAME["adam_update"](p, g, m, v, lr_t, beta1, beta2)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(v, 0.001 * g * g, rtol=1e-12)
    np.testing.assert_allclose(p, -lr_t * 0.1 * g / (np.sqrt(0.001) * np.abs(g) + 1e-7), rtol=1e-12)
    np.testing.assert_allclose(p[:2], -lr * np.sign(g[:2]), rtol=1e-5)  # |g| >> 1e-7


# --------------------------------------------------------------------------- conversion


@pytest.mark.parametrize("src", [np.float32, np.float64, np.uint8, np.int64])
@pytest.mark.parametrize("dst", [np.float32, np.float64])
def test_cast_into(src, dst):
    from fastprop.kernels.convert import cast_into

    rng = np.random.default_rng(0)
    x = (rng.random(500) * 200).astype(src)
    out_k, out_t = np.zeros(500, dst), np.zeros(500, dst)
    assert cast_into(x, out_k) is True and reference.cast_into(x, out_t) is True
    np.testing.assert_array_equal(out_k, out_t)
    np.testing.assert_array_equal(out_k, x.astype(dst))
    assert cast_into(x, out_k) is False and reference.cast_into(x, out_t) is False  # nothing new
    x2 = x.copy()
    x2[[3, 499]] = 7
    assert cast_into(x2, out_k) is True
    np.testing.assert_array_equal(out_k, x2.astype(dst))


def test_cast_into_rewrites_nan():
    from fastprop.kernels.convert import cast_into

    x = np.array([np.nan, 1.0, np.inf], np.float32)
    out = np.zeros(3)
    cast_into(x, out)
    assert cast_into(x, out) is True  # NaN != NaN: always written, the result is still x
    np.testing.assert_array_equal(out, x.astype(np.float64))


# --------------------------------------------------------------------------- the Trainer's helpers


@pytest.mark.parametrize("n", [1, 2, 3, 17, 300, 70000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_book_shuffles_are_numpys_permutations(n, seed):
    """Bit for bit what ``np.random.permutation`` gives, and the generator left where it
    leaves it (a run that crosses several MT19937 refills)."""
    from fastprop.kernels.shuffle import book_shuffles

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
    reference.book_shuffles(key2, pos2, order, out2)
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(key2, key)
    assert pos2[0] == pos[0]


@pytest.mark.parametrize("eval_interval", [0, 1, 3, 10, 25])
def test_average_losses_equals_the_python_loop(eval_interval):
    """The same sums in the same order: equal bit for bit, state carried between calls."""
    from fastprop.kernels.loss_average import average_losses

    rng = np.random.default_rng(eval_interval)
    max_iters = 10
    losses = rng.random(7 * max_iters) * 3
    k_state, t_state = np.array([1.25, 2.0]), np.array([1.25, 2.0])
    k_avg, t_avg = np.full(70, np.nan), np.full(70, np.nan)
    k_means, t_means = np.empty(7), np.empty(7)
    nk = average_losses(losses, max_iters, eval_interval, k_state, k_avg, k_means)
    nt = reference.average_losses(losses, max_iters, eval_interval, t_state, t_avg, t_means)
    assert nk == nt == (0 if eval_interval == 0 else 7 * len(range(0, max_iters, eval_interval)))
    np.testing.assert_array_equal(k_avg, t_avg)
    np.testing.assert_array_equal(k_means, t_means)
    np.testing.assert_array_equal(k_state, t_state)
    # the book's own loop, written out
    total, count, avgs = 1.25, 2, []
    for e in range(7):
        for it in range(max_iters):
            total += float(losses[e * max_iters + it])
            count += 1
            if eval_interval and it % eval_interval == 0:
                avgs.append(total / count)
                total, count = 0, 0
    assert k_avg[:nk].tolist() == avgs
    assert (k_state[0], k_state[1]) == (total, count)
