"""The layer-case registry is complete: every public layer, cell and net has a case in
``tests/layers/cases_*.py`` (so the contract and reliability tests run on it), or is named
in ``NOT_LAYERS`` with the reason the layer contract cannot apply to it.

Public means: ``fastprop.layers.__all__``, ``fastprop.nets.__all__``, and every class the
drop-in (:data:`fastprop.dropin.BOOK`) hands to the book's scripts for vol. 1 and vol. 2's
``common.*`` modules, resolved the way the drop-in resolves them.
"""
import inspect

import numpy as np
from cases import CASES, build

import fastprop.layers
import fastprop.nets
from fastprop import dropin

#: public classes the layer contract (``params``/``grads`` lists, ``forward`` then
#: ``backward(dout)`` returning the input gradients, float32/float64, errors for bad input)
#: cannot apply to, and where they are tested instead
NOT_LAYERS = {
    # the base class: no forward of its own
    "Layer": "abstract base of the layers (tests/layers/test_book_layers.py uses it through them)",
    "BaseModel": "abstract base of vol. 2's models (save/load_params: tests/test_rnnlm.py)",
    # the book's computational-graph nodes work on Python numbers (the apple example): no
    # params or grads, no dtype, complex numbers multiply as in the book, and AddLayer keeps
    # no state, so a backward before forward is no error
    "MulLayer": "the book's scalar graph node (apple example: tests/layers/test_book_layers.py)",
    "AddLayer": "the book's scalar graph node (apple example: tests/layers/test_book_layers.py)",
    # a sampler, not a layer: no forward or backward
    "UnigramSampler": "draws negative samples (tests/nets/test_word2vec_models.py, tests/layers/cases_words.py "
                      "through NegativeSamplingLoss)",
    # vol. 1's nets: params is the book's dict and gradients come from gradient(x, t) as a new
    # dict each call (not grads lists filled in place by backward(dout))
    "TwoLayerNet": "vol. 1 protocol (tests/nets/test_two_layer_net.py, test_net_reliability.py)",
    "MultiLayerNet": "vol. 1 protocol (tests/nets/test_multi_layer_net.py, test_net_reliability.py)",
    "MultiLayerNetExtend": "vol. 1 protocol (tests/nets/test_multi_layer_net.py, test_net_reliability.py)",
    "SimpleConvNet": "vol. 1 protocol (tests/nets/test_convnets.py, test_net_reliability.py)",
    "DeepConvNet": "vol. 1 protocol (tests/nets/test_convnets.py, test_net_reliability.py)",
}


def _is_ours(obj) -> bool:
    return inspect.isclass(obj) and obj.__module__.startswith(("fastprop.layers", "fastprop.nets"))


def public_classes() -> dict:
    """``{name: class}`` of every public layer, cell and net."""
    found = {}
    for module in (fastprop.layers, fastprop.nets):
        for name in module.__all__:
            found[name] = getattr(module, name)
    for volume, modules in dropin.BOOK.items():
        for default, names, renames in modules.values():
            for name in names:
                try:
                    obj = dropin._resolve(renames.get(name, f"{default}:{name}"))
                except (ImportError, AttributeError):
                    continue  # a name fastprop lacks is test_dropin's business
                if _is_ours(obj):
                    assert found.setdefault(name, obj) is obj, f"vol. {volume}'s {name} is another class"
    return {name: cls for name, cls in found.items() if _is_ours(cls)}


def registered() -> set:
    """The classes the registry's cases build."""
    return {type(build(case, case.dtypes[0])[0]) for case in CASES}


def test_every_public_layer_cell_and_net_has_a_registry_case():
    public, have = public_classes(), registered()
    missing = sorted(name for name, cls in public.items() if cls not in have and name not in NOT_LAYERS)
    assert not missing, (f"public classes without a case in tests/layers/cases_*.py: {missing} "
                         "(add a LayerCase, or list the class in NOT_LAYERS with the reason)")


def test_not_layers_is_current():
    """Every exemption names a public class that has no case: an exemption for a class that
    gained a case, or that is gone, is stale."""
    public, have = public_classes(), registered()
    stale = sorted(n for n in NOT_LAYERS if n not in public or public[n] in have)
    assert not stale, f"NOT_LAYERS entries to remove: {stale}"


def test_the_walk_sees_the_cells_and_the_models():
    """The enumeration is not empty-handed: it finds the cells and vol. 2's models the
    registry had no case for until issue 21, through the drop-in's names too."""
    public = public_classes()
    for name in ("RNN", "LSTM", "GRU", "Rnnlm", "BetterRnnlm", "CBOW", "SkipGram", "TimeLSTM", "Affine"):
        assert name in public, name
    assert np.all([c in registered() for c in (fastprop.layers.RNN, fastprop.layers.LSTM, fastprop.layers.GRU)])
