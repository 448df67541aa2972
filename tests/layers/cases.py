"""The layer-case registry: one entry per layer, and every contract test applies to it.

Each family keeps its entries in ``tests/layers/cases_<family>.py`` as a list ``CASES`` of
:class:`LayerCase`; this module collects every such file (discovered, not listed). Add a
layer there (a factory, example inputs, what its backward takes) and
``test_layer_contract.py`` runs on it: shapes and dtypes, float32 against float64, the
numerical gradient check of every input and parameter, no mutation of inputs, attribute
conventions, and clear errors for bad input; ``test_layer_reliability.py`` runs the
state-changed-after-validation cases in a subprocess.

Each case builds everything from a seeded ``numpy.random.Generator`` and a dtype, so a case
is reproducible and the same in the parent and in a subprocess.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class LayerCase:
    """How to build and drive one layer.

    Attributes
    ----------
    name : str, the test id
    make : ``make(rng, dtype) -> layer``
    inputs : ``inputs(rng, dtype) -> tuple`` of forward arguments
    grad_inputs : positions of the forward arguments that get a gradient from backward
        (labels do not); ``()`` for a layer whose input is word ids and whose backward
        returns None (the book's Embedding)
    loss : True when forward returns a scalar loss and backward takes ``dout=1``
    attributes : names the book's code reads after forward (beyond ``params``/``grads``)
    saved : attributes forward stores and backward reads (the reliability tests replace them)
    dtypes : the dtypes the layer computes in
    grad_atol : absolute tolerance of the numerical gradient check (float64)
    forward : optional ``forward(layer, args) -> out`` used instead of ``layer.forward(*args)``
        (keyword arguments such as ``train_flg``, or re-seeding the global RNG before each
        call so a Dropout mask is the same in every forward of the gradient check)
    tied : ``params`` holds the same array several times, each entry with its own partial
        gradient (the book's NegativeSamplingLoss), or its transpose (BetterRnnlm's output
        weight ``embed_W.T``); the gradient check compares the sum of the gradients of each
        distinct array (a transpose's transposed back) with the numerical gradient of that array
    n_outputs : how many arrays forward returns (the LSTM cell: ``(h_next, c_next)``);
        above 1, forward returns a tuple, backward takes one ``dout`` per output and
        returns a tuple of gradients, one per entry of ``grad_inputs``
    """

    name: str
    make: Callable
    inputs: Callable
    grad_inputs: tuple = (0,)
    loss: bool = False
    attributes: tuple = ()
    saved: tuple = ()
    dtypes: tuple = (np.float64, np.float32)
    grad_atol: float = 1e-8
    forward: Callable | None = None
    tied: bool = False
    n_outputs: int = 1


def _collect():
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    for name in sorted(os.listdir(here)):
        if name.startswith("cases_") and name.endswith(".py"):
            found += importlib.import_module(name[:-3]).CASES
    return found


CASES = _collect()
BY_NAME = {c.name: c for c in CASES}


def build(case: LayerCase, dtype=np.float64, seed: int = 0):
    """``(layer, forward args)`` of ``case``, freshly built from ``seed``."""
    rng = np.random.default_rng(seed)
    layer = case.make(rng, dtype)
    return layer, case.inputs(rng, dtype)


def forward(case: LayerCase, layer, args):
    """Run the layer's forward as the case says."""
    if case.forward is not None:
        return case.forward(layer, args)
    return layer.forward(*args)


def outputs(out) -> tuple:
    """Forward's result as a tuple of outputs (a cell's ``(h, c)``, or one array)."""
    return out if isinstance(out, tuple) else (out,)


def upstream(case: LayerCase, out, seed: int = 1):
    """The ``dout`` backward gets: 1 for a loss, else random of the output's shape and dtype
    (a tuple of them, one per output, when forward returns a tuple)."""
    if case.loss:
        return 1.0
    rng = np.random.default_rng(seed)
    douts = tuple(rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype) for o in outputs(out))
    return douts if isinstance(out, tuple) else douts[0]


def backward(layer, dout) -> tuple:
    """``layer.backward`` given ``dout`` (spread when there is one per output); the input
    gradients it returns as a tuple, one per ``grad_inputs`` entry (empty for None)."""
    dx = layer.backward(*dout) if isinstance(dout, tuple) else layer.backward(dout)
    if dx is None:
        return ()
    return dx if isinstance(dx, tuple) else (dx,)
