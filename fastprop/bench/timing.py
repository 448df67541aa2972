"""How ``fastprop bench`` times: single calls after a warm-up, a repeat count that adapts
to a time budget, interleaved rounds, and a pause between blocks of different libraries."""
import time
from typing import Callable, Optional

import numpy as np

PAUSE = 0.2          # s between timed blocks of different libraries (spinning BLAS workers)
BUDGET = 1.0         # s of timed steps per row when the repeat count is adaptive
ROUNDS = 3           # interleaved timing rounds per size
MIN_REPEAT, MAX_REPEAT = 5, 2000


def best_time(fn: Callable[[], object], reps: int, warm: int = 1) -> float:
    """Fastest of ``reps`` timed calls of ``fn`` (s), after ``warm`` untimed ones."""
    for _ in range(warm):
        fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def time_steps(step: Callable[[], object], repeat: Optional[int], budget: float,
               min_repeat: int = MIN_REPEAT, max_repeat: int = MAX_REPEAT,
               warm_s: float = 0.1) -> np.ndarray:
    """Per-call times of ``step``.

    Parameters
    ----------
    step : callable
        One training step (or any call) to time.
    repeat : int or None
        Timed calls; None: as many as fit in ``budget`` seconds by the fastest warm-up
        call, clipped to ``[min_repeat, max_repeat]``.
    budget : float
        Seconds of timed calls when ``repeat`` is None.
    min_repeat, max_repeat : int
        Bounds of the adaptive repeat count.
    warm_s : float
        Warm-up: two calls, then more (at most 50) until ``warm_s`` seconds have passed;
        the first call also faults in new memory.

    Returns
    -------
    ndarray of float64, shape (repeat,)
        Seconds of each timed call.
    """
    perf = time.perf_counter
    start = perf()
    fastest = float("inf")
    n = 0
    while n < 2 or (perf() - start < warm_s and n < 50):
        t0 = perf()
        step()
        fastest = min(fastest, perf() - t0)
        n += 1
    if repeat is None:
        repeat = int(min(max(budget / max(fastest, 1e-9), min_repeat), max_repeat))
    times = np.empty(repeat)
    for i in range(repeat):
        t0 = perf()
        step()
        times[i] = perf() - t0
    return times


def round_share(repeat: Optional[int], rounds: int, r: int) -> Optional[int]:
    """Timed calls of round ``r`` (0-based) when ``repeat`` calls are spread exactly over
    ``rounds`` rounds; None when the budget decides (``repeat`` is None)."""
    return None if repeat is None else repeat // rounds + (r < repeat % rounds)


class Switch:
    """Sleep :data:`PAUSE` before a timed block whose library differs from the last one.

    The previous library's idle BLAS workers keep spinning for a while after its last call
    and would steal the cores from the next block's threads (design.md, section 6).
    """

    def __init__(self) -> None:
        self.last = None

    def __call__(self, lib: Optional[str]) -> None:
        if self.last is not None and lib != self.last:
            time.sleep(PAUSE)
        self.last = lib
