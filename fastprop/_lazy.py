"""Names a package exports, imported when first used (PEP 562).

``import fastprop`` and ``from fastprop.layers import Affine`` used to import every layer
family, every net and the trainers with them: a run of the book's ch05 script loaded the
conv, recurrent, seq2seq and word2vec modules it never touches. A package built with
:func:`exports` imports each of its modules when one of its names is first read; what a
caller sees (``fastprop.layers.Affine``, ``from fastprop.layers import *``, ``dir()``) does
not change.
"""
from __future__ import annotations

import importlib
import sys


def exports(package: str, modules: dict) -> tuple:
    """``(__getattr__, __dir__, __all__)`` for ``package``.

    ``modules`` maps a module (relative, ``".affine"``) to the names it gives the package;
    the module's own name among them (``"layers"`` for ``".layers"``) is the module itself.
    """
    where = {}
    for module, names in modules.items():
        for name in names:
            where[name] = (module, name == module.lstrip("."))

    def __getattr__(name):
        try:
            module, whole = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        imported = importlib.import_module(module, package)
        value = imported if whole else getattr(imported, name)
        setattr(sys.modules[package], name, value)  # the next read is a plain attribute
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, sorted(where)
