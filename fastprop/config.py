"""Library-wide defaults, read once from the environment at import time.

=======================  ==========================================================
``FASTPROP_CACHE``        ``1`` (default) caches compiled kernels on disk (Numba's
                          ``cache=True``); ``0`` compiles afresh in every process.
``FASTPROP_THREADS``      BLAS threads used by the training loops (see
                          :func:`fastprop.threads.thread_limit`); unset = ``auto``.
``FASTPROP_DATA``         folder for downloaded/imported data sets
                          (default ``~/.cache/fastprop``).
=======================  ==========================================================
"""
import os

from .kernels._jit import CACHE  # noqa: F401  (the kernels read FASTPROP_CACHE themselves)

#: Numba on-disk cache for compiled kernels (users: on; tests/benchmarks: point
#: NUMBA_CACHE_DIR at a fresh folder or set FASTPROP_CACHE=0): ``CACHE`` above.

#: BLAS thread policy: "auto" or a positive integer as a string.
THREADS = os.environ.get("FASTPROP_THREADS", "auto").strip().lower() or "auto"

#: Where data sets live.
DATA_DIR = os.path.expanduser(os.environ.get("FASTPROP_DATA", os.path.join("~", ".cache", "fastprop")))
