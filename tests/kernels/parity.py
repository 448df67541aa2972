"""The kernel-vs-twin harness shared by ``tests/kernels/test_<module>.py``.

Each test file registers its kernels in ``CASES = {kernel_name: Case(...)}`` and turns the
table into one parametrised hypothesis test with ``test_parity = make_test(module, CASES)``.
For every registered case the harness draws arguments, runs the compiled kernel
(``fastprop.kernels.<module>.<name>``) and its NumPy twin (``fastprop.twins.<module>.<name>``)
on separate copies in this process, checks that every argument that is neither an output
nor scratch comes back unchanged bit for bit, and compares the outputs and return values.
A registered case is therefore a value test; ``test_discovery.py`` makes sure every kernel
has one.

Tolerances (the rules of the old ``tests/test_parity.py``): float64 to ``rtol=1e-12`` with
an ``atol`` of ``1e-12`` times the output's scale; a float32 kernel against the float64
twin run on the same (rounded) inputs, to an ``atol`` of ``1e-5`` times the output's scale
(and never below float32's smallest normal number).
The scale of an output is its largest finite expected magnitude, raised by a case's
``floor`` where the output is a difference of larger terms (rounding scales with the
terms, not with the result).
"""
from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DTYPES = (np.float64, np.float32)

# strategies the cases share (the sizes and scales of the old tests)
batch = st.integers(1, 64)
width = st.integers(1, 40)
classes = st.integers(2, 12)
seeds = st.integers(0, 2**32 - 1)
scales = st.sampled_from([1e-3, 1.0, 1e2])


def rng(draw):
    """A NumPy Generator seeded from a hypothesis draw (arrays come from NumPy, shrinking
    and replay come from the drawn seed)."""
    return np.random.default_rng(draw(seeds))


class Run(NamedTuple):
    """One side of a comparison: the arguments after the call, by name, and the result."""

    args: dict
    result: Any


@dataclass(frozen=True)
class Case:
    """How to call one kernel and what to compare.

    Parameters
    ----------
    args : callable ``(draw, dtype) -> list``
        The kernel's positional arguments, built from the hypothesis ``draw`` for the
        kernel dtype ``dtype`` (a scalar type such as ``np.float32``). Float arrays of
        ``dtype`` go to the twin as float64 copies of the same values (float32 is compared
        against float64 math on identical inputs); every other array, scalar and tuple goes as it is (copied).
    outputs : tuple of str
        The arguments the kernel writes, compared with the twin's: a parameter name, or a
        path into a tuple argument such as ``"optimizer[2]"`` (tuples are compared element
        by element).
    scratch : tuple of str
        Arguments the kernel may write but that are not results: neither compared nor
        checked for being unchanged.
    returns : str or None
        The argument the kernel returns (asserted to be that very object); the return
        value is compared with the twin's either way.
    dtypes : tuple of dtypes
        The kernel dtypes to run (``dtype`` passed to ``args``).
    floor : float or callable ``(args_by_name) -> float``
        Lower bound on every output's error scale (see the module docstring).
    linear : bool
        For (bi)linear kernels (GEMMs, sums): each output's error scale is taken from the
        twin run on ``|inputs|``, i.e. from the sum of ``|terms|``.
    inplace : bool
        Outputs are updated in place (optimizer steps): their values before the call count
        towards their error scale.
    exact : bool
        Compare bit for bit (integer arithmetic, copies, or sums done in the same order).
    rtol : float
        The float64 relative tolerance.
    check : callable ``(kernel_run, twin_run, dtype) -> None``, optional
        Extra assertions on the two :class:`Run` results (pinned math, invariants).
    kernel, twin : callable, optional
        Call these instead of the kernel or twin themselves: a small ``@njit`` wrapper for a
        kernel that is callable only from compiled code (an intrinsic) or is scalar (then
        ``twin`` maps the twin the same way). Output names refer to the twin's signature.
    examples : int
        Hypothesis examples per dtype.
    """

    args: Callable
    outputs: tuple = ()
    scratch: tuple = ()
    returns: str | None = None
    dtypes: tuple = DTYPES
    floor: float | Callable = 0.0
    linear: bool = False
    inplace: bool = False
    exact: bool = False
    rtol: float = 1e-12
    check: Callable | None = None
    kernel: Callable | None = None
    twin: Callable | None = None
    examples: int = 40


# --------------------------------------------------------------------------- comparing


