"""Run the book's own scripts on fastprop: ``common.*`` and ``dataset.*`` resolve to fastprop.

``fastprop run [--volume 1|2] SCRIPT [ARGS...]`` runs a script of either book's repository
unchanged, as ``__main__``: an import hook placed first on ``sys.meta_path`` answers every
``common``/``dataset`` import with a module whose names are fastprop's, ahead of the book's
own folder that the script puts on ``sys.path`` (``sys.path.append(os.pardir)``). Chapter-local
modules (``two_layer_net.py``, ``simple_convnet.py``, ``seq2seq.py``, ...) stay the book's own
and run on fastprop's layers. A name the book has and fastprop lacks is an ``ImportError``
that names it; ``from common.layers import *`` imports every name fastprop has.

The same mapping is one call for notebooks::

    import fastprop.dropin
    fastprop.dropin.install(volume=1)      # or: with fastprop.dropin.book_imports(1): ...
    from common.layers import Affine       # fastprop.layers.Affine

Where the volumes differ, each volume's name means that volume's behaviour (vol. 2's
``Trainer`` is vol. 2's); see the README. vol. 2's ``common.layers.Dropout`` is vol. 1's (the
book's code is the same: ``x * mask``, no rescaling); only ``TimeDropout`` is inverted.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import types

import numpy

from . import validate

# Per volume: book module -> (fastprop module, the book's public names, {name: target} for
# names that live elsewhere or under another name; a target is "module:attr" or "module").
# The public names are those the book's ``from MODULE import *`` gives, so they include what
# the book's module itself imports (``np``, ``GPU``, the layers ``common.time_layers`` pulls in
# from ``common.layers``): vol. 2's ch07/seq2seq.py uses ``np`` after ``from common.time_layers
# import *`` alone.
_OPTIMIZERS = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
#: vol. 2's ``common.config.GPU`` (and every module that star-imports ``common.np``): CPU only
GPU = False
_NP = {"np": "numpy", "GPU": "fastprop.dropin:GPU", "numpy": "numpy", "sys": "sys", "os": "os",
       "time": "time", "pickle": "pickle", "plt": "matplotlib.pyplot"}
_V2_FUNCTIONS = ["sigmoid", "relu", "softmax", "cross_entropy_error"]
_V2_LAYERS = ["MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss", "Dropout",
              "Embedding"]
_V2_CF = {n: f"fastprop.functions:{n}" for n in ("softmax", "sigmoid", "cross_entropy_error")}
# vol. 1: what each book module imports, handed on by its ``from MODULE import *`` (ch06's
# optimizer_compare_mnist.py uses ``np`` after ``from common.optimizer import *`` alone).
_V1_FUNCTIONS = ["identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad",
                 "softmax", "sum_squared_error", "cross_entropy_error", "softmax_loss"]
_V1_LAYERS = ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization", "Convolution",
              "Pooling"]
_V1_LAYERS_STAR = _V1_LAYERS + _V1_FUNCTIONS + ["im2col", "col2im", "np"]
_V1_LAYERS_MAP = {**_NP, **{n: f"fastprop.functions:{n}" for n in _V1_FUNCTIONS},
                  "im2col": "fastprop.util:im2col", "col2im": "fastprop.util:col2im"}
_V1_NET_STAR = _V1_LAYERS_STAR + ["sys", "os", "OrderedDict", "numerical_gradient"]
_V1_NET_MAP = {**_V1_LAYERS_MAP, **{n: f"fastprop.layers:{n}" for n in _V1_LAYERS},
               "OrderedDict": "collections:OrderedDict", "numerical_gradient": "fastprop.gradient:numerical_gradient"}
BOOK = {
    1: {
        "common.functions": ("fastprop.functions", _V1_FUNCTIONS + ["np"], _NP),
        "common.gradient": ("fastprop.gradient", [
            "numerical_gradient", "numerical_gradient_2d", "_numerical_gradient_1d", "np"], _NP),
        "common.layers": ("fastprop.layers", _V1_LAYERS_STAR, _V1_LAYERS_MAP),
        "common.multi_layer_net": ("fastprop.nets", ["MultiLayerNet"] + _V1_NET_STAR, _V1_NET_MAP),
        "common.multi_layer_net_extend": ("fastprop.nets", ["MultiLayerNetExtend"] + _V1_NET_STAR, _V1_NET_MAP),
        "common.optimizer": ("fastprop.optimizers", _OPTIMIZERS + ["np"], _NP),
        "common.trainer": ("fastprop.trainer", ["Trainer", "sys", "os", "np"] + _OPTIMIZERS,
                           {**_NP, "Trainer": "fastprop.trainer.vol1:Trainer",
                            **{n: f"fastprop.optimizers:{n}" for n in _OPTIMIZERS}}),
        "common.util": ("fastprop.util", [
            "smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im", "np"], _NP),
        "dataset.mnist": ("fastprop.datasets", ["load_mnist", "np", "os", "pickle", "gzip"],
                          {**_NP, "gzip": "gzip"}),
    },
    2: {
        "common.base_model": ("fastprop.nets", ["BaseModel", "to_cpu", "to_gpu", "np", "GPU", "sys", "os",
                                                "pickle"],
                              {**_NP, "to_cpu": "fastprop.util_vol2:to_cpu", "to_gpu": "fastprop.util_vol2:to_gpu"}),
        "common.functions": ("fastprop.functions", _V2_FUNCTIONS + ["np", "GPU"], _NP),
        "common.layers": ("fastprop.layers", _V2_LAYERS + ["softmax", "cross_entropy_error", "np", "GPU"],
                          {**_NP, **_V2_CF}),
        "common.optimizer": ("fastprop.optimizers", _OPTIMIZERS + ["np", "GPU", "sys"], _NP),
        "common.time_layers": ("fastprop.layers", [
            "RNN", "TimeRNN", "LSTM", "TimeLSTM", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss",
            "TimeDropout", "TimeBiLSTM", "TimeSigmoidWithLoss", "GRU", "TimeGRU",
            "Simple_TimeSoftmaxWithLoss", "Simple_TimeAffine"] + _V2_LAYERS
            + ["softmax", "sigmoid", "cross_entropy_error", "np", "GPU"], {**_NP, **_V2_CF}),
        "common.trainer": ("fastprop.trainer", ["Trainer", "RnnlmTrainer", "remove_duplicate", "clip_grads",
                                                "np", "GPU", "numpy", "sys", "time", "plt"], _NP),
        "common.util": ("fastprop.util_vol2", [
            "preprocess", "cos_similarity", "most_similar", "convert_one_hot", "create_co_matrix", "ppmi",
            "create_contexts_target", "to_cpu", "to_gpu", "clip_grads", "eval_perplexity", "eval_seq2seq",
            "analogy", "normalize", "np", "GPU", "sys", "os"], _NP),
        "dataset.ptb": ("fastprop.datasets.ptb", ["load_data", "load_vocab"], {}),
        "dataset.sequence": ("fastprop.datasets.sequence", ["load_data", "get_vocab", "char_to_id",
                                                            "id_to_char", "numpy", "sys", "os"], _NP),
        "dataset.spiral": ("fastprop.datasets.spiral", ["load_data", "np"], _NP),
    },
}
PACKAGES = ("common", "dataset")
SPECIAL = {2: ("common.config", "common.np")}


def _resolve(target: str):
    """The object ``"package.module:attr"`` (or the module ``"package.module"``) names, or
    raise ImportError/AttributeError."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr) if attr else importlib.import_module(module)


