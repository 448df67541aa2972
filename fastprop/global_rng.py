"""NumPy's legacy global generator as the compiled kernels take it: the MT19937 key and
position read out of ``np.random.get_state()`` and written back after the kernel ran, so
that a compiled draw leaves ``np.random`` exactly where NumPy's own call would."""
from __future__ import annotations

import numpy as np


def take():
    """``(state, key, pos)``: the global state, a writeable copy of its 624-word key and its
    position as a (1,) int64 array (what the kernels advance in place)."""
    state = np.random.get_state()
    if state[0] != "MT19937":
        raise ValueError(f"np.random's global generator must be MT19937, got {state[0]!r}")
    key = np.array(state[1], dtype=np.uint32)
    return state, key, np.array([state[2]], dtype=np.int64)


def give_back(state, key: np.ndarray, pos: np.ndarray) -> None:
    """Write the advanced ``key``/``pos`` back (the Gaussian cache of ``state`` is kept)."""
    np.random.set_state((state[0], key, int(pos[0])) + tuple(state[3:]))
