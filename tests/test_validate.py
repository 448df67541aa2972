"""fastprop/validate.py: one validator, used by every public entry point.

Three parts: the validator's own rules (TypeError for a type, ValueError for a value, bool
is not a number, 2.7 is not an integer, messages say what was expected and what arrived);
an AST walk of fastprop/ that fails on a hand-rolled type check in front of a ``raise``
outside validate.py (the way ``test_package.py`` walks the kernels for the njit policy);
and the public entry points whose checks moved into the validator, each given a wrong type
and a wrong value.
"""
import ast
import os
import re

import numpy as np
import pytest

from fastprop import validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- the validator


@pytest.mark.parametrize("value, kind, exc, words", [
    (True, int, TypeError, ["n must be an integer", "bool True"]),
    (np.True_, float, TypeError, ["n must be a real number", "bool"]),
    (2.7, int, TypeError, ["n must be an integer", "float 2.7"]),
    (np.float32(2.0), int, TypeError, ["n must be an integer", "float32"]),  # never truncated
    ("2", int, TypeError, ["n must be an integer", "str '2'"]),
    (None, float, TypeError, ["n must be a real number", "NoneType"]),
    (np.ones(2), float, TypeError, ["n must be a real number", "array of dtype float64 and shape (2,)"]),
    (float("nan"), float, ValueError, ["n must be a finite number", "nan"]),
    (0, int, ValueError, ["n must be >= 1", "got 0"]),
    (11, int, ValueError, ["n must be <= 10", "got 11"]),
])
def test_check_scalar_refuses(value, kind, exc, words):
    with pytest.raises(exc) as info:
        validate.check_scalar(value, "n", kind, low=1, high=10)
    for w in words:
        assert w in str(info.value)


@pytest.mark.parametrize("value, kind, expected", [
    (np.int64(3), int, 3), (np.uint8(3), int, 3), (3, float, 3.0), (np.float32(0.5), float, 0.5),
])
def test_check_scalar_takes_numpy_numbers_as_the_book_passes_them(value, kind, expected):
    got = validate.check_scalar(value, "n", kind, low=0)
    assert got == expected and type(got) is kind


def test_check_scalar_expected_phrase_replaces_the_default_wording():
    for bad, exc in ((None, TypeError), (1.0, ValueError), (-0.5, ValueError)):
        with pytest.raises(exc, match=re.escape("momentum must be a real number in [0, 1), got")):
            validate.check_scalar(bad, "momentum", float, low=0, high=1, high_open=True,
                                  expected="a real number in [0, 1)")


def test_check_type_choice_path_seed():
    assert validate.check_type({}, dict, "d", "a dict") == {}
    with pytest.raises(TypeError, match=r"d must be a dict, got list"):
        validate.check_type([], dict, "d", "a dict")
    with pytest.raises(TypeError, match=r"k must be an int, got bool True"):  # bool is not an int
        validate.check_type(True, int, "k", "an int")
    assert validate.choice("relu", {"relu", "sigmoid"}, "activation") == "relu"
    with pytest.raises(TypeError, match=r"activation must be one of \['relu', 'sigmoid'\], got int 3"):
        validate.choice(3, {"relu", "sigmoid"}, "activation")
    with pytest.raises(ValueError, match=r"activation must be one of \['relu', 'sigmoid'\], got 'tanh'"):
        validate.choice("tanh", {"relu", "sigmoid"}, "activation")
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got int 3"):
        validate.path(3)
    assert validate.seed(np.uint32(2**32 - 1)) == 2**32 - 1
    with pytest.raises(ValueError, match=r"seed must be <= 4294967295"):
        validate.seed(2**32)
    with pytest.raises(TypeError, match=r"seed must be an integer, got float 1.5"):
        validate.seed(1.5)
    assert validate.seed(2**40, high=None) == 2**40  # default_rng takes any integer >= 0


def test_float_array():
    x = np.zeros(3, np.float32)
    assert validate.float_array(x, "x") is x  # the caller's own array, never a copy
    for bad in ([0.0], np.zeros(3, int), np.zeros(3, np.float16)):
        with pytest.raises(TypeError, match=r"x must be a float32/float64 NumPy array \(why\), got"):
            validate.float_array(bad, "x", " (why)")


