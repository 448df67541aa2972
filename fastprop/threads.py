"""One thread setting for both BLAS copies in the process.

NumPy and SciPy each load their own OpenBLAS; fastprop's kernels call SciPy's (``np.dot``
inside ``@njit``), so a fastprop training loop stays on one BLAS and never hands work
back and forth between two sets of spinning worker threads. This module sets the thread
count of every BLAS at once through threadpoolctl.

Policy (``FASTPROP_THREADS`` or :func:`set_threads`):

* ``auto`` (default): leave the BLAS defaults alone (one thread per core);
* an integer ``n``: limit every BLAS in the process to ``n`` threads.

A bad ``FASTPROP_THREADS`` never breaks ``import fastprop``: the ValueError (naming the
variable) comes where the value is used (:func:`get_threads`, :func:`thread_limit`,
:func:`check_policy`), which the ``fastprop`` command does first.
"""
import contextlib

from threadpoolctl import threadpool_info, threadpool_limits

from . import config

_policy = config.THREADS
_source = "FASTPROP_THREADS"  # who set the policy: the environment, until set_threads


def _parse(n, name="threads"):
    if n is None or (isinstance(n, str) and n.strip().lower() == "auto"):
        return None
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be 'auto' or a positive integer, got {n!r}") from None
    if value <= 0 or isinstance(n, bool):
        raise ValueError(f"{name} must be 'auto' or a positive integer, got {n!r}")
    return value


def _load_kernel_blas() -> None:
    """Load SciPy's BLAS (the one the kernels call) before a limit is set: threadpoolctl
    only reaches libraries already loaded, and Numba loads SciPy's on the first compiled
    GEMM, which would then run with one thread per core whatever the policy said."""
    import scipy.linalg.cython_blas  # noqa: F401  (loading the library is the point)


def _limit(value) -> None:
    _load_kernel_blas()
    threadpool_limits(limits=value, user_api="blas")


def set_threads(n) -> None:
    """Set the process-wide BLAS thread policy: ``'auto'`` or a positive integer."""
    global _policy, _source
    value = _parse(n)
    _policy, _source = ("auto" if value is None else str(value)), "threads"
    if value is not None:
        _limit(value)


def get_threads():
    """The current policy (``'auto'`` or an integer); ValueError when ``FASTPROP_THREADS``
    holds something else."""
    value = _parse(_policy, _source)
    return "auto" if value is None else value


def check_policy() -> None:
    """ValueError naming ``FASTPROP_THREADS`` when it holds neither ``auto`` nor a
    positive integer (and :func:`set_threads` has not replaced it)."""
    get_threads()


@contextlib.contextmanager
def thread_limit(n=None):
    """Within the block, every BLAS uses ``n`` threads (None: the current policy)."""
    value = _parse(_policy, _source) if n is None else _parse(n)
    if value is None:
        yield
        return
    _load_kernel_blas()
    with threadpool_limits(limits=value, user_api="blas"):
        yield


def blas_info():
    """``[(library file, threads, internal_api, architecture)]`` of every BLAS loaded."""
    return [(i.get("filepath", "?").rsplit("/", 1)[-1], i.get("num_threads"),
             i.get("internal_api"), i.get("architecture")) for i in threadpool_info()
            if i.get("user_api") == "blas"]


def _apply_environment():
    """An explicit, valid ``FASTPROP_THREADS`` applies from import on; a bad one waits for
    its first use to raise (see the module's docstring)."""
    try:
        value = _parse(_policy, _source)
    except ValueError:
        return
    if value is not None:
        _limit(value)


_apply_environment()
