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
        (labels do not); ``()`` for a layer whose only input is integer ids (TimeEmbedding):
        its backward returns None, as the book's
    loss : True when forward returns a scalar loss and backward takes ``dout=1``
    attributes : names the book's code reads after forward (beyond ``params``/``grads``)
    saved : attributes forward stores and backward reads (the reliability tests replace them)
    dtypes : the dtypes the layer computes in
    grad_atol : absolute tolerance of the numerical gradient check (float64)
    forward : optional ``forward(layer, args) -> out`` used instead of ``layer.forward(*args)``
        (keyword arguments such as ``train_flg``, or re-seeding the global RNG before each
        call so a Dropout mask is the same in every forward of the gradient check)
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


def upstream(case: LayerCase, out, seed: int = 1):
    """The ``dout`` backward gets: 1 for a loss, else random of the output's shape and dtype."""
    if case.loss:
        return 1.0
    return np.random.default_rng(seed).standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
