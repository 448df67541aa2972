"""``fastprop train --model rnnlm`` and ``--model betterrnnlm``: vol. 2 ch. 6's
``train_rnnlm.py`` and ``train_better_rnnlm.py`` on PTB.

rnnlm: Rnnlm(V, 100, 100), SGD lr 20, batch 20, time 35, 4 epochs, gradients clipped at 0.25,
the train perplexity every 20 iterations, then ``reset_state`` and the test perplexity
(``eval_perplexity``, its batch 10 x 35). betterrnnlm: BetterRnnlm(V, 650, 650, dropout 0.5),
40 epochs of one ``fit`` each, the validation perplexity after each, ``lr /= 4`` whenever it
did not improve, then the test perplexity (of the last model, as the book: it saves the best
parameters to a file but evaluates the model it has).

``--hidden`` sets both the word-vector and the hidden size (the book uses one size for both,
and BetterRnnlm's weight tying needs them equal). The data is fastprop's PTB cache
(:mod:`fastprop.datasets.ptb`); a missing file is the loader's message.
"""
from .. import argtypes
from . import _ptb

MODELS = {
    "rnnlm": "vol. 2 ch. 6's LSTM language model on PTB (train_rnnlm.py)",
    "betterrnnlm": "vol. 2 ch. 6's 2-layer LSTM with dropout and weight tying on PTB "
                   "(train_better_rnnlm.py)",
}

OPTIONS = {
    "time_size": {"flag": "--time-size", "type": argtypes.positive_int,
                  "help": "rnnlm/betterrnnlm: truncated-BPTT length (default 35)"},
    "max_grad": {"flag": "--max-grad", "type": argtypes.finite_float(0.0, strict=True),
                 "help": "rnnlm/betterrnnlm: clip the gradients' total L2 norm at this (default 0.25)"},
    "eval_interval": {"flag": "--eval-interval", "type": argtypes.positive_int,
                      "help": "rnnlm/betterrnnlm: print the train perplexity every N iterations "
                              "(default 20)"},
}

_COMMON = {"epochs", "batch", "lr", "hidden", "dtype", "seed", "plot", "progress", "dataset",
           "time_size", "max_grad", "eval_interval"}
APPLIES = {"rnnlm": frozenset(_COMMON), "betterrnnlm": frozenset(_COMMON)}

#: the book scripts' settings
DEFAULTS = {
    "rnnlm": dict(batch=20, hidden=100, time_size=35, lr=20.0, epochs=4, max_grad=0.25,
                  eval_interval=20, dtype="float32"),
    "betterrnnlm": dict(batch=20, hidden=650, time_size=35, lr=20.0, epochs=40, max_grad=0.25,
                        eval_interval=20, dtype="float32", dropout=0.5),
}
EVAL_BATCH, EVAL_TIME = 10, 35  # eval_perplexity's defaults, which both scripts use


def settings(model: str, args) -> dict:
    """The run's settings: the script's, then the options given (ValueError for a data set
    other than ptb)."""
    if model not in DEFAULTS:
        raise ValueError(f"this recipe trains {', '.join(DEFAULTS)}, got --model {model}")
    return _ptb.settings(model, args, DEFAULTS[model], ("batch", "hidden", "time_size", "lr", "epochs",
                                                        "max_grad", "eval_interval", "dtype"))


def memory_bytes(model: str, d: dict, vocab: int) -> int:
    """About what the run holds: parameters and gradients, the N*T*V scores and their
    gradient, the recurrent caches (per layer ~20 H numbers a (n, t) position)."""
    V, H, rows = vocab, d["hidden"], d["batch"] * d["time_size"]
    layers = 1 if model == "rnnlm" else 2
    params = 2 * V * H + V + layers * (8 * H * H + 4 * H)
    itemsize = 4 if d["dtype"] == "float32" else 8
    return itemsize * (2 * params + rows * (2 * V + 20 * H * layers)
                       + EVAL_BATCH * EVAL_TIME * 2 * V)


