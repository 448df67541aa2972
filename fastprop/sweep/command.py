"""``fastprop sweep``: vol. 1 ch. 6's random search on Dask distributed.

Every option is checked (and the results file opened, or its header compared for
``--resume``) before a cluster starts, so a mistake costs no worker start-up.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .. import argtypes

__all__ = ["add_arguments", "run_from_args"]


# the option types of the fastprop command (one place for "a positive integer", ...)
_positive_int = argtypes.positive_int
_non_negative_int = argtypes.non_negative_int
_positive_float = argtypes.finite_float(0.0, strict=True)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Register ``fastprop sweep``'s options on ``p``."""
    p.description = (
        "vol. 1 ch. 6's hyperparameter search (lr = 10^U(-6, -2), weight decay = 10^U(-8, -4), "
        "50 epochs on 500 MNIST images, 20% held out) as Dask tasks: a LocalCluster of "
        "worker processes, or an existing cluster with --scheduler.")
    p.add_argument("--trials", type=_positive_int, default=100, help="number of trials (100)")
    p.add_argument("--epochs", type=_positive_int, default=50, help="epochs per trial (50)")
    p.add_argument("--train-size", type=_positive_int, default=500,
                   help="training images taken, 20%% of them held out for validation (500)")
    p.add_argument("--batch-size", type=_positive_int, default=100, help="mini-batch (100)")
    p.add_argument("--seed", type=argtypes.seed, default=0,
                   help="sweep seed: every trial's parameters and training seed derive from it")
    p.add_argument("--space", default=None, metavar="SPEC",
                   help="search space, e.g. 'lr=log10:-6:-2,weight_decay=log10:-8:-4' "
                        "(the default; kinds log10 and uniform)")
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist", "synthetic"),
                   help="mnist (default), fashion-mnist, or synthetic (no download)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="local worker processes (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use an existing cluster: the address 'dask scheduler' printed, "
                        "e.g. tcp://10.0.0.1:8786")
    p.add_argument("--timeout", type=_positive_float, default=10.0,
                   help="seconds to wait for --scheduler to answer (10)")
    p.add_argument("--retries", type=_non_negative_int, default=2,
                   help="Dask retries of a task that failed outside the objective (2)")
    p.add_argument("--results", default="fastprop-sweep.jsonl", metavar="PATH",
                   help="JSON-lines results file, one row per finished trial "
                        "(default fastprop-sweep.jsonl)")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --results, skipping the trials it has")
    p.add_argument("--plot", default=None, metavar="FILE",
                   help="the book's figure of the best 20 trials (default: the results path "
                        "with .png, when matplotlib is installed)")
    p.add_argument("--no-plot", action="store_true", help="draw no figure")
    p.add_argument("--top", type=_positive_int, default=20, help="rows of the final table (20)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def _say(msg: str) -> None:
    print(msg, flush=True)


def _plan(args):
    """Everything the sweep needs, validated: (space, objective, data, plot path)."""
    from .objective import BookObjective, DataSpec
    from .plot import check_plot_path
    from .results import check_writable
    from .space import BOOK_SPACE, parse_space

    if args.workers is not None and args.scheduler:
        raise ValueError("--workers starts local workers; with --scheduler the cluster's own "
                         "workers run the trials: give one or the other")
    space = BOOK_SPACE if args.space is None else parse_space(args.space)
    objective = BookObjective(epochs=args.epochs, batch_size=args.batch_size)
    data = DataSpec(args.dataset, train_size=args.train_size, seed=args.seed)
    check_writable(args.results)
    if not args.resume and os.path.exists(args.results) and os.path.getsize(args.results):
        raise FileExistsError(f"results file {args.results} already exists: pass --resume to "
                              "continue it, or choose another --results")
    plot = None
    if not args.no_plot:
        if args.plot is not None:
            plot = check_plot_path(args.plot)
        else:
            try:
                plot = check_plot_path(os.path.splitext(args.results)[0] + ".png")
            except ImportError:
                _say("no plot: matplotlib is not installed "
                     "(pip install -e '.[plot]' in fastprop's checkout, or pip install matplotlib)")
    return space, objective, data, plot


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``fastprop sweep`` for parsed ``args``; returns the exit status."""
    from . import engine
    from .plot import plot_best

    try:
        engine.require_distributed()
    except ImportError as e:
        print(f"fastprop: error: {e}", file=sys.stderr)
        return 2
    space, objective, data, plot = _plan(args)
    if data.dataset != "synthetic" and not args.scheduler:
        from .. import datasets

        datasets.fetch(data.dataset, quiet=True)  # once here, not once per worker
    names = ", ".join(f"{k} ~ {d}" for k, d in space.items())
    _say(f"sweep: {args.trials} trials of {names}; {data.dataset} {data.train_size} images "
         f"({int(data.train_size * data.validation_rate)} for validation), {args.epochs} epochs "
         f"of batch {args.batch_size}, seed {args.seed}")
    start = time.perf_counter()
    try:
        result = engine.random_search(
            space, objective, args.trials, args.seed, results=args.results, resume=args.resume,
            data=data, n_workers=args.workers, scheduler=args.scheduler, retries=args.retries,
            timeout=args.timeout, progress=args.progress, say=_say)
    except KeyboardInterrupt:
        _say(f"\ninterrupted: the finished trials are in {args.results}; run the same "
             "command with --resume to finish the sweep")
        return 130
    wall = time.perf_counter() - start
    _say("=========== Hyper-Parameter Optimization Result ===========")
    _say(result.table(args.top))
    n_err = len(result.errors)
    _say(f"{len(result.rows)} trials ({n_err} failed) in {wall:.1f} s; results in {result.path}")
    if plot:
        n = plot_best(result.best(20), plot)
        _say(f"plot of the best {n} trials written to {plot}")
    return 1 if n_err == len(result.rows) else 0
