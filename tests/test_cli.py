"""The ``fastprop`` command, run in process on small data (never the network)."""
import subprocess
import sys

import numpy as np
import pytest

from fastprop import cli


def _fake_mnist(n_train=600, n_test=100, seed=0):
    rng = np.random.default_rng(seed)

    def part(n):
        t = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.random((n, 784)).astype(np.float32) * 0.1
        x[np.arange(n), t * 78] = 1.0  # a pixel that gives the label away: learnable
        return x, t

    return part(n_train), part(n_test)


def test_train_book_loop_prints_progress_summary_and_plot(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "_load", lambda dataset: _fake_mnist())
    png = tmp_path / "curves.png"
    rc = cli.main(["train", "--iters", "121", "--batch", "10", "--lr", "0.5", "--no-progress",
                   "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "60 per epoch" in out and "seed 0" in out
    assert out.count("epoch ") == 3  # iterations 0, 60, 120: the book's evaluation points
    assert "final: train acc" in out and "steps/s" in out
    final_test = float(out.split("final:")[1].split("test acc")[1].split()[0])
    assert final_test > 0.5
    pytest.importorskip("matplotlib")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_float32_and_adam(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_load", lambda dataset: _fake_mnist())
    assert cli.main(["train", "--iters", "20", "--batch", "10", "--optimizer", "adam",
                     "--lr", "0.01", "--dtype", "float32", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "float32" in out and "Adam(lr=0.01)" in out


def test_train_spiral_is_the_books_run(capsys):
    assert cli.main(["train", "--dataset", "spiral", "--epochs", "300", "--no-progress"]) in (0, None)
    out = capsys.readouterr().out
    assert "last averaged loss 0.1087" in out and "train acc 0.9700" in out


def test_data_where_on_an_empty_cache(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path))
    assert cli.main(["data", "where"]) == 1
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "missing" in out


@pytest.mark.parametrize("argv, words", [
    (["--threads", "0", "data", "where"], "positive integer, got '0'"),
    (["train", "--batch", "0"], "--batch: must be a positive integer, got 0"),
    (["train", "--lr", "-1"], "--lr: must be a number >= 0"),
    (["train", "--dataset", "spiral", "--batch", "1000", "--no-progress"],
     "batch_size must be <= len(x) = 300, got 1000"),
])
def test_bad_arguments_are_a_clear_exit_without_traceback(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_module_entry_point_help():
    r = subprocess.run([sys.executable, "-m", "fastprop", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout and "bench" in r.stdout
