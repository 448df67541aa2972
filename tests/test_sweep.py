"""fastprop.sweep without a cluster: spaces and seeds, the book's trial, the results file,
resume, the command's validation. The Dask tests are in test_sweep_dask.py."""
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from fastprop import cli
from fastprop.sweep import (
    BOOK_SPACE,
    BookObjective,
    DataSpec,
    LogUniform,
    ResultsFile,
    Uniform,
    comparable,
    load_split,
    make_trials,
    parse_space,
    random_search,
    read_rows,
    run_trial,
    trial_seed,
)
from fastprop.sweep.space import check_space

FAST_SPACE = {"lr": LogUniform(-2, -1), "weight_decay": LogUniform(-8, -4)}
DATA = DataSpec("synthetic", train_size=200, seed=3)


def _serial(n=5, seed=7, objective=None, **kw):
    return random_search(FAST_SPACE, objective or BookObjective(epochs=2), n, seed, data=DATA,
                         n_workers=0, **kw)


# ---------------------------------------------------------------- space and seeds

def test_trials_depend_only_on_sweep_seed_and_index():
    a = make_trials(BOOK_SPACE, 10, seed=5)
    b = make_trials(BOOK_SPACE, 4, seed=5)
    assert a[:4] == b  # trial i does not depend on how many trials the sweep has
    assert len({t["seed"] for t in a}) == 10
    assert make_trials(BOOK_SPACE, 4, seed=6)[0]["params"] != a[0]["params"]
    for t in a:
        assert 1e-6 <= t["params"]["lr"] <= 1e-2
        assert 1e-8 <= t["params"]["weight_decay"] <= 1e-4
        assert t["seed"] == trial_seed(5, t["index"])
    # the documented derivation: SeedSequence(seed).spawn children, two levels deep
    child = np.random.SeedSequence(5).spawn(4)[3].spawn(2)[1]
    assert a[3]["seed"] == int(child.generate_state(1)[0])


def test_log_uniform_covers_its_decades():
    lrs = [t["params"]["lr"] for t in make_trials(BOOK_SPACE, 400, seed=0)]
    exps = np.log10(lrs)
    assert exps.min() < -5.8 and exps.max() > -2.2
    assert abs(np.mean(exps) + 4) < 0.2


@pytest.mark.parametrize("space, err", [
    ({}, ValueError), ([("lr", 1)], TypeError), ({"lr": (1e-6, 1e-2)}, TypeError),
    ({"not a name": LogUniform(-6, -2)}, ValueError)])
def test_bad_spaces_are_clear_errors(space, err):
    with pytest.raises(err, match="space"):
        check_space(space)


@pytest.mark.parametrize("args", [(-2, -6), (1, 1), (float("nan"), 1), (0, float("inf"))])
def test_bad_bounds(args):
    with pytest.raises(ValueError):
        Uniform(*args)


def test_parse_space():
    assert parse_space("lr=log10:-6:-2,weight_decay=log10:-8:-4") == BOOK_SPACE
    assert parse_space("momentum=uniform:0.5:0.99") == {"momentum": Uniform(0.5, 0.99)}
    for bad in ("lr", "lr=log10:-6", "lr=gauss:0:1", "lr=log10:a:b", "lr=log10:-2:-6",
                "lr=log10:-6:-2,lr=log10:-6:-2", ""):
        with pytest.raises(ValueError):
            parse_space(bad)


# ---------------------------------------------------------------- the book's trial

