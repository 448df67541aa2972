"""The book's training scripts as recipes for ``fastprop train --model NAME``.

``--model twolayer`` (the default) is ch05's TwoLayerNet loop and vol. 2 ch. 1's spiral run,
kept in :mod:`fastprop.cli` and :mod:`fastprop.runs`. Every other model is a module here that
defines:

* ``MODELS``: the ``--model`` names it serves (a module may serve several, e.g. convnet and
  deepnet), each mapped to a one-line description for ``--help``;
* ``OPTIONS``: ``{name: {"flag": ..., argparse keywords}}`` of options only it reads
  (``--time-size``, ``--window``, ...); an option several recipes read is declared by each
  with the same keywords, and the parser adds it once;
* ``APPLIES``: ``{model: set of option dests}`` the model reads, shared ones
  (``epochs, batch, lr, optimizer, dtype, seed, plot, progress, dataset, hidden``) included;
  an option given on the command line that the model does not read is refused before any work;
* ``run(model, args) -> int``: checks the settings (ValueError/TypeError, one line), then
  trains with progress and prints the result; returns the exit status.

A recipe module's top level imports nothing heavy (no Numba, no data): the parser imports
every recipe to build ``--help``, and ``fastprop`` starts on every command.
"""
import importlib

#: recipe modules, in the order ``--help`` lists them
MODULES = ("fastprop.recipes.multilayer", "fastprop.recipes.convnet",
           "fastprop.recipes.rnnlm", "fastprop.recipes.cbow")


def _modules():
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a recipe that is there but broken is an error, not a gap
                raise
    return out


def models() -> dict:
    """``{model name: recipe module}`` for every model a recipe serves."""
    table = {}
    for mod in _modules():
        for model in mod.MODELS:
            if model in table or model == "twolayer":
                raise RuntimeError(f"--model {model} is served by two recipes")
            table[model] = mod
    return table


def options() -> dict:
    """``{dest: argparse keywords incl. 'flag'}`` over all recipes (one entry per option)."""
    merged = {}
    for mod in _modules():
        for dest, spec in mod.OPTIONS.items():
            if dest in merged and merged[dest] != spec:
                raise RuntimeError(f"option {dest} declared differently by two recipes")
            merged[dest] = spec
    return merged
