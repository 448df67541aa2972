"""vol. 2's PTB and sequence loaders: the book's vocabulary and arrays, checksums, imports,
a fast clear failure offline. Real files from ../shared/data (skipped when absent)."""
import hashlib
import pathlib

import numpy as np
import pytest

from fastprop.datasets import ptb, sequence

SHARED = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "ptb.valid.txt").is_file(),
                                  reason="the shared test data folder (../shared/data) is absent")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(ptb, "MIRROR", "http://127.0.0.1:9/")  # refused at once: offline
    return tmp_path / "cache"


def book_words(path):
    return open(path).read().replace("\n", "<eos>").strip().split()


@needs_shared
def test_ptb_vocab_from_train_in_first_appearance_order(cache):
    (cache / "ptb").mkdir(parents=True)
    # a train file of our own (the real one is not available): valid + test text
    train = (SHARED / "ptb.valid.txt").read_text() + (SHARED / "ptb.test.txt").read_text()
    (cache / "ptb" / "ptb.train.txt").write_text(train)
    ptb.import_ptb(SHARED / "ptb.valid.txt")
    ptb.import_ptb(SHARED / "ptb.test.txt")
    words = book_words(cache / "ptb" / "ptb.train.txt")
    w2i = {}
    for w in words:
        w2i.setdefault(w, len(w2i))
    corpus, word_to_id, id_to_word = ptb.load_data("val")
    assert word_to_id == w2i and id_to_word == {i: w for w, i in w2i.items()}
    assert list(word_to_id) == list(w2i)  # insertion order too
    valid = book_words(SHARED / "ptb.valid.txt")
    assert corpus.tolist() == [w2i[w] for w in valid]
    assert len(valid) - valid.count("<eos>") == 70390  # the README's word count
    assert word_to_id["<eos>"] == w2i["<eos>"]
    test_corpus, _, _ = ptb.load_data("test")
    assert len(test_corpus) == len(book_words(SHARED / "ptb.test.txt"))
    train_corpus, _, _ = ptb.load_data("train")
    assert len(train_corpus) == len(words)


@needs_shared
def test_ptb_import_rejects_files_that_are_not_what_they_claim(cache, tmp_path):
    fake = tmp_path / "ptb.valid.txt"
    fake.write_text(" the cat sat \n")
    with pytest.raises(ValueError, match="SHA-256"):
        ptb.import_ptb(fake)
    train = tmp_path / "fake" / "ptb.train.txt"
    train.parent.mkdir()
    train.write_text((SHARED / "ptb.valid.txt").read_text())
    with pytest.raises(ValueError, match="10000"):
        ptb.import_ptb(train.parent)
    assert not (cache / "ptb" / "ptb.train.txt").exists()


def test_ptb_offline_is_fast_and_names_the_files_and_the_command(cache):
    with pytest.raises(ptb.DataNotFoundError) as info:
        ptb.load_data("train")
    msg = str(info.value)
    assert "ptb.train.txt" in msg and "fastprop data import PATH --name ptb" in msg
    with pytest.raises(ptb.DataNotFoundError, match="import_ptb"):
        ptb.load_data("test", download=False)


@pytest.mark.parametrize("bad, exc", [("training", ValueError), (1, TypeError), (None, TypeError)])
def test_ptb_bad_split(bad, exc, cache):
    with pytest.raises(exc):
        ptb.load_data(bad)


def test_ptb_cached_files_are_checked_and_encoded_with_the_train_vocabulary(cache, monkeypatch):
    (cache / "ptb").mkdir(parents=True)
    (cache / "ptb" / "ptb.train.txt").write_text(" a b \n b a \n")
    (cache / "ptb" / "ptb.test.txt").write_text(" a c \n")
    with pytest.raises(ValueError, match="SHA-256"):
        ptb.load_data("test")
    monkeypatch.setattr(ptb, "CHECKSUMS", {})
    with pytest.raises(ValueError, match="'c' is not in the train"):
        ptb.load_data("test")
    corpus, w2i, _ = ptb.load_data("train")
    assert w2i == {"a": 0, "b": 1, "<eos>": 2} and corpus.tolist() == [0, 1, 2, 1, 0, 2]


@needs_shared
@pytest.mark.parametrize("name", ["addition.txt", "date.txt"])
def test_sequence_is_the_books_arrays(name, cache):
    sequence.import_sequence(SHARED / name)
    lines = open(SHARED / name).readlines()
    qs = [ln[:ln.find("_")] for ln in lines]
    ans = [ln[ln.find("_"):-1] for ln in lines]
    (x_train, t_train), (x_test, t_test) = sequence.load_data(name)
    char_to_id, id_to_char = sequence.get_vocab()
    assert x_train.shape == (45000, len(qs[0])) and x_test.shape == (5000, len(qs[0]))
    assert t_train.shape == (45000, len(ans[0]))
    np.random.seed(1984)
    idx = np.arange(len(lines))
    np.random.shuffle(idx)
    assert "".join(id_to_char[c] for c in x_train[0]) == qs[idx[0]]
    assert "".join(id_to_char[c] for c in t_test[-1]) == ans[idx[-1]]
    assert np.random.get_state()[2] == _after_seed_shuffle(len(lines))


def _after_seed_shuffle(n):
    np.random.seed(1984)
    np.random.shuffle(np.arange(n))
    return np.random.get_state()[2]


def test_sequence_generated_addition_and_missing_file(cache, tmp_path, capsys):
    assert sequence.load_data("nothing.txt") is None
    assert "No file: nothing.txt" in capsys.readouterr().out
    path = sequence.generate_addition(cache / "sequence" / "addition.txt", n=200, seed=3)
    line = path.read_text().splitlines()[0]
    q, a = line.split("_")
    assert len(line) == 12 and eval(q) == int(a)
    (x_train, t_train), (x_test, _) = sequence.load_data("addition.txt")
    assert x_train.shape == (180, 7) and x_test.shape == (20, 7) and t_train.shape == (180, 5)
    bad = tmp_path / "addition.txt"
    bad.write_text("1+1    _2   \n")
    with pytest.raises(ValueError, match="SHA-256"):
        sequence.import_sequence(bad)
    assert hashlib.sha256(path.read_bytes()).hexdigest() != sequence.CHECKSUMS["addition.txt"]
