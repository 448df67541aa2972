"""``fastprop train --model cbow|skipgram`` (ch04/train.py) on a small PTB-like train file of
our own (the real one is not on these machines), and the loader's message without one."""
import numpy as np
import pytest

from fastprop import cli
from fastprop.datasets import ptb
from fastprop.recipes import cbow as recipe


@pytest.fixture
def ptb_train(tmp_path, monkeypatch):
    """$FASTPROP_DATA/ptb/ptb.train.txt: 3000 lines of Zipf-distributed words with the book's
    query words among them; the mirror refused at once (offline)."""
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path))
    monkeypatch.setattr(ptb, "MIRROR", "http://127.0.0.1:9/")
    r = np.random.default_rng(0)
    vocab = ["you", "year", "car", "toyota"] + [f"w{i}" for i in range(196)]
    lines = [vocab] + [[vocab[k % len(vocab)] for k in r.zipf(1.3, 12)] for _ in range(300)]
    (tmp_path / "ptb").mkdir()  # PTB's layout: " word word ... \n" (<eos> counts as a word)
    (tmp_path / "ptb" / "ptb.train.txt").write_text("".join(f" {' '.join(w)} \n" for w in lines))
    return tmp_path


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
@pytest.mark.parametrize("fast", [False, True])
def test_the_recipe_trains_and_prints_the_nearest_words(ptb_train, capsys, model, fast, tmp_path):
    argv = ["train", "--model", model, "--epochs", "1", "--hidden", "10", "--batch", "50", "--seed", "0",
            "--no-progress", "--plot", str(tmp_path / "loss.png")]
    if fast:
        argv += ["--sampler", "fast", "--update", "sparse"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{model}: PTB " in out and "vocabulary 201" in out and "hidden 10, window 5, batch 50" in out
    assert ("sampler fast, update sparse" if fast else "sampler book, update dense") in out
    assert "| epoch 1 |  iter 1 / " in out  # the book Trainer's lines
    assert "final: last averaged loss" in out
    for query in recipe.QUERIES:
        assert f"[query] {query}\n" in out
    assert (tmp_path / "loss.png").is_file()


def test_the_default_settings_are_train_pys():
    class Args:
        pass

    d = recipe.settings("cbow", Args())
    assert (d["window"], d["hidden"], d["batch"], d["epochs"], d["optimizer"], d["dtype"]) == \
        (5, 100, 100, 10, "adam", "float32")
    assert (d["sampler"], d["update"], d["progress"]) == ("book", "dense", True)


def test_a_missing_train_file_is_the_loaders_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path))
    monkeypatch.setattr(ptb, "MIRROR", "http://127.0.0.1:9/")
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--model", "cbow", "--no-progress"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fastprop: error: PTB: ptb.train.txt is not in")
    assert "fastprop data import PATH --name ptb" in err[0]


@pytest.mark.parametrize("argv, match", [
    (["--activation", "relu"], "--activation does not apply to --model cbow"),
    (["--iters", "5"], "--iters does not apply"),
    (["--dataset", "mnist"], "trains on ptb"),
    (["--batch", "100000"], "fewer than one --batch"),
    (["--window", "0"], "window"),
    (["--sampler", "exact"], "sampler"),
])
def test_bad_settings_are_one_error_line_before_training(ptb_train, capsys, argv, match):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--model", "cbow", "--no-progress"] + argv)
    assert info.value.code == 2
    assert match in capsys.readouterr().err
