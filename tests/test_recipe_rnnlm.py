"""``fastprop train --model rnnlm|betterrnnlm`` in process, on small PTB-like files written here."""
import numpy as np
import pytest

from fastprop import cli
from fastprop.datasets import ptb
from fastprop.recipes import rnnlm as recipe

TINY = ["--batch", "4", "--time-size", "5", "--hidden", "8", "--epochs", "2", "--eval-interval", "10", "--lr", "1",
        "--no-progress"]


def _text(rng, words, n_lines):
    return "".join(" " + " ".join(rng.choice(words, rng.integers(3, 12))) + " \n" for _ in range(n_lines))


@pytest.fixture
def fake_ptb(tmp_path, monkeypatch):
    """ptb.{train,valid,test}.txt of a 40-word vocabulary in $FASTPROP_DATA/ptb (no checksums:
    they are not Mikolov's files); the mirror refuses at once."""
    folder = tmp_path / "data" / "ptb"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(40)])
    (folder / "ptb.train.txt").write_text(" ".join(words) + " \n" + _text(rng, words, 300))
    (folder / "ptb.valid.txt").write_text(_text(rng, words, 60))
    (folder / "ptb.test.txt").write_text(_text(rng, words, 60))
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(ptb, "CHECKSUMS", {})
    monkeypatch.setattr(ptb, "MIRROR", "http://127.0.0.1:9/")
    return folder


def _perplexities(out, tag):
    return [float(line.split(tag)[1].split()[0]) for line in out.splitlines() if tag in line]


def test_rnnlm_prints_the_books_lines_test_perplexity_and_plot(fake_ptb, tmp_path, capsys):
    png = tmp_path / "ppl.png"
    assert cli.main(["train", "--model", "rnnlm", *TINY, "--seed", "3", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    corpus = ptb.load_data("train")[0]
    iters = (len(corpus) - 1) // 20
    assert "rnnlm: PTB" in out and "vocabulary 41" in out  # 40 words and <eos>
    assert out.count("| epoch 1 |") == len(range(0, iters, 10)) and "| epoch 2 |" in out
    assert f"iter 1 / {iters} |" in out
    ppl = _perplexities(out, "| perplexity ")
    assert ppl[0] > ppl[-1] and all(np.isfinite(ppl))  # it learns the word frequencies
    test = float(out.split("test perplexity: ")[1].split()[0])
    assert 1 < test < 41
    assert f"for {2 * iters} iterations" in out
    pytest.importorskip("matplotlib")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rnnlm_seed_repeats_and_float64(fake_ptb, capsys):
    runs = []
    for extra in ([], [], ["--dtype", "float64"]):
        assert cli.main(["train", "--model", "rnnlm", *TINY, "--seed", "7", *extra]) == 0
        out = capsys.readouterr().out
        runs.append(_perplexities(out, "| perplexity ") + [float(out.split("test perplexity: ")[1].split()[0])])
    assert runs[0] == runs[1]
    np.testing.assert_allclose(runs[2], runs[0], rtol=1e-3)  # float64 vs float32: one run


def test_betterrnnlm_validates_each_epoch(fake_ptb, capsys):
    assert cli.main(["train", "--model", "betterrnnlm", *TINY, "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("valid perplexity: ") == 2 and "test perplexity: " in out
    assert "wordvec = hidden 8" in out


def _error(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastprop: error: "), cap.err
    return lines[0], cap.out


@pytest.mark.parametrize("extra, words", [
    (["--optimizer", "adam"], "--optimizer does not apply to --model rnnlm"),
    (["--iters", "5"], "--iters does not apply to --model rnnlm"),
    (["--activation", "relu"], "--activation does not apply"),
    (["--dataset", "mnist"], "trains on ptb"),
    (["--time-size", "0"], "--time-size: must be a positive integer, got 0"),
    (["--max-grad", "0"], "--max-grad: must be a finite number > 0, got 0"),
    (["--eval-interval", "x"], "--eval-interval: must be a positive integer"),
    (["--batch", "400", "--time-size", "35"], "14000 words per iteration"),
    (["--hidden", str(10**6)], "MAX_RUN_BYTES"),
])
def test_refused_before_any_training(fake_ptb, capsys, extra, words):
    line, out = _error(capsys, ["train", "--model", "rnnlm", "--no-progress", *extra])
    assert words in line
    assert "epoch" not in out and "perplexity" not in out


def test_missing_train_file_is_the_loaders_message(fake_ptb, capsys):
    (fake_ptb / "ptb.train.txt").unlink()
    line, out = _error(capsys, ["train", "--model", "rnnlm", "--no-progress"])
    assert "ptb.train.txt" in line and "fastprop data import PATH --name ptb" in line
    assert out == ""


def test_test_corpus_too_short_for_eval_perplexity(fake_ptb, capsys):
    (fake_ptb / "ptb.test.txt").write_text(" w1 w2 \n")
    line, _ = _error(capsys, ["train", "--model", "rnnlm", "--no-progress"])
    assert "test corpus has" in line and "10 x 35" in line


def test_recipe_contract():
    assert set(recipe.APPLIES) == set(recipe.MODELS)
    for model in recipe.MODELS:
        assert set(recipe.OPTIONS) <= recipe.APPLIES[model]
    assert recipe.DEFAULTS["rnnlm"] == dict(batch=20, hidden=100, time_size=35, lr=20.0, epochs=4,
                                            max_grad=0.25, eval_interval=20, dtype="float32")
