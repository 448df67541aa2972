"""Kernels are found by walking ``fastprop.kernels``, never from a hand-kept list.

For every public compiled function defined in a kernel module: a twin of the same name and
signature in ``fastprop.twins.<module>``, a ``tests/kernels/test_<module>.py`` whose
``CASES`` registers it (the harness compares it with the twin, so that entry is its value
test), and a benchmark input in ``benchmarks/bench_kernels.py``. The other way round: every
``CASES`` key, twin and benchmark input names a kernel that exists, so deleting or renaming a
kernel fails here instead of leaving a skipped or stale test.
"""
import importlib
import inspect
import os
import pkgutil
import sys

import numpy as np
import parity
import pytest
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic

import fastprop.kernels
import fastprop.twins

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _modules(package):
    return [info.name for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
            if not info.name.startswith("_")]


def _defined(module):
    """``{name: object}`` of the public functions *defined* in ``module``: compiled ones
    (Dispatchers, intrinsics) and plain ones; re-exports belong to the defining module."""
    found = {}
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, Dispatcher):
            where = obj.py_func.__module__
        elif isinstance(obj, _Intrinsic):
            where = obj._defn.__module__
        elif inspect.isfunction(obj):
            where = obj.__module__
        else:
            continue
        if where == module.__name__:
            found[name] = obj
    return found


def _signature(kernel):
    """What a caller passes: ``py_func``'s parameters; an intrinsic's without ``typingctx``."""
    if isinstance(kernel, _Intrinsic):
        params = list(inspect.signature(kernel._defn).parameters.values())[1:]
        return inspect.Signature(params)
    return inspect.signature(kernel.py_func)


KERNEL_MODULES = _modules(fastprop.kernels)
KERNELS = {m: _defined(importlib.import_module(f"fastprop.kernels.{m}")) for m in KERNEL_MODULES}


def test_the_walk_finds_the_kernels():
    assert {"activations", "affine", "optim", "rows", "softmax", "fused_two_layer"} <= set(KERNELS)
    assert {"relu_forward", "apply_update"} <= set(KERNELS["activations"]) | set(KERNELS["optim"])
    assert isinstance(KERNELS["blas"]["gemm_acc"], _Intrinsic)


@pytest.mark.parametrize("module", KERNEL_MODULES)
def test_every_kernel_is_compiled_and_has_a_twin_with_its_signature(module):
    twins = importlib.import_module(f"fastprop.twins.{module}")
    problems = []
    for name, kernel in KERNELS[module].items():
        where = f"fastprop.kernels.{module}.{name}"
        if not isinstance(kernel, (Dispatcher, _Intrinsic)):
            problems.append(f"{where} is a plain Python function: kernels are compiled "
                            "(through kernels/_jit.py), Python helpers live in fastprop")
            continue
        twin = vars(twins).get(name)
        if twin is None:
            problems.append(f"{where} has no twin fastprop.twins.{module}.{name}")
        elif not inspect.isfunction(twin):
            problems.append(f"fastprop.twins.{module}.{name} must be a plain NumPy function")
        elif _signature(kernel) != inspect.signature(twin):
            problems.append(f"{where}{_signature(kernel)} != twin{inspect.signature(twin)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", KERNEL_MODULES)
def test_every_kernel_has_a_registered_value_test(module):
    path = os.path.join(HERE, f"test_{module}.py")
    assert os.path.isfile(path), f"fastprop.kernels.{module} has no tests/kernels/test_{module}.py"
    tests = importlib.import_module(f"test_{module}")
    cases = getattr(tests, "CASES", None)
    assert isinstance(cases, dict), f"tests/kernels/test_{module}.py defines no CASES table"
    kernels = set(KERNELS[module])
    missing = sorted(kernels - set(cases))
    stale = sorted(set(cases) - kernels)
    assert not missing, f"kernels of {module} without a CASES entry: {missing}"
    assert not stale, f"CASES entries of test_{module}.py name no kernel of {module}: {stale}"
    for name, case in cases.items():
        assert isinstance(case, parity.Case) and case.dtypes, f"{module}.{name}: no dtypes to run"
    # the table is what the file's parity test runs, for this module
    test = getattr(tests, "test_parity", None)
    assert test is not None and test.cases is cases and test.module == module, \
        f"tests/kernels/test_{module}.py must set test_parity = parity.make_test({module!r}, CASES)"


