"""Trainer: the book's loop (RNG use, loss averaging, clipping, shared weights), the extras
(history, progress bar, plot, fused-step hook) and argument checks."""
import contextlib
import io
import re

import numpy as np
import pytest

from fastprop.bench.book import vol2 as book2
from fastprop.optimizers import SGD, Adam
from fastprop.trainer import Trainer, accuracy, book_permutations, clip_grads, plot_curves, remove_duplicate

# ---------------------------------------------------------------- a tiny vol. 2 model


class LinearSoftmax:
    """scores = x @ W + b; mean cross-entropy of label or one-hot targets.
    Initialised from its own Generator so that only the Trainer touches np.random."""

    def __init__(self, d=2, c=3, seed=0, scale=0.1):
        g = np.random.default_rng(seed)
        W, b = scale * g.standard_normal((d, c)), np.zeros(c)
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.n_forward = 0

    def predict(self, x):
        W, b = self.params[:2]
        return x @ W + b

    def forward(self, x, t):
        self.n_forward += 1
        s = self.predict(x)
        s = s - s.max(axis=1, keepdims=True)
        y = np.exp(s)
        y /= y.sum(axis=1, keepdims=True)
        labels = t if t.ndim == 1 else t.argmax(axis=1)
        self.cache = (x, y, labels)
        return -np.mean(np.log(y[np.arange(len(x)), labels] + 1e-7))

    def backward(self, dout=1):
        x, y, labels = self.cache
        d = y.copy()
        d[np.arange(len(x)), labels] -= 1
        d *= dout / len(x)
        self.grads[0][...] = x.T @ d
        self.grads[1][...] = d.sum(axis=0)
        return d @ self.params[0].T


class NoPredict(LinearSoftmax):
    """Like CBOW in the book: forward/backward only (``predict`` is not callable)."""

    predict = None

    def forward(self, x, t):
        self.n_forward += 1
        W, b = self.params
        s = x @ W + b
        s = s - s.max(axis=1, keepdims=True)
        y = np.exp(s)
        y /= y.sum(axis=1, keepdims=True)
        self.cache = (x, y, t)
        return -np.mean(np.log(y[np.arange(len(x)), t] + 1e-7))


class Recorder:
    """An optimizer that records what it is given, then does SGD."""

    def __init__(self, lr=0.1):
        self.calls, self.inner = [], SGD(lr)

    def update(self, params, grads):
        self.calls.append(([id(p) for p in params], [g.copy() for g in grads]))
        self.inner.update(params, grads)


def _data(n=300, d=2, c=3, seed=5):
    g = np.random.default_rng(seed)
    t = g.integers(0, c, n)
    x = g.standard_normal((n, d)) + 2.0 * np.eye(c, d)[t]
    return x, t


def _book_loop(model, optimizer, x, t, max_epoch, batch_size, eval_interval, max_grad=None):
    """Vol. 2's Trainer.fit as the book writes it (the one transcription, its progress
    lines dropped), returning its loss_list: independent of fastprop.trainer, the code
    under test."""
    book = book2.Trainer(model, optimizer)
    with contextlib.redirect_stdout(io.StringIO()):
        book.fit(x, t, max_epoch=max_epoch, batch_size=batch_size, max_grad=max_grad,
                 eval_interval=eval_interval)
    return book.loss_list


QUIET = dict(progress=False, verbose=False)

# ---------------------------------------------------------------- the book's loop


@pytest.mark.parametrize("max_grad", [None, 0.5])
def test_same_run_and_rng_use_as_the_book(max_grad):
    x, t = _data()
    np.random.seed(7)
    ours = LinearSoftmax()
    tr = Trainer(ours, Adam(lr=0.05))
    tr.fit(x, t, max_epoch=4, batch_size=32, max_grad=max_grad, eval_interval=3, **QUIET)
    after_ours = np.random.random_sample()

    np.random.seed(7)
    book = LinearSoftmax()
    expected = _book_loop(book, Adam(lr=0.05), x, t, 4, 32, 3, max_grad)
    after_book = np.random.random_sample()

    assert tr.loss_list == expected
    for a, b in zip(ours.params, book.params):
        np.testing.assert_array_equal(a, b)
    assert after_ours == after_book, "exactly one permutation per epoch is drawn"


