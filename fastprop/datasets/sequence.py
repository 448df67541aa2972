"""vol. 2's toy sequence sets (``dataset/sequence.py``): ch. 7's ``addition.txt`` and ch. 8's
``date.txt``, one ``question_answer`` line per sample, as character-id arrays.

The files are read from the cache (``$FASTPROP_DATA/sequence``, after
:func:`import_sequence`), else from the book's checkout when a script runs there
(``../dataset/`` or ``./dataset/``; the checkout's file is also preferred to a generated
one in the cache); the book's files are checked against their SHA-256 when imported.
:func:`generate` (``fastprop data generate --name sequence``) writes *generated* sets in
the book's formats into the cache, with a record that marks them as generated
(:func:`status`, ``fastprop data where --name sequence``, and a line on stderr from
:func:`load_data` say so): other problems and dates, the same kind.
"""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import pathlib
import sys

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
    validate.path(path)
    p = pathlib.Path(path)
    if p.name not in CHECKSUMS:
        raise ValueError(f"{p}: expected a file named one of {sorted(CHECKSUMS)}")
    data = _idx.read_regular(p, MAX_BYTES, "sequence file")
    if _idx.sha256(data) != CHECKSUMS[p.name]:
        raise ValueError(f"{p}: its SHA-256 is not the book's {p.name}: not the file it claims to be")
    _idx.atomic_write(data_dir() / p.name, bytes(data), CHECKSUMS[p.name])
    with contextlib.suppress(FileNotFoundError):  # a generated file's record no longer applies
        os.remove(data_dir() / (p.name + RECORD_SUFFIX))
    _sources.say(f"sequence: {p.name} imported into {data_dir()}")
    return data_dir() / p.name


#: the most lines a generated set may have (the book's have 50000)
MAX_GENERATED = 200_000
#: what the cache's record of a generated file is named after (``addition.txt.generated``)
RECORD_SUFFIX = ".generated"
GENERATE_COMMAND = "fastprop data generate --name sequence"

# date.txt: the dates run from 1970-01-01 to 2017-07-24 (the book's file spans exactly that)
_FIRST_DAY = datetime.date(1970, 1, 1)
_LAST_DAY = datetime.date(2017, 7, 24)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _generated_args(n, seed):
    n = validate.positive_int(n, "n")
    if n > MAX_GENERATED:
        raise ValueError(f"n must be <= {MAX_GENERATED} (the book's sets have 50000 lines), got {n}")
    return n, validate.seed(seed, high=None)  # default_rng: any integer >= 0


def _path_arg(path):
    validate.path(path)
    return pathlib.Path(path)


def addition_lines(n: int = 50000, seed: int = 0) -> list:
    """``n`` *generated* lines of ch. 7's addition set, in the book's format.

    The format is the book's ``addition.txt``: ``'16+75  _91  '`` (the question padded to 7
    characters, ``_`` and the sum padded to 5 after it). The problems are drawn the way the
    book's set looks drawn (a Keras-style generator): each operand gets 1, 2 or 3 digits
    with equal chance, each digit 0-9 (so ``'07'`` is 7), and an unordered pair appears at
    most once, from ``numpy.random.default_rng(seed)``; the first ``k`` lines are the same
    for every ``n >= k``. Not the book's problems.
    """
    n, seed = _generated_args(n, seed)
    rng = numpy.random.default_rng(seed)
    place = numpy.array([100, 10, 1])
    seen, lines = set(), []
    while len(lines) < n:
        lengths = rng.integers(1, 4, size=(4096, 2))  # fixed chunks: any n's lines start alike
        digits = rng.integers(0, 10, size=lengths.shape + (3,))
        # a k-digit operand is its last k digits (leading zeros allowed: '07' is 7)
        values = (digits * place * (numpy.arange(3) >= 3 - lengths[..., None])).sum(-1)
        for a, b in values.tolist():
            key = (a, b) if a <= b else (b, a)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"{a}+{b}".ljust(7) + f"_{a + b}".ljust(5))
            if len(lines) == n:
                break
    return lines


def date_lines(n: int = 50000, seed: int = 0) -> list:
    """``n`` *generated* lines of ch. 8's date set, in the book's format.

    The format is the book's ``date.txt``: the date as a person writes it, padded to 29
    characters, then ``_`` and the ISO date (``'September 27, 1994           _1994-09-27'``,
    40 characters). As in the book's file: a day drawn uniformly from 1970-01-01 to
    2017-07-24, one of four styles with equal chance (``'2/10/93'``, ``'Sep 30, 1981'``,
    ``'August 19, 2003'``, ``'Wednesday, February 26, 1997'``) and, for the three written
    styles, its case as written (half), upper case (a quarter) or lower case (a quarter),
    from ``numpy.random.default_rng(seed)``; the first ``k`` lines are the same for every
    ``n >= k``. Not the book's dates.
    """
    n, seed = _generated_args(n, seed)
    rng = numpy.random.default_rng(seed)
    span = (_LAST_DAY - _FIRST_DAY).days + 1
    lines = []  # one row of draws per line: the first k lines of any n >= k are the same
    for day, style, case in rng.integers(0, [span, 4, 4], size=(n, 3)).tolist():
        d = _FIRST_DAY + datetime.timedelta(days=day)
        month = _MONTHS[d.month - 1]
        if style == 0:
            q = f"{d.month}/{d.day}/{d.year % 100:02d}"
        elif style == 1:
            q = f"{month[:3]} {d.day}, {d.year}"
        elif style == 2:
            q = f"{month} {d.day}, {d.year}"
        else:
            q = f"{_WEEKDAYS[d.weekday()]}, {month} {d.day}, {d.year}"
        q = q.upper() if case == 2 else q.lower() if case == 3 else q
        lines.append(q.ljust(29) + "_" + d.isoformat())
    return lines