@pytest.mark.parametrize("x, kw, exc, words", [
    (np.array([0.0, 1.0]), {}, TypeError, ["ids must hold word ids", "float64", ".astype(np.int64)"]),
    (np.array([True, False]), {}, TypeError, ["ids must hold word ids", "bool"]),
    (np.array(["1"]), {}, TypeError, ["ids must hold word ids", "<U1"]),
    ([[1, 2], [3]], {}, TypeError, ["ids must hold word ids", "list"]),
    (np.zeros((2, 2), int), dict(ndim=1), ValueError, ["1-D array of word ids", "(2, 2)"]),
    (np.zeros(0, int), {}, ValueError, ["ids is empty", "(0,)"]),
    (np.array([0, 5]), dict(high=5, high_what="vocab_size 5"), ValueError,
     ["ids holds 5", "word ids in [0, 5)", "vocab_size 5"]),
    (np.array([-1, 2]), {}, ValueError, ["ids holds -1", "[0, "]),
    (np.array([2**64 - 1], np.uint64), dict(low=None), ValueError, [str(2**64 - 1)]),
])
def test_indices_refuses(x, kw, exc, words):
    with pytest.raises(exc) as info:
        validate.indices(x, "ids", what="word ids", **kw)
    for w in words:
        assert w in str(info.value)


def test_indices_accepts_lists_and_numpy_integers_as_a_new_intp_array():
    x = np.array([3, 1, 2], np.uint8)
    got = validate.indices(x, "ids", ndim=1, high=4)
    assert got.dtype == np.intp and got.flags.c_contiguous and not np.shares_memory(got, x)
    np.testing.assert_array_equal(got, x)
    np.testing.assert_array_equal(validate.indices([[0, 1]], "ids"), [[0, 1]])
    assert validate.indices(np.zeros(0, int), "ids", allow_empty=True).shape == (0,)
    np.testing.assert_array_equal(validate.indices([-3], "ids", low=None), [-3])


# --------------------------------------------------------------------------- the policy: no hand-rolled checks

#: ``(file, function)`` -> why its hand-made ``isinstance`` check in front of a ``raise``
#: stays. Each entry must still match a check (a stale entry fails the test), and a new
#: hand-rolled check fails it until it goes through validate.py or is listed here with a reason.
ALLOWED = {
    # -- state a layer saved in forward and reads in backward (not an argument): the message
    #    names the attribute and what forward stores there, as the reliability tests ask
    ("fastprop/layers/activations.py", "Relu.backward"): "Relu.mask replaced after forward",
    ("fastprop/layers/dropout.py", "Dropout.backward"): "Dropout.mask replaced after forward",
    ("fastprop/layers/conv.py", "Pooling.backward"): "Pooling.arg_max replaced after forward",
    ("fastprop/layers/embedding.py", "EmbeddingDot.backward"): "EmbeddingDot.cache replaced after forward",
    ("fastprop/layers/recurrent.py", "Recurrent._check_cache"): "the cells' cache replaced after forward",
    ("fastprop/layers/time.py", "TimeSoftmaxWithLoss.backward"): "cache replaced after forward",
    ("fastprop/layers/sampling.py", "UnigramSampler._checked_p"): "word_p replaced after __init__",
    ("fastprop/optimizers.py", "Optimizer._check_state"): "the optimizer's own v/h/m replaced by a user",
    # -- a guard on fastprop's own code, not on a user's argument: a subclass passing its base
    #    a keyword that names no declared hyper-parameter (users call the subclass's signature)
    ("fastprop/optimizers.py", "Optimizer.__init__"): "a subclass's super().__init__ keyword names no _Hyper",
    # -- a dispatch, not a type check: the other branch goes through the validator
    ("fastprop/nets/multi_layer.py", "init_scale"): "a name ('he', 'xavier') or a number (check_scalar)",
    ("fastprop/layers/conv.py", "conv_bias"): "the book's bias is anything NumPy broadcasts "
                                              "(scalar, list, array); only None and text are refused first",
    ("fastprop/optimizers.py", "Optimizer._prepare"): "a number parameter (vol. 1's scalars) is replaced "
                                                      "in its container and takes a number or 0-d gradient",
    # -- what a file holds, not what the caller passed: a bad file is a ValueError naming it
    ("fastprop/nets/base_model.py", "BaseModel.load_params"): "the pickle's contents",
    ("fastprop/nets/convnets.py", "_ConvNet.load_params"): "the pickle's contents",
    ("fastprop/recipes/_runfiles.py", "read_checkpoint"): "the checkpoint's contents",
    ("fastprop/recipes/_runfiles.py", "restore"): "the checkpoint's optimizer",
    ("fastprop/recipes/_runfiles.py", "restore.fit"): "the checkpoint's arrays",
    ("fastprop/sweep/results.py", "_check_header"): "the results file's header line",
    ("fastprop/sweep/space.py", "space_from_json"): "a space stored in a results file",
    ("fastprop/datasets/_formats.py", "from_path"): "os.fspath's result (bytes from a PathLike) after "
                                                    "validate.path checked the argument",
    # -- duck typing with a message no generic check gives
    ("fastprop/trainer/trainer.py", "_check_protocol"): "a class passed for an instance: 'call it'",
    ("fastprop/trainer/grads.py", "clip_grads"): "any iterable of arrays (the book passes a list)",
    ("fastprop/util_vol2.py", "_word_id"): "word_to_id and id_to_word disagree: their contents, not a type",
}


