"""Rnnlm / BetterRnnlm, BaseModel's parameter files, RnnlmTrainer and eval_perplexity."""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from fastprop.bench.book import vol2_nets as book  # the book's ch06 Rnnlm
from fastprop.nets import BetterRnnlm, Rnnlm
from fastprop.optimizers import SGD
from fastprop.trainer.rnnlm import RnnlmTrainer, eval_perplexity

V, D, H = 30, 8, 6


def _corpus(n=400, seed=0):
    return np.random.default_rng(seed).integers(0, V, n).astype(np.int32)


def _book_fit(model, xs, ts, max_epoch, batch_size, time_size, max_grad, lr):
    """The book's RnnlmTrainer loop (batch offsets, clip, SGD), written out; returns losses."""
    data_size = len(xs)
    max_iters = data_size // (batch_size * time_size)
    jump = data_size // batch_size
    time_idx, losses = 0, []
    for _ in range(max_epoch):
        for _ in range(max_iters):
            bx = np.empty((batch_size, time_size), dtype="i")
            bt = np.empty((batch_size, time_size), dtype="i")
            for t in range(time_size):
                for i in range(batch_size):
                    bx[i, t] = xs[(i * jump + time_idx) % data_size]
                    bt[i, t] = ts[(i * jump + time_idx) % data_size]
                time_idx += 1
            losses.append(model.forward(bx, bt))
            model.backward()
            total = np.sqrt(sum(np.sum(g ** 2) for g in model.grads))
            rate = max_grad / (total + 1e-6)
            if rate < 1:
                for g in model.grads:
                    g *= rate
            for p, g in zip(model.params, model.grads):
                p -= lr * g
    return losses


