"""``fastprop train --model cbow`` and ``--model skipgram``: vol. 2 ch. 4's ``train.py`` on PTB.

The script's settings: CBOW (or SkipGram) with window 5, hidden 100, batch 100, 10 epochs,
Adam (the book's defaults, lr 0.001), float32, the Trainer's loss every 20 iterations; then
the nearest words of the book's queries (``you``, ``year``, ``car``, ``toyota``) by
``most_similar``. The book saves the word vectors to ``cbow_params.pkl``; this recipe does
not write files except ``--plot``.

Two options choose how the compiled steps run (:mod:`fastprop.nets.word2vec`):
``--sampler book`` (default: the book's negatives, bit for bit) or ``fast`` (the same
distribution, other numbers), and ``--update dense`` (default: the book's Adam over every
row) or ``sparse`` (only the rows a batch touched). The defaults are the book's run; the
fast pair is the one that is many times faster. The data is fastprop's PTB cache
(:mod:`fastprop.datasets.ptb`); a missing file is the loader's message.
"""
from .. import argtypes
from . import _ptb

MODELS = {
    "cbow": "vol. 2 ch. 4's CBOW with negative sampling on PTB (ch04/train.py)",
    "skipgram": "vol. 2 ch. 4's skip-gram with negative sampling on PTB (ch04/train.py, SkipGram)",
}

OPTIONS = {
    "window": {"flag": "--window", "type": argtypes.positive_int,
               "help": "cbow/skipgram: context words on each side (default 5)"},
    "sampler": {"flag": "--sampler", "choices": ("book", "fast"),
                "help": "cbow/skipgram: the book's negatives (default) or the same distribution "
                        "drawn faster"},
    "update": {"flag": "--update", "choices": ("dense", "sparse"),
               "help": "cbow/skipgram: the book's update of every row (default) or of the rows "
                       "a batch touched only"},
}

_COMMON = {"epochs", "batch", "lr", "optimizer", "hidden", "dtype", "seed", "plot", "progress",
           "dataset", "window", "sampler", "update"}
APPLIES = {"cbow": frozenset(_COMMON), "skipgram": frozenset(_COMMON)}

#: ch04/train.py's settings
DEFAULTS = dict(window=5, hidden=100, batch=100, epochs=10, optimizer="adam", lr=None,
                dtype="float32", sampler="book", update="dense")
EVAL_INTERVAL = 20          # the book Trainer's default, which train.py keeps
QUERIES = ("you", "year", "car", "toyota")


def settings(model: str, args) -> dict:
    """The run's settings: the script's, then the options given."""
    if model not in MODELS:
        raise ValueError(f"this recipe trains {', '.join(MODELS)}, got --model {model}")
    return _ptb.settings(model, args, DEFAULTS, DEFAULTS)


def check_sizes(d: dict, n_words: int, vocab: int) -> int:
    """The number of (contexts, target) rows; ValueError when the corpus is too short for
    the window and one batch, or the run would not fit in :data:`fastprop.runs.MAX_RUN_BYTES`."""
    from .. import runs

    rows = n_words - 2 * d["window"]
    if rows < d["batch"]:
        raise ValueError(f"the PTB train corpus has {n_words} words: {max(rows, 0)} rows of --window "
                         f"{d['window']} contexts, fewer than one --batch of {d['batch']}")
    itemsize = 4 if d["dtype"] == "float32" else 8
    # W_in, W_out, their gradients per slot in the layer path, Adam's state, the dense
    # update's buffers; the contexts (int64) and their shuffled copies
    weights = vocab * d["hidden"] * itemsize * (2 + 2 * d["window"] + 6 + 4 + 2)
    runs.check_memory(weights + 3 * rows * (2 * d["window"] + 1) * 8,
                      f"--model cbow/skipgram (--hidden {d['hidden']}, --window {d['window']})")
    return rows


def run(model: str, args) -> int:
    """Check the settings, load PTB, train, print the loss and the nearest words."""
    import time

    import numpy as np

    from .. import argtypes, optimizers
    from ..datasets import ptb
    from ..nets import CBOW, SkipGram
    from ..trainer import Trainer
    from ..util_vol2 import create_contexts_target, most_similar

    with argtypes.checks():  # bad settings or data: one line (not the training)
        d = settings(model, args)
        optimizer = optimizers.by_name(d["optimizer"],
                                       **({} if d["lr"] is None else {"lr": d["lr"]}))
        corpus, word_to_id, id_to_word = ptb.load_data("train")  # a missing file: one line
        vocab = len(word_to_id)
        check_sizes(d, len(corpus), vocab)
    contexts, target = create_contexts_target(corpus, d["window"])
    if d["seed"] is not None:
        np.random.seed(d["seed"])
    cls = CBOW if model == "cbow" else SkipGram
    net = cls(vocab, d["hidden"], d["window"], corpus, dtype=d["dtype"], draws=d["sampler"],
              sparse_update=d["update"] == "sparse")
    iters = len(contexts) // d["batch"]
    print(f"{model}: PTB {len(corpus)} train words, vocabulary {vocab} | hidden {d['hidden']}, window "
          f"{d['window']}, batch {d['batch']}, {optimizer!r}, {d['epochs']} epochs of {iters} iterations, "
          f"{d['dtype']}, sampler {d['sampler']}, update {d['update']}, seed {d['seed']}", flush=True)
    trainer = Trainer(net, optimizer)
    start = time.perf_counter()
    trainer.fit(contexts, target, max_epoch=d["epochs"], batch_size=d["batch"], eval_interval=EVAL_INTERVAL,
                progress=d["progress"], verbose=not d["progress"])
    seconds = time.perf_counter() - start
    steps = d["epochs"] * iters
    print(f"final: last averaged loss {trainer.loss_list[-1]:.4f} | {steps} iterations in {seconds:.1f} s "
          f"({steps / seconds:.0f} steps/s)", flush=True)
    for query in QUERIES:
        most_similar(query, word_to_id, id_to_word, net.word_vecs, top=5)
    plot = getattr(args, "plot", None)
    if plot:
        trainer.plot(path=plot)
        print(f"plot written to {plot}")
    return 0
