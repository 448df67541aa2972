"""fastprop.kernels.seq2seq against its twins: the attention of every decoder step each way,
the row-wise encoder and the greedy decoder (the book's ``generate``) of every kind."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import seq2seq as K

steps = st.integers(1, 9)
hidden = st.integers(1, 12)


def _attention(draw, dt, backward=False):
    r = parity.rng(draw)
    N, Te, Td, H = draw(st.integers(1, 6)), draw(steps), draw(steps), draw(hidden)
    scale = draw(st.sampled_from([1e-3, 1.0, 5.0]))
    enc = (scale * r.standard_normal((N, Te, H))).astype(dt)
    dec = (scale * r.standard_normal((N, Td, H))).astype(dt)
    a = np.full((N, Td, Te), np.nan, dt)
    if not backward:
        return [enc, dec, a, np.full((N, Td, H), np.nan, dt)]
    e = np.exp(r.standard_normal((N, Td, Te)))
    a = (e / e.sum(axis=2, keepdims=True)).astype(dt)
    return [enc, dec, a, r.standard_normal((N, Td, H)).astype(dt), np.full((N, Te, H), np.nan, dt),
            np.full((N, Td, H), np.nan, dt)]


def _weights(r, V, D, H, din, feat, dt):
    def w(*shape):
        return (r.standard_normal(shape) / np.sqrt(shape[0])).astype(dt)
    enc = (w(V, D), w(D, 4 * H), w(H, 4 * H), w(4 * H))
    dec = (w(V, D), w(din, 4 * H), w(H, 4 * H), w(4 * H), w(feat, V), w(V))
    return enc, dec


def _encode(draw, dt):
    r = parity.rng(draw)
    V, D, H, N, Te = draw(parity.classes), draw(hidden), draw(hidden), draw(st.integers(1, 40)), draw(steps)
    enc, _ = _weights(r, V, D, H, D, H, dt)
    K_ = draw(st.sampled_from([1, Te]))
    return [r.integers(0, V, (N, Te)).astype(np.intp), enc, np.full((N, K_, H), np.nan, dt)]


def _decode(draw, dt):
    r = parity.rng(draw)
    kind = draw(st.sampled_from([0, 1, 2]))
    V, D, H, N, Te = draw(parity.classes), draw(hidden), draw(hidden), draw(st.integers(1, 40)), draw(steps)
    din, feat = {0: (D, H), 1: (H + D, 2 * H), 2: (D, 2 * H)}[kind]
    _, dec = _weights(r, V, D, H, din, feat, dt)
    enc_hs = np.tanh(r.standard_normal((N, Te, H))).astype(dt)
    return [np.ascontiguousarray(enc_hs[:, -1]), enc_hs, r.integers(0, V, N).astype(np.intp), dec, kind,
            np.full((N, draw(st.integers(0, 6))), -1, np.intp)]


def _one_question_at_a_time(k, t, dt):
    """Row n of a many-question call is what deciding question n alone gives, bit for bit."""
    a = k.args
    for n in range(a["h0"].shape[0]):
        out = np.empty((1, a["out"].shape[1]), np.intp)
        K.greedy_decode(a["h0"][n:n + 1], a["enc_hs"][n:n + 1], a["start_ids"][n:n + 1], a["decoder"],
                        a["kind"], out)
        np.testing.assert_array_equal(out[0], a["out"][n])


CASES = {
    "attention_forward": parity.Case(_attention, outputs=("a", "c"), returns="c", floor=1.0),
    "attention_backward": parity.Case(lambda d, dt: _attention(d, dt, True), outputs=("denc_hs", "ddec_hs"),
                                      returns="denc_hs", floor=lambda a: float(np.abs(a["enc_hs"]).max()
                                                                              * np.abs(a["dc"]).max()
                                                                              + np.abs(a["dec_hs"]).max())),
    "encode_rows": parity.Case(_encode, outputs=("hs",), returns="hs", floor=1.0),
    # integer answers: an argmax near a tie may flip between float32 and float64 math
    "greedy_decode": parity.Case(_decode, outputs=("out",), returns="out", dtypes=(np.float64,),
                                 check=_one_question_at_a_time, examples=25),
}

test_parity = parity.make_test("seq2seq", CASES)


def test_attention_weights_are_a_softmax_and_ties_are_uniform():
    enc = np.ones((2, 5, 3))
    dec = np.random.default_rng(0).standard_normal((2, 4, 3))
    a, c = np.empty((2, 4, 5)), np.empty((2, 4, 3))
    K.attention_forward(enc, dec, a, c)
    np.testing.assert_allclose(a, 0.2, rtol=1e-15)
    np.testing.assert_allclose(c, 1.0, rtol=1e-15)


def test_huge_attention_scores_stay_finite():
    enc = np.array([[[1e3, 0.0], [-1e3, 0.0]]])
    dec = np.array([[[1e3, 0.0]]])
    a, c = np.empty((1, 1, 2)), np.empty((1, 1, 2))
    K.attention_forward(enc, dec, a, c)
    assert np.isfinite(a).all() and a[0, 0, 0] == 1.0 and a[0, 0, 1] == 0.0


def test_greedy_decode_takes_the_first_of_equal_maxima():
    H, V, D = 2, 4, 3
    dec = (np.zeros((V, D)), np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H), np.zeros((H, V)),
           np.array([0.0, 1.0, 1.0, 0.5]))
    out = np.empty((1, 3), np.intp)
    K.greedy_decode(np.zeros((1, H)), np.zeros((1, 1, H)), np.zeros(1, np.intp), dec, 0, out)
    assert out.tolist() == [[1, 1, 1]]
