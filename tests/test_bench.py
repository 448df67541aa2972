"""Smoke tests of ``fastprop bench`` at a tiny size: the table has its columns and rows,
the raw numbers are written, and nothing needs PyTorch."""
import io
import json

import numpy as np
import pytest

from fastprop import bench
from fastprop.bench import machine
from fastprop.bench.book import BookTwoLayerNet, book_step
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
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="spiral_reps"):
            bench.run(sizes=[TINY], spiral_reps=bad, quiet=True, out=io.StringIO())
    for bad in (0, 2.0, False):
        with pytest.raises(ValueError, match="rounds"):
            bench.run(sizes=[TINY], rounds=bad, quiet=True, out=io.StringIO())


def test_rounds_interleave_and_add_up(no_torch):
    result, _ = _run(repeat=7, rounds=3, impls=("book", "fused"), dtypes=("float64",))
    assert result["settings"]["rounds"] == 3
    assert [r["n"] for r in result["rows"]] == [7, 7]
