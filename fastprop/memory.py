"""The process's allocator, set for training loops (glibc on Linux; elsewhere nothing).

A training step allocates and frees the same large arrays again and again: a conv net's
activations and their gradients are megabytes each (SimpleConvNet's first ReLU output is
(100, 30, 24, 24) float64, 13.8 MB). glibc serves an allocation above its mmap threshold
with fresh pages from the kernel, and gives the top of its heap back to the kernel once
more than its trim threshold is free there; both thresholds move with what the process
frees (its "dynamic" thresholds). Whether a step's arrays come back as pages the process
already has, or as new pages that fault in and are zeroed one by one, then depends on the
order of the allocations: a change that made one array of the pooling layer smaller
(3.5 MB -> 0.4 MB) turned ch07's ``train_convnet.py`` from 52 thousand minor page faults into
650 thousand and made the ReLU and convolution passes after it 1.5-2x slower (measured at
1 thread, the script with per-layer timers: 12.5-15.7 s, 11.0 s with both thresholds fixed;
see docs/performance.md).

:func:`keep_freed_memory` fixes both thresholds: arrays up to :data:`MMAP_THRESHOLD`
come from the heap, and freed heap memory is kept up to :data:`TRIM_THRESHOLD`. The process
then holds on to what it freed (at most what it used at its peak), as PyTorch's and
NumPy's own caches do. The ``fastprop`` command calls it before any work; call it yourself
at the start of a training program that imports fastprop as a library.
"""
from __future__ import annotations

import ctypes
import sys

#: arrays up to this size come from the heap (glibc's ceiling for the threshold on 64-bit)
MMAP_THRESHOLD = 32 << 20
#: freed memory at the top of the heap is given back to the system only above this
TRIM_THRESHOLD = 256 << 20

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3

_done = None


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module's docstring); True when they
    are set (now or before), False where there is no glibc ``mallopt`` (macOS, Windows,
    musl). Safe to call more than once."""
    global _done
    if _done is None:
        _done = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None)
                mallopt = libc.mallopt
                libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl has no such function)
            except (OSError, AttributeError):
                return False
            mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            mallopt.restype = ctypes.c_int
            # setting either one ends glibc's dynamic thresholds, and the mmap threshold is
            # the one that can be refused (above glibc's ceiling on a 32-bit system): it goes
            # first, and the trim threshold only after it took
            _done = (bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
                     and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
    return _done
