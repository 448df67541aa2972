"""Smoke tests of ``fastprop bench`` at a tiny size: the table has its columns and rows,
the raw numbers are written, and nothing needs PyTorch."""
import io
import json

import numpy as np
import pytest

from fastprop import bench
from fastprop.bench import machine, models
from fastprop.bench.book import BookTwoLayerNet, book_step
from fastprop.bench.timing import Switch
from fastprop.nets import TwoLayerNet

TINY = "20-8-3/b4"


@pytest.fixture
def no_torch(monkeypatch):
    monkeypatch.setattr(machine, "torch_available", lambda: False)


def _run(**kw):
    out = io.StringIO()
    kw.setdefault("impls", bench.IMPLS)
    kw.setdefault("spiral_reps", 0)
    kw.setdefault("repeat", 2)
    result = bench.run(sizes=[TINY], peak_size=64, quiet=True, out=out, **kw)
    return result, out.getvalue()


def test_table_columns_and_rows(no_torch):
    result, text = _run()
    header = next(line for line in text.splitlines() if line.startswith("size"))
    for col in bench.HEADERS:
        assert col in header
    rows = [(r["impl"], r["dtype"]) for r in result["rows"]]
    assert rows == [("book", "float64"), ("dropin", "float64"),
                    ("fused", "float64"), ("fused", "float32")]
    assert result["settings"]["rounds"] == bench.ROUNDS
    for r in result["rows"]:
        assert r["size"] == [20, 8, 3, 4]
        assert r["n"] == 2 and len(r["times_s"]) == 2  # --repeat is the total over the rounds
        assert 0 < r["min_s"] <= r["median_s"] <= r["max_s"]
        assert r["bound_s"] > 0 and r["gemms_measured_s"] > 0
    assert result["rows"][0]["speedup_vs_book"] == pytest.approx(1.0)
    for label in ("book NumPy (reference)", "fastprop drop-in", "fastprop fused", "20-8-3 b4"):
        assert label in text
    assert "PyTorch is not installed" in text
    assert "PyTorch  " not in text  # no torch rows
    # machine facts on top
    for fact in ("machine", "versions", "threads", "peak GEMM", "startup"):
        assert any(line.startswith(fact) for line in text.splitlines()), fact


def test_main_writes_json(tmp_path, no_torch, capsys):
    path = tmp_path / "bench.json"
    rc = bench.main(["--sizes", TINY, "--repeat", "2", "--peak-size", "64", "--quiet",
                     "--dtypes", "float32", "--threads", "1", "--fresh-batches",
                     "--spiral-reps", "1", "--json", str(path)])
    assert rc == 0
    data = json.loads(path.read_text())
    sp = data["spiral"]
    assert len(sp["fastprop"]["times_s"]) == len(sp["book"]["times_s"]) == 1
    assert sp["speedup"] == pytest.approx(sp["book"]["median_s"] / sp["fastprop"]["median_s"])
    # the same run, so the same result (the book's last averaged loss, ~0.11)
    assert sp["fastprop"]["last_loss"] == pytest.approx(sp["book"]["last_loss"], rel=1e-9)
    assert 0.05 < sp["book"]["last_loss"] < 0.2
    assert data["settings"]["threads"] == 1 and data["settings"]["fresh_batches"] is True
    assert [(r["impl"], r["dtype"]) for r in data["rows"]] == [
        ("book", "float64"), ("dropin", "float64"), ("fused", "float32")]
    assert set(data["peak_gflops"]["scipy"]) == {"float64", "float32"}
    text = capsys.readouterr().out
    assert "fastprop fused" in text and "vol. 2 spiral fit" in text and "speedup" in text


def test_cli_wiring(no_torch, capsys):
    from fastprop import cli

    assert cli.main(["bench", "--sizes", TINY, "--repeat", "2", "--peak-size", "64",
                     "--impls", "fused", "--spiral-reps", "0", "--quiet"]) == 0
    assert "fastprop fused" in capsys.readouterr().out