@pytest.mark.parametrize("dt", ["f", "d"])
def test_rnnlm_training_is_the_books(dt, capsys):
    corpus = _corpus()
    xs, ts = corpus[:-1], corpus[1:]
    np.random.seed(11)
    ours = Rnnlm(V, D, H, dtype=dt)
    np.random.seed(11)
    theirs = book.Rnnlm(V, D, H, dtype=dt)
    for p, q in zip(ours.params, theirs.params):
        np.testing.assert_array_equal(p, q)  # the same draws in the same order
    trainer = RnnlmTrainer(ours, SGD(1.0))
    trainer.fit(xs, ts, max_epoch=2, batch_size=4, time_size=5, max_grad=0.25, eval_interval=1)
    expected = _book_fit(theirs, xs, ts, 2, 4, 5, 0.25, 1.0)
    tol = 1e-10 if dt == "d" else 2e-4
    np.testing.assert_allclose(trainer.ppl_list, np.exp(expected), rtol=tol)
    for p, q in zip(ours.params, theirs.params):
        np.testing.assert_allclose(p, q, rtol=tol, atol=tol)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(expected) == 2 * (len(xs) // 20)
    assert lines[0].startswith("| epoch 1 |  iter 1 / 19 | time ") and "| perplexity " in lines[0]
    assert trainer.current_epoch == 2 and trainer.time_idx == 2 * 19 * 5


def test_better_rnnlm_ties_the_embedding_and_trains(capsys):
    np.random.seed(2)
    model = BetterRnnlm(V, H, H, dropout_ratio=0.2)
    assert model.layers[-1].params[0].base is model.layers[0].params[0]
    corpus = _corpus(300)
    trainer = RnnlmTrainer(model, SGD(5.0))
    trainer.fit(corpus[:-1], corpus[1:], max_epoch=3, batch_size=3, time_size=5, max_grad=0.25,
                eval_interval=5)
    assert np.isfinite(trainer.ppl_list).all()
    model.reset_state()
    ppl = eval_perplexity(model, corpus, batch_size=3, time_size=5)
    assert 1 < ppl < 2 * V
    assert "evaluating perplexity" in capsys.readouterr().out


def test_eval_perplexity_is_exp_of_the_mean_loss(capsys):
    np.random.seed(0)
    model = Rnnlm(V, D, H)
    corpus = _corpus(200)
    ppl = eval_perplexity(model, corpus, batch_size=2, time_size=7)
    model.reset_state()
    jump, losses = (len(corpus) - 1) // 2, []
    for it in range((len(corpus) - 1) // 14):
        pos = it * 7 + np.array([0, jump])[:, None] + np.arange(7)
        losses.append(model.forward(corpus[pos % len(corpus)], corpus[(pos + 1) % len(corpus)]))
    assert ppl == pytest.approx(float(np.exp(np.mean(losses))), rel=1e-6)


def test_save_and_load_round_trip_in_the_books_format(tmp_path):
    np.random.seed(0)
    model = Rnnlm(V, D, H)
    path = tmp_path / "Rnnlm.pkl"
    model.save_params(str(path))
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert isinstance(raw, list) and all(a.dtype == np.float16 for a in raw)
    np.random.seed(1)
    other = Rnnlm(V, D, H)
    kept = [p for p in other.params]
    other.load_params(str(path))
    for p, q, k in zip(other.params, model.params, kept):
        assert p is k and p.dtype == np.float32
        np.testing.assert_array_equal(p, q.astype(np.float16).astype(np.float32))
    with pytest.raises(OSError, match="No file"):
        other.load_params(str(tmp_path / "missing.pkl"))
    with open(tmp_path / "short.pkl", "wb") as f:
        pickle.dump(raw[:2], f)
    with pytest.raises(ValueError, match="holds 2 arrays"):
        other.load_params(str(tmp_path / "short.pkl"))


HOSTILE = r'''
import os, pickle, sys
import numpy as np
from fastprop.nets import Rnnlm

class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > " + sys.argv[1],))

path = sys.argv[1] + ".pkl"
with open(path, "wb") as f:
    pickle.dump([Evil()], f)
model = Rnnlm(10, 4, 4)
try:
    model.load_params(path)
except ValueError as e:
    print("refused:", e)
print("ran" if os.path.exists(sys.argv[1]) else "clean")
'''


def test_a_hostile_parameter_file_is_refused_without_running(tmp_path):
    marker = str(tmp_path / "marker")
    r = subprocess.run([sys.executable, "-c", HOSTILE, marker], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "refused:" in r.stdout and r.stdout.strip().endswith("clean")
    assert not os.path.exists(marker)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(ts=np.zeros(10, np.int32)), ValueError, "shape of xs"),
    (dict(time_size=500), ValueError, "fewer than one batch"),
    (dict(batch_size=400), ValueError, "fewer than one batch"),
    (dict(batch_size=True), TypeError, "batch_size"),
    (dict(time_size=0), ValueError, "time_size"),
    (dict(max_grad=-1.0), ValueError, "max_grad"),
    (dict(eval_interval=0), ValueError, "eval_interval"),
    (dict(xs=np.zeros(399)), TypeError, "integer word ids"),
])
def test_bad_fit_arguments_fail_before_any_step(kwargs, err, match):
    np.random.seed(0)
    model = Rnnlm(V, D, H)
    before = [p.copy() for p in model.params]
    corpus = _corpus()
    args = dict(xs=corpus[:-1], ts=corpus[1:], max_epoch=1, batch_size=4, time_size=5)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        RnnlmTrainer(model, SGD(1.0)).fit(**args)
    for p, q in zip(model.params, before):
        np.testing.assert_array_equal(p, q)


def test_backward_before_forward_and_bad_sizes():
    with pytest.raises(TypeError, match="vocab_size"):
        Rnnlm(10.0)
    with pytest.raises(ValueError, match="wordvec_size == hidden_size"):
        BetterRnnlm(10, 4, 5)
    with pytest.raises(ValueError, match="before"):
        Rnnlm(V, D, H).backward()


@pytest.mark.parametrize("dt", ["f", "d"])
def test_rnnlm_forward_without_gradient_gives_the_same_loss(dt):
    xs, ts = _corpus(40).reshape(2, 4, 5)
    losses = []
    for flag in (True, False):
        np.random.seed(4)
        model = Rnnlm(V, D, H, dtype=dt)
        losses.append(model.forward(xs, ts, train_flg=flag))
        if not flag:
            with pytest.raises(ValueError, match="before a training forward"):
                model.backward()
    assert losses[0] == pytest.approx(losses[1], rel=1e-6 if dt == "f" else 1e-14)
    with pytest.raises(TypeError, match="train_flg"):
        Rnnlm(V, D, H).forward(xs, ts, train_flg="no")


