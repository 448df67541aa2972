"""NumPy's legacy global generator, MT19937, in compiled form: the refill (:func:`twist`), the
output function (:func:`temper`), and the draws built on them (:func:`next_u32`, and
:func:`next_double`, which is ``random_sample()``'s double). The kernels that must draw
exactly what ``np.random`` draws (the book's shuffle, negative sampler and dropout masks)
share these; callers read the state with ``np.random.get_state()`` and write it back.

The state travels as ``key`` (624 uint32 words), ``tempered`` (the key's outputs, tempered
in one pass after each refill) and ``pos`` ((1,) int64, the next word to use).
"""
import numpy as np

from ._jit import jit

N_WORDS = 624  # the key of np.random.get_state()
_M = 397


_UPPER = np.uint32(0x80000000)
_LOWER = np.uint32(0x7FFFFFFF)
_MATRIX_A = np.uint32(0x9908B0DF)


@jit
def twist(key):
    """MT19937's state refill, in place (the reference algorithm's three loops)."""
    for i in range(N_WORDS - _M):
        y = (key[i] & _UPPER) | (key[i + 1] & _LOWER)
        key[i] = key[i + _M] ^ (y >> np.uint32(1)) ^ (_MATRIX_A if y & np.uint32(1) else np.uint32(0))
    for i in range(N_WORDS - _M, N_WORDS - 1):
        y = (key[i] & _UPPER) | (key[i + 1] & _LOWER)
        key[i] = key[i + _M - N_WORDS] ^ (y >> np.uint32(1)) ^ (_MATRIX_A if y & np.uint32(1) else np.uint32(0))
    y = (key[N_WORDS - 1] & _UPPER) | (key[0] & _LOWER)
    key[N_WORDS - 1] = key[_M - 1] ^ (y >> np.uint32(1)) ^ (_MATRIX_A if y & np.uint32(1) else np.uint32(0))


@jit
def temper(key, out):
    """MT19937's output function on every word of the key (vectorised)."""
    for i in range(N_WORDS):
        y = key[i]
        y ^= y >> np.uint32(11)
        y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
        y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
        y ^= y >> np.uint32(18)
        out[i] = y


@jit
def next_u32(key, tempered, pos):
    """The next 32-bit output of the generator; ``pos[0]`` advances (refilling the key)."""
    if pos[0] >= N_WORDS:
        twist(key)
        temper(key, tempered)
        pos[0] = 0
    w = tempered[pos[0]]
    pos[0] += 1
    return w


@jit
def next_double(key, tempered, pos):
    """``random_sample()``'s double from two 32-bit outputs (first one high)."""
    a = np.float64(next_u32(key, tempered, pos) >> np.uint32(5))
    b = np.float64(next_u32(key, tempered, pos) >> np.uint32(6))
    return (a * 67108864.0 + b) / 9007199254740992.0
