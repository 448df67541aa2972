"""Twin of :mod:`fastprop.kernels.shuffle`: NumPy's own ``permutation`` on a copy of the state."""
import numpy as np


def book_shuffles(key, pos, order, out):
    rs = np.random.RandomState()
    rs.set_state(("MT19937", key, int(pos[0])))
    cur = order
    for e in range(out.shape[0]):
        cur = cur[rs.permutation(len(cur))]
        out[e] = cur
    _, k, p = rs.get_state()[:3]
    key[:] = k
    pos[0] = p
    return out
