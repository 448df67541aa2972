"""Kernels of vol. 2's seq2seq models (ch. 7-8): the attention of a whole decoded sequence
each way, and greedy generation (the book's ``generate``: argmax at every step) of many
questions in one call.

Attention (the book's ``TimeAttention``: per decoder step ``s = hs_enc . h``, ``a =
softmax(s)``, ``c = sum_t a_t hs_enc[t]``) over all (N, T_dec) steps at once; the backward sums
the encoder gradient over the decoder steps as the book's loop does.

Generation runs the encoder and the decoder row by row with the matrix products written as
loops (``out[j] += x[k] W[k, j]`` in k order, vectorised over j): every row's arithmetic is
the same whatever the number of questions, so scoring 5000 questions in one call gives, for
each, exactly what generating it alone gives. Questions go in blocks whose rows share each
weight row while it is in cache.
"""
import numpy as np

from ._jit import jit
from .recurrent import lstm_gate_coefficients, tanh
from .vmath import exp as vexp

#: questions decoded together (their rows share each weight row while it is in L1)
BLOCK = 16


@jit(fastmath={"reassoc"})  # lets the dot products over H vectorise (sums reordered)
def attention_forward(enc_hs, dec_hs, a, c):
    """Attention weights and context of every decoder step.

    Parameters
    ----------
    enc_hs : (N, Te, H) encoder states
    dec_hs : (N, Td, H) decoder states
    a : (N, Td, Te) written with ``softmax_s(enc_hs[n, s] . dec_hs[n, t])``
    c : (N, Td, H) written with ``sum_s a[n, t, s] enc_hs[n, s]``

    Returns
    -------
    c
    """
    N, Te, H = enc_hs.shape
    Td = dec_hs.shape[1]
    for n in range(N):
        for t in range(Td):
            h = dec_hs[n, t]
            w = a[n, t]
            for s in range(Te):
                e = enc_hs[n, s]
                acc = 0.0
                for j in range(H):
                    acc += e[j] * h[j]
                w[s] = acc
            mx = w[0]
            for s in range(1, Te):
                if w[s] > mx:
                    mx = w[s]
            tot = 0.0
            for s in range(Te):
                w[s] = np.exp(w[s] - mx)
                tot += w[s]
            for s in range(Te):
                w[s] = w[s] / tot
            out = c[n, t]
            out[:] = 0
            for s in range(Te):
                e = enc_hs[n, s]
                ws = w[s]
                for j in range(H):
                    out[j] += ws * e[j]
    return c


@jit(fastmath={"reassoc"})
def attention_backward(enc_hs, dec_hs, a, dc, denc_hs, ddec_hs):
    """Gradients of :func:`attention_forward` from the context gradient ``dc``.

    Parameters
    ----------
    enc_hs, dec_hs, a : as :func:`attention_forward` left them
    dc : (N, Td, H) upstream gradient of the context
    denc_hs : (N, Te, H) written with the encoder-state gradient summed over decoder steps
    ddec_hs : (N, Td, H) written with the decoder-state gradient

    Notes
    -----
    ``da_s = dc . enc_s``; ``ds = a (da - sum_s a da)`` (softmax); ``denc_s += a_s dc +
    ds_s dec``; ``ddec = sum_s ds_s enc_s``.
    """
    N, Te, H = enc_hs.shape
    Td = dec_hs.shape[1]
    ds = np.empty(Te, a.dtype)
    denc_hs[:] = 0
    for n in range(N):
        for t in range(Td):
            w = a[n, t]
            g = dc[n, t]
            h = dec_hs[n, t]
            tot = 0.0
            for s in range(Te):
                e = enc_hs[n, s]
                acc = 0.0
                for j in range(H):
                    acc += g[j] * e[j]
                ds[s] = w[s] * acc
                tot += ds[s]
            for s in range(Te):
                ds[s] = ds[s] - w[s] * tot
            dh = ddec_hs[n, t]
            dh[:] = 0
            for s in range(Te):
                e = enc_hs[n, s]
                de = denc_hs[n, s]
                ws, d = w[s], ds[s]
                for j in range(H):
                    de[j] += ws * g[j] + d * h[j]
                for j in range(H):
                    dh[j] += d * e[j]
    return denc_hs


