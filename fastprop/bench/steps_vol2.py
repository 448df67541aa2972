"""The vol. 2 steps ``fastprop bench --models`` times, one row factory each (the same
contract as :mod:`fastprop.bench.steps_vol1`: ``factory(options, dtype) -> (step, library)``).

Rows: ``book`` runs the book's classes (:mod:`fastprop.bench.book.vol2_nets`) under the book's
loop (``RnnlmTrainer``/``Trainer``: forward, backward, ``remove_duplicate``, ``clip_grads``,
``optimizer.update``); ``dropin`` the same loop and the same book class on fastprop's layers
(the book's chapter-local ``Rnnlm`` / ``CBOW`` on fastprop's time layers, ``Embedding`` and
``NegativeSamplingLoss``, with fastprop's ``remove_duplicate``, ``clip_grads`` and
optimizers), as ``fastprop run`` runs the book's scripts; ``fast`` fastprop's own net where
there is one (``fastprop.nets.Rnnlm``); ``torch`` PyTorch's idiom. Every row starts from
``np.random.seed(0)``.
"""
from types import SimpleNamespace

import numpy as np

from . import baseline
from .book import vol2_nets

RNN_LR, RNN_CLIP = 20.0, 0.25   # ch06/train_rnnlm.py
#: ch07/train_seq2seq.py: the addition set (V 13, questions of 7, answers of 5 with the
#: start mark), wordvec 16, hidden 128, batch 128, Adam, max_grad 5.0
S2S = dict(V=13, D=16, H=128, batch=128, q=7, a=5, clip=5.0, questions=50)
CBOW_LR = 0.001                 # ch04/train.py: Adam()


def corpus(vocab, seed=0):
    """A word-id corpus of ``10 * vocab`` words using every id (Zipf-like counts)."""
    rng = np.random.default_rng(seed)
    rest = np.minimum(rng.zipf(1.3, 9 * vocab), vocab) - 1
    ids = np.concatenate([np.arange(vocab), rest]).astype(np.int64)
    rng.shuffle(ids)
    return ids


def _rnn_batch(o):
    rng = np.random.default_rng(0)
    return rng.integers(0, o["vocab"], (2, o["rnn_batch"], o["rnn_time"])).astype(np.int32)


def trainer_step(model, opt, xs, ts, remove_duplicate, clip_grads, max_norm):
    """One iteration of the book's Trainer / RnnlmTrainer fit loop; returns the loss."""
    loss = model.forward(xs, ts)
    model.backward()
    params, grads = remove_duplicate(model.params, model.grads)
    if max_norm is not None:
        clip_grads(grads, max_norm)
    opt.update(params, grads)
    return loss


# --------------------------------------------------------------------------- Rnnlm

def book_rnnlm(o, dtype):
    xs, ts = _rnn_batch(o)
    np.random.seed(0)
    book = baseline.of(o, 2)
    model = vol2_nets.Rnnlm(o["vocab"], o["rnn_hidden"], o["rnn_hidden"], dtype=dtype,
                            layers=book.layers)
    opt = book.SGD(RNN_LR)
    return (lambda: trainer_step(model, opt, xs, ts, book.remove_duplicate, book.clip_grads,
                                  RNN_CLIP)), "numpy"


def _fastprop_rnnlm_step(o, dtype, make):
    from ..optimizers import SGD
    from ..trainer import clip_grads, remove_duplicate

    xs, ts = _rnn_batch(o)
    np.random.seed(0)
    model = make(o["vocab"], o["rnn_hidden"], o["rnn_hidden"], dtype)
    opt = SGD(RNN_LR)
    return (lambda: trainer_step(model, opt, xs, ts, remove_duplicate, clip_grads,
                                  RNN_CLIP)), "scipy"