_GENERATORS = {"addition.txt": addition_lines, "date.txt": date_lines}


def generate_addition(path, n: int = 50000, seed: int = 0) -> pathlib.Path:
    """Write :func:`addition_lines` (a *generated* addition set) to ``path``, atomically."""
    path = _path_arg(path)
    data = "".join(line + "\n" for line in addition_lines(n, seed)).encode("ascii")
    _idx.atomic_write(os.fspath(path), data)
    return path


def generate_date(path, n: int = 50000, seed: int = 0) -> pathlib.Path:
    """Write :func:`date_lines` (a *generated* date set) to ``path``, atomically."""
    path = _path_arg(path)
    data = "".join(line + "\n" for line in date_lines(n, seed)).encode("ascii")
    _idx.atomic_write(os.fspath(path), data)
    return path


def generate(file_name: str, n: int = 50000, seed: int = 0) -> pathlib.Path:
    """Write a *generated* ``addition.txt`` or ``date.txt`` into the cache (:func:`data_dir`),
    atomically, with a record beside it (``NAME.generated``: generator, seed, lines,
    SHA-256) so that :func:`status` and :func:`load_data` can say the set is generated.

    The same ``(file_name, n, seed)`` always gives the same bytes. A book file already in the
    cache is replaced too: callers that must keep it check :func:`status` first (the command
    does).
    """
    validate.choice(file_name, _GENERATORS, "file_name")
    n, seed = _generated_args(n, seed)
    data = "".join(line + "\n" for line in _GENERATORS[file_name](n, seed)).encode("ascii")
    digest = _idx.sha256(data)
    record = {"generated": True, "by": GENERATE_COMMAND, "function": f"{__name__}.generate",
              "file": file_name, "lines": n, "seed": seed, "sha256": digest,
              "note": "not the book's file: generated in the book's format"}
    folder = data_dir()
    # the record first: a crash between the two writes leaves a record whose SHA-256 names
    # no file, never a generated file without its record
    _idx.atomic_write(os.fspath(folder / (file_name + RECORD_SUFFIX)),
                      (json.dumps(record, indent=1) + "\n").encode("ascii"))
    _idx.atomic_write(os.fspath(folder / file_name), data, digest)
    return folder / file_name


def _read_record(path):
    try:
        record = json.loads(_idx.read_regular(path, 1 << 16, "generation record").decode("ascii"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def status(folder=None) -> dict:
    """What each sequence file in the cache is: ``{name: {"state": ..., ...}}``.

    ``state`` is ``"book"`` (the book's file, SHA-256 checked), ``"generated"`` (written by
    :func:`generate`: its record's SHA-256 matches; ``seed`` and ``lines`` come with it),
    ``"other"`` (neither: an unknown file) or ``"missing"``.
    """
    folder = data_dir() if folder is None else _path_arg(folder)
    out = {}
    for name in sorted(CHECKSUMS):
        path = folder / name
        if not path.is_file():
            out[name] = {"state": "missing", "path": str(path)}
            continue
        try:
            digest = _idx.sha256(_idx.read_regular(path, MAX_BYTES, "sequence file"))
        except (OSError, ValueError) as e:
            out[name] = {"state": "other", "path": str(path), "error": str(e)}
            continue
        entry = {"path": str(path), "sha256": digest}
        record = _read_record(folder / (name + RECORD_SUFFIX))
        if digest == CHECKSUMS[name]:
            entry["state"] = "book"
        elif record is not None and record.get("sha256") == digest:
            entry.update(state="generated", seed=record.get("seed"), lines=record.get("lines"))
        else:
            entry["state"] = "other"
        out[name] = entry
    return out


def load_data(file_name: str = "addition.txt", seed=1984):
    """The book's ``sequence.load_data``: ``(x_train, t_train), (x_test, t_test)`` of character
    ids, shuffled with ``numpy.random.seed(seed)`` + ``numpy.random.shuffle`` (the global
    RNG, as the book; ``seed=None`` shuffles without seeding), the last 10% for testing.

    Returns None after printing ``No file: NAME`` when the file is nowhere (as the book).
    """
    validate.check_type(file_name, str, "file_name", "a non-empty str")
    if not file_name:  # the right type, a wrong value
        raise ValueError(f"file_name must be a non-empty str, got {file_name!r}")
    if seed is not None:
        seed = validate.seed(seed, high=None)
    found = [c for c in _candidates(file_name) if c.is_file()]
    path = found[0] if found else None
    if path is None:
        print('No file: %s' % file_name)
        print(f"(import the book's file: 'fastprop data import PATH --name sequence', or write "
              f"generated sets in the book's format into {data_dir()}: '{GENERATE_COMMAND}')")
        return None
    data = _idx.read_regular(path, MAX_BYTES, "sequence file")
    record = _read_record(path.parent / (path.name + RECORD_SUFFIX))
    if record is not None and record.get("sha256") == _idx.sha256(data):
        if len(found) > 1:  # run in the book's checkout: its own file beats a generated one
            path = found[1]
            data = _idx.read_regular(path, MAX_BYTES, "sequence file")
        else:
            # stderr: the book's printed output (stdout) stays the book's
            print(f"sequence: {path} is a generated set (seed {record.get('seed')}, {record.get('lines')} "
                  f"lines, by '{GENERATE_COMMAND}'), not the book's file", file=sys.stderr)
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
