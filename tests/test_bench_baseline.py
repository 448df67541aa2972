"""``fastprop bench --models ... --book-root DIR``: the book rows run on a checkout's own
``common/`` package in place of the transcription. CI has no copy of the book, so each test
writes a small fake checkout in tmp_path: the transcription's text under the book's module
names, importing itself as the book does (``from common.layers import ...``), with a counter
in ``Affine.forward`` / ``TimeAffine.forward`` that proves the rows ran on it. The default
``twolayer`` block follows it too: ch05's step rows on a vol. 1 checkout, vol. 2's spiral
fit on a vol. 2 checkout (its layers, SGD and Trainer)."""
import json
import os
import sys

import numpy as np
import pytest

import fastprop.bench.book as book
from fastprop import bench, runs
from fastprop.bench import baseline, models, steps
from fastprop.bench import steps_vol1 as v1
from fastprop.bench import steps_vol2 as v2

TINY = dict(batch=4, im2col_shape=(2, 3, 8, 8), infer_images=4, vocab=40, rnn_batch=3,
            rnn_time=4, rnn_hidden=6, cbow_hidden=5, cbow_window=2, cbow_batch=7,
            sampler_rows=6, sample_size=3, ppmi_vocab=30, ppmi_book_vocab=12)
COUNTER = """
{calls} = []
_{cls}_forward = {cls}.forward


def _counted(self, x):
    {calls}.append(1)
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
        (common / "layers.py").write_text(_source("vol1") + COUNTER.format(cls="Affine", calls="CALLS"))
        (common / "optimizer.py").write_text("from common.layers import SGD, Adam  # noqa\n")
        (common / "util.py").write_text("from common.layers import im2col, col2im  # noqa\n")
    else:
        (common / "layers.py").write_text(_source("vol2") + COUNTER.format(cls="Affine",
                                                                           calls="AFFINE_CALLS"))
        time_layers = _source("vol2_time").replace("from .vol2 import", "from common.layers import")
        (common / "time_layers.py").write_text(time_layers + COUNTER.format(cls="TimeAffine",
                                                                            calls="CALLS"))
        (common / "optimizer.py").write_text("from common.layers import SGD, Adam  # noqa\n")
        (common / "util.py").write_text("from common.layers import clip_grads, ppmi  # noqa\n")
        (common / "trainer.py").write_text("from common.layers import remove_duplicate, Trainer  # noqa\n")
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


# ------------------------------------------------------------------ the twolayer block and the spiral fit

SMALL = (20, 8, 3, 5)


def test_a_vol1_checkout_runs_the_ch05_step_rows(tmp_path):
    root = _fake_checkout(tmp_path / "book1", 1)
    books = baseline.baselines(str(root))
    calls = books[1].layers.CALLS
    theirs, lib = steps.make_step("book", SMALL, "float64", layers=books[1].layers)
    ours, _ = steps.make_step("book", SMALL, "float64")
    assert lib == "numpy"
    before = len(calls)
    assert [theirs() for _ in range(3)] == [ours() for _ in range(3)]
    assert len(calls) > before  # the checkout's Affine ran the book row
    assert baseline.twolayer_source(books) == f"{books[1].source}; {baseline.TWOLAYER_CLASS}"
    assert baseline.twolayer_source(baseline.baselines()) == baseline.TRANSCRIPTION


def _spiral(**kw):
    from fastprop.datasets import spiral

    x, t = spiral.load_data()
    return runs.fit_spiral((x, t), rng_state=np.random.get_state(), epochs=4, **kw)


def test_a_vol2_checkout_runs_the_spiral_fit_with_its_own_trainer(tmp_path, capsys):
    root = _fake_checkout(tmp_path / "book2", 2)
    ns = baseline.checkout(str(root))
    assert baseline.checkout(str(root)) is ns  # imported once: the timed runs import nothing
    calls = ns.layers.Affine.forward.__globals__["AFFINE_CALLS"]
    ours = _spiral()
    theirs = _spiral(implementation="book", book_root=root)
    assert type(theirs.trainer) is ns.Trainer and ns.Trainer is not book.vol2.Trainer
    assert type(theirs.trainer).__module__.startswith("common.")  # the checkout's, not ours
    assert type(theirs.model.layers[0]).__module__ == "common.layers" and calls
    assert len(theirs.trainer.loss_list) == len(ours.trainer.loss_list) == 4
    np.testing.assert_allclose(theirs.trainer.loss_list, ours.trainer.loss_list, rtol=1e-9)
    assert theirs.accuracy() == ours.accuracy() and theirs.seconds > 0
    assert "| epoch" not in capsys.readouterr().out  # the book's lines only when verbose
    _spiral(implementation="book", book_root=str(root), verbose=True)
    assert "| epoch 4 |" in capsys.readouterr().out
    assert baseline.spiral(baseline.baselines(str(root)))[0] == str(root)


@pytest.mark.parametrize("kw, exc, words", [
    (dict(book_root=3), TypeError, ["book_root", "str or os.PathLike"]),
    (dict(implementation="fastprop", book_root="ROOT2"), ValueError, ["implementation='book'"]),
    (dict(activation="relu", book_root="ROOT2"), ValueError, ["Sigmoid", "relu"]),
    (dict(dtype="float32", book_root="ROOT2"), ValueError, ["SGD in float64", "float32"]),
    (dict(book_root="ROOT1"), ValueError, ["vol. 1", "vol. 2's ch01"]),
    (dict(book_root="NOTRAINER"), ValueError, ["no Trainer"]),
])
def test_fit_spiral_refuses_a_checkout_it_cannot_run(tmp_path, kw, exc, words):
    roots = {"ROOT1": _fake_checkout(tmp_path / "b1", 1), "ROOT2": _fake_checkout(tmp_path / "b2", 2),
             "NOTRAINER": _fake_checkout(tmp_path / "b3", 2)}
    (roots["NOTRAINER"] / "common" / "trainer.py").write_text("from common.layers import remove_duplicate\n")
    kw = dict(kw, implementation=kw.get("implementation", "book"))
    kw["book_root"] = roots.get(kw["book_root"], kw["book_root"])
    state = np.random.get_state()[1].copy()
    with pytest.raises(exc) as info:
        runs.fit_spiral((np.zeros((6, 2)), np.eye(3)[[0, 1, 2, 0, 1, 2]]), **kw)
    for w in words:
        assert w in str(info.value)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("volume", [1, 2])
def test_book_root_says_which_baseline_the_twolayer_rows_and_the_spiral_used(tmp_path, capsys, volume):
    root = _fake_checkout(tmp_path / f"book{volume}", volume)
    path = tmp_path / "bench.json"
    rc = bench.main(["--sizes", "20-8-3/b4", "--impls", "book", "--repeat", "2", "--peak-size", "64",
                     "--spiral-reps", "1", "--threads", "1", "--quiet", "--book-root", str(root),
                     "--json", str(path)])
    assert rc == 0
    data = json.loads(path.read_text())
    source = f"the checkout's common/ ({root})"
    sp = data["spiral"]
    if volume == 1:
        assert data["twolayer_baseline"] == f"{source}; {baseline.TWOLAYER_CLASS}"
        assert sp["baseline"].startswith(baseline.SPIRAL_TRANSCRIPTION) and "vol. 1 checkout" in sp["baseline"]
    else:
        assert data["twolayer_baseline"] == baseline.TRANSCRIPTION
        assert sp["baseline"].startswith(source + ": its Affine, Sigmoid, SoftmaxWithLoss, SGD and Trainer")
    # the same run on either side, the book's or fastprop's: the same last averaged loss
    assert sp["book"]["last_loss"] == pytest.approx(sp["fastprop"]["last_loss"], rel=1e-9)
    text = capsys.readouterr().out
    assert f"book rows: {data['twolayer_baseline']}\n" in text
    assert f"  book row: {sp['baseline']}\n" in text
    assert "| epoch" not in text
