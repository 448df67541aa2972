"""Twins of :mod:`fastprop.kernels.generate`: the layer twins step by step and NumPy's own
``RandomState.choice`` on the same MT19937 state."""
import numpy as np

from .affine import affine_forward
from .recurrent import lstm_forward
from .rows import softmax_rows

OK, P_NAN, P_SUM = 0, 1, 2


def generate_words(key, pos, skip, embed_W, lstms, W, b, h, c, atol, out):
    rs = np.random.RandomState()
    rs.set_state(("MT19937", key, int(pos[0]), 0, 0.0))
    S, V, H = out.shape[0], embed_W.shape[0], h.shape[1]
    dt = embed_W.dtype
    n, word, status = 1, int(out[0]), OK
    while n < S:
        xs = embed_W[[word]].reshape(1, 1, -1)
        for layer, (Wx, Wh, bl) in enumerate(lstms):
            hs = np.empty((1, 1, H), dt)
            Hs, Cs = np.empty((2, 1, H), dt), np.empty((2, 1, H), dt)
            lstm_forward(xs, Wx, Wh, bl, h[layer:layer + 1], c[layer:layer + 1], hs,
                         np.empty_like(xs), Hs, Cs, np.empty((1, 1, 4 * H), dt), np.empty((1, 1, H), dt))
            h[layer], c[layer] = Hs[1, 0], Cs[1, 0]
            xs = hs
        score = affine_forward(xs[0], W, b, np.empty((1, V), dt), 0)
        p = softmax_rows(score, score)[0]  # in the model's dtype, as the book hands it to choice
        total = p.astype(np.float64).sum()
        if np.isnan(total):
            status = P_NAN
            break
        if abs(total - 1.0) > atol:
            status = P_SUM
            break
        k = int(rs.choice(V, size=1, p=p)[0])
        if k not in skip:
            word = k
            out[n] = k
            n += 1
    state = rs.get_state()
    key[...] = state[1]
    pos[0] = state[2]
    return status