@jit
def _rows_acc(x, W, out):
    """``out += x @ W`` for the rows of ``x``, four k at a time (``o += (x0 w0 + x1 w1) +
    (x2 w2 + x3 w3)``: a quarter of the loads and stores of ``out``), the j loop vectorised.
    Every row gets the same arithmetic whatever the other rows are."""
    K, M = W.shape
    k = 0
    while k + 4 <= K:
        w0, w1, w2, w3 = W[k], W[k + 1], W[k + 2], W[k + 3]
        for n in range(x.shape[0]):
            x0, x1, x2, x3 = x[n, k], x[n, k + 1], x[n, k + 2], x[n, k + 3]
            o = out[n]
            for j in range(M):
                o[j] += (x0 * w0[j] + x1 * w1[j]) + (x2 * w2[j] + x3 * w3[j])
        k += 4
    while k < K:
        w = W[k]
        for n in range(x.shape[0]):
            xk = x[n, k]
            o = out[n]
            for j in range(M):
                o[j] += xk * w[j]
        k += 1


@jit
def _lstm_cell(A, b, h, c, coef):
    """Gates ``f, g, i, o`` of the pre-activations ``A`` (bias added here), then ``c`` and
    ``h`` in place, row by row. ``coef`` = :func:`.recurrent.lstm_gate_coefficients`: one
    straight-line formula for the 4H gate columns, which LLVM vectorises."""
    H = h.shape[1]
    scale, mul, add = coef
    for n in range(A.shape[0]):
        a = A[n]
        for j in range(4 * H):
            a[j] = mul[j] / (1.0 + vexp(-scale[j] * (a[j] + b[j]))) + add[j]
        cr, hr = c[n], h[n]
        for j in range(H):
            cr[j] = a[j] * cr[j] + a[H + j] * a[2 * H + j]
        for j in range(H):
            hr[j] = a[3 * H + j] * tanh(cr[j])


@jit
def _embed_rows(W, ids, out):
    for n in range(ids.shape[0]):
        out[n] = W[ids[n]]


@jit
def _lstm_block(embed_W, Wh):
    """Scratch of one block of :data:`BLOCK` rows: pre-activations (B, 4H), ``h``, ``c``
    (B, H), embedded inputs (B, D), in the weights' dtype; and the gate coefficients."""
    B = BLOCK
    H = Wh.shape[0]
    dt = Wh.dtype
    return (np.empty((B, 4 * H), dt), np.empty((B, H), dt), np.empty((B, H), dt),
            np.empty((B, embed_W.shape[1]), dt), lstm_gate_coefficients(H, np.float64))


@jit
def _lstm_step(embed_W, ids, Wx, Wh, b, coef, x, h, c, A, hx, peeky, recur):
    """One LSTM step of a block of rows fed the ids ``ids``: ``x = embed_W[ids]``, ``A = [hx,
    x] @ Wx`` (``peeky``: the book's PeekyDecoder input) or ``x @ Wx``, ``+ h @ Wh``
    (``recur``; off where ``h`` is known to be 0), then :func:`_lstm_cell` updates ``h``, ``c``
    in place. The encoder and every decoder share it, so their rows get the same arithmetic."""
    H = Wh.shape[0]
    A[:] = 0
    _embed_rows(embed_W, ids, x)
    if peeky:
        _rows_acc(hx, Wx[:H], A)
        _rows_acc(x, Wx[H:], A)
    else:
        _rows_acc(x, Wx, A)
    if recur:
        _rows_acc(h, Wh, A)
    _lstm_cell(A, b, h, c, coef)


@jit
def _attend(enc, h, w, ctx):
    """The context of one decoder state ``h`` (H,) over ``enc`` (Te, H)."""
    Te, H = enc.shape
    for s in range(Te):
        acc = 0.0
        for j in range(H):
            acc += enc[s, j] * h[j]
        w[s] = acc
    mx = w[0]
    for s in range(1, Te):
        if w[s] > mx:
            mx = w[s]
    tot = 0.0
    for s in range(Te):
        w[s] = np.exp(w[s] - mx)
        tot += w[s]
    ctx[:] = 0
    for s in range(Te):
        ws = w[s] / tot
        for j in range(H):
            ctx[j] += ws * enc[s, j]


