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


BOOK_DATE_CHARS = " ,-/0123456789ABCDEFGHIJLMNOPRSTUVWY_abcdefghijlmnoprstuvwy"  # the book's date.txt


def _date_of(question):
    """The date a generated question means, parsed back with the four styles' formats."""
    import datetime

    q = question.strip()
    for fmt in ("%m/%d/%y", "%b %d, %Y", "%B %d, %Y", "%A, %B %d, %Y"):
        try:
            return datetime.datetime.strptime(q, fmt).date(), fmt
        except ValueError:
            continue
    raise AssertionError(f"not one of the book's date styles: {question!r}")


def test_generated_sets_have_the_books_formats_and_are_reproducible():
    add, date = sequence.addition_lines(2000, seed=1), sequence.date_lines(50000, seed=1)
    assert add == sequence.addition_lines(2000, seed=1) and add != sequence.addition_lines(2000, seed=2)
    assert date[:100] == sequence.date_lines(100, seed=1) and add[:10] == sequence.addition_lines(10, seed=1)
    assert {len(x) for x in add} == {12} and {x.index("_") for x in add} == {7}
    assert {len(x) for x in date} == {40} and {x.index("_") for x in date} == {29}
    pairs = set()
    for line in add:
        q, a = line.split("_")
        x, y = map(int, q.split("+"))
        assert x + y == int(a) and 0 <= x <= 999 and 0 <= y <= 999
        assert q == q.rstrip() + " " * (7 - len(q.rstrip())) and a == a.rstrip().ljust(4)
        pairs.add((min(x, y), max(x, y)))
    assert len(pairs) == len(add)  # an unordered pair at most once, as in the book's file
    styles = {}
    for line in date[:5000]:
        d, fmt = _date_of(line[:29])
        assert line[30:] == d.isoformat() and "1970-01-01" <= line[30:] <= "2017-07-24"
        styles[fmt] = styles.get(fmt, 0) + 1
    assert len(styles) == 4 and min(styles.values()) > 1000  # four styles, about equally often
    assert "".join(sorted(set("".join(date)))) == BOOK_DATE_CHARS
    assert "".join(sorted(set("".join(add)))) == " +0123456789_"
    for bad, exc in ((0, ValueError), (sequence.MAX_GENERATED + 1, ValueError), (2.0, TypeError),
                     (True, TypeError)):
        with pytest.raises(exc, match="n must"):
            sequence.date_lines(bad)
    with pytest.raises(ValueError, match="seed"):
        sequence.addition_lines(10, seed=-1)


def test_generate_into_the_cache_is_marked_and_loads_with_the_books_shapes(cache, capsys, monkeypatch):
    assert {v["state"] for v in sequence.status().values()} == {"missing"}
    for name, q_len, t_len in (("addition.txt", 7, 5), ("date.txt", 29, 11)):
        path = sequence.generate(name, n=1000, seed=4)
        assert path == cache / "sequence" / name
        assert path.read_bytes() == sequence.generate(name, n=1000, seed=4).read_bytes()
        st = sequence.status()[name]
        assert st["state"] == "generated" and st["seed"] == 4 and st["lines"] == 1000
        capsys.readouterr()
        (x_train, t_train), (x_test, t_test) = sequence.load_data(name)
        assert "is a generated set" in capsys.readouterr().err
        assert x_train.shape == (900, q_len) and t_train.shape == (900, t_len)
        assert x_test.shape == (100, q_len) and x_train.dtype == int
        char_to_id, id_to_char = sequence.get_vocab()
        assert "".join(id_to_char[i] for i in t_train[0])[0] == "_"
    assert not list((cache / "sequence").glob(".*.part"))  # atomic writes leave nothing behind
    # in a checkout, the checkout's own file is preferred to a generated one in the cache
    book = cache.parent / "book"
    (book / "dataset").mkdir(parents=True)
    (book / "ch07").mkdir()
    (book / "dataset" / "addition.txt").write_text("".join(f"{i}+1".ljust(7) + f"_{i + 1}".ljust(5) + "\n"
                                                           for i in range(20)))
    monkeypatch.chdir(book / "ch07")
    capsys.readouterr()
    (x_train, _), (x_test, _) = sequence.load_data("addition.txt")
    assert len(x_train) + len(x_test) == 20 and "generated" not in capsys.readouterr().err
    (cache / "sequence" / "date.txt").write_text("1/1/70" + " " * 23 + "_1970-01-01\n")  # edited
    assert sequence.status()["date.txt"]["state"] == "other"
    for bad, exc in (("other.txt", ValueError), (3, TypeError)):
        with pytest.raises(exc, match="file_name"):
            sequence.generate(bad)
    with pytest.raises(TypeError, match="path"):
        sequence.generate_date(None)


@needs_shared
def test_generated_and_real_sets_share_shapes_and_vocabulary(cache):
    """The real files load (the book's shapes) and the generated ones use the same characters."""
    for name, gen in (("addition.txt", sequence.addition_lines), ("date.txt", sequence.date_lines)):
        real = (SHARED / name).read_text().splitlines()
        fake = gen(len(real), seed=0)
        assert {len(x) for x in real} == {len(x) for x in fake}
        assert {x.index("_") for x in real} == {x.index("_") for x in fake}
        assert set("".join(real)) == set("".join(fake))
    sequence.import_sequence(SHARED / "date.txt")
    assert sequence.status()["date.txt"]["state"] == "book"
    sequence.generate("addition.txt", n=300)
    sequence.import_sequence(SHARED / "addition.txt")  # the import drops the generated record
    assert sequence.status()["addition.txt"]["state"] == "book"
    assert not (cache / "sequence" / "addition.txt.generated").exists()
