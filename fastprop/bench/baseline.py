"""Where the ``book`` rows of ``fastprop bench --models`` get the book's code: the
transcription (:mod:`fastprop.bench.book`, the default) or, with ``--book-root DIR``, the
``common/`` package of a checkout of the book, imported in its place.

A baseline is a namespace of the book's names (``layers``, ``SGD``, ``Adam``, ...) that the
row factories of :mod:`~fastprop.bench.steps_vol1` and :mod:`~fastprop.bench.steps_vol2`
build the book's nets from. The chapters' own classes (ch05's ``TwoLayerNet``, ch07's
``SimpleConvNet``, ch04's negative sampling, ...) live next to the scripts in the book, not
in ``common/``: they stay the transcription's, running on the checkout's layers, as the
book's chapter files run on its ``common``. That holds for the default ``twolayer`` block
too: its book rows are ch05's ``TwoLayerNet`` (:class:`.book.vol1_nets.TwoLayerNet`) on the
checkout's ``Affine``, ``Relu`` and ``SoftmaxWithLoss``; and for vol. 2's spiral fit
(:func:`spiral`): ch01's ``TwoLayerNet`` (:class:`.book.vol2_nets.TwoLayerNet`) on the
checkout's layers, its ``SGD`` and its ``common/trainer.py`` ``Trainer``. Importing the chapter
files themselves was left aside: they put ``os.pardir`` of the working folder on ``sys.path``
when imported, and ch04, ch05 and ch01 each hold a module named ``two_layer_net``.
"""
import contextlib
import functools
import importlib
import os
import sys
from types import SimpleNamespace

from .book import vol1, vol1_nets, vol2, vol2_nets

TRANSCRIPTION = "the transcription (fastprop.bench.book)"


def _transcription(volume):
    if volume == 1:
        return SimpleNamespace(volume=1, root=None, source=TRANSCRIPTION, layers=vol1, SGD=vol1.SGD,
                               Adam=vol1.Adam, im2col=vol1.im2col, col2im=vol1.col2im,
                               MultiLayerNetExtend=vol1_nets.MultiLayerNetExtend)
    return SimpleNamespace(volume=2, root=None, source=TRANSCRIPTION, layers=vol2_nets.LAYERS,
                           SGD=vol2.SGD, Adam=vol2.Adam, clip_grads=vol2.clip_grads,
                           ppmi=vol2.ppmi, remove_duplicate=vol2.remove_duplicate,
                           UnigramSampler=vol2_nets.UnigramSampler)


def _is_common(name):
    return name == "common" or name.startswith("common.")


@contextlib.contextmanager
def _common_from(root):
    """``import common.X`` finds ``root/common`` inside the block; what ``common`` meant
    before (another checkout, or nothing) and ``sys.path`` are put back after it. The
    modules imported inside keep working: the book binds its names at import."""
    saved = {k: m for k, m in sys.modules.items() if _is_common(k)}
    for k in saved:
        del sys.modules[k]
    path = list(sys.path)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for k in [k for k in sys.modules if _is_common(k)]:
            del sys.modules[k]
        sys.modules.update(saved)
        sys.path[:] = path


def checkout_volume(root) -> int:
    """1 or 2: which book ``root`` is a checkout of (vol. 2's ``common`` has
    ``time_layers.py``); ValueError when ``root/common/layers.py`` is missing."""
    common = os.path.join(os.path.abspath(root), "common")
    if not os.path.isfile(os.path.join(common, "layers.py")):
        raise ValueError(f"--book-root {root!r}: no common/layers.py in it (pass the book's "
                         "checkout, the folder that holds common/ and the chapter folders)")
    return 2 if os.path.isfile(os.path.join(common, "time_layers.py")) else 1


def _checkout(root):
    return _checkout_at(os.path.abspath(root))