@jit
def encode_rows(xs, encoder, hs):
    """The encoder (TimeEmbedding + TimeLSTM from a zero state) of every question, keeping
    its last ``K`` states.

    Parameters
    ----------
    xs : (N, Te) intp question ids in ``[0, V)``
    encoder : tuple ``(embed_W (V, D), Wx (D, 4H), Wh (H, 4H), b (4H,))``
    hs : (N, K, H) written with the states of steps ``Te - K .. Te - 1`` (K = 1: the last
        state, what ``Encoder`` hands over; K = Te: all, for attention)

    Returns
    -------
    hs
    """
    eW, eWx, eWh, eb = encoder
    N, Te = xs.shape
    K = hs.shape[1]
    B = BLOCK
    A, h, c, x, coef = _lstm_block(eW, eWh)
    for lo in range(0, N, B):
        m = min(B, N - lo)
        Am, hm, cm, xm = A[:m], h[:m], c[:m], x[:m]
        hm[:] = 0
        cm[:] = 0
        for t in range(Te):
            # the zero initial state adds nothing: no h @ Wh at t = 0
            _lstm_step(eW, xs[lo:lo + m, t], eWx, eWh, eb, coef, xm, hm, cm, Am, hm, False, t > 0)
            k = t - (Te - K)
            if k >= 0:
                for n in range(m):
                    hs[lo + n, k] = hm[n]
    return hs


@jit
def greedy_decode(h0, enc_hs, start_ids, decoder, kind, out):
    """The book's ``Decoder.generate`` for every row: ``S`` decoder steps from the state
    ``h0`` (cell state zero), each feeding back the argmax of its scores (the first of equal
    maxima, as ``np.argmax``).

    Parameters
    ----------
    h0 : (N, H) the encoder's last state of each question
    enc_hs : (N, Te, H) every encoder state (read when ``kind`` is 2; else any (N, K, H))
    start_ids : (N,) intp first decoder input of each row, in ``[0, V)``
    decoder : tuple ``(embed_W (V, D), Wx (Din, 4H), Wh (H, 4H), b (4H,), W (F, V), bias (V,))``
    kind : int, 0 (``Decoder``: Din = D, F = H), 1 (``PeekyDecoder``: ``h0`` joins every
        input and every output, Din = H + D, F = 2H) or 2 (``AttentionDecoder``: output
        ``[context, h]``, Din = D, F = 2H)
    out : (N, S) intp written with the generated ids

    Returns
    -------
    out
    """
    dW, dWx, dWh, db, aW, ab = decoder
    N, H = h0.shape
    S = out.shape[1]
    V = aW.shape[1]
    dt = dWh.dtype
    B = BLOCK
    A, h, c, x, coef = _lstm_block(dW, dWh)
    feat = np.empty((B, 2 * H), dt)
    score = np.empty((B, V), dt)
    w = np.empty(enc_hs.shape[1], dt)
    ids = np.empty(B, np.intp)
    for lo in range(0, N, B):
        m = min(B, N - lo)
        Am, hm, cm, xm = A[:m], h[:m], c[:m], x[:m]
        hx = h0[lo:lo + m]
        hm[:] = hx
        cm[:] = 0
        ids[:m] = start_ids[lo:lo + m]
        for s in range(S):
            _lstm_step(dW, ids[:m], dWx, dWh, db, coef, xm, hm, cm, Am, hx, kind == 1, True)
            if kind == 0:
                fm = feat[:m, :H]
                fm[:] = hm
            else:
                fm = feat[:m, :2 * H]
                for n in range(m):
                    if kind == 1:
                        fm[n, :H] = hx[n]
                    else:
                        _attend(enc_hs[lo + n], hm[n], w, fm[n, :H])
                    fm[n, H:] = hm[n]
            sm = score[:m]
            for n in range(m):
                sm[n] = ab
            _rows_acc(fm, aW, sm)
            for n in range(m):
                r = sm[n]
                best = 0
                for j in range(1, V):
                    if r[j] > r[best]:
                        best = j
                ids[n] = best
                out[lo + n, s] = best
    return out
