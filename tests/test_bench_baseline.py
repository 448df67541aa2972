"""``fastprop bench --models ... --book-root DIR``: the book rows run on a checkout's own
``common/`` package in place of the transcription. CI has no copy of the book, so each test
writes a small fake checkout in tmp_path: the transcription's text under the book's module
names, importing itself as the book does (``from common.layers import ...``), with a counter
in ``Affine.forward`` / ``TimeAffine.forward`` that proves the rows ran on it."""
import json
import os
import sys

import numpy as np
import pytest

import fastprop.bench.book as book
from fastprop import bench
from fastprop.bench import baseline, models
from fastprop.bench import steps_vol1 as v1
from fastprop.bench import steps_vol2 as v2

TINY = dict(batch=4, im2col_shape=(2, 3, 8, 8), infer_images=4, vocab=40, rnn_batch=3,
            rnn_time=4, rnn_hidden=6, cbow_hidden=5, cbow_window=2, cbow_batch=7,
            sampler_rows=6, sample_size=3, ppmi_vocab=30, ppmi_book_vocab=12)
COUNTER = """
CALLS = []
_{cls}_forward = {cls}.forward


def _counted(self, x):
    CALLS.append(1)
    return _{cls}_forward(self, x)


{cls}.forward = _counted
"""


def _source(name):
    with open(os.path.join(os.path.dirname(book.__file__), name + ".py"), encoding="utf-8") as f:
        return f.read()


def _fake_checkout(root, volume):
    common = root / "common"
    common.mkdir(parents=True)
    (common / "__init__.py").write_text("")
    (root / "ch01").mkdir()  # a chapter folder, as in the book
    if volume == 1:
        (common / "layers.py").write_text(_source("vol1") + COUNTER.format(cls="Affine"))
        (common / "optimizer.py").write_text("from common.layers import SGD, Adam  # noqa\n")
        (common / "util.py").write_text("from common.layers import im2col, col2im  # noqa\n")
    else:
        (common / "layers.py").write_text(_source("vol2"))
        time_layers = _source("vol2_time").replace("from .vol2 import", "from common.layers import")
        (common / "time_layers.py").write_text(time_layers + COUNTER.format(cls="TimeAffine"))
        (common / "optimizer.py").write_text("from common.layers import SGD, Adam  # noqa\n")
        (common / "util.py").write_text("from common.layers import clip_grads, ppmi  # noqa\n")
        (common / "trainer.py").write_text("from common.layers import remove_duplicate  # noqa\n")
    return root


def _losses(factory, opts, dtype, n=2):
    step, lib = factory(opts, dtype)
    assert lib == "numpy"
    return [float(np.sum(step())) for _ in range(n)]


def _checkout_rows_run(books, volume, factories, dtype):
    """Each factory's row on the checkout's layers (``books``) gives the transcription's
    losses, and its step really called the checkout's layers. Returns the two option dicts
    and the checkout's call log."""
    theirs = dict(models.check_options(TINY), book=books)
    ours = models.check_options(TINY)
    calls = books[volume].layers.CALLS
    for factory in factories:
        before = len(calls)
        assert _losses(factory, theirs, dtype) == _losses(factory, ours, dtype)
        assert len(calls) > before, factory.__name__  # the checkout's layers ran
    return theirs, ours, calls


def test_a_vol1_checkout_replaces_the_transcription_for_vol1_rows(tmp_path):
    root = _fake_checkout(tmp_path / "book1", 1)
    books = baseline.baselines(str(root))
    assert books[1].source == f"the checkout's common/ ({root})"
    assert books[2].source == baseline.TRANSCRIPTION
    assert "common" not in sys.modules  # put back as it was (nothing) after the import
    theirs, ours, calls = _checkout_rows_run(books, 1, (v1.book_simple, v1.book_multilayer), "float64")
    before = len(calls)  # inference: one whole batch of the book's accuracy loop
    theirs["infer_images"] = ours["infer_images"] = v1.INFER_BATCH
    assert _losses(v1.book_infer, theirs, "float64", 1) == _losses(v1.book_infer, ours, "float64", 1)
    assert len(calls) > before
    assert books[1].im2col is not book.vol1.im2col
    (a,), (b,) = (_losses(v1.book_im2col_row, o, "float64", 1) for o in (theirs, ours))
    assert a == b


def test_a_vol2_checkout_replaces_the_transcription_for_vol2_rows(tmp_path):
    root = _fake_checkout(tmp_path / "book2", 2)
    books = baseline.baselines(str(root))
    assert books[2].source.startswith("the checkout's common/")
    assert books[1].source == baseline.TRANSCRIPTION
    theirs, ours, _ = _checkout_rows_run(books, 2, (v2.book_rnnlm, v2.book_seq2seq), "float32")
    for factory in (v2.book_cbow, v2.book_lstm, v2.book_ppmi):
        assert _losses(factory, theirs, "float32") == _losses(factory, ours, "float32")
    assert books[2].layers.Embedding is not book.vol2.Embedding


def test_book_root_with_models_says_which_baseline_each_block_used(tmp_path, capsys):
    root = _fake_checkout(tmp_path / "book1", 1)
    path = tmp_path / "bench.json"
    rc = bench.main(["--models", "im2col", "ppmi", "--repeat", "2", "--quiet", "--threads", "1",
                     "--impls", "book", "--ppmi-vocab", "12", "--ppmi-book-vocab", "12",
                     "--book-root", str(root), "--json", str(path)])
    assert rc == 0
    data = json.loads(path.read_text())
    source = f"the checkout's common/ ({root})"
    assert data["settings"]["baseline"] == {"vol1": source, "vol2": baseline.TRANSCRIPTION}
    assert [(b["block"], b["baseline"]) for b in data["blocks"]] == [
        ("im2col", source), ("ppmi", baseline.TRANSCRIPTION)]
    text = capsys.readouterr().out
    assert f"book rows: {source}" in text and f"book rows: {baseline.TRANSCRIPTION}" in text


def test_without_book_root_every_block_uses_the_transcription():
    books = baseline.baselines()
    assert {v: b.source for v, b in books.items()} == {1: baseline.TRANSCRIPTION,
                                                       2: baseline.TRANSCRIPTION}
    assert books[1].layers is book.vol1 and books[2].layers is book.vol2_nets.LAYERS


def test_a_folder_without_the_books_common_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no common/layers.py"):
        baseline.baselines(str(tmp_path))
    with pytest.raises(SystemExit) as exc:
        bench.main(["--models", "im2col", "--book-root", str(tmp_path), "--quiet"])
    assert exc.value.code == 2


def test_a_checkout_whose_common_fails_to_import_is_named(tmp_path):
    root = _fake_checkout(tmp_path / "book1", 1)
    (root / "common" / "optimizer.py").write_text("raise RuntimeError('broken on purpose')\n")
    with pytest.raises(ValueError, match="importing its common/ failed: RuntimeError: broken"):
        baseline.baselines(str(root))
    assert "common" not in sys.modules and str(root) not in sys.path