def _book_reference(params, seed, data, epochs, batch=100, hidden=(100,) * 6):
    """vol. 1 ch. 6's trial in plain NumPy: MultiLayerNet(784, hidden, 10) (Affine-ReLU per
    hidden layer, then Affine-SoftmaxWithLoss; He init sqrt(2 / n_prev), W1, W2, ... drawn
    in order; weight decay in the loss and the gradient) trained by vol. 1's Trainer (SGD,
    np.random.choice batches, an evaluation whenever i % iter_per_epoch == 0). Returns
    {'loss': the batch loss with decay after the update, 'train_acc'/'val_acc': the accuracy
    on the whole sets} at every evaluation point."""
    x, t = data["x_train"].astype(np.float64), data["t_train"]
    xv, tv = data["x_val"].astype(np.float64), data["t_val"]
    lr, wd = params["lr"], params["weight_decay"]
    np.random.seed(seed)
    sizes = [784, *hidden, 10]
    Ws = [np.sqrt(2.0 / m) * np.random.randn(m, n) for m, n in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(n) for n in sizes[1:]]

    def forward(xb):
        acts = [xb]  # the input of every Affine
        for W, b in zip(Ws[:-1], bs[:-1]):
            acts.append(np.maximum(acts[-1] @ W + b, 0))
        return acts, acts[-1] @ Ws[-1] + bs[-1]

    def softmax(s):
        e = np.exp(s - s.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def loss(xb, tb):
        y = softmax(forward(xb)[1])
        ce = -np.sum(np.log(y[np.arange(len(tb)), tb] + 1e-7)) / len(tb)
        return ce + sum(0.5 * wd * np.sum(W ** 2) for W in Ws)

    def accuracy(xs, ts):
        return np.sum(np.argmax(forward(xs)[1], axis=1) == ts) / float(len(xs))

    n = len(x)
    per_epoch = max(n / batch, 1)
    out = {"loss": [], "train_acc": [], "val_acc": []}
    for i in range(int(epochs * per_epoch)):
        m = np.random.choice(n, batch)
        xb, tb = x[m], t[m]
        acts, s = forward(xb)
        d = softmax(s)
        d[np.arange(batch), tb] -= 1
        d /= batch
        grads = []
        for k in reversed(range(len(Ws))):
            grads.append((acts[k].T @ d + wd * Ws[k], d.sum(0)))
            if k:
                d = (d @ Ws[k].T) * (acts[k] > 0)
        for k, (dW, db) in zip(reversed(range(len(Ws))), grads):
            Ws[k] -= lr * dW
            bs[k] -= lr * db
        if i % per_epoch == 0:
            out["loss"].append(loss(xb, tb))
            out["train_acc"].append(accuracy(x, t))
            out["val_acc"].append(accuracy(xv, tv))
    out["final"] = (accuracy(x, t), accuracy(xv, tv))
    return out


def test_book_objective_is_the_books_trainer_with_weight_decay():
    data = load_split(DataSpec("synthetic", train_size=250, seed=3))  # 200 train: 2 steps/epoch
    params = {"lr": 0.05, "weight_decay": 3e-3}
    np.random.seed(11)
    out = BookObjective(epochs=3)(params, 11, data)
    ref = _book_reference(params, 11, data, epochs=3)
    assert len(ref["loss"]) == 3  # evaluations after steps 0, 2 and 4 of 6
    assert len(out["loss_curve"]) == len(out["val_acc_curve"]) == len(ref["loss"])
    np.testing.assert_allclose(out["loss_curve"], ref["loss"], rtol=1e-9)
    assert out["train_acc_curve"] == ref["train_acc"] and out["val_acc_curve"] == ref["val_acc"]
    assert (out["train_acc"], out["val_acc"]) == ref["final"]
    np.random.seed(11)
    no_decay = BookObjective(epochs=3)(dict(params, weight_decay=0.0), 11, data)
    assert np.all(np.array(no_decay["loss_curve"]) < np.array(out["loss_curve"]))


def test_book_objective_is_the_vol1_trainer_on_multilayernet():
    from fastprop.nets import MultiLayerNet
    from fastprop.trainer.vol1 import Trainer

    data = load_split(DataSpec("synthetic", train_size=250, seed=3))
    params = {"lr": 0.02, "weight_decay": 1e-4}
    np.random.seed(5)  # what the sweep does before the call
    # hidden_size 20: the 6-layer kernels compiled already (a new depth compiles anew)
    out = BookObjective(epochs=4, hidden_size=20)(params, 5, data)
    np.random.seed(5)
    net = MultiLayerNet(784, [20] * 6, 10, weight_decay_lambda=1e-4)
    tr = Trainer(net, data["x_train"], data["t_train"], data["x_val"], data["t_val"], epochs=4,
                 mini_batch_size=100, optimizer="sgd", optimizer_param={"lr": 0.02},
                 verbose=False)
    tr.train()
    assert out["train_acc_curve"] == tr.train_acc_list and out["val_acc_curve"] == tr.test_acc_list
    assert out["loss_curve"] == tr.train_loss_list[::2]  # iter_per_epoch 2: one per epoch
    assert out["val_acc"] == net.accuracy(data["x_val"], data["t_val"])
    for bad, exc in ((0, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(exc, match="hidden_layers"):
            BookObjective(hidden_layers=bad)


def test_book_objective_epochs_and_learning():
    data = load_split(DataSpec("synthetic", train_size=500, seed=0))  # 400 train: 4 steps/epoch
    np.random.seed(0)
    out = BookObjective(epochs=10)({"lr": 0.03, "weight_decay": 1e-6}, 0, data)
    assert len(out["train_acc_curve"]) == len(out["val_acc_curve"]) == 10
    assert out["val_acc"] > 0.6 and out["train_acc"] > 0.6
    assert out["val_acc_curve"][-1] > out["val_acc_curve"][0]


def test_split_is_the_books_and_cached():
    spec = DataSpec("synthetic", train_size=100, seed=1)
    a = load_split(spec)
    assert load_split(spec) is a
    assert len(a["x_val"]) == 20 and len(a["x_train"]) == 80
    assert len(load_split(DataSpec("synthetic", train_size=100, seed=2))["x_val"]) == 20
    with pytest.raises(ValueError, match="validation"):
        DataSpec("synthetic", train_size=2)
    with pytest.raises(ValueError, match="dataset"):
        DataSpec("nope")


def test_run_trial_is_independent_of_the_callers_rng_and_restores_it():
    trial = make_trials(FAST_SPACE, 1, seed=4)[0]
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = run_trial(trial, BookObjective(epochs=2), DATA)
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.rand(17)
    b = run_trial(trial, BookObjective(epochs=2), DATA)
    assert comparable(a) == comparable(b) and a["error"] is None


def _flaky(params, seed, data):
    if params["lr"] > 0.03:
        raise RuntimeError(f"lr {params['lr']:.3f} too high for this test")
    return {"val_acc": 0.5, "train_acc": 0.5}


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on():
    res = _serial(n=8, objective=_flaky)
    assert len(res.rows) == 8
    bad = [r for r in res.rows if r["params"]["lr"] > 0.03]
    assert bad and len(bad) < 8
    for r in bad:
        assert r["error"].startswith("RuntimeError: lr") and "Traceback" in r["traceback"]
    assert all(r["error"] is None and r["val_acc"] == 0.5 for r in res.rows if r not in bad)
    assert len(res.best(20)) == 8 - len(bad)


def test_objective_without_val_acc_is_an_error_row():
    res = _serial(n=1, objective=lambda p, s, d: {"acc": 1})
    assert "val_acc" in res.rows[0]["error"]


# ---------------------------------------------------------------- results file and resume

def test_results_file_rows_and_header(tmp_path):
    path = tmp_path / "r.jsonl"
    res = _serial(results=path)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["type"] == "header" and len(lines) == 6
    config, rows = read_rows(path)
    assert config["seed"] == 7 and config["space"]["lr"] == ["log10", -2, -1]
    assert sorted(comparable(r) == comparable(s) for r, s in
                  zip(sorted(rows, key=lambda r: r["index"]), res.rows)) == [True] * 5
    for r in rows:
        assert {"index", "params", "seed", "train_acc", "val_acc", "train_acc_curve",
                "val_acc_curve", "wall_s", "worker", "error"} <= set(r)
    with pytest.raises(FileExistsError, match="resume"):
        _serial(results=path)
    with pytest.raises(ValueError, match="different seed"):
        _serial(results=path, resume=True, seed=8)


def test_resume_after_an_interrupted_run_and_a_half_written_row(tmp_path):
    path = tmp_path / "r.jsonl"
    full = _serial(n=6)
    seen = []

    def stop_after_three(row):
        seen.append(row["index"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _serial(n=6, results=path, on_row=stop_after_three)
    assert len(read_rows(path)[1]) == 3
    with open(path, "ab") as f:  # a crash in the middle of a write
        f.write(b'{"type":"trial","index":3,"params":{"lr":0.')
    ran = []
    res = _serial(n=6, results=path, resume=True, on_row=lambda r: ran.append(r["index"]))
    assert sorted(ran) == [3, 4, 5]  # finished trials are skipped
    assert [comparable(r) for r in res.rows] == [comparable(r) for r in full.rows]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(x) for x in lines[:-1]) and len(lines) == 8
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    # a longer sweep resumes too (trial i does not depend on n_trials)
    more = _serial(n=8, results=path, resume=True)
    assert [comparable(r) for r in more.rows[:6]] == [comparable(r) for r in full.rows]


def test_append_is_one_complete_line(tmp_path):
    path = tmp_path / "x.jsonl"
    with ResultsFile.open(path, {"seed": 1}) as f:
        f.append({"index": 0, "val_acc": np.float64(0.25), "curve": np.arange(3),
                  "loss": float("nan")})
    row = json.loads(path.read_text().splitlines()[1])
    assert row == {"index": 0, "val_acc": 0.25, "curve": [0, 1, 2], "loss": None,
                   "type": "trial"}
    path.write_text("not json\n{}\n")
    with pytest.raises(ValueError, match="not"):
        ResultsFile.open(path, {"seed": 1}, resume=True)


# ---------------------------------------------------------------- packaging and the command

def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_importing_fastprop_does_not_import_dask():
    r = _python("import sys, fastprop, fastprop.sweep, fastprop.cli; fastprop.cli.build_parser(); "
                "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_without_dask_the_error_says_how_to_install_it():
    r = _python("import sys; sys.modules['distributed'] = None; from fastprop import cli; "
                "sys.exit(cli.main(['sweep', '--trials', '1']))")
    assert r.returncode == 2
    assert "fastprop: error:" in r.stderr and "pip install -e '.[dist]'" in r.stderr
    r = _python("import sys; sys.modules['distributed'] = None\n"
                "from fastprop.sweep import random_search\n"
                "try:\n    random_search(n_trials=1)\nexcept ImportError as e:\n    print(e)")
    assert "pip install -e '.[dist]'" in r.stdout, r.stderr


@pytest.mark.parametrize("argv, words", [
    (["--trials", "0"], "positive integer"),
    (["--epochs", "-1"], "positive integer"),
    (["--workers", "x"], "positive integer"),
    (["--train-size", "0"], "positive integer"),
    (["--train-size", "3"], "validation"),
    (["--space", "lr=log10:-2:-6"], "low < high"),
    (["--space", "lr"], "bad space"),
    (["--results", "/no/such/folder/r.jsonl"], "does not exist"),
    (["--plot", "curves.nope"], "extension"),
    (["--plot", "/no/such/folder/p.png"], "does not exist"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "one or the other"),
])
def test_bad_options_fail_fast_without_a_cluster(argv, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", "--dataset", "synthetic"] + argv)
    assert e.value.code == 2
    assert words in capsys.readouterr().err
    assert time.perf_counter() - start < 5
    assert not (tmp_path / "fastprop-sweep.jsonl").exists()


def test_existing_results_without_resume_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fastprop-sweep.jsonl").write_text("{}\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", "--dataset", "synthetic"])
    assert e.value.code == 2 and "--resume" in capsys.readouterr().err


def test_best_and_table_rank_by_validation_accuracy():
    res = _serial(n=6)
    best = res.best(3)
    assert [r["val_acc"] for r in best] == sorted((r["val_acc"] for r in res.rows),
                                                  reverse=True)[:3]
    table = res.table(3).splitlines()
    assert len(table) == 5 and "val acc" in table[0] and "weight_decay" in table[0]
    assert f"{best[0]['val_acc']:.4f}" in table[2]
    assert all(math.isfinite(r["wall_s"]) for r in res.rows)


def test_two_sweeps_never_append_to_one_file(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsFile.open(path, {"seed": 1}):
        with pytest.raises(BlockingIOError, match="in use by another running sweep"):
            ResultsFile.open(path, {"seed": 1}, resume=True)
    assert os.listdir(tmp_path) == ["r.jsonl"]  # the lock went with the sweep
    with ResultsFile.open(path, {"seed": 1}, resume=True) as f:
        assert f.rows == []


class _Half:
    def __call__(self, params, seed, data):
        return {"val_acc": 0.5}


def test_objectives_are_named_stably_in_the_header(tmp_path):
    from fastprop.sweep.objective import describe_objective

    assert describe_objective(BookObjective(epochs=3)) == {
        "name": "fastprop.sweep.objective.BookObjective",
        "args": {"epochs": 3, "batch_size": 100, "hidden_size": 100,
                 "hidden_layers": 6}}
    assert describe_objective(_Half()) == describe_objective(_Half())  # no address in it
    assert describe_objective(_flaky)["name"].endswith("._flaky")
    path = tmp_path / "r.jsonl"
    _serial(n=2, objective=_Half(), results=path)
    assert len(_serial(n=3, objective=_Half(), results=path, resume=True).rows) == 3
    with pytest.raises(ValueError, match="different objective"):
        _serial(n=3, objective=BookObjective(epochs=2), results=path, resume=True)


# ---------------------------------------------------------------- issue 19: hostile input, huge sweeps

def _quick(params, seed, data):
    return {"val_acc": 0.5, "train_acc": 0.5}


def test_a_huge_sweep_makes_its_trials_lazily():
    """10**8 trials: the first starts at once (they used to be built in a list first: minutes
    and GiBs before any output)."""
    import tracemalloc

    from fastprop.sweep.space import iter_trials
    ran = []

    def stop(row):
        ran.append(row["index"])
        if len(ran) == 3:
            raise KeyboardInterrupt

    tracemalloc.start()
    start = time.perf_counter()
    it = iter_trials(BOOK_SPACE, 10**8, 0)
    assert next(it)["index"] == 0
    with pytest.raises(KeyboardInterrupt):
        random_search(FAST_SPACE, _quick, 10**8, 1, data=DATA, n_workers=0, on_row=stop)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ran == [0, 1, 2]
    assert elapsed < 10 and peak < 50 * 2**20, (elapsed, peak)


def test_lazy_trials_are_the_listed_ones_and_skip_what_is_done():
    from fastprop.sweep.space import iter_trials
    listed = make_trials(FAST_SPACE, 6, 9)
    assert list(iter_trials(FAST_SPACE, 6, 9)) == listed
    assert [t["index"] for t in iter_trials(FAST_SPACE, 6, 9, skip={0, 2, 5})] == [1, 3, 4]
    with pytest.raises(ValueError, match="n_trials"):
        iter_trials(FAST_SPACE, 0, 9)  # checked when called, not at the first next()
    with pytest.raises(TypeError, match="n_trials"):
        iter_trials(FAST_SPACE, 2.5, 9)


@pytest.mark.parametrize("make, match", [
    (lambda: LogUniform(-1000, 1000), "log10 low"),
    (lambda: LogUniform(-6, 400), "log10 high"),
    (lambda: Uniform(-1e308, 1e308), "too far apart"),
    (lambda: parse_space("lr=log10:-1000:1000"), "lr=log10:-1000:1000"),
])
def test_out_of_range_spaces_are_refused_up_front(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_the_widest_allowed_log_space_draws_finite_positive_numbers():
    space = {"lr": LogUniform(-300, 300)}
    lrs = [t["params"]["lr"] for t in make_trials(space, 50, 0)]
    assert all(math.isfinite(v) and v > 0 for v in lrs)


@pytest.mark.parametrize("seed, exc", [(2**32, ValueError), (-1, ValueError), (1.5, TypeError),
                                       (True, TypeError)])
def test_seeds_outside_numpys_range_are_refused_naming_the_argument(seed, exc):
    with pytest.raises(exc, match="seed"):
        random_search(FAST_SPACE, _quick, 1, seed, data=DATA, n_workers=0)
    with pytest.raises(exc, match="seed"):
        trial_seed(seed, 0)
    with pytest.raises(exc, match="data seed"):
        DataSpec("synthetic", seed=seed)


def test_the_largest_seed_works():
    res = random_search(FAST_SPACE, _quick, 2, 2**32 - 1, data=DataSpec("synthetic", train_size=200,
                                                                          seed=2**32 - 1), n_workers=0)
    assert [r["error"] for r in res.rows] == [None, None]


@pytest.mark.parametrize("argv, words", [
    (["--seed", str(2**32)], "--seed"),
    (["--space", "lr=log10:-1000:1000"], "log10 low"),
])
def test_out_of_range_options_fail_fast(argv, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", "--dataset", "synthetic"] + argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and words in err and "Traceback" not in err, err
    assert not (tmp_path / "fastprop-sweep.jsonl").exists()


@pytest.mark.parametrize("value", [np.array([0.5, 0.6]), [0.5], "0.5", None, True, np.array(0.5)])
def test_an_objective_returning_a_non_number_val_acc_is_an_error_row(value, capsys):
    res = random_search(FAST_SPACE, lambda p, s, d: {"val_acc": value}, 2, 0, data=DATA, n_workers=0,
                        progress=True, say=print)  # the progress line used to abort the sweep
    assert all("'val_acc' must be one real number" in r["error"] for r in res.rows)
    assert "trial 1 failed" in capsys.readouterr().out and res.best() == []


def test_numpy_scalar_accuracies_are_numbers_and_a_nan_is_never_the_best(capsys):
    accs = iter([np.float32(0.25), np.float64("nan"), np.float32(0.75)])
    res = random_search(FAST_SPACE, lambda p, s, d: {"val_acc": next(accs), "train_acc": np.float32(1)}, 3, 0,
                        data=DATA, n_workers=0, progress=True, say=print)
    assert "best so far: trial 2 val acc 0.7500" in capsys.readouterr().out
    assert [type(r["val_acc"]) for r in res.rows] == [float] * 3
    assert [r["index"] for r in res.best()] == [2, 0]
    with pytest.raises(TypeError, match="'train_acc'"):
        from fastprop.sweep.engine import _accuracy
        _accuracy(np.ones(2), "train_acc")


def _results_with(tmp_path, *extra_lines):
    """A results file of 2 real trials, then ``extra_lines`` as written by hand."""
    path = tmp_path / "r.jsonl"
    _serial(n=2, results=path, objective=_quick)
    with open(path, "a") as f:
        for line in extra_lines:
            f.write(line + "\n")
    return path


GOOD_ROW = {"type": "trial", "index": 5, "params": {"lr": 0.01, "weight_decay": 1e-6}, "seed": 3,
            "error": None, "val_acc": 0.5}


@pytest.mark.parametrize("line, words", [
    ('{"type": "trial"}', "'index'"),
    (json.dumps({**GOOD_ROW, "index": -1}), "'index'"),
    (json.dumps({**GOOD_ROW, "index": "5"}), "'index'"),
    (json.dumps({**GOOD_ROW, "params": [0.01]}), "'params'"),
    (json.dumps({**GOOD_ROW, "params": {"lr": "fast", "weight_decay": 1e-6}}), "'params'"),
    (json.dumps({**GOOD_ROW, "params": {"momentum": 0.9}}), "header's space"),
    (json.dumps({**GOOD_ROW, "seed": None}), "'seed'"),
    (json.dumps({**GOOD_ROW, "val_acc": "0.5"}), "'val_acc'"),
    (json.dumps({k: v for k, v in GOOD_ROW.items() if k != "val_acc"}), "'val_acc'"),
    (json.dumps({**GOOD_ROW, "type": "header"}), "expected a trial row"),
    ('{"note": "edited by hand"}', "expected a trial row"),
    ("[1, 2]", "expected a trial row"),
    ("5", "expected a trial row"),
])
def test_a_hand_edited_results_file_names_the_bad_line(tmp_path, line, words, monkeypatch, capsys):
    path = _results_with(tmp_path, line, json.dumps(GOOD_ROW))
    for call in (lambda: read_rows(path), lambda: _serial(n=6, results=path, resume=True, objective=_quick)):
        with pytest.raises(ValueError) as e:
            call()
        assert "line 4:" in str(e.value) and words in str(e.value), str(e.value)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", "--dataset", "synthetic", "--results", str(path), "--resume", "--no-plot"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "line 4:" in err and "Traceback" not in err, err


def test_a_line_cut_in_the_middle_of_the_file_is_named(tmp_path):
    path = _results_with(tmp_path, '{"type": "trial", "index": 2, "par', json.dumps(GOOD_ROW))
    with pytest.raises(ValueError, match=r"line 4: not JSON"):
        read_rows(path)
    path.write_text('{"type": "header", "version": 1}\n')
    with pytest.raises(ValueError, match="line 1: the header has no 'config'"):
        read_rows(path)
    path.write_text('{"type": "header", "vers\n{}\n')
    with pytest.raises(ValueError, match="not a fastprop sweep results file"):
        read_rows(path)


_INTERRUPT = {"on": True}


def _interrupted(params, seed, data):
    if _INTERRUPT["on"]:
        raise KeyboardInterrupt
    return _quick(params, seed, data)


def test_a_sweep_that_never_ran_a_trial_leaves_no_file_behind(tmp_path):
    path = tmp_path / "r.jsonl"
    _INTERRUPT["on"] = True
    for _ in range(2):  # the identical retry is not blocked by a header-only file
        with pytest.raises(KeyboardInterrupt):
            _serial(n=3, results=path, objective=_interrupted)
        assert not path.exists() and not (tmp_path / ".r.jsonl.lock").exists()
    # a file this run did not create is never removed
    _INTERRUPT["on"] = False
    _serial(n=1, results=path, objective=_interrupted)
    before = path.read_bytes()
    _INTERRUPT["on"] = True
    with pytest.raises(KeyboardInterrupt):
        _serial(n=3, results=path, resume=True, objective=_interrupted)
    assert path.read_bytes() == before