def assert_close(actual, expected, kdtype=np.float64, what="", floor=0.0, rtol=1e-12):
    """float64: ``rtol`` (1e-12) with an atol of 1e-12 * scale; float32: atol 1e-5 * scale.

    ``scale`` is ``max|expected|`` over finite entries, at least ``floor``. Booleans and
    integers are compared exactly; NaN and inf must sit where the twin has them.
    """
    if expected is None:
        assert actual is None, f"{what}: expected None, got {type(actual).__name__}"
        return
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size else 1.0
    scale = max(scale, floor) or 1.0
    if np.dtype(kdtype) == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-12 * scale, err_msg=what)
    else:
        if expected.ndim == 0:
            # a scalar loss sums log(y + 1e-7) terms whose float32 rounding is ~1e-7
            # absolute even when the loss itself is ~1e-7 (every y near 1)
            scale = max(scale, 1.0)
        # at least float32's smallest normal: an output whose float64 twin is ~1e-59 is 0 in
        # float32 (the scaled atol would demand agreement far below what float32 can hold)
        atol = max(1e-5 * scale, float(np.finfo(np.float32).tiny))
        np.testing.assert_allclose(actual, expected, rtol=0, atol=atol, err_msg=what)


def _leaves(value, path=()):
    """``(path, leaf)`` for every non-tuple value inside nested tuples."""
    if isinstance(value, tuple):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value


def _copy(value, twin_dtype=None):
    """A deep copy of nested tuples of arrays; arrays of ``twin_dtype`` become float64.

    ``order="K"`` keeps a transposed (F-contiguous) argument transposed: its layout is part
    of what a GEMM kernel is tested on.
    """
    if isinstance(value, tuple):
        return tuple(_copy(v, twin_dtype) for v in value)
    if isinstance(value, np.ndarray):
        if twin_dtype is not None and value.dtype == twin_dtype:
            return value.astype(np.float64, order="K")
        return value.copy(order="K")
    return value


