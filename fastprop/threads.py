"""One thread setting for both BLAS copies in the process.

NumPy and SciPy each load their own OpenBLAS; fastprop's kernels call SciPy's (``np.dot``
inside ``@njit``), so a fastprop training loop stays on one BLAS and never hands work
back and forth between two sets of spinning worker threads. This module sets the thread
count of every BLAS at once through threadpoolctl.

Policy (``FASTPROP_THREADS`` or :func:`set_threads`):

* ``auto`` (default): leave the BLAS defaults alone (one thread per core);
* an integer ``n``: limit every BLAS in the process to ``n`` threads.
"""
import contextlib

from threadpoolctl import threadpool_info, threadpool_limits

from . import config

_policy = config.THREADS


def _parse(n):
    if n is None or (isinstance(n, str) and n.strip().lower() == "auto"):
        return None
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise ValueError(f"threads must be 'auto' or a positive integer, got {n!r}") from None
    if value <= 0 or isinstance(n, bool):
        raise ValueError(f"threads must be 'auto' or a positive integer, got {n!r}")
    return value


def set_threads(n):
    """Set the process-wide BLAS thread policy: ``'auto'`` or a positive integer."""
    global _policy
    value = _parse(n)
    _policy = "auto" if value is None else str(value)
    if value is not None:
        threadpool_limits(limits=value, user_api="blas")


def get_threads():
    """The current policy (``'auto'`` or an integer)."""
    value = _parse(_policy)
    return "auto" if value is None else value


@contextlib.contextmanager
def thread_limit(n=None):
    """Within the block, every BLAS uses ``n`` threads (None: the current policy)."""
    value = _parse(_policy if n is None else n)
    if value is None:
        yield
        return
    with threadpool_limits(limits=value, user_api="blas"):
        yield


def blas_info():
    """``[(library file, threads, internal_api, architecture)]`` of every BLAS loaded."""
    return [(i.get("filepath", "?").rsplit("/", 1)[-1], i.get("num_threads"),
             i.get("internal_api"), i.get("architecture")) for i in threadpool_info()
            if i.get("user_api") == "blas"]


if _parse(_policy) is not None:  # an explicit FASTPROP_THREADS applies from import on
    threadpool_limits(limits=_parse(_policy), user_api="blas")
