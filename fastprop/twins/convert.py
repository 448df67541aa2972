"""Twin of :mod:`fastprop.kernels.convert`."""
import numpy as np


def cast_into(x, out):
    new = x.astype(out.dtype)
    changed = not np.array_equal(out, new)
    out[...] = new
    return changed