def dropin_rnnlm(o, dtype):
    """The book's ch06 ``Rnnlm`` class on fastprop's time layers (what ``fastprop run`` runs:
    ``rnnlm.py`` is chapter-local, its ``common.time_layers`` are fastprop's)."""
    from .. import layers

    ours = SimpleNamespace(**{k: getattr(layers, k) for k in (
        "TimeEmbedding", "TimeLSTM", "TimeAffine", "TimeSoftmaxWithLoss")})
    return _fastprop_rnnlm_step(o, dtype, lambda V, D, H, dt: vol2_nets.Rnnlm(V, D, H, dt, layers=ours))


def fast_rnnlm(o, dtype):
    """fastprop's own ``fastprop.nets.Rnnlm`` (its loss head fused with the output layer)."""
    from ..nets import Rnnlm

    return _fastprop_rnnlm_step(o, dtype, lambda V, D, H, dt: Rnnlm(V, D, H, dtype=dt))


def _rnnlm_generate(model, o):
    """One ``generate(0, None, o['gen_words'])`` from a zero state (the book's
    ``generate_text.py`` on a fresh model), drawing from the global RNG."""
    def step():
        model.reset_state()
        return model.generate(0, None, o["gen_words"])
    return step


def book_rnnlmgen(o, dtype):
    """ch07's ``RnnlmGen.generate`` as the book writes it."""
    np.random.seed(0)
    model = vol2_nets.RnnlmGen(o["vocab"], o["rnn_hidden"], o["rnn_hidden"], dtype=dtype,
                               layers=baseline.of(o, 2).layers)
    return _rnnlm_generate(model, o), "numpy"


def dropin_rnnlmgen(o, dtype):
    """The book's ``RnnlmGen`` on fastprop's time layers (``fastprop run generate_text.py``)."""
    np.random.seed(0)
    model = vol2_nets.RnnlmGen(o["vocab"], o["rnn_hidden"], o["rnn_hidden"], dtype=dtype,
                               layers=_fastprop_time_layers())
    return _rnnlm_generate(model, o), "scipy"


def fast_rnnlmgen(o, dtype):
    """``fastprop.nets.RnnlmGen.generate``: the whole loop in one compiled call (same words)."""
    from ..nets import RnnlmGen

    np.random.seed(0)
    return _rnnlm_generate(RnnlmGen(o["vocab"], o["rnn_hidden"], o["rnn_hidden"], dtype=dtype), o), "scipy"