def test_parse_size_and_gemm_counts():
    assert bench.parse_size("784-50-10/b100") == (784, 50, 10, 100)
    assert bench.parse_size("784-50-10/100") == bench.parse_size("784-50-10:100")
    with pytest.raises(ValueError, match="784-50-10/b100"):
        bench.parse_size("784x50")
    with pytest.raises(ValueError, match="positive"):
        bench.parse_size("0-50-10/b100")
    assert [bench.n_gemms(i) for i in ("book", "dropin", "fused", "torch")] == [8, 7, 5, 5]
    D, H, O, B = size = (784, 50, 10, 100)
    assert bench.step_flops("fused", size) == 2 * (2 * B * D * H + 3 * B * H * O)
    assert bench.step_flops("book", size) == 2 * (4 * B * D * H + 4 * B * H * O)


def test_book_net_matches_fastprop():
    """The bench's NumPy reference is the book's net: same losses as fastprop's float64 net."""
    rng = np.random.default_rng(0)
    x, t = rng.random((5, 12)), rng.integers(0, 3, 5)
    np.random.seed(7)
    book = BookTwoLayerNet(12, 6, 3)
    np.random.seed(7)
    ours = TwoLayerNet(12, 6, 3)
    for _ in range(3):
        assert book_step(book, x, t) == pytest.approx(book_step(ours, x, t), rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown implementations"):
        bench.run(sizes=[TINY], impls=["book", "jax"], quiet=True, out=io.StringIO())
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "nonsense", "--quiet"])
    # a wrong value is a ValueError, a wrong type (a float, a bool) a TypeError
    for bad, exc in ((-1, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(exc, match="spiral_reps"):
            bench.run(sizes=[TINY], spiral_reps=bad, quiet=True, out=io.StringIO())
    for bad, exc in ((0, ValueError), (2.0, TypeError), (False, TypeError)):
        with pytest.raises(exc, match="rounds"):
            bench.run(sizes=[TINY], rounds=bad, quiet=True, out=io.StringIO())
    for bad, exc in ((0, ValueError), (2.7, TypeError)):  # 2.7 threads: refused, not truncated to 2
        with pytest.raises(exc, match="threads"):
            bench.run(sizes=[TINY], threads=bad, quiet=True, out=io.StringIO())
    for bad, exc in ((0, ValueError), ("5", TypeError)):
        with pytest.raises(exc, match="budget"):
            bench.run(sizes=[TINY], budget=bad, quiet=True, out=io.StringIO())


def test_rounds_interleave_and_add_up(no_torch):
    result, _ = _run(repeat=7, rounds=3, impls=("book", "fused"), dtypes=("float64",))
    assert result["settings"]["rounds"] == 3
    assert [r["n"] for r in result["rows"]] == [7, 7]


# --------------------------------------------------------------------------- --models blocks

#: every block at a size that runs in milliseconds
TINY_OPTIONS = dict(batch=4, im2col_shape=(2, 3, 8, 8), infer_images=4, vocab=40, rnn_batch=3,
                    rnn_time=4, rnn_hidden=6, cbow_hidden=5, cbow_window=2, cbow_batch=7,
                    sampler_rows=6, sample_size=3, ppmi_vocab=30, ppmi_book_vocab=12, gen_words=9)


def _impls():
    return ["book", "dropin", "fused"] + (["torch"] if machine.torch_available() else [])


@pytest.mark.parametrize("name", list(models.BLOCKS))
def test_every_block_row_builds_and_steps(name):
    opts = models.check_options(TINY_OPTIONS)
    rows = models.build_rows(name, opts, ["float64", "float32"], _impls())
    impls = {spec.impl for spec, *_ in rows}
    assert {"book", "dropin"} <= impls
    for spec, dtype, step, lib, first in rows:
        assert lib in ("numpy", "scipy", "torch") and first > 0
        assert (lib == "numpy") == (spec.impl == "book")
        for _ in range(2):
            out = step()
            assert np.all(np.isfinite(out)), (name, spec.label, dtype)


def _two_steps(factory, dtype="float64"):
    opts = models.check_options(TINY_OPTIONS)
    step, _ = factory(opts, dtype)
    return [step() for _ in range(2)]


@pytest.mark.parametrize("book, ours", [
    ("book_simple", "dropin_simple"), ("book_deep", "dropin_deep"),
    ("book_multilayer", "dropin_multilayer"), ("book_multilayer", "fused_multilayer"),
])
def test_vol1_book_and_fastprop_rows_give_the_same_losses(book, ours):
    """Same seed, same batch, same Dropout draws: the same two training losses (float64)."""
    from fastprop.bench import steps_vol1 as v1

    np.testing.assert_allclose(_two_steps(getattr(v1, ours)), _two_steps(getattr(v1, book)),
                               rtol=1e-10)


@pytest.mark.parametrize("book, ours", [
    ("book_rnnlm", "dropin_rnnlm"), ("book_rnnlm", "fast_rnnlm"), ("book_cbow", "dropin_cbow"),
    ("book_cbow", "compiled_cbow"), ("book_lstm", "dropin_lstm"), ("book_seq2seq", "dropin_seq2seq"),
    ("book_seq2seq", "fast_seq2seq"),
])
def test_vol2_book_and_fastprop_rows_give_the_same_losses(book, ours):
    from fastprop.bench import steps_vol2 as v2

    np.testing.assert_allclose(_two_steps(getattr(v2, ours)), _two_steps(getattr(v2, book)),
                               rtol=1e-10)
    # and in the book's float32, to float32 precision
    np.testing.assert_allclose(_two_steps(getattr(v2, ours), "float32"),
                               _two_steps(getattr(v2, book), "float32"), rtol=2e-5, atol=1e-6)


def test_generate_rows_give_the_books_tokens():
    """The book's Seq2seq.generate on fastprop's layers samples the book's tokens (float64,
    and float32 as the book runs it), question by question."""
    from fastprop.bench import steps_vol2 as v2

    for dtype in ("float64", "float32"):
        theirs = _two_steps(v2.book_generate, dtype)
        for factory in (v2.dropin_generate, v2.fast_generate, v2.fast_generate_batch):
            ours = _two_steps(factory, dtype)
            assert ours == theirs, factory.__name__
        assert len(ours[0]) == v2.S2S["questions"] and all(len(g) == v2.S2S["a"] - 1 for g in ours[0])


def test_rnnlmgen_rows_give_the_books_words():
    """ch07's RnnlmGen: the book's class, the same class on fastprop's layers and fastprop's
    compiled generate draw the same words from the same seed (float64 and the book's float32)."""
    from fastprop.bench import steps_vol2 as v2

    for dtype in ("float64", "float32"):
        theirs = _two_steps(v2.book_rnnlmgen, dtype)
        assert [len(g) for g in theirs] == [TINY_OPTIONS["gen_words"]] * 2 and theirs[0] != theirs[1]
        for factory in (v2.dropin_rnnlmgen, v2.fast_rnnlmgen):
            assert _two_steps(factory, dtype) == theirs, factory.__name__


def test_same_outputs_where_the_step_returns_arrays():
    from fastprop.bench import steps_vol1 as v1
    from fastprop.bench import steps_vol2 as v2

    for book, ours, exact in ((v1.book_im2col_row, v1.dropin_im2col_row, True),
                              (v1.book_col2im_row, v1.dropin_col2im_row, False),
                              (v2.book_sampler, v2.dropin_sampler, True),  # the book's draws
                              (v2.book_ppmi, v2.dropin_ppmi_small, False)):
        a, b = _two_steps(book), _two_steps(ours)
        for x, y in zip(a, b):
            assert x.shape == y.shape
            if exact:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)


def test_models_run_reports_blocks_and_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    rc = bench.main(["--models", "ppmi", "--repeat", "3", "--quiet", "--threads", "1",
                     "--ppmi-vocab", "25", "--ppmi-book-vocab", "10", "--json", str(path)])
    assert rc == 0
    data = json.loads(path.read_text())
    assert data["rows"] == [] and "spiral" not in data and "peak_gflops" not in data
    assert data["settings"]["models"] == ["ppmi"]
    (block,) = data["blocks"]
    assert block["block"] == "ppmi" and block["volume"] == 2
    rows = block["rows"]
    assert [(r["impl"], r["size"]) for r in rows] == [("book", "V 10"), ("dropin", "V 10"),
                                                      ("dropin", "V 25")]
    assert rows[0]["speedup_vs_book"] == pytest.approx(1.0)
    assert rows[1]["speedup_vs_book"] == pytest.approx(rows[0]["median_s"] / rows[1]["median_s"])
    assert rows[2]["speedup_vs_book"] is None  # no book row at that size
    assert all(r["speedup_vs_torch"] is None for r in rows)
    for r in rows:
        assert r["n"] == 3 and 0 < r["min_s"] <= r["median_s"] <= r["max_s"]
    text = capsys.readouterr().out
    assert "vol. 2 ppmi" in text and "book NumPy loop (reference) [V 10]" in text
    assert "784-50-10" not in text  # the TwoLayerNet table is not there


def test_models_names_and_options_are_checked():
    assert models.expand(["twolayer"]) == ["twolayer"]
    assert models.expand(["ppmi", "convnet", "convnet"]) == ["convnet", "ppmi"]
    assert models.expand(["vol2"]) == ["rnnlm", "rnnlmgen", "lstm", "seq2seq", "generate", "cbow", "sampler",
                                       "ppmi"]
    assert models.expand(["all"])[0] == "twolayer" and len(models.expand(["all"])) == 14
    with pytest.raises(ValueError, match="unknown model block 'gpt'"):
        models.expand(["gpt"])
    with pytest.raises(ValueError, match="at least one"):
        models.expand([])
    with pytest.raises(ValueError, match="unknown model option 'vocab_size'"):
        models.check_options({"vocab_size": 3})
    for key, bad in (("batch", 0), ("vocab", 2.5), ("rnn_time", True), ("infer_images", -1)):
        with pytest.raises((ValueError, TypeError), match=key):
            models.check_options({key: bad})
    with pytest.raises(ValueError, match="im2col_shape"):
        models.check_options({"im2col_shape": (1, 2, 3)})
    with pytest.raises(ValueError, match="multiple"):
        models.check_options({"infer_images": 150})
    with pytest.raises(ValueError, match="minutes"):
        models.check_options({"ppmi_book_vocab": 5000})
    with pytest.raises(ValueError, match="sample_size"):
        models.check_options({"vocab": 5, "sample_size": 5})


def test_models_memory_is_refused_before_anything_runs():
    out = io.StringIO()
    with pytest.raises(ValueError, match="memory"):
        bench.run(models=["ppmi"], model_options={"ppmi_vocab": 200_000}, quiet=True, out=out)
    with pytest.raises(ValueError, match="memory"):
        bench.run(models=["deepinfer"], model_options={"infer_images": 10_000_000}, quiet=True,
                  out=out)
    assert out.getvalue() == ""


@pytest.mark.parametrize("argv", [["--models", "gpt"], ["--infer-images", "0"],
                                  ["--ppmi-vocab", "x"], ["--models"]])
def test_models_command_line_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(argv + ["--quiet"])
    assert e.value.code == 2
    assert "error" in capsys.readouterr().err


def test_models_option_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--models", "ppmi", "--ppmi-book-vocab", "9000", "--quiet"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("fastprop: error: ppmi_book_vocab 9000") and err.count("\n") == 1


def test_time_block_ratios_against_book_and_torch():
    opts = models.check_options(TINY_OPTIONS)
    block = models.time_block("lstm", opts, ["float32"], _impls(), 2, 0.01, 2,
                              Switch(), lambda msg: None)
    rows = {r["impl"]: r for r in block["rows"]}
    book = rows["book"]["median_s"]
    for r in block["rows"]:
        assert r["n"] == 2 and r["speedup_vs_book"] == pytest.approx(book / r["median_s"])
    if "torch" in rows:
        assert rows["torch"]["speedup_vs_torch"] is None
        assert rows["dropin"]["speedup_vs_torch"] == pytest.approx(
            rows["torch"]["median_s"] / rows["dropin"]["median_s"])
    else:
        assert rows["dropin"]["speedup_vs_torch"] is None