def check_sizes(d: dict, n_train: int, n_other: dict, model: str = "rnnlm", vocab: int = 0) -> None:
    """ValueError when a corpus is too short for the batches asked for: the training corpus
    (``n_train`` words, read as ``n_train - 1`` inputs) for one ``batch x time_size`` window,
    each evaluation corpus for one of eval_perplexity's ``10 x 35`` (+1) windows; or when the
    run would not fit in :data:`fastprop.runs.MAX_RUN_BYTES`."""
    from .. import runs

    need = d["batch"] * d["time_size"]
    if (n_train - 1) // need == 0:
        raise ValueError(f"--batch {d['batch']} x --time-size {d['time_size']} = {need} words per "
                         f"iteration, but the PTB train corpus has {n_train - 1} inputs; use smaller sizes")
    for split, n in n_other.items():
        if (n - 1) // (EVAL_BATCH * EVAL_TIME) == 0:
            raise ValueError(f"the PTB {split} corpus has {n} words, fewer than eval_perplexity's "
                             f"{EVAL_BATCH} x {EVAL_TIME} + 1")
    what = f"--model {model} (--hidden {d['hidden']}, --batch {d['batch']}, --time-size {d['time_size']})"
    runs.check_memory(memory_bytes(model, d, vocab), what)


def _load(model):
    from ..datasets import ptb

    corpus, word_to_id, _ = ptb.load_data("train")
    splits = {"test": ptb.load_data("test")[0]}
    if model == "betterrnnlm":
        splits = {"valid": ptb.load_data("val")[0], **splits}
    return corpus, len(word_to_id), splits


def _build(model, d, vocab):
    import numpy as np

    from ..nets import BetterRnnlm, Rnnlm

    if d["seed"] is not None:
        np.random.seed(d["seed"])
    H = d["hidden"]
    if model == "rnnlm":
        return Rnnlm(vocab, H, H, dtype=d["dtype"])
    return BetterRnnlm(vocab, H, H, d["dropout"], dtype=d["dtype"])


def run(model: str, args) -> int:
    """Check the settings, load PTB, check the sizes against it, train, print the perplexities."""
    import time

    import numpy as np

    from .. import argtypes
    from ..optimizers import SGD
    from ..trainer import RnnlmTrainer
    from ..util_vol2 import eval_perplexity

    with argtypes.checks():  # bad settings or data: one line (not the training)
        d = settings(model, args)
        corpus, vocab, splits = _load(model)  # a missing file: the loader's message, one line
        check_sizes(d, len(corpus), {k: len(v) for k, v in splits.items()}, model, vocab)
    net = _build(model, d, vocab)
    print(f"{model}: PTB {len(corpus)} train words, vocabulary {vocab} | wordvec = hidden {d['hidden']}, "
          f"batch {d['batch']}, time {d['time_size']}, SGD lr {d['lr']:g}, max_grad {d['max_grad']:g}, "
          f"{d['epochs']} epochs, {d['dtype']}, seed {d['seed']}", flush=True)
    optimizer = SGD(d["lr"])
    trainer = RnnlmTrainer(net, optimizer)
    xs, ts = corpus[:-1], corpus[1:]
    fit = dict(batch_size=d["batch"], time_size=d["time_size"], max_grad=d["max_grad"],
               eval_interval=d["eval_interval"], progress=d["progress"])
    start = time.perf_counter()
    if model == "rnnlm":
        trainer.fit(xs, ts, max_epoch=d["epochs"], **fit)
    else:
        best, lr = float("inf"), d["lr"]
        for _ in range(d["epochs"]):
            trainer.fit(xs, ts, max_epoch=1, **fit)
            net.reset_state()
            ppl = eval_perplexity(net, splits["valid"])
            print("valid perplexity: ", ppl)
            if ppl < best:
                best = ppl
            else:
                lr /= 4.0
                optimizer.lr = lr
            net.reset_state()
            print("-" * 50)
    seconds = time.perf_counter() - start
    iters = d["epochs"] * (len(xs) // (d["batch"] * d["time_size"]))
    net.reset_state()
    ppl_test = eval_perplexity(net, splits["test"])
    print("test perplexity: ", ppl_test)
    print(f"time: {seconds:.1f} s for {iters} iterations ({iters / max(seconds, 1e-9):.1f} it/s)")
    if getattr(args, "plot", None):
        trainer.plot(ylim=(0, 500), path=args.plot)
        print(f"plot written to {args.plot}")
    return 0 if np.isfinite(ppl_test) else 1
