"""vol. 2's toy sequence sets (``dataset/sequence.py``): ch. 7's ``addition.txt`` and ch. 8's
``date.txt``, one ``question_answer`` line per sample, as character-id arrays.

The files are read from the cache (``$FASTPROP_DATA/sequence``, after
:func:`import_sequence`), else from the book's checkout when a script runs there
(``../dataset/`` or ``./dataset/``); the book's files are checked against their SHA-256
when imported. :func:`generate_addition` writes an addition set of
the same format, *generated* (not the book's file: other problems, the same kind).
"""
from __future__ import annotations

import io
import os
import pathlib

import numpy

from .. import config, validate
from . import _idx, _sources

#: SHA-256 of the book's files
CHECKSUMS = {
    "addition.txt": "34e0746f5014c11311c9452ee9050bf14e38eca44ec4aaf4d81eba2b38674009",
    "date.txt": "62e66a301ce8537868e725512d2a45663fc366526b7e42028cb703bda2b1c79a",
}
MAX_BYTES = 64 << 20

# the book keeps one vocabulary across calls, grown by every load_data
id_to_char = {}
char_to_id = {}


def data_dir() -> pathlib.Path:
    root = os.environ.get("FASTPROP_DATA") or config.DATA_DIR
    return pathlib.Path(os.path.expanduser(root)) / "sequence"


def _candidates(file_name):
    return [data_dir() / file_name, pathlib.Path("..", "dataset", file_name),
            pathlib.Path("dataset", file_name)]


def _update_vocab(txt):
    for char in txt:
        if char not in char_to_id:
            tmp_id = len(char_to_id)
            char_to_id[char] = tmp_id
            id_to_char[tmp_id] = char


def import_sequence(path) -> pathlib.Path:
    """Copy the book's ``addition.txt`` or ``date.txt`` into the cache (SHA-256 checked)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = pathlib.Path(path)
    if p.name not in CHECKSUMS:
        raise ValueError(f"{p}: expected a file named one of {sorted(CHECKSUMS)}")
    data = _idx.read_regular(p, MAX_BYTES, "sequence file")
    if _idx.sha256(data) != CHECKSUMS[p.name]:
        raise ValueError(f"{p}: its SHA-256 is not the book's {p.name}: not the file it claims to be")
    _idx.atomic_write(data_dir() / p.name, bytes(data), CHECKSUMS[p.name])
    _sources.say(f"sequence: {p.name} imported into {data_dir()}")
    return data_dir() / p.name


def generate_addition(path, n: int = 50000, seed: int = 0) -> pathlib.Path:
    """Write a *generated* addition set in the book's format (``'16+75  _91  '``: the question
    padded to 7 characters, ``_`` and the sum padded to 5), operands 0..999 from
    ``numpy.random.default_rng(seed)``. It is not the book's file (other problems)."""
    n = validate.positive_int(n, "n")
    seed = validate.check_scalar(seed, "seed", int, low=0)
    rng = numpy.random.default_rng(seed)
    a, b = rng.integers(0, 1000, n), rng.integers(0, 1000, n)
    lines = [f"{x}+{y}".ljust(7) + f"_{x + y}".ljust(5) + "\n" for x, y in zip(a.tolist(), b.tolist())]
    data = "".join(lines).encode("ascii")
    _idx.atomic_write(os.fspath(path), data)
    return pathlib.Path(path)


def load_data(file_name: str = "addition.txt", seed=1984):
    """The book's ``sequence.load_data``: ``(x_train, t_train), (x_test, t_test)`` of character
    ids, shuffled with ``numpy.random.seed(seed)`` + ``numpy.random.shuffle`` (the global
    RNG, as the book; ``seed=None`` shuffles without seeding), the last 10% for testing.

    Returns None after printing ``No file: NAME`` when the file is nowhere (as the book).
    """
    if not isinstance(file_name, str) or not file_name:
        raise TypeError(f"file_name must be a non-empty str, got {file_name!r}")
    if seed is not None:
        seed = validate.check_scalar(seed, "seed", int, low=0)
    path = next((c for c in _candidates(file_name) if c.is_file()), None)
    if path is None:
        print('No file: %s' % file_name)
        print(f"(import the book's file: fastprop.datasets.sequence.import_sequence(PATH), or "
              f"write a generated addition set: fastprop.datasets.sequence.generate_addition"
              f"({str(data_dir() / 'addition.txt')!r}))")
        return None
    data = _idx.read_regular(path, MAX_BYTES, "sequence file")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file of question_answer lines") from None
    questions, answers = [], []
    for line in io.StringIO(text, newline=None):  # open()'s universal newlines, as the book reads
        idx = line.find('_')
        if idx < 0:
            raise ValueError(f"{path}: the line {line[:40]!r} has no '_' between question and answer")
        questions.append(line[:idx])
        answers.append(line[idx:-1])
    if not questions:
        raise ValueError(f"{path}: empty, no question_answer line")
    if len({len(q) for q in questions}) != 1 or len({len(a) for a in answers}) != 1:
        raise ValueError(f"{path}: questions and answers must be padded to one length each")
    for q, a in zip(questions, answers):
        _update_vocab(q)
        _update_vocab(a)
    x = numpy.array([[char_to_id[c] for c in q] for q in questions], dtype=int)
    t = numpy.array([[char_to_id[c] for c in a] for a in answers], dtype=int)
    indices = numpy.arange(len(x))
    if seed is not None:
        numpy.random.seed(seed)
    numpy.random.shuffle(indices)
    x, t = x[indices], t[indices]
    split_at = len(x) - len(x) // 10
    return (x[:split_at], t[:split_at]), (x[split_at:], t[split_at:])


def get_vocab():
    """``(char_to_id, id_to_char)``, grown by every :func:`load_data` (as the book's)."""
    return char_to_id, id_to_char