# A save that fails half-way (here a file-size limit, as a full disk) must leave the previous
# file as it was; load_params must refuse a FIFO (it would block forever), a folder or a device.
SAVE_FAILS = r'''
import glob, json, os, resource, signal, sys
import numpy as np
from fastprop.nets import Rnnlm

path = sys.argv[1]
np.random.seed(0)
model = Rnnlm(30, 8, 6)
model.save_params(path)
good = open(path, "rb").read()
for p in model.params:
    p += 1
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a write past the limit: EFBIG, not a kill
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (len(good) // 2, hard))
try:
    model.save_params(path)
    outcome = "saved"
except OSError as exc:
    outcome = type(exc).__name__
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
left = glob.glob(os.path.join(os.path.dirname(path), ".*"))
print(json.dumps({"outcome": outcome, "intact": open(path, "rb").read() == good, "left": left}))
'''


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SAVE_FAILS, str(tmp_path / "Rnnlm.pkl")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"outcome": "OSError", "intact": True, "left": []}


def test_save_follows_a_symlink_and_needs_an_existing_folder(tmp_path):
    model = Rnnlm(V, D, H)
    target = tmp_path / "real.pkl"
    target.write_bytes(b"old")
    (tmp_path / "link.pkl").symlink_to(target)
    model.save_params(str(tmp_path / "link.pkl"))
    assert (tmp_path / "link.pkl").is_symlink()
    assert isinstance(pickle.loads(target.read_bytes()), list)
    with pytest.raises(FileNotFoundError, match="No such folder") as exc:  # as the book's open(.., 'wb')
        model.save_params(str(tmp_path / "no-such-folder" / "Rnnlm.pkl"))
    assert ".part" not in str(exc.value)  # the user's path, not the temporary file's


LOAD_SPECIAL = r'''
import json, os, sys
from fastprop.nets import Rnnlm

folder = sys.argv[1]
fifo = os.path.join(folder, "fifo.pkl")
os.mkfifo(fifo)
out = {}
for name, path in (("fifo", fifo), ("folder", folder), ("device", "/dev/zero")):
    try:
        Rnnlm(30, 8, 6).load_params(path)
        out[name] = "loaded"
    except (OSError, ValueError) as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
'''


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_load_refuses_what_is_not_a_regular_file_instead_of_blocking(tmp_path):
    proc = subprocess.run([sys.executable, "-c", LOAD_SPECIAL, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)  # a hang fails here
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["fifo"].startswith("ValueError") and "FIFO" in out["fifo"] and "not a regular file" in out["fifo"]
    assert out["folder"].startswith("ValueError") and "folder" in out["folder"]
    assert out["device"].startswith("ValueError") and "character device" in out["device"]


@pytest.mark.parametrize("replacement", [np.zeros((H, V - 1), np.float32), np.zeros((H, V), np.float64)])
def test_a_replaced_output_W_is_named_not_reported_as_an_internal_buffer(replacement):
    model = Rnnlm(V, D, H)
    xs = _corpus(12).reshape(2, 6)
    model.forward(xs, xs)
    model.layers[-1].params[0] = replacement
    with pytest.raises(ValueError, match=r"output layer's W \(layers\[-1\]\.params\[0\]\)") as exc:
        model.backward()
    assert "dscores" not in str(exc.value) and "dout" not in str(exc.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_save_refuses_to_replace_what_is_not_a_regular_file(tmp_path):
    """A rename over a FIFO or a device replaces the node itself (a fuzz run turned /dev/null
    into a plain file this way); such a target is refused and left as it was."""
    import socket
    import stat
    fifo = tmp_path / "fifo.pkl"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.pkl"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        model = Rnnlm(V, D, H)
        for path, kind in ((fifo, "FIFO"), (sock_path, "socket"), (tmp_path, "folder")):
            before = os.stat(path).st_mode
            with pytest.raises(ValueError, match=f"{kind}.*not a regular file: refusing to replace it"):
                model.save_params(str(path))
            assert os.stat(path).st_mode == before
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]
    finally:
        sock.close()


@pytest.mark.parametrize("make, match", [
    (lambda: Rnnlm(10**9), r"vocab_size=1000000000 with wordvec_size=100 asks for an embedding"),
    (lambda: BetterRnnlm(100, 10, 10**6), r"hidden_size=1000000 asks for an LSTM weight"),
])
def test_sizes_that_cannot_fit_are_refused_before_drawing_weights(make, match):
    with pytest.raises(ValueError, match=match):
        make()
