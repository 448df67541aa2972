"""The ``fastprop bench`` command line: its options, and running from parsed options."""
import argparse

from .. import argtypes
from .models import CHOICES, DEFAULTS, MAX_PPMI_BOOK_VOCAB
from .runner import SPIRAL_REPS, parse_size, run
from .steps import IMPLS, SIZES
from .timing import BUDGET, MAX_REPEAT, MIN_REPEAT, ROUNDS

DESCRIPTION = "``fastprop bench``: one training step, side by side, in one process."


def _size(text):
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the bench options to ``parser`` (the ``fastprop bench`` subcommand or our own);
    each option's type refuses a bad value while parsing."""
    parser.add_argument("--sizes", nargs="+", metavar="D-H-O/bB", type=_size,
                        default=[f"{D}-{H}-{O}/b{B}" for D, H, O, B in SIZES],
                        help="network sizes and batch (default: %(default)s)")
    parser.add_argument("--repeat", type=argtypes.positive_int, default=None,
                        help="timed steps per row (default: as many as fit in --budget, "
                             f"{MIN_REPEAT} to {MAX_REPEAT})")
    parser.add_argument("--budget", type=argtypes.finite_float(0.0, strict=True), default=BUDGET,
                        help="seconds of timed steps per row when --repeat is not given "
                             "(default: %(default)s)")
    parser.add_argument("--dtypes", nargs="+", choices=("float64", "float32"),
                        default=["float64", "float32"],
                        help="dtypes of the fused and PyTorch rows (default: both)")
    parser.add_argument("--book-input", choices=("float32", "float64"), default="float32",
                        help="dtype of the batches the book's loop gets (book and drop-in rows; "
                             "float32 is the book's MNIST; default: %(default)s)")
    parser.add_argument("--fresh-batches", action="store_true",
                        help="draw a new batch every step (x_train[batch_mask], as the book's "
                             "loop does) instead of timing the step alone on one batch")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS),
                        help="rows to run, of the TwoLayerNet sizes and of the --models blocks "
                             "(a block's fastest fastprop path counts as fused; default: all; "
                             "torch only when installed)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    # dest differs from the fastprop command's own --threads, which a subcommand default
    # would otherwise overwrite (argparse copies every subparser default into the namespace)
    parser.add_argument("--threads", dest="bench_threads", type=argtypes.positive_int, default=None, metavar="N",
                        help="threads for every BLAS and torch (default: fastprop --threads / "
                             "FASTPROP_THREADS if set, else all usable cores)")
    parser.add_argument("--peak-size", type=argtypes.positive_int, default=2048,
                        help="n of the n^3 GEMM that measures peak FLOP/s (default: %(default)s)")
    parser.add_argument("--rounds", type=argtypes.positive_int, default=ROUNDS,
                        help="interleaved rounds per size: each row is timed once a round "
                             "(default: %(default)s)")
    parser.add_argument("--spiral-reps", type=argtypes.non_negative_int, default=SPIRAL_REPS, metavar="N",
                        help="runs of vol. 2's spiral fit per implementation, alternating "
                             "(0: leave it out; default: %(default)s)")
    parser.add_argument("--models", nargs="+", metavar="NAME", choices=CHOICES, default=["twolayer"],
                        help="what to time: twolayer (the TwoLayerNet sizes and the spiral fit), "
                             "the vol. 1 blocks convnet deepnet multilayer im2col deepinfer, the "
                             "vol. 2 blocks rnnlm rnnlmgen lstm seq2seq generate cbow sampler ppmi, or vol1, vol2, all "
                             "(default: twolayer: a plain fastprop bench stays as it was)")
    parser.add_argument("--infer-images", type=argtypes.positive_int, metavar="N",
                        default=DEFAULTS["infer_images"],
                        help="images per timed call of --models deepinfer (at most 100 or a "
                             "multiple of 100; default: %(default)s)")
    parser.add_argument("--ppmi-vocab", type=argtypes.positive_int, metavar="V",
                        default=DEFAULTS["ppmi_vocab"],
                        help="vocabulary of fastprop's ppmi row (--models ppmi; default: "
                             "%(default)s)")
    parser.add_argument("--ppmi-book-vocab", type=argtypes.positive_int, metavar="V",
                        default=DEFAULTS["ppmi_book_vocab"],
                        help="vocabulary at which the book's O(V^2) Python loop and fastprop run "
                             f"side by side (at most {MAX_PPMI_BOOK_VOCAB}; default: %(default)s)")
    parser.add_argument("--script", metavar="PATH",
                        help="instead of the steps: time this book script end to end, the "
                             "book's own code vs fastprop run, alternating, at 1 thread and "
                             "every core (run from a checkout of the book)")
    parser.add_argument("--script-args", metavar="ARGS", default="",
                        help="arguments for --script (one string, split like a shell would)")
    parser.add_argument("--book-root", metavar="DIR",
                        help="a checkout of the book: the one --script belongs to (default: "
                             "the folder above the script's); otherwise the book rows of that "
                             "book's blocks run on its own common/ package instead of "
                             "fastprop's transcription of it (vol. 1: the TwoLayerNet rows "
                             "and vol. 1's --models blocks; vol. 2: the spiral fit, with its "
                             "Trainer, and vol. 2's blocks)")
    parser.add_argument("--volume", type=int, choices=(1, 2), default=None,
                        help="the book of --script, for fastprop run (default: guessed)")
    parser.add_argument("--runs", type=argtypes.positive_int, default=3, metavar="N",
                        help="timed runs of each side for --script and --startup (default: "
                             "%(default)s)")
    parser.add_argument("--busy", type=argtypes.non_negative_int, default=0, metavar="N",
                        help="keep N other processes spinning on the CPU during --script "
                             "(the busy-machine case; adds a row at each side's default "
                             "threads; default: %(default)s)")
    parser.add_argument("--startup", action="store_true",
                        help="instead of the steps: time import fastprop and the first ch05 "
                             "step with an empty Numba cache (cold) and with a warm one")
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run from parsed arguments (what ``fastprop bench`` calls); returns an exit code.
    A bad value the option types could not see (a ``--json`` path that cannot be written,
    sizes too large for memory) is a ValueError raised before anything is timed."""
    if args.script or args.startup:
        return _run_whole(args)
    impls = [i for i in args.impls if not (args.no_torch and i == "torch")]
    run(sizes=args.sizes, repeat=args.repeat, dtypes=args.dtypes, threads=args.bench_threads,
        impls=impls, budget=args.budget, peak_size=args.peak_size,
        book_input=args.book_input, fresh_batches=args.fresh_batches, json_path=args.json,
        quiet=args.quiet, spiral_reps=args.spiral_reps, rounds=args.rounds,
        models=args.models, model_options={"infer_images": args.infer_images,
                                           "ppmi_vocab": args.ppmi_vocab,
                                           "ppmi_book_vocab": args.ppmi_book_vocab},
        book_root=args.book_root)
    return 0


def _run_whole(args) -> int:
    """``--script`` / ``--startup``: whole runs in subprocesses (:mod:`.scripts`)."""
    import json
    import shlex
    import sys

    from .. import threads as thread_policy
    from . import machine, scripts

    def progress(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    if args.json:
        argtypes.check_writable_file(args.json, "--json")
    if args.script:
        scripts.check_script(args.script, args.book_root)
    result = {"machine": machine.machine_facts(), "policy": thread_policy.describe()}
    print(f"{result['machine'].get('cpu', '')}; {thread_policy.describe()}")
    if args.script:
        cores = thread_policy.usable_cores()
        counts = [args.bench_threads] if args.bench_threads else sorted({1, cores})
        if args.busy:
            counts.append(None)  # each side's default under load: what a reader would get
        rows = scripts.time_script(args.script, counts, reps=args.runs, busy=args.busy,
                                   volume=args.volume, args=shlex.split(args.script_args),
                                   book_root=args.book_root, progress=progress)
        result["script"] = {"path": args.script, "rows": rows}
        print("\n".join(scripts.format_scripts(args.script, rows)))
    if args.startup:
        result["startup"] = scripts.time_startup(reps=args.runs, progress=progress)
        print("\n".join(scripts.format_startup(result["startup"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


def main(argv=None) -> int:
    """``python -m fastprop.bench [options]``: parse ``argv`` and run; returns an exit code
    (2 with one ``fastprop: error:`` line for bad input, as ``fastprop bench``)."""
    from .. import threads as thread_policy

    parser = argtypes.CommandParser(prog="fastprop bench", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        thread_policy.check_policy()
        return run_from_args(args)
    except (ValueError, TypeError, OSError) as e:
        parser.exit(2, f"fastprop: error: {e}\n")