def _is_hand_check(test) -> bool:
    """An ``isinstance(...)`` or ``type(...)`` call anywhere in an ``if`` test."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("isinstance", "type")
               for n in ast.walk(test))


def _raises_type_or_value_error(stmt) -> bool:
    return (isinstance(stmt, ast.Raise) and isinstance(stmt.exc, ast.Call)
            and isinstance(stmt.exc.func, ast.Name) and stmt.exc.func.id in ("TypeError", "ValueError"))


class _HandChecks(ast.NodeVisitor):
    """``(qualified function name, line, source of the test)`` of every ``if`` whose test makes
    its own isinstance/type check and whose body raises TypeError/ValueError right away."""

    def __init__(self):
        self.where, self.found = [], []

    def _scope(self, node):
        self.where.append(node.name)
        self.generic_visit(node)
        self.where.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_If(self, node):
        if _is_hand_check(node.test) and any(_raises_type_or_value_error(s) for s in node.body):
            self.found.append((".".join(self.where), node.lineno, ast.unparse(node.test)))
        self.generic_visit(node)


def hand_rolled_checks(root=ROOT):
    """``{(file, function): [(line, test), ...]}`` over fastprop/, validate.py excepted."""
    out = {}
    for dirpath, _, files in os.walk(os.path.join(root, "fastprop")):
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if not f.endswith(".py") or rel == "fastprop/validate.py":
                continue
            visitor = _HandChecks()
            with open(path) as fh:
                visitor.visit(ast.parse(fh.read(), path))
            for func, line, test in visitor.found:
                out.setdefault((rel, func), []).append((line, test))
    return out


def test_no_hand_rolled_check_bypasses_the_validator():
    found = hand_rolled_checks()
    new = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not new, "type checks made by hand instead of through fastprop/validate.py " \
        "(use validate.check_scalar/check_type/choice/path/indices/float_array, or add the " \
        "function to ALLOWED with the reason):\n" + "\n".join(
            f"  {path}:{line} in {func}: if {test}" for (path, func), hits in sorted(new.items())
            for line, test in hits)
    stale = sorted(k for k in ALLOWED if k not in found)
    assert not stale, f"ALLOWED entries that no longer match a check (remove them): {stale}"


def test_the_walk_finds_a_hand_rolled_check(tmp_path):
    """The walk is not blind: a check of the kind it forbids, written into a copy of a
    module, is found (and one through the validator is not)."""
    pkg = tmp_path / "fastprop"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "import numbers\n"
        "def f(n):\n"
        "    if isinstance(n, bool) or not isinstance(n, numbers.Integral):\n"
        "        raise ValueError(f'n must be an integer, got {n!r}')\n"
        "def g(n):\n"
        "    return validate.check_scalar(n, 'n', int)\n"
        "class C:\n"
        "    def h(self, p):\n"
        "        if type(p) is not int:\n"
        "            raise TypeError('p')\n")
    found = hand_rolled_checks(tmp_path)
    assert set(found) == {("fastprop/m.py", "f"), ("fastprop/m.py", "C.h")}
    assert found[("fastprop/m.py", "f")][0][0] == 3


# --------------------------------------------------------------------------- the public entry points


def _fake_objective(params, seed, data):
    return {"val_acc": 0.5}


def _calls():
    """``(id, call, exception, words)``: each moved check, given a wrong type or a wrong value."""
    from fastprop import TwoLayerNet, gradient, optimizers, runs, safe_pickle, threads, util
    from fastprop.bench import models as bench_models
    from fastprop.datasets import _sources, ptb, sequence
    from fastprop.layers import NegativeSamplingLoss
    from fastprop.nets import MultiLayerNet, SimpleConvNet
    from fastprop.sweep import DataSpec, random_search
    from fastprop.sweep.space import check_space

    x = np.zeros((2, 3))
    corpus = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    return [
        ("threads-np-float", lambda: threads.set_threads(np.float32(2.7)), TypeError,
         ["'auto' or a positive integer", "float32"]),
        ("threads-text", lambda: threads.set_threads("2.7"), ValueError, ["'auto' or a positive integer", "2.7"]),
        ("threads-zero", lambda: threads.set_threads(0), ValueError, ["'auto' or a positive integer", "got 0"]),
        ("sgd-lr-text", lambda: optimizers.SGD(lr="0.1"), TypeError, ["lr", "str '0.1'"]),
        ("momentum-1", lambda: optimizers.Momentum(momentum=1), ValueError, ["[0, 1)", "got 1"]),
        ("init-bool", lambda: MultiLayerNet(4, [3], 2, weight_init_std=True), TypeError,
         ["weight_init_std", "'relu'/'he'", "bool"]),
        ("init-name", lambda: MultiLayerNet(4, [3], 2, weight_init_std="lecun"), ValueError,
         ["weight_init_std", "'lecun'"]),
        ("hidden-text", lambda: MultiLayerNet(4, "100", 2), TypeError, ["hidden_size_list", "str"]),
        ("activation-int", lambda: MultiLayerNet(4, [3], 2, activation=1), TypeError, ["activation", "int 1"]),
        ("h-zero", lambda: gradient.numerical_gradient(np.sum, np.ones(2), h=0), ValueError, ["h must be", "0"]),
        ("h-text", lambda: gradient.numerical_gradient(np.sum, np.ones(2), h="1e-4"), TypeError, ["h must be", "str"]),
        ("grad-int-x", lambda: gradient.numerical_gradient(np.sum, np.ones(2, int)), TypeError,
         ["float32/float64 NumPy array", "int64"]),
        ("pickle-max-0", lambda: safe_pickle.load(b"", source="x", max_bytes=0), ValueError,
         ["max_bytes must be a positive int", "got 0"]),
        ("pickle-max-float", lambda: safe_pickle.load(b"", source="x", max_bytes=2.5), TypeError,
         ["max_bytes must be a positive int", "float 2.5"]),
        ("pickle-source", lambda: safe_pickle.load(b"", source=3, max_bytes=10), TypeError,
         ["source must be a str", "int 3"]),
        ("timeout-text", lambda: _sources.from_pip(timeout="5"), TypeError, ["timeout", "str '5'"]),
        ("ptb-split-int", lambda: ptb.load_data(3), TypeError, ["data_type", "'train'", "int 3"]),
        ("ptb-split-name", lambda: ptb.load_data("dev"), ValueError, ["data_type", "'dev'"]),
        ("ptb-download", lambda: ptb.load_data("train", download=1), TypeError, ["download", "True or False"]),
        ("seq-name-empty", lambda: sequence.load_data(""), ValueError, ["file_name", "non-empty", "''"]),
        ("seq-name-int", lambda: sequence.load_data(3), TypeError, ["file_name", "int 3"]),
        ("seq-generate", lambda: sequence.generate("other.txt"), ValueError, ["file_name", "'other.txt'"]),
        ("seq-import-path", lambda: sequence.import_sequence(3), TypeError, ["path", "os.PathLike", "int 3"]),
        ("conv-input-dim-len", lambda: SimpleConvNet(input_dim=(1, 28)), ValueError, ["input_dim", "(1, 28)"]),
        ("conv-input-dim-type", lambda: SimpleConvNet(input_dim="1x28x28"), TypeError, ["input_dim", "str"]),
        ("conv-param-type", lambda: SimpleConvNet(conv_param=[30, 5, 0, 1]), TypeError,
         ["conv_param", "a dict", "list"]),
        ("col2im-shape-len", lambda: util.col2im(np.ones((1, 1)), (1, 1, 1), 1, 1), ValueError,
         ["input_shape", "(1, 1, 1)"]),
        ("shuffle-list", lambda: util.shuffle_dataset([1, 2], np.ones(2)), TypeError,
         ["x must be a NumPy array", "list"]),
        ("draws", lambda: NegativeSamplingLoss(np.ones((4, 2)), corpus, draws=1), TypeError, ["draws", "int 1"]),
        ("dataspec-size", lambda: DataSpec("synthetic", train_size=2.5), TypeError, ["train_size", "float 2.5"]),
        ("dataspec-rate-type", lambda: DataSpec("synthetic", validation_rate="0.2"), TypeError,
         ["validation_rate", "(0, 1)", "str"]),
        ("dataspec-rate-value", lambda: DataSpec("synthetic", validation_rate=1.5), ValueError,
         ["validation_rate", "(0, 1)", "1.5"]),
        ("dataspec-dataset", lambda: DataSpec(3), TypeError, ["dataset", "int 3"]),
        ("sweep-workers", lambda: random_search(objective=_fake_objective, n_workers=1.5), TypeError,
         ["n_workers must be an integer", "float 1.5"]),
        ("sweep-data", lambda: random_search(objective=_fake_objective, data={}), TypeError,
         ["data must be a DataSpec"]),
        ("space-name", lambda: check_space({1: None}), TypeError, ["parameter name", "int 1"]),
        ("space-type", lambda: check_space([("lr", None)]), TypeError, ["space must be a mapping", "list"]),
        ("bench-im2col", lambda: bench_models.check_options({"im2col_shape": "1,2,3,4"}), TypeError,
         ["im2col_shape", "str"]),
        ("shuffle-rows", lambda: util.shuffle_dataset(x, np.ones(3)), ValueError, ["same number of rows"]),
        ("twolayer-activation-type", lambda: TwoLayerNet(4, 3, 2, activation=None), TypeError,
         ["activation must be one of ['relu', 'sigmoid']", "NoneType"]),
        ("runs-optimizer-type", lambda: runs.make_optimizer(1, 0.1), TypeError, ["optimizer", "sgd", "int 1"]),
        ("runs-optimizer-name", lambda: runs.make_optimizer("lbfgs", 0.1), ValueError, ["optimizer", "'lbfgs'"]),
        ("runs-dataset-type", lambda: runs.load_dataset(["mnist"]), TypeError, ["mnist or fashion-mnist", "list"]),
    ]


CALLS = _calls()


@pytest.mark.parametrize("call, exc, words", [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_public_entry_points_refuse_wrong_types_and_values(call, exc, words):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert type(info.value) is exc, f"{type(info.value).__name__}: {info.value}"
    for w in words:
        assert w in str(info.value), f"{w!r} not in {str(info.value)!r}"


def test_dropin_volume():
    from fastprop import dropin

    for bad, exc in ((True, TypeError), ("1", TypeError), (1.0, TypeError), (3, ValueError), (0, ValueError)):
        with pytest.raises(exc, match=r"volume must be 1 or 2"):
            dropin.install(bad)
    dropin.uninstall(dropin.install(np.int64(2)))  # a NumPy integer is an integer


def test_the_books_numbers_are_still_accepted():
    """What the book passes (NumPy scalars, a float learning rate given as an int) keeps working."""
    from fastprop import optimizers, threads
    from fastprop.nets import MultiLayerNet
    from fastprop.sweep import DataSpec

    assert optimizers.SGD(lr=np.float32(0.5)).lr == 0.5
    assert optimizers.Momentum(lr=1, momentum=np.float64(0.5)).momentum == 0.5
    MultiLayerNet(4, [np.int64(3)], 2, weight_init_std=np.float64(0.01))
    MultiLayerNet(4, (3,), 2, weight_init_std="He")
    assert DataSpec("synthetic", train_size=np.int64(100), validation_rate=np.float32(0.25)).train_size == 100
    try:
        threads.set_threads(np.int64(1))
        assert threads.get_threads() == 1
        threads.set_threads(" 2 ")  # as FASTPROP_THREADS would give it
        assert threads.get_threads() == 2
    finally:
        threads.set_threads("auto")


@pytest.mark.parametrize("call", [
    lambda s: __import__("fastprop.datasets.spiral", fromlist=["x"]).load_data(s),
    lambda s: __import__("fastprop.sweep.space", fromlist=["x"]).check_seed(s),
], ids=["spiral", "sweep"])
def test_seeds_for_the_global_rng(call):
    """Seeds of ``np.random.seed`` go through validate.seed: [0, 2**32), an integer."""
    state = np.random.get_state()
    try:
        for bad, exc in ((1.5, TypeError), (True, TypeError), ("7", TypeError), (-1, ValueError),
                         (2**32, ValueError)):
            with pytest.raises(exc, match="seed"):
                call(bad)
        call(np.uint32(7))  # a NumPy integer is a seed
    finally:
        np.random.set_state(state)
