"""``fastprop bench``: one training step, side by side, in one process.

Rows, per network size: the book's NumPy code (vol. 1 ch. 5, written out in
:mod:`fastprop.bench.book` exactly as the book writes it: the reference every ratio is
taken against), the same loop on fastprop's drop-in ``TwoLayerNet`` (float64), fastprop's
fused step (float64, float32) and PyTorch CPU when it is installed (float64, float32). Each
row gives the median time of one step over many single-step timings, the min-max, the
speedup over the book, and the GEMM lower bound measured in the same run: the step's GEMM
FLOPs over the peak GEMM FLOP/s of the BLAS that fastprop's kernels call (SciPy's), plus the
time of the step's exact GEMM shapes alone.

The method (design.md section 6): every BLAS and torch run with one thread count; kernels
are compiled before any timing (the first call is reported on its own); a short pause
separates timed blocks of different libraries, whose idle BLAS workers would otherwise spin
against the next block's threads.

Modules, one job each:

==============  =================================================================
``book``        the books' code, one transcription of each (a package): the baseline and
                the tests' oracle (not a backend)
``steps``       the timed TwoLayerNet steps: book, drop-in, fused, PyTorch
``steps_vol1``  the ``--models`` row factories of vol. 1 (book, drop-in, fused, torch)
``steps_vol2``  the ``--models`` row factories of vol. 2
``models``      the ``--models`` blocks: their row tables, options, memory, timing
``timing``      single-call timings, adaptive repeats, rounds, the pause between libraries
``gemm``        the GEMM lower bound: GEMM counts, FLOPs, peak GFLOP/s, GEMM shapes alone
``machine``     CPU, cores, BLAS pools, versions, import time, cache stats, load meter
``report``      the table (:func:`format_table`, :func:`fmt_time`)
``runner``      :func:`run`: the whole benchmark, returning the raw numbers
``command``     the command line (:func:`add_arguments`, :func:`run_from_args`, :func:`main`)
==============  =================================================================

``fastprop bench --models convnet deepnet multilayer im2col deepinfer rnnlm lstm seq2seq
generate cbow sampler ppmi`` (or ``vol1``, ``vol2``, ``all``) times the steps beyond ch. 5 the same way, one table
per block; the default, ``twolayer``, is the TwoLayerNet sizes and the spiral fit.

Run it as ``fastprop bench`` or ``python -m fastprop.bench``.
"""
from .book import LR, BookSGD, BookTwoLayerNet, book_step
from .command import add_arguments, main, run_from_args
from .gemm import gemm_shape_times, n_gemms, peak_gflops, step_flops
from .report import HEADERS, LABELS, fmt_time, format_table, size_name
from .runner import SPIRAL_REPS, parse_size, run
from .steps import IMPLS, SIZES, make_step
from .timing import BUDGET, PAUSE, ROUNDS

__all__ = [
    "BUDGET", "BookSGD", "BookTwoLayerNet", "HEADERS", "IMPLS", "LABELS", "LR", "PAUSE", "ROUNDS",
    "SIZES", "SPIRAL_REPS", "add_arguments", "book_step", "fmt_time", "format_table",
    "gemm_shape_times", "main", "make_step", "n_gemms", "parse_size", "peak_gflops", "run",
    "run_from_args", "size_name", "step_flops",
]