def test_no_two_kernel_modules_define_the_same_name():
    seen = {}
    for module, kernels in KERNELS.items():
        for name in kernels:
            assert name not in seen, f"{name} defined in both {seen[name]} and {module}"
            seen[name] = module


def test_every_twin_module_mirrors_a_kernel_module():
    for module in _modules(fastprop.twins):
        assert module in KERNELS, f"fastprop.twins.{module} mirrors no kernel module"
        twins = _defined(importlib.import_module(f"fastprop.twins.{module}"))
        extra = sorted(set(twins) - set(KERNELS[module]))
        assert not extra, f"fastprop.twins.{module} has public functions without a kernel: {extra}"


def test_every_kernel_test_file_belongs_to_a_kernel_module():
    for fname in os.listdir(HERE):
        if fname.startswith("test_") and fname.endswith(".py") and fname != "test_discovery.py":
            assert fname[5:-3] in KERNELS, f"tests/kernels/{fname} tests no kernel module"


# --------------------------------------------------------------------------- benchmarks


def _bench():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)  # benchmarks/ is the asv suite at the repository root
    return importlib.import_module("benchmarks.bench_kernels")


def test_the_benchmarks_walk_finds_the_same_kernels():
    compiled = {m: {n for n, k in ks.items() if isinstance(k, (Dispatcher, _Intrinsic))}
                for m, ks in KERNELS.items()}
    assert {m: set(ks) for m, ks in _bench().kernels().items()} == compiled


def test_every_kernel_callable_from_python_has_a_benchmark_input():
    bench = _bench()
    problems = []
    for module, kernels in KERNELS.items():
        for name, kernel in kernels.items():
            exempt = bench.benchmarked_through_callers(module, kernel)
            if not exempt and name not in bench.INPUTS:
                problems.append(f"{module}.{name} has no entry in benchmarks/bench_kernels.py INPUTS")
    every = {name for kernels in KERNELS.values() for name in kernels}
    stale = sorted(set(bench.INPUTS) - every)
    assert not stale, f"benchmark inputs for kernels that do not exist: {stale}"
    assert not problems, "\n".join(problems)


def test_helper_modules_are_benchmarked_through_a_caller():
    """The exemption is true: each helper module is imported by a benchmarked module."""
    bench = _bench()
    for module in bench.THROUGH_CALLERS:
        assert module in KERNELS, f"THROUGH_CALLERS names {module!r}, not a kernel module"
        callers = [m for m in KERNELS if m not in bench.THROUGH_CALLERS and
                   f"from .{module} import" in inspect.getsource(importlib.import_module(f"fastprop.kernels.{m}"))]
        assert callers, f"no benchmarked kernel module calls fastprop.kernels.{module}"


def test_benchmark_classes_cover_every_input():
    bench = _bench()
    for module, kernels in KERNELS.items():
        benched = [n for n in kernels if n in bench.INPUTS]
        if not benched:
            continue
        cls = getattr(bench, bench.class_name(module))
        for name in benched:
            for case in bench.INPUTS[name]:
                assert callable(getattr(cls, bench.method_name(name, case), None)), (module, name, case)


# --------------------------------------------------------------------------- the harness itself


def _draw_one(draw, dt):
    return [np.arange(4.0).astype(dt), np.zeros(4, dt)]


def test_the_harness_catches_a_wrong_value_and_a_modified_input():
    def kernel(x, out):
        out[...] = x
        return out

    def wrong(x, out):
        out[...] = x + 1e-9
        return out

    def mutating(x, out):
        out[...] = x
        x[0] = 99.0
        return out

    case = parity.Case(_draw_one, outputs=("out",), returns="out")
    args = _draw_one(None, np.float64)
    parity.compare(kernel, kernel, case, args, np.float64)
    with pytest.raises(AssertionError):
        parity.compare(kernel, wrong, case, args, np.float64)
    with pytest.raises(AssertionError, match="modified its input x"):
        parity.compare(mutating, kernel, case, args, np.float64)
    with pytest.raises(AssertionError, match="names no argument"):
        parity.compare(kernel, kernel, parity.Case(_draw_one, outputs=("y",)), args, np.float64)


def test_the_suites_seed_fixture_applies_here():
    """tests/conftest.py's autouse fixture seeds np.random before every test here too (the
    pinned grids draw their batch order from it)."""
    import conftest

    want = np.random.RandomState(conftest.SEED).get_state()[1]
    np.testing.assert_array_equal(np.random.get_state()[1], want)
