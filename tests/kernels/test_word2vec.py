"""fastprop.kernels.word2vec against its twins (the book's dense ``np.add.at`` arithmetic),
small vocabularies so that ids repeat within a slot and across slots."""
import numpy as np
import parity
from hypothesis import strategies as st

from fastprop.kernels import optim as rules

HYPER = {rules.SGD: (0.1, 0.0, 0.0), rules.MOMENTUM: (0.1, 0.9, 0.0), rules.NESTEROV: (0.1, 0.9, 0.0),
         rules.ADAGRAD: (0.1, 0.0, 0.0), rules.RMSPROP: (0.01, 0.99, 0.0), rules.ADAM: (0.01, 0.9, 0.999)}


def acc_for(V, R, B, H, dt):
    """An empty gradient accumulator (the module docstring's layout)."""
    return (np.full(V, -1, np.int64), np.zeros(R, np.int64), np.zeros(1, np.int64), np.zeros((R, H), dt),
            np.full(V, -1, np.int64), np.zeros(B, np.int64), np.zeros((B, H), dt))


def work_for(B, H, dt):
    return tuple(np.zeros((B, H), dt) for _ in range(3)) + tuple(np.zeros(B, dt) for _ in range(3))


def states_for(rule, shape, dt, r):
    n = rules.STATE_COUNT[rule]
    full = [np.abs(r.standard_normal(shape)).astype(dt) * 0.1 for _ in range(n)]
    return tuple(full + [np.zeros((1, shape[1]), dt)] * (2 - n))


def _sizes(draw):
    V = draw(st.sampled_from([3, 6, 30, 200]))
    return V, draw(st.integers(1, 12)), draw(st.integers(1, 16)), 2 * draw(st.integers(1, 2)), \
        draw(st.integers(1, min(4, V - 2)))


def _loss_grads(draw, dt, skip_gram):
    r = parity.rng(draw)
    V, B, H, C, S = _sizes(draw)
    W_in = (0.5 * r.standard_normal((V, H))).astype(dt)
    W_out = (0.5 * r.standard_normal((V, H))).astype(dt)
    contexts = r.integers(0, V, (B, C))
    target = r.integers(0, V, B)
    negatives = r.integers(0, V, ((C if skip_gram else 1) * B, S)).astype(np.int32)
    R_in, R_out = (B if skip_gram else B * C), (C if skip_gram else 1) * B * (S + 1)
    return [W_in, W_out, contexts, target, negatives, draw(st.sampled_from([1.0, 0.5])), work_for(B, H, dt),
            acc_for(V, R_in, B, H, dt), acc_for(V, R_out, B, H, dt)]


ACC_OUT = tuple(f"{a}[{i}]" for a in ("acc_in", "acc_out") for i in range(4))
ACC_SCRATCH = ("work",) + tuple(f"{a}[{i}]" for a in ("acc_in", "acc_out") for i in range(4, 7))


def _filled_acc(r, V, H, dt):
    """An accumulator holding gradients of a few distinct rows."""
    n = int(r.integers(1, V + 1))
    rows = r.permutation(V)[:n]
    acc = acc_for(V, V, 1, H, dt)
    acc[0][rows] = np.arange(n)
    acc[1][:n] = rows
    acc[2][0] = n
    acc[3][:n] = r.standard_normal((n, H)).astype(dt)
    return acc


def _update(draw, dt, dense):
    r = parity.rng(draw)
    V, H = draw(st.sampled_from([1, 4, 30])), draw(st.integers(1, 16))
    rule = draw(st.sampled_from(sorted(HYPER)))
    p = r.standard_normal((V, H)).astype(dt)
    s1, s2 = states_for(rule, (V, H), dt, r)
    args = [rule, np.array(HYPER[rule]), draw(st.integers(1, 50)), p, s1, s2, _filled_acc(r, V, H, dt)]
    return args + [np.zeros((V, H), dt)] if dense else args


