"""Twins of :mod:`fastprop.kernels.mt19937`: the reference MT19937 algorithm in plain Python."""
import numpy as np

N_WORDS, _M = 624, 397


def twist(key):
    for i in range(N_WORDS):
        y = (int(key[i]) & 0x80000000) | (int(key[(i + 1) % N_WORDS]) & 0x7FFFFFFF)
        key[i] = int(key[(i + _M) % N_WORDS]) ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)


def temper(key, out):
    y = key.astype(np.uint32)
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    out[...] = y


def next_u32(key, tempered, pos):
    if pos[0] >= N_WORDS:
        twist(key)
        temper(key, tempered)
        pos[0] = 0
    w = tempered[pos[0]]
    pos[0] += 1
    return w


def next_double(key, tempered, pos):
    a = int(next_u32(key, tempered, pos)) >> 5
    b = int(next_u32(key, tempered, pos)) >> 6
    return (a * 67108864.0 + b) / 9007199254740992.0