@functools.lru_cache(maxsize=8)
def _checkout_at(root):
    """The namespace of the checkout at the absolute path ``root``, imported once per
    process: the spiral fit asks for it on every run, and a timed run must not import."""
    volume = checkout_volume(root)
    source = f"the checkout's common/ ({root})"
    with _common_from(root):
        try:
            layers = importlib.import_module("common.layers")
            optimizer = importlib.import_module("common.optimizer")
            util = importlib.import_module("common.util")
            if volume == 2:
                time_layers = importlib.import_module("common.time_layers")
                trainer = importlib.import_module("common.trainer")
            elif os.path.isfile(os.path.join(root, "common", "multi_layer_net_extend.py")):
                mlne = importlib.import_module("common.multi_layer_net_extend")
            else:
                mlne = None
        except Exception as exc:  # the checkout's own code failed to import: say where
            raise ValueError(f"--book-root {root!r}: importing its common/ failed: "
                             f"{type(exc).__name__}: {exc}") from exc
        found = os.path.dirname(os.path.abspath(sys.modules["common"].__file__))
    if found != os.path.join(root, "common"):
        raise ValueError(f"--book-root {root!r}: 'common' was found in {found} instead")
    if volume == 1:
        net = (mlne.MultiLayerNetExtend if mlne is not None
               else functools.partial(vol1_nets.MultiLayerNetExtend, layers=layers))
        return SimpleNamespace(volume=1, root=root, source=source, layers=layers, SGD=optimizer.SGD,
                               Adam=optimizer.Adam, im2col=util.im2col, col2im=util.col2im,
                               MultiLayerNetExtend=net)
    names = {k: v for mod in (layers, time_layers) for k, v in vars(mod).items()
             if not k.startswith("_")}
    ns = SimpleNamespace(**names)
    # ch04's chapter-local class, on the checkout's Embedding and SigmoidWithLoss
    ns.NegativeSamplingLoss = functools.partial(vol2_nets.NegativeSamplingLoss, layers=ns)
    return SimpleNamespace(volume=2, root=root, source=source, layers=ns, SGD=optimizer.SGD,
                           Adam=optimizer.Adam, clip_grads=util.clip_grads, ppmi=util.ppmi,
                           remove_duplicate=trainer.remove_duplicate,
                           UnigramSampler=vol2_nets.UnigramSampler,
                           # ch01's spiral run: the chapter's class on the checkout's layers
                           TwoLayerNet=functools.partial(vol2_nets.TwoLayerNet, layers=ns),
                           Trainer=getattr(trainer, "Trainer", None))


def checkout(root):
    """The baseline namespace of the book's checkout at ``root`` (imported once per process;
    ValueError as :func:`baselines`)."""
    return _checkout(root)


TWOLAYER_CLASS = "ch05's TwoLayerNet: the transcription's class on its layers"
SPIRAL_TRANSCRIPTION = (f"{TRANSCRIPTION}: ch05's TwoLayerNet with a Sigmoid hidden layer and "
                        "vol. 1's SGD under fastprop's vol. 2 Trainer")


def twolayer_source(books) -> str:
    """The source line of the ``twolayer`` block's book rows (vol. 1's baseline)."""
    ns = books[1]
    return ns.source if ns.root is None else f"{ns.source}; {TWOLAYER_CLASS}"


def spiral(books):
    """``(book_root, source)`` of the spiral fit's book row: vol. 2's checkout (its layers,
    SGD and Trainer under ch01's TwoLayerNet) when ``books[2]`` is one, else ``None`` and the
    transcription's run (:func:`fastprop.runs.fit_spiral`, ``implementation='book'``)."""
    ns = books[2]
    if ns.root is not None:
        return ns.root, (f"{ns.source}: its Affine, Sigmoid, SoftmaxWithLoss, SGD and Trainer; "
                         "ch01's TwoLayerNet: the transcription's class on its layers")
    why = (" (--book-root is a vol. 1 checkout; the spiral fit is vol. 2's)"
           if books[1].root is not None else "")
    return None, SPIRAL_TRANSCRIPTION + why


def baselines(book_root=None) -> dict:
    """``{1: namespace, 2: namespace}``: the transcription for both books, or, for the book
    ``book_root`` is a checkout of, that checkout's ``common``."""
    out = {1: _transcription(1), 2: _transcription(2)}
    if book_root is not None:
        ns = _checkout(book_root)
        out[ns.volume] = ns
    return out


DEFAULT = baselines()


def of(opts, volume):
    """The baseline of ``volume`` a row factory gets through its options (``opts['book']``,
    set by :func:`fastprop.bench.runner.run`), else the transcription."""
    return (opts.get("book") or DEFAULT)[volume]