def _abs(value):
    if isinstance(value, tuple):
        return tuple(_abs(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.abs(value)
    return value


def _get(args, path):
    value = args[path[0]]
    for i in path[1:]:
        value = value[i]
    return value


def _parse(spec, names):
    """``"optimizer[2]"`` -> ``(index of optimizer, 2)``."""
    m = re.fullmatch(r"(\w+)((?:\[\d+\])*)", spec)
    if m is None or m.group(1) not in names:
        raise AssertionError(f"{spec!r} names no argument of {names}")
    return (names.index(m.group(1)),) + tuple(int(i) for i in re.findall(r"\d+", m.group(2)))


def _label(names, path):
    return names[path[0]] + "".join(f"[{i}]" for i in path[1:])


def _under(path, prefixes):
    return any(path[:len(p)] == p for p in prefixes)


def _max_abs(value):
    finite = [np.abs(a[np.isfinite(a)]).max() for _, a in _leaves(value)
              if isinstance(a, np.ndarray) and a.dtype.kind == "f" and np.isfinite(a).any()]
    return float(max(finite)) if finite else 0.0


def compare(kernel, twin, case, args, dtype, what="kernel"):
    """Run ``kernel`` and ``twin`` on separate copies of ``args`` and compare them.

    Parameters
    ----------
    kernel, twin : callables with the same positional signature
    case : Case, what to compare and how
    args : list, the arguments as :attr:`Case.args` builds them for ``dtype``
    dtype : the kernel dtype (float32 kernels are compared with the float64 twin)
    what : str, the name used in failure messages

    Returns
    -------
    (kernel_run, twin_run) : two :class:`Run`
    """
    dtype = np.dtype(dtype)
    names = list(inspect.signature(twin).parameters)
    assert len(args) == len(names), f"{what}: {len(args)} arguments for {names}"
    outputs = [_parse(s, names) for s in case.outputs]
    scratch = [_parse(s, names) for s in case.scratch]
    k_args = [_copy(a) for a in args]
    t_args = [_copy(a, dtype) for a in args]
    k_before = [_copy(a) for a in k_args]
    t_before = [_copy(a) for a in t_args]
    k_res = kernel(*k_args)
    t_res = twin(*t_args)

    # what is neither output nor scratch is an input: unchanged, bit for bit (NaN and -0.0
    # included), for the kernel and for the twin
    for side, after, before in (("kernel", k_args, k_before), ("twin", t_args, t_before)):
        for i in range(len(names)):
            for sub, a in _leaves(after[i]):
                path = (i,) + sub
                if isinstance(a, np.ndarray) and not _under(path, outputs + scratch):
                    b = _get(before, path)
                    assert a.tobytes() == b.tobytes(), \
                        f"{what}: the {side} modified its input {_label(names, path)}"

    args_by_name = dict(zip(names, args))
    base = case.floor(args_by_name) if callable(case.floor) else case.floor
    floors = {}
    if case.linear:
        abs_args = [_abs(_copy(a, dtype)) for a in args]
        twin(*abs_args)
    for out in outputs:
        for sub, expected in _leaves(_get(t_args, out)):
            path = out + sub
            f = base
            if case.linear:
                f = max(f, _max_abs(_get(abs_args, path)))
            if case.inplace:
                f = max(f, _max_abs(_get(t_before, path)))
            floors[path] = f
            actual = _get(k_args, path)
            label = f"{what} output {_label(names, path)} ({dtype})"
            if isinstance(actual, np.ndarray):
                assert actual.dtype == _get(k_before, path).dtype, label
            if case.exact:
                np.testing.assert_array_equal(actual, expected, err_msg=label)
            else:
                assert_close(actual, expected, dtype, label, f, case.rtol)

    if case.returns is not None:
        assert k_res is k_args[names.index(case.returns)], f"{what} must return {case.returns}"
    label = f"{what} return value ({dtype})"
    if case.exact:
        assert (k_res is None) == (t_res is None), label
        np.testing.assert_array_equal(k_res, t_res, err_msg=label)
    else:
        # a kernel that returns one of its outputs: that output's error scale applies
        ret_floor = max(floors.values()) if floors and (case.linear or case.inplace) else base
        if isinstance(k_res, (bool, np.bool_)) or isinstance(t_res, (bool, np.bool_)):
            assert k_res == t_res and type(k_res) is type(t_res), label
        else:
            assert_close(k_res, t_res, dtype, label, ret_floor, case.rtol)

    k_run = Run(dict(zip(names, k_args)), k_res)
    t_run = Run(dict(zip(names, t_args)), t_res)
    if case.check is not None:
        case.check(k_run, t_run, dtype)
    return k_run, t_run


# --------------------------------------------------------------------------- the test


def pair(module, name):
    """``(kernel, twin)`` of ``fastprop.kernels.<module>.<name>``; fails (never skips)
    when either is missing."""
    kmod = importlib.import_module(f"fastprop.kernels.{module}")
    tmod = importlib.import_module(f"fastprop.twins.{module}")
    kernel = vars(kmod).get(name)
    twin = vars(tmod).get(name)
    if kernel is None:
        pytest.fail(f"tests/kernels/test_{module}.py registers {name!r}, but "
                    f"fastprop.kernels.{module} has no such kernel (deleted or renamed?)")
    if twin is None:
        pytest.fail(f"fastprop.kernels.{module}.{name} has no twin fastprop.twins.{module}.{name}")
    return kernel, twin


def runner(module, cases):
    """``run(name, args, dtype) -> (kernel_run, twin_run)``: one comparison of a registered
    case on given arguments (for pinned grids written out in a test file)."""
    def run(name, args, dtype=np.float64):
        case = cases[name]
        kernel, twin = pair(module, name)
        return compare(case.kernel or kernel, case.twin or twin, case, args, dtype,
                       f"{module}.{name}")
    return run


def make_test(module, cases):
    """The parametrised hypothesis test of every case in ``cases`` (one per dtype).

    Parameters
    ----------
    module : str, the kernel module's name (``"softmax"`` for ``fastprop.kernels.softmax``)
    cases : dict, kernel name -> :class:`Case`

    Returns
    -------
    A pytest test function; assign it to a ``test_*`` name in the test file.
    """
    # the scalar type (np.float32), which both casts (dt(0.1)) and converts (astype(dt))
    params = [pytest.param(name, np.dtype(dt).type, id=f"{name}-{np.dtype(dt).name}")
              for name, case in cases.items() for dt in case.dtypes]
    run = runner(module, cases)

    @pytest.mark.parametrize("name, dtype", params)
    def test_parity(name, dtype):
        case = cases[name]

        @settings(max_examples=case.examples, deadline=None)
        @given(st.data())
        def check(data):
            run(name, list(case.args(data.draw, dtype)), dtype)

        check()

    test_parity.module = module  # test_discovery checks that each file binds its own module
    test_parity.cases = cases
    return test_parity