def test_loss_list_length_like_the_book():
    x, t = _data(300)
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    tr.fit(x, t, max_epoch=3, batch_size=30, eval_interval=5, **QUIET)   # 10 iters per epoch
    assert len(tr.loss_list) == 3 * (10 // 5)
    assert all(isinstance(v, float) for v in tr.loss_list)
    # the book evaluates at iters % eval_interval == 0: iters 0, 4, 8 of 10 -> 3 per epoch
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    tr.fit(x, t, max_epoch=2, batch_size=30, eval_interval=4, **QUIET)
    assert len(tr.loss_list) == 2 * 3
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    tr.fit(x, t, max_epoch=2, batch_size=30, eval_interval=None, **QUIET)
    assert tr.loss_list == [] and tr.current_epoch == 2


def test_current_epoch_persists_and_prints_the_book_line(capsys):
    x, t = _data(300)
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    tr.fit(x, t, max_epoch=2, batch_size=30, eval_interval=10, progress=False)
    tr.fit(x, t, max_epoch=3, batch_size=30, eval_interval=10, progress=False)
    assert tr.current_epoch == 5 and tr.eval_interval == 10
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    for epoch, line in enumerate(lines, start=1):
        assert re.fullmatch(r"\| epoch %d \|  iter 1 / 10 \| time \d+\[s\] \| loss \d+\.\d\d" % epoch, line)
    assert tr.history["epoch"] == [1, 2, 3, 4, 5]


def test_max_epoch_zero_does_nothing():
    x, t = _data(60)
    m = LinearSoftmax()
    W = m.params[0].copy()
    tr = Trainer(m, SGD(0.1))
    tr.fit(x, t, max_epoch=0, batch_size=10, **QUIET)
    assert tr.current_epoch == 0 and tr.loss_list == []
    np.testing.assert_array_equal(m.params[0], W)


# ---------------------------------------------------------------- clipping and shared weights


def test_clip_grads_scales_to_max_norm(rng):
    grads = [rng.standard_normal((3, 4)) * 10, rng.standard_normal(4) * 10]
    before = [g.copy() for g in grads]
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clip_grads(grads, 1.0)
    new_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    assert new_norm == pytest.approx(1.0 * norm / (norm + 1e-6), rel=1e-12)
    for g, b in zip(grads, before):
        np.testing.assert_allclose(g, b * (1.0 / (norm + 1e-6)), rtol=1e-14)
    small = [np.full(3, 0.1)]
    clip_grads(small, 1.0)
    np.testing.assert_array_equal(small[0], np.full(3, 0.1))


def test_trainer_clips_before_update():
    x, t = _data(120)
    opt = Recorder()
    m = LinearSoftmax(scale=5.0)
    Trainer(m, opt).fit(x * 50, t, max_epoch=1, batch_size=40, max_grad=0.25, **QUIET)
    assert len(opt.calls) == 3
    for _, grads in opt.calls:
        norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        assert norm <= 0.25 * (1 + 1e-9)
    assert np.sqrt(sum(np.sum(g ** 2) for g in opt.calls[0][1])) == pytest.approx(0.25, rel=1e-5)


def test_remove_duplicate_identity_and_transposed_view():
    A, B = np.ones((2, 3)), np.ones(3)
    gA1, gB, gA2, gAT = np.full((2, 3), 1.0), np.full(3, 2.0), np.full((2, 3), 10.0), np.arange(6.0).reshape(3, 2)
    params, grads = remove_duplicate([A, B, A, A.T], [gA1, gB, gA2, gAT])
    assert len(params) == 2 and params[0] is A and params[1] is B
    assert grads[0] is gA1, "the kept gradient is accumulated into in place, as in the book"
    np.testing.assert_array_equal(grads[0], 1.0 + 10.0 + np.arange(6.0).reshape(3, 2).T)
    # equal values in separate memory are separate parameters (the book would merge them)
    Z1, Z2 = np.zeros((2, 2)), np.zeros((2, 2))
    params, grads = remove_duplicate([Z1, Z2], [np.ones((2, 2)), np.ones((2, 2))])
    assert len(params) == 2


class Tied(LinearSoftmax):
    """params lists W twice (two layers sharing one weight), each with its own grad array."""

    def __init__(self):
        super().__init__()
        W = self.params[0]
        self.params = [W, self.params[1], W]
        self.grads = [self.grads[0], self.grads[1], np.zeros_like(W)]

    def backward(self, dout=1):
        super().backward(dout)
        self.grads[2][...] = self.grads[0]   # second use contributes the same gradient


def test_trainer_dedupes_shared_weights():
    x, t = _data(60)
    m, opt = Tied(), Recorder()
    Trainer(m, opt).fit(x, t, max_epoch=1, batch_size=30, **QUIET)
    ids, grads = opt.calls[0]
    assert ids == [id(m.params[0]), id(m.params[1])]
    assert len(grads) == 2


# ---------------------------------------------------------------- history, progress, plot


def test_history_with_validation_data():
    x, t = _data(300)
    xv, tv = _data(90, seed=9)
    tr = Trainer(LinearSoftmax(), SGD(0.5))
    tr.fit(x, t, max_epoch=3, batch_size=30, eval_interval=10, x_val=xv, t_val=np.eye(3)[tv],
           eval_train=True, **QUIET)
    h = tr.history
    assert h["epoch"] == [1, 2, 3]
    assert all(len(h[k]) == 3 for k in ("loss", "train_acc", "val_acc"))
    for acc in h["train_acc"] + h["val_acc"]:
        assert 0.0 <= acc <= 1.0
    assert h["val_acc"][-1] > 0.6
    expect = np.mean(np.argmax(tr.model.predict(xv), 1) == tv)
    assert h["val_acc"][-1] == expect
    assert h["loss"][-1] < h["loss"][0]


def test_history_switches():
    x, t = _data(300)
    tr = Trainer(LinearSoftmax(), SGD(0.5))
    tr.fit(x, t, max_epoch=2, batch_size=30, eval_train=False, **QUIET)
    assert tr.history["train_acc"] == [None, None] and tr.history["val_acc"] == [None, None]
    tr = Trainer(LinearSoftmax(), SGD(0.5))
    tr.fit(x, t, max_epoch=1, batch_size=30, **QUIET)
    assert tr.history["train_acc"] == [None], "off by default, like the book's Trainer"
    tr.fit(x, t, max_epoch=1, batch_size=30, eval_train=True, **QUIET)
    assert tr.history["train_acc"][1] is not None and tr.history["val_acc"] == [None, None]
    tr = Trainer(NoPredict(), SGD(0.5))
    tr.fit(x, t, max_epoch=1, batch_size=30, **QUIET)
    assert tr.history["train_acc"] == [None] and len(tr.history["loss"]) == 1
    with pytest.raises(TypeError, match="predict"):
        tr.fit(x, t, max_epoch=1, batch_size=30, x_val=x, t_val=t, **QUIET)


def test_accuracy_is_chunked():
    from fastprop.trainer import metrics as trainer_mod
    x, t = _data(100)
    m = LinearSoftmax()
    sizes = []
    orig = m.predict
    m.predict = lambda a: (sizes.append(len(a)), orig(a))[1]
    assert trainer_mod.accuracy(m, x, t, chunk=7) == np.mean(np.argmax(orig(x), 1) == t)
    assert max(sizes) == 7 and sum(sizes) == 100


def test_progress_bar_on_and_off(capsys):
    x, t = _data(60)
    Trainer(LinearSoftmax(), SGD(0.1)).fit(x, t, max_epoch=1, batch_size=30, progress=False, verbose=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    Trainer(LinearSoftmax(), SGD(0.1)).fit(x, t, max_epoch=1, batch_size=30, progress=True, verbose=True)
    out = capsys.readouterr()
    assert "2/2" in out.err                      # the tqdm bar, on stderr
    assert out.out.startswith("| epoch 1 |")     # the book's lines stay on stdout


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    x, t = _data(300)
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    tr.fit(x, t, max_epoch=3, batch_size=30, eval_interval=5, x_val=x[:50], t_val=t[:50], **QUIET)
    for name, ylim in (("loss.png", None), ("loss_ylim.png", (0, 2))):
        path = tmp_path / name
        assert tr.plot(path, ylim=ylim) == path
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_leaves_pyplots_backend_alone(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    before = matplotlib.get_backend()
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    tr.fit(*_data(60), max_epoch=1, batch_size=30, eval_interval=1, **QUIET)
    tr.plot(tmp_path / "a.png")
    assert matplotlib.get_backend() == before


def test_plot_curves_skips_missing_accuracies(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    got = plot_curves(np.linspace(2, 0.1, 50), epochs=[0, 1, 2],
                      accuracies={"train": [0.1, None, 0.9], "test": [None, None, None]},
                      title="t", path=path)
    assert got == path and path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_without_matplotlib(monkeypatch, tmp_path):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    tr = Trainer(LinearSoftmax(), SGD(0.1))
    with pytest.raises(ImportError, match=re.escape("pip install -e '.[plot]'")):
        tr.plot(tmp_path / "x.png")


# ---------------------------------------------------------------- the fused-step hook


class Fused(LinearSoftmax):
    """fused_step does the plain step itself (so results must not change) and counts calls."""

    def __init__(self, answer=True):
        super().__init__()
        self.answer, self.fused_calls = answer, 0

    def fused_step(self, x, t, optimizer):
        self.fused_calls += 1
        if not self.answer:
            return None
        loss = LinearSoftmax.forward(self, x, t)
        self.backward()
        optimizer.update(self.params, self.grads)
        return loss


def _plain_run(x, t, **kw):
    np.random.seed(3)
    m = LinearSoftmax()
    tr = Trainer(m, SGD(0.3))
    tr.fit(x, t, **kw, **QUIET)
    return m, tr


@pytest.mark.parametrize("answer", [True, False])
def test_fused_step_hook(answer, monkeypatch):
    x, t = _data(120)
    kw = dict(max_epoch=2, batch_size=20, eval_interval=2)
    ref_model, ref = _plain_run(x, t, **kw)

    np.random.seed(3)
    m = Fused(answer)
    forwards = []
    monkeypatch.setattr(m, "forward", lambda a, b: forwards.append(1) or LinearSoftmax.forward(m, a, b))
    tr = Trainer(m, SGD(0.3))
    tr.fit(x, t, **kw, **QUIET)
    if answer:
        assert m.fused_calls == 12 and forwards == []
    else:
        assert m.fused_calls == 1, "after one None the fit stops asking"
        assert len(forwards) == 12
    assert tr.loss_list == ref.loss_list
    for a, b in zip(m.params, ref_model.params):
        np.testing.assert_array_equal(a, b)


def test_fused_step_not_used_with_clipping():
    x, t = _data(120)
    m = Fused()
    Trainer(m, SGD(0.3)).fit(x, t, max_epoch=1, batch_size=20, max_grad=1.0, **QUIET)
    assert m.fused_calls == 0 and m.n_forward == 6


class Many(LinearSoftmax):
    """train_steps does the plain steps on x[idx[k*B:(k+1)*B]] and records each call."""

    def __init__(self, answer=True):
        super().__init__()
        self.answer, self.chunks = answer, []

    def train_steps(self, x, t, idx, batch_size, optimizer):
        self.chunks.append(len(idx) // batch_size)
        if not self.answer:
            return None
        losses = []
        for k in range(len(idx) // batch_size):
            rows = idx[k * batch_size:(k + 1) * batch_size]
            losses.append(self.forward(x[rows], t[rows]))
            self.backward()
            optimizer.update(self.params, self.grads)
        return np.array(losses)


@pytest.mark.parametrize("eval_interval, chunks", [(2, [1, 2, 2, 1]), (4, [1, 4, 1]), (None, [6])])
def test_train_steps_hook_replays_the_book(eval_interval, chunks):
    x, t = _data(120)
    kw = dict(max_epoch=3, batch_size=20, eval_interval=eval_interval)
    ref_model, ref = _plain_run(x, t, **kw)

    np.random.seed(3)
    m = Many()
    tr = Trainer(m, SGD(0.3))
    tr.fit(x, t, **kw, progress=False, verbose=True)
    assert m.chunks == chunks * 3, "calls end at the book's evaluation points"
    assert tr.loss_list == ref.loss_list
    assert tr.history["loss"] == ref.history["loss"]
    for a, b in zip(m.params, ref_model.params):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("eval_interval", [2, 4, None])
def test_quiet_fit_runs_later_epochs_in_one_call(eval_interval):
    """Nothing to print or measure between epochs: after the first epoch (which shows
    train_steps works) the rest is one call, and everything equals the book's run."""
    x, t = _data(120)
    kw = dict(max_epoch=3, batch_size=20, eval_interval=eval_interval)
    ref_model, ref = _plain_run(x, t, **kw)
    ref_rng = np.random.get_state()[1].copy()
    np.random.seed(3)
    m = Many()
    tr = Trainer(m, SGD(0.3))
    tr.fit(x, t, **kw, **QUIET)
    assert sum(m.chunks) == 18 and m.chunks[-1] == 12
    assert tr.loss_list == ref.loss_list
    assert tr.history["loss"] == ref.history["loss"] and tr.current_epoch == 3
    for a, b in zip(m.params, ref_model.params):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], ref_rng)


def test_train_steps_none_falls_back_and_clipping_skips_it():
    x, t = _data(120)
    kw = dict(max_epoch=2, batch_size=20, eval_interval=2)
    ref_model, ref = _plain_run(x, t, **kw)
    np.random.seed(3)
    m = Many(answer=False)
    tr = Trainer(m, SGD(0.3))
    tr.fit(x, t, **kw, **QUIET)
    assert m.chunks == [1] and m.n_forward == 12
    assert tr.loss_list == ref.loss_list
    m = Many()
    Trainer(m, SGD(0.3)).fit(x, t, max_epoch=1, batch_size=20, max_grad=1.0, **QUIET)
    assert m.chunks == []


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize("kw, exc, words", [
    (dict(t=np.zeros(5)), ValueError, ["same length", "300", "5"]),
    (dict(batch_size=0), ValueError, ["batch_size", ">= 1"]),
    (dict(batch_size=301), ValueError, ["batch_size", "<= len(x) = 300"]),
    (dict(batch_size=2.5), TypeError, ["batch_size", "integer", "float"]),
    (dict(max_epoch=-1), ValueError, ["max_epoch", ">= 0"]),
    (dict(max_epoch=1.0), TypeError, ["max_epoch", "integer"]),
    (dict(eval_interval=0), ValueError, ["eval_interval", ">= 1"]),
    (dict(max_grad=0), ValueError, ["max_grad", "> 0"]),
    (dict(max_grad=float("nan")), ValueError, ["max_grad", "finite", "nan"]),
    (dict(max_grad=float("inf")), ValueError, ["max_grad", "finite", "inf"]),
    (dict(max_grad=True), TypeError, ["max_grad", "bool"]),
    (dict(batch_size=True), TypeError, ["batch_size", "integer", "bool"]),
    (dict(batch_size=30.0), TypeError, ["batch_size", "integer", "float"]),
    (dict(t=np.zeros(299, int)), ValueError, ["same length", "300", "299", "(300, 2)"]),
    (dict(x=np.zeros((0, 2)), t=np.zeros(0, int)), ValueError, ["empty", "(0, 2)"]),
    (dict(x_val=np.zeros((3, 2)), t_val=np.zeros((3, 3, 1))), ValueError, ["t_val", "(3, 3, 1)"]),
    (dict(t=np.zeros((300, 3, 1)), eval_train=True), ValueError, ["eval_train", "(300, 3, 1)"]),
    (dict(max_grad="1"), TypeError, ["max_grad", "str"]),
    (dict(x_val=np.zeros((3, 2))), ValueError, ["x_val", "t_val"]),
    (dict(x_val=np.zeros((3, 2)), t_val=np.zeros(4, int)), ValueError, ["same length"]),
])
def test_bad_arguments(kw, exc, words):
    x, t = _data(300)
    args = dict(x=x, t=t, max_epoch=1, batch_size=30)
    args.update(kw)
    model = LinearSoftmax()
    W = model.params[0].copy()
    tr = Trainer(model, SGD(0.1))
    with pytest.raises(exc) as info:
        tr.fit(**args, **QUIET)
    for w in words:
        assert w in str(info.value)
    # refused before any step: nothing ran, nothing moved, nothing was drawn
    assert tr.current_epoch == 0 and model.n_forward == 0 and tr.loss_list == []
    np.testing.assert_array_equal(model.params[0], W)
    assert np.random.get_state()[2] == 624, "no permutation was drawn"


class _NoBackward:
    params, grads = [], []

    def forward(self, x, t):
        return 0.0


class _NoLists:
    def forward(self, x, t):
        return 0.0

    def backward(self, dout=1):
        return None


class _LazyGrads(_NoLists):
    """``grads`` as a property that fails until a backward ran: the check must not run it."""

    params = []

    @property
    def grads(self):
        raise RuntimeError("grads before backward")


@pytest.mark.parametrize("model, optimizer, words", [
    (_NoBackward(), SGD(0.1), ["model", "protocol", "_NoBackward lacks backward"]),
    (_NoLists(), SGD(0.1), ["_NoLists lacks params, grads"]),
    (object(), SGD(0.1), ["object lacks forward, backward, params, grads"]),
    (LinearSoftmax(), object(), ["optimizer", "update(params, grads)", "object"]),
    (LinearSoftmax(), SGD, ["optimizer", "instance", "class SGD"]),   # not SGD(...)
    (LinearSoftmax, SGD(0.1), ["model", "instance", "class LinearSoftmax"]),
])
def test_trainer_refuses_objects_without_the_protocol(model, optimizer, words):
    with pytest.raises(TypeError) as info:
        Trainer(model, optimizer)
    for w in words:
        assert w in str(info.value)


def test_protocol_check_does_not_run_properties():
    model = _LazyGrads()
    Trainer(model, SGD(0.1))  # a grads property that raises before backward is fine


# ---------------------------------------------------------------- accuracy


class _Fixed:
    """predict returns the given scores of rows x[:, 0] (x holds row numbers)."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=float)

    def predict(self, x):
        return self.scores[np.asarray(x)[:, 0].astype(int)]


def test_accuracy_labels_and_one_hot_agree_and_stay_in_range():
    scores = np.eye(3)[[0, 1, 2, 1]]
    labels = np.array([0, 1, 1, 1])
    x = np.arange(4.0)[:, None]
    assert accuracy(_Fixed(scores), x, labels) == 0.75
    assert accuracy(_Fixed(scores), x, np.eye(3)[labels]) == 0.75
    assert accuracy(_Fixed(scores), x, labels, chunk=3) == 0.75
    assert accuracy(_Fixed(scores), x, np.argmax(scores, 1)) == 1.0


@pytest.mark.parametrize("x, t, words", [
    (np.zeros((4, 2)), np.eye(3)[[0, 1, 2, 1]].T, ["transposed", "pass t.T", "(3, 4)"]),
    (np.zeros((4, 2)), np.zeros(8, int), ["one row per row of x", "4 rows", "(8,)"]),
    (np.zeros((4, 2)), np.zeros(3, int), ["4 rows", "(3,)"]),
    (np.zeros((4, 2)), np.zeros((4, 4)), ["4 columns", "3 scores"]),
    (np.zeros((4, 2)), np.zeros((4, 3, 1)), ["(N,)", "(N, C)", "(4, 3, 1)"]),
    (np.zeros((0, 2)), np.zeros(0, int), ["at least one row", "(0, 2)"]),
])
def test_accuracy_refuses_targets_that_do_not_match(x, t, words):
    with pytest.raises(ValueError) as info:
        accuracy(_Fixed(np.eye(3)[[0, 1, 2, 1]]), x, t)
    for w in words:
        assert w in str(info.value)


@pytest.mark.parametrize("chunk, exc", [(0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_accuracy_chunk_is_a_positive_integer(chunk, exc):
    with pytest.raises(exc, match="chunk"):
        accuracy(_Fixed(np.eye(3)), np.zeros((3, 2)), np.arange(3), chunk=chunk)


# ---------------------------------------------------------------- the book's spiral run


class _PlainSGD(SGD):
    """A subclass: the library's compiled steps decline it, so the book's step runs."""


@pytest.mark.parametrize("opt_cls", [SGD, _PlainSGD], ids=["compiled", "plain"])
def test_spiral_reproduces_the_book(opt_cls):
    nets = pytest.importorskip("fastprop.nets")
    spiral = pytest.importorskip("fastprop.datasets.spiral")
    x, t = spiral.load_data()
    model = nets.TwoLayerNet(2, 10, 3, activation="sigmoid")
    tr = Trainer(model, opt_cls(lr=1.0))
    tr.fit(x, t, 300, 30, eval_interval=10, **QUIET)
    assert len(tr.loss_list) == 300
    assert round(tr.loss_list[0], 2) == 1.10
    assert tr.loss_list[-1] == pytest.approx(0.1087, abs=5e-5)
    assert model.accuracy(x, t) == pytest.approx(0.97)


# ---------------------------------------------------------------- the book's shuffles, compiled


def test_book_permutations_draw_what_the_book_draws():
    """Same orders and the same generator state afterwards, the cached Gaussian included."""
    np.random.seed(11)
    np.random.standard_normal()  # leaves a cached Gaussian in the legacy state
    got = book_permutations(np.arange(50), 6)
    after = (np.random.standard_normal(), np.random.random_sample())
    np.random.seed(11)
    np.random.standard_normal()
    order, want = np.arange(50), []
    for _ in range(6):
        order = order[np.random.permutation(50)]
        want.append(order)
    np.testing.assert_array_equal(got, np.array(want))
    assert after == (np.random.standard_normal(), np.random.random_sample())


@pytest.mark.parametrize("order, epochs, exc, words", [
    (np.zeros((2, 3), int), 1, ValueError, ["1-D", "(2, 3)"]),
    (np.arange(4), -1, ValueError, ["epochs", ">= 0"]),
    (np.arange(4), 1.5, TypeError, ["epochs", "integer"]),
    (np.arange(4.0), 1, TypeError, ["integer row indices", "float64"]),
])
def test_book_permutations_bad_arguments(order, epochs, exc, words):
    with pytest.raises(exc) as info:
        book_permutations(order, epochs)
    for w in words:
        assert w in str(info.value)


class _NoneParams(LinearSoftmax):
    """A model whose params is None (as a half-written model leaves it)."""

    def __init__(self, which):
        super().__init__()
        setattr(self, which, None)


@pytest.mark.parametrize("which", ["params", "grads"])
def test_a_model_whose_params_or_grads_is_none_is_refused_at_construction(which):
    """Used to end in a TypeError from deep inside the first update."""
    from fastprop.trainer import RnnlmTrainer
    for trainer in (Trainer, RnnlmTrainer):
        with pytest.raises(TypeError, match=rf"model\.{which} must be a list \(or dict\) of arrays, .*got NoneType"):
            trainer(_NoneParams(which), SGD(0.1))


def test_rnnlm_trainer_checks_its_model_and_optimizer_at_construction():
    """RnnlmTrainer(None, ...) used to fail only in fit, with an AttributeError."""
    from fastprop.trainer import RnnlmTrainer
    with pytest.raises(TypeError, match="NoneType lacks forward, backward, params, grads"):
        RnnlmTrainer(None, SGD(0.1))
    with pytest.raises(TypeError, match="update"):
        RnnlmTrainer(LinearSoftmax(), None)
    RnnlmTrainer(LinearSoftmax(), SGD(0.1))  # a model with the protocol passes