class _BookModule(types.ModuleType):
    """A book module whose names are looked up in fastprop when first used."""

    def __init__(self, name, volume, entry):
        super().__init__(name)
        self.__fastprop_entry__ = (volume,) + entry

    def __getattr__(self, name):
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        volume, default, names, renames = self.__fastprop_entry__
        if name == "__all__":
            return [n for n in names if not n.startswith("_") and self._available(n)]
        if name not in names:
            raise AttributeError(f"the book's {self.__name__} (vol. {volume}) has no name {name!r}")
        try:
            value = _resolve(renames.get(name, f"{default}:{name}"))
        except (ImportError, AttributeError) as err:
            # every name of both books' common/ exists; what fails here is an optional
            # package (matplotlib for ``plt``) or a bug, and the cause is what to act on
            raise ImportError(f"the book's {self.__name__}.{name} (vol. {volume}) could not be "
                              f"imported from fastprop: {err}") from err
        setattr(self, name, value)
        return value

    def _available(self, name):
        try:
            getattr(self, name)
            return True
        except ImportError:
            return False


class _Config(types.ModuleType):
    """vol. 2's ``common.config``: ``GPU = False``; fastprop is CPU-only, so setting it is an error."""

    GPU = False

    def __setattr__(self, name, value):
        if name == "GPU" and value:
            raise RuntimeError("fastprop runs on the CPU only: common.config.GPU = True is not supported "
                               "(leave it False; fastprop's compiled kernels are the fast path)")
        super().__setattr__(name, value)