def torch_rnnlm(o, dtype):
    import torch
    import torch.nn as nn

    from .steps_vol1 import _torch_dtype

    V, H = o["vocab"], o["rnn_hidden"]
    torch.manual_seed(0)
    tdt = _torch_dtype(dtype)
    embed, lstm, affine = nn.Embedding(V, H).to(tdt), nn.LSTM(H, H, batch_first=True).to(tdt), \
        nn.Linear(H, V).to(tdt)
    params = [*embed.parameters(), *lstm.parameters(), *affine.parameters()]
    opt = torch.optim.SGD(params, RNN_LR)
    xs, ts = (torch.from_numpy(a.astype(np.int64)) for a in _rnn_batch(o))
    state = [None]

    def step():
        opt.zero_grad(set_to_none=True)
        hs, (h, c) = lstm(embed(xs), state[0])
        loss = nn.functional.cross_entropy(affine(hs).reshape(-1, V), ts.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(params, RNN_CLIP)
        opt.step()
        state[0] = (h.detach(), c.detach())  # stateful, truncated BPTT as the book's
        return loss.item()
    return step, "torch"


# --------------------------------------------------------------------------- TimeLSTM alone

def _lstm_data(o, dtype):
    N, T, H = o["rnn_batch"], o["rnn_time"], o["rnn_hidden"]
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((N, T, H)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    np.random.seed(0)
    Wx = (np.random.randn(H, 4 * H) / np.sqrt(H)).astype(dtype)
    Wh = (np.random.randn(H, 4 * H) / np.sqrt(H)).astype(dtype)
    return xs, dhs, Wx, Wh, np.zeros(4 * H, dtype)


def _lstm_step(layer, xs, dhs):
    def step():
        hs = layer.forward(xs)
        layer.backward(dhs)
        return float(hs[0, -1, 0])
    return step


def book_lstm(o, dtype):
    xs, dhs, Wx, Wh, b = _lstm_data(o, dtype)
    return _lstm_step(baseline.of(o, 2).layers.TimeLSTM(Wx, Wh, b), xs, dhs), "numpy"


def dropin_lstm(o, dtype):
    from ..layers import TimeLSTM

    xs, dhs, Wx, Wh, b = _lstm_data(o, dtype)
    return _lstm_step(TimeLSTM(Wx, Wh, b), xs, dhs), "scipy"


def torch_lstm(o, dtype):
    import torch

    from .steps_vol1 import _torch_dtype

    xs, dhs, _, _, _ = _lstm_data(o, dtype)
    torch.manual_seed(0)
    H = o["rnn_hidden"]
    lstm = torch.nn.LSTM(H, H, batch_first=True).to(_torch_dtype(dtype))
    tx = torch.from_numpy(xs).requires_grad_(True)  # dxs too, as the layer's backward returns
    tdh = torch.from_numpy(dhs)

    def step():
        for p in lstm.parameters():
            p.grad = None
        tx.grad = None
        hs, _ = lstm(tx)
        hs.backward(tdh)
        return float(hs[0, -1, 0].detach())
    return step, "torch"


# --------------------------------------------------------------------------- CBOW

def _cbow_data(o):
    from ..util_vol2 import create_contexts_target

    ids = corpus(o["vocab"])
    contexts, target = create_contexts_target(ids, o["cbow_window"])
    rng = np.random.default_rng(1)
    rows = rng.integers(0, target.shape[0], o["cbow_batch"])
    return ids, contexts[rows], target[rows]


def book_cbow(o, dtype):
    ids, contexts, target = _cbow_data(o)
    np.random.seed(0)
    book = baseline.of(o, 2)
    model = vol2_nets.CBOW(o["vocab"], o["cbow_hidden"], o["cbow_window"], ids, dtype=dtype,
                           layers=book.layers)
    opt = book.Adam(CBOW_LR)
    return (lambda: trainer_step(model, opt, contexts, target, book.remove_duplicate,
                                  book.clip_grads, None)), "numpy"


def dropin_cbow(o, dtype):
    from .. import layers
    from ..optimizers import Adam
    from ..trainer import clip_grads, remove_duplicate

    ids, contexts, target = _cbow_data(o)
    np.random.seed(0)
    ours = SimpleNamespace(Embedding=layers.Embedding,
                           NegativeSamplingLoss=layers.NegativeSamplingLoss)
    model = vol2_nets.CBOW(o["vocab"], o["cbow_hidden"], o["cbow_window"], ids, dtype=dtype,
                     layers=ours)
    opt = Adam(CBOW_LR)
    return (lambda: trainer_step(model, opt, contexts, target, remove_duplicate, clip_grads,
                                  None)), "scipy"


def _compiled_cbow(o, dtype, **mode):
    """fastprop's own :class:`~fastprop.nets.CBOW`: the whole step (sampler, forward,
    backward, Adam) one compiled ``train_steps`` call on the same batch as the rows above."""
    from ..nets import CBOW
    from ..optimizers import Adam

    ids, contexts, target = _cbow_data(o)
    np.random.seed(0)
    model = CBOW(o["vocab"], o["cbow_hidden"], o["cbow_window"], ids, dtype=dtype, **mode)
    opt = Adam(CBOW_LR)
    idx = np.arange(target.shape[0])

    def step():
        losses = model.train_steps(contexts, target, idx, idx.shape[0], opt)
        if losses is None:  # the compiled path refused this model/optimizer: no row to time
            raise RuntimeError("CBOW.train_steps fell back to the layers")
        return float(losses[0])
    return step, "scipy"


def compiled_cbow(o, dtype):
    """The book's numbers (its exact draws, dense Adam over every row)."""
    return _compiled_cbow(o, dtype)


def fast_cbow(o, dtype):
    """The fast sampler (the book's distribution, other draws) and sparse Adam."""
    return _compiled_cbow(o, dtype, draws="fast", sparse_update=True)


def torch_cbow(o, dtype):
    """PyTorch's idiomatic CBOW with negative sampling (for timing only): ``nn.Embedding`` in
    and out with dense gradients (as the book's), the mean of the contexts, the dot with the
    target and 5 negatives, the book's loss (the positive term plus the 5 negative terms, each
    a mean over the batch, on the logits), Adam over every row. The negatives come from
    ``torch.multinomial`` over the book's distribution (counts ** 0.75), distinct per row but
    not excluding the target, which the book's draws do: not the book's numbers."""
    import torch
    import torch.nn as nn

    from .steps_vol1 import _torch_dtype

    ids, contexts, target = _cbow_data(o)
    V, H, S = o["vocab"], o["cbow_hidden"], 5
    torch.manual_seed(0)
    tdt = _torch_dtype(dtype)
    w_in, w_out = nn.Embedding(V, H).to(tdt), nn.Embedding(V, H).to(tdt)
    p = torch.from_numpy(np.bincount(ids, minlength=V).astype(np.float64) ** 0.75)
    p = (p / p.sum()).to(tdt).expand(target.shape[0], V)
    params = [*w_in.parameters(), *w_out.parameters()]
    opt = torch.optim.Adam(params, CBOW_LR)
    ctx, tgt = torch.from_numpy(contexts.astype(np.int64)), torch.from_numpy(target.astype(np.int64))
    bce = nn.functional.binary_cross_entropy_with_logits

    def step():
        opt.zero_grad(set_to_none=True)
        h = w_in(ctx).mean(dim=1)                                   # (B, H)
        words = torch.cat([tgt[:, None], torch.multinomial(p, S)], dim=1)  # (B, 1 + S)
        scores = (w_out(words) * h[:, None, :]).sum(dim=2)          # (B, 1 + S)
        labels = torch.zeros_like(scores)
        labels[:, 0] = 1
        loss = bce(scores, labels, reduction="none").mean(dim=0).sum()
        loss.backward()
        opt.step()
        return loss.item()
    return step, "torch"


# --------------------------------------------------------------------------- the sampler

def _sampler_data(o):
    ids = corpus(o["vocab"])
    rng = np.random.default_rng(2)
    return ids, ids[rng.integers(0, ids.shape[0], o["sampler_rows"])]


def book_sampler(o, dtype):
    ids, target = _sampler_data(o)
    sampler = baseline.of(o, 2).UnigramSampler(ids, 0.75, o["sample_size"])
    np.random.seed(0)
    return (lambda: sampler.get_negative_sample(target)), "numpy"


def dropin_sampler(o, dtype):
    from ..layers import UnigramSampler

    ids, target = _sampler_data(o)
    sampler = UnigramSampler(ids, 0.75, o["sample_size"])
    np.random.seed(0)
    return (lambda: sampler.get_negative_sample(target)), "scipy"


# --------------------------------------------------------------------------- ppmi

def co_matrix(vocab):
    """The (V, V) int32 co-occurrence counts (window 1) of :func:`corpus`."""
    from ..util_vol2 import create_co_matrix

    return create_co_matrix(corpus(vocab), vocab, 1)


def fastprop_ppmi_row(vocab):
    from ..util_vol2 import ppmi

    C = co_matrix(vocab)
    return (lambda: ppmi(C)), "scipy"


def book_ppmi(o, dtype):
    C = co_matrix(o["ppmi_book_vocab"])
    ppmi = baseline.of(o, 2).ppmi
    return (lambda: ppmi(C)), "numpy"


def dropin_ppmi_small(o, dtype):
    return fastprop_ppmi_row(o["ppmi_book_vocab"])


def dropin_ppmi(o, dtype):
    return fastprop_ppmi_row(o["ppmi_vocab"])


# --------------------------------------------------------------------------- Seq2seq (ch07)

def _fastprop_time_layers():
    from .. import layers

    return SimpleNamespace(**{k: getattr(layers, k) for k in (
        "TimeEmbedding", "TimeLSTM", "TimeAffine", "TimeSoftmaxWithLoss")})


def _s2s_data():
    rng = np.random.default_rng(0)
    xs = rng.integers(0, S2S["V"], (S2S["batch"], S2S["q"]))
    ts = rng.integers(0, S2S["V"], (S2S["batch"], S2S["a"]))
    return xs, ts


def _s2s_step(dtype, layers, adam, remove_duplicate, clip_grads):
    xs, ts = _s2s_data()
    np.random.seed(0)
    model = vol2_nets.Seq2seq(S2S["V"], S2S["D"], S2S["H"], dtype=dtype, layers=layers)
    opt = adam()
    return lambda: trainer_step(model, opt, xs, ts, remove_duplicate, clip_grads, S2S["clip"])


def book_seq2seq(o, dtype):
    """The book's Seq2seq training step (Trainer: forward, backward, remove_duplicate,
    clip_grads 5.0, Adam) on the book's layers."""
    book = baseline.of(o, 2)
    return _s2s_step(dtype, book.layers, book.Adam, book.remove_duplicate, book.clip_grads), "numpy"


def dropin_seq2seq(o, dtype):
    """The same book class on fastprop's time layers, fastprop's Adam and gradient helpers
    (what ``fastprop run ch07/train_seq2seq.py`` trains)."""
    from ..optimizers import Adam
    from ..trainer import clip_grads, remove_duplicate

    return _s2s_step(dtype, _fastprop_time_layers(), Adam, remove_duplicate, clip_grads), "scipy"


def fast_seq2seq(o, dtype):
    """fastprop's compiled ``fastprop.nets.Seq2seq`` under the same loop (the book's draws, so
    the same losses as the book's rows)."""
    from ..nets import Seq2seq
    from ..optimizers import Adam
    from ..trainer import clip_grads, remove_duplicate

    xs, ts = _s2s_data()
    np.random.seed(0)
    model = Seq2seq(S2S["V"], S2S["D"], S2S["H"], dtype=dtype)
    opt = Adam()
    return (lambda: trainer_step(model, opt, xs, ts, remove_duplicate, clip_grads, S2S["clip"])), "scipy"


def _s2s_generate(dtype, layers):
    """``eval_seq2seq``'s model calls for ``questions`` test questions, one at a time (batch
    1: the per-call cost of the layers); returns every guess."""
    xs, ts = _s2s_data()
    np.random.seed(0)
    model = vol2_nets.Seq2seq(S2S["V"], S2S["D"], S2S["H"], dtype=dtype, layers=layers)
    n = S2S["questions"]

    def step():
        return [model.generate(xs[[i]], int(ts[i, 0]), S2S["a"] - 1) for i in range(n)]
    return step


def book_generate(o, dtype):
    return _s2s_generate(dtype, baseline.of(o, 2).layers), "numpy"


def dropin_generate(o, dtype):
    return _s2s_generate(dtype, _fastprop_time_layers()), "scipy"


def _fast_s2s(dtype):
    from ..nets import Seq2seq

    xs, ts = _s2s_data()
    np.random.seed(0)
    return Seq2seq(S2S["V"], S2S["D"], S2S["H"], dtype=dtype), xs, ts, S2S["questions"]


def fast_generate(o, dtype):
    """fastprop's compiled ``Seq2seq.generate``, one question at a time as ``eval_seq2seq``
    asks (the book's tokens: same draws)."""
    model, xs, ts, n = _fast_s2s(dtype)
    return (lambda: [model.generate(xs[[i]], int(ts[i, 0]), S2S["a"] - 1) for i in range(n)]), "scipy"


def fast_generate_batch(o, dtype):
    """fastprop's ``Seq2seq.generate_batch``: every question in one call (two compiled calls);
    row i is what ``generate`` gives question i."""
    model, xs, ts, n = _fast_s2s(dtype)
    return (lambda: model.generate_batch(xs[:n], ts[:n, 0], S2S["a"] - 1).tolist()), "scipy"