def _train_steps(draw, dt):
    r = parity.rng(draw)
    V, B, H, C, S = _sizes(draw)
    skip_gram, fast = draw(st.booleans()), draw(st.booleans())
    n = draw(st.integers(1, 3))
    # float32 against float64 over several steps: Adam and AdaGrad divide by the gradient's
    # own size, which turns float32 rounding of a near-zero gradient into a step of ~lr
    choices = sorted(HYPER) if dt == np.float64 else [rules.SGD, rules.MOMENTUM, rules.NESTEROV]
    rule = draw(st.sampled_from(choices))
    sparse = draw(st.booleans())
    counts = np.bincount(np.concatenate([np.arange(V), r.integers(0, V, 5 * V)]))
    word_p = counts ** 0.75 / np.sum(counts ** 0.75)
    Rn = (C if skip_gram else 1) * B
    data = (r.integers(0, V, (n * B, C)), r.integers(0, V, n * B), np.zeros(Rn, np.int64),
            np.zeros((Rn, S), np.int32))
    P = ((0.5 * r.standard_normal((V, H))).astype(dt), (0.5 * r.standard_normal((V, H))).astype(dt))
    opt = (rule, np.array(HYPER[rule]), states_for(rule, (V, H), dt, r), states_for(rule, (V, H), dt, r),
           draw(st.integers(0, 20)), sparse)
    rs = np.random.RandomState(int(r.integers(0, 2**31)))
    sampler = (rs.get_state()[1].copy(), np.array([rs.get_state()[2]], np.int64), word_p, np.cumsum(word_p),
               fast)
    R_in, R_out = (B if skip_gram else B * C), Rn * (S + 1)
    accs = (acc_for(V, R_in, B, H, dt), acc_for(V, R_out, B, H, dt), np.zeros((V, H), dt), np.zeros((V, H), dt))
    return [skip_gram, data, P, opt, sampler, work_for(B, H, dt), accs, np.zeros(n)]


def _accs_reset(k_run, t_run, dtype):
    for acc in k_run.args["accs"][:2]:
        assert acc[2][0] == 0 and (acc[0] == -1).all() and (acc[4] == -1).all()
    assert not k_run.args["accs"][2].any() and not k_run.args["accs"][3].any()


CASES = {
    "cbow_loss_grads": parity.Case(lambda d, dt: _loss_grads(d, dt, False), outputs=ACC_OUT,
                                   scratch=ACC_SCRATCH, floor=1.0),
    "skipgram_loss_grads": parity.Case(lambda d, dt: _loss_grads(d, dt, True), outputs=ACC_OUT,
                                       scratch=ACC_SCRATCH, floor=1.0),
    "sparse_update": parity.Case(lambda d, dt: _update(d, dt, False), outputs=("p", "s1", "s2"),
                                 inplace=True),
    "dense_update": parity.Case(lambda d, dt: _update(d, dt, True), outputs=("p", "s1", "s2", "gbuf"),
                                inplace=True),
    "word2vec_train_steps": parity.Case(
        _train_steps, outputs=("P", "opt[2]", "opt[3]", "sampler[0]", "sampler[1]", "losses"),
        scratch=("data[2]", "data[3]", "work", "accs"), inplace=True, floor=1.0, check=_accs_reset,
        examples=30),
}

test_parity = parity.make_test("word2vec", CASES)


def test_repeated_ids_sum_slot_by_slot():
    """float64: one word in every context slot and twice in a slot; the kernel sums in the
    book's order (per slot, then slot after slot): the rows come in first-touch order and
    the sums agree with the twin to the last bits (``exp`` may differ by an ulp)."""
    r = np.random.default_rng(1)
    V, B, H, C, S = 4, 3, 5, 4, 2
    W_in, W_out = r.standard_normal((V, H)), r.standard_normal((V, H))
    contexts = np.array([[0, 0, 1, 0], [0, 2, 0, 3], [1, 0, 0, 0]])
    target = np.array([1, 1, 2])
    negatives = np.array([[0, 3], [3, 0], [0, 0]], np.int32)
    run = parity.runner("word2vec", CASES)
    args = [W_in, W_out, contexts, target, negatives, 1.0, work_for(B, H, np.float64),
            acc_for(V, B * C, B, H, np.float64), acc_for(V, B * (S + 1), B, H, np.float64)]
    k, t = run("cbow_loss_grads", args)
    for name in ("acc_in", "acc_out"):
        n = k.args[name][2][0]
        np.testing.assert_array_equal(k.args[name][1][:n], t.args[name][1][:n])
        np.testing.assert_allclose(k.args[name][3][:n], t.args[name][3][:n], rtol=1e-14, atol=1e-15)
    assert k.args["acc_in"][1][:4].tolist() == [0, 1, 2, 3]  # first touch: slot 0, then 1, ...