def _special(name):
    if name == "common.config":
        mod = _Config(name)
        mod.GPU = False
        return mod
    mod = types.ModuleType(name)  # common.np: ``from common.np import *`` gives ``np`` and ``GPU``
    mod.np = numpy
    mod.GPU = GPU
    mod.__all__ = ["GPU", "np"]
    return mod


class BookFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers ``common``, ``dataset`` and their modules for one volume of the book."""

    def __init__(self, volume: int):
        self.volume = volume
        self.table = BOOK[volume]
        self.special = SPECIAL.get(volume, ())

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if top not in PACKAGES:
            return None
        is_package = fullname in PACKAGES
        if not (is_package or fullname in self.table or fullname in self.special):
            raise ImportError(f"fastprop maps no module {fullname!r} for vol. {self.volume} of the book "
                              f"(it maps {', '.join(sorted(self.table))})", name=fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec):
        name = spec.name
        if name in PACKAGES:
            mod = types.ModuleType(name)
            mod.__path__ = []
            return mod
        if name in self.special:
            return _special(name)
        return _BookModule(name, self.volume, self.table[name])

    def exec_module(self, module):
        module.__fastprop_volume__ = self.volume


#: the active mappings, innermost last: [finder, the ``common``/``dataset`` modules it set aside]
_installed: list = []


def _book_modules() -> dict:
    """Pop every ``common``/``dataset`` module out of ``sys.modules`` and return them."""
    return {k: sys.modules.pop(k) for k in list(sys.modules) if k.split(".")[0] in PACKAGES}


def install(volume: int = 1) -> BookFinder:
    """Make ``common.*`` and ``dataset.*`` imports resolve to fastprop for ``volume``.

    Mappings nest: an ``install`` inside another (a script that runs another script, or
    ``book_imports`` within ``book_imports``) maps on top of the outer one, and undoing it
    gives the outer mapping back, its modules included. Modules of those names already
    imported (the book's own, or the outer mapping's) are set aside and restored by
    :func:`uninstall`.

    Returns
    -------
    BookFinder : the mapping, which :func:`uninstall` takes to undo this one
    """
    volume = validate.check_scalar(volume, "volume", int, low=1, high=2, expected="1 or 2")
    finder = BookFinder(volume)
    saved = _book_modules()
    sys.meta_path.insert(0, finder)
    _installed.append([finder, saved])
    return finder


def uninstall(finder: BookFinder | None = None) -> None:
    """Undo :func:`install`: the mapping ``finder`` (default: the innermost one); no-op when
    nothing is installed.

    The mappings around it stay: the next ``common`` import of an outer script still
    resolves to fastprop for the outer script's volume. Undoing a mapping that is not the
    innermost (mappings undone out of order) leaves the inner ones in place and hands them
    what it had set aside.
    """
    if not _installed or sys.meta_path is None or sys.modules is None:
        return  # nothing installed, or the interpreter is shutting down (a block never left)
    index = len(_installed) - 1
    if finder is not None:
        index = next((i for i, entry in enumerate(_installed) if entry[0] is finder), None)
        if index is None:
            return  # already undone
    finder, saved = _installed.pop(index)
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    if index < len(_installed):  # an inner mapping is still active: it now restores our saved modules
        _installed[index][1] = saved
        return
    _book_modules()
    sys.modules.update(saved)


@contextlib.contextmanager
def book_imports(volume: int = 1):
    """``with book_imports(1): ...``: :func:`install` for the block (blocks nest)."""
    finder = install(volume)
    try:
        yield finder
    finally:
        uninstall(finder)


def detect_volume(script: str) -> int:
    """1 or 2, from the book checkout that holds ``script`` (its ``common/`` folder)."""
    folder = os.path.dirname(os.path.abspath(script))
    for _ in range(4):
        common = os.path.join(folder, "common")
        v2 = os.path.isfile(os.path.join(common, "time_layers.py"))
        v1 = os.path.isfile(os.path.join(common, "multi_layer_net.py"))
        if v1 and v2:
            raise ValueError(f"cannot tell which volume of the book {script} belongs to: {common} looks like "
                             "both (it has vol. 1's multi_layer_net.py and vol. 2's time_layers.py); "
                             "pass --volume 1 or --volume 2")
        if v2:
            return 2
        if v1:
            return 1
        folder = os.path.dirname(folder)
    raise ValueError(f"cannot tell which volume of the book {script} belongs to (no common/ folder of "
                     "either book above it); pass --volume 1 or --volume 2")


class SiblingFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path`` during :func:`run_script`: a top-level import that nothing
    else found is looked up in the importing module's own folder, when that folder is a
    chapter of the checkout (``root``).

    Why: vol. 2's ch08/train.py imports ``ch07.peeky_seq2seq``, whose ``from seq2seq import
    ...`` means ch07/seq2seq.py, but ch07 is not on ``sys.path``, so the book's own run stops
    with ``ModuleNotFoundError: No module named 'seq2seq'`` (the book repository's open issue
    #19; its workaround is ``sys.path.append('../ch07')``). Only names found nowhere else reach
    this finder, so a script that runs under ``python`` imports the same modules here. Each
    such import is said on stderr.
    """

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _importer_folder(self):
        frame = sys._getframe(1)
        while frame is not None:  # skip the import machinery to the frame running ``import``
            name = frame.f_code.co_filename
            if not (name.startswith("<frozen importlib") or name == __file__):
                break
            frame = frame.f_back
        file = frame.f_globals.get("__file__") if frame is not None else None
        return os.path.dirname(os.path.abspath(file)) if isinstance(file, str) else None

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or "." in fullname:
            return None
        folder = self._importer_folder()
        if folder is None or os.path.dirname(folder) != self.root:
            return None
        candidate = os.path.join(folder, fullname + ".py")
        if not os.path.isfile(candidate):
            return None
        print(f"fastprop run: {fullname!r} imported from {folder}, the folder of the module that imports it "
              "(not on sys.path: plain python raises ModuleNotFoundError here)", file=sys.stderr)
        return importlib.util.spec_from_file_location(fullname, candidate)


def run_script(script: str, args=(), volume: int | None = None) -> None:
    """Run ``script`` as ``__main__`` with ``sys.argv = [script, *args]``, as ``python script``
    would (its folder first on ``sys.path``, the working directory unchanged), with the
    book's imports resolved to fastprop.

    One import that ``python script`` would fail is resolved: a chapter module's import of a
    module next to it, when its folder is not on ``sys.path`` (:class:`SiblingFinder`).
    """
    if not os.path.isfile(script):
        raise ValueError(f"no such script: {script}")
    volume = detect_volume(script) if volume is None else volume
    argv, path = sys.argv[:], sys.path[:]
    sys.argv = [script, *args]
    folder = os.path.dirname(os.path.abspath(script))
    sys.path.insert(0, folder)
    finder = install(volume)
    siblings = SiblingFinder(os.path.dirname(folder))
    sys.meta_path.append(siblings)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        if siblings in sys.meta_path:
            sys.meta_path.remove(siblings)
        uninstall(finder)
        sys.argv[:] = argv
        sys.path[:] = path
