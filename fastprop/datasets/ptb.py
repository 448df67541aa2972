"""vol. 2's Penn Treebank loader (``dataset/ptb.py``): Mikolov's preprocessed PTB text, as the
book reads it.

``load_data('train'|'val'|'valid'|'test')`` returns ``(corpus, word_to_id, id_to_word)``: the
vocabulary is built from the *train* file (words in order of first appearance, every newline
read as ``<eos>``, exactly the book's ``read().replace('\\n', '<eos>').strip().split()``), and
every split is encoded with it. The files live in ``$FASTPROP_DATA/ptb`` (default
``~/.cache/fastprop/ptb``); the validation and test files are checked against their SHA-256.
For the train file no hash is known here: a train file is accepted on import when its
vocabulary has the 10000 words the book reports for it (and holds every word of the other
splits that are present).
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

from .. import config, validate
from . import _idx, _sources

FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}
#: SHA-256 of the files (none is known for the train file)
CHECKSUMS = {
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
#: the book's mirror of the files
MIRROR = "https://raw.githubusercontent.com/tomsercu/lstm/master/data/"
VOCAB_SIZE = 10000   # the book's PTB vocabulary
MAX_BYTES = 64 << 20


class DataNotFoundError(FileNotFoundError):
    """A PTB file is neither cached nor downloadable."""


def data_dir() -> pathlib.Path:
    """``$FASTPROP_DATA/ptb`` (read at call time), else the configured cache folder's ``ptb``."""
    root = os.environ.get("FASTPROP_DATA") or config.DATA_DIR
    return pathlib.Path(os.path.expanduser(root)) / "ptb"


def _split(data_type) -> str:
    validate.choice(data_type, ("train", "val", "valid", "test"), "data_type",
                    "'train', 'val', 'valid' or 'test'")
    return "valid" if data_type == "val" else data_type


def words_of(text: str) -> list:
    """The book's tokenisation: newlines read as ``<eos>``, then split on whitespace."""
    return text.replace("\n", "<eos>").strip().split()


def build_vocab(words):
    """``(word_to_id, id_to_word)`` in order of first appearance."""
    word_to_id, id_to_word = {}, {}
    for word in words:
        if word not in word_to_id:
            word_to_id[word] = len(word_to_id)
            id_to_word[word_to_id[word]] = word
    return word_to_id, id_to_word


def _decode(data, source) -> str:
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{source}: not PTB text (not UTF-8: {exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise ValueError(f"{source}: empty text, not a PTB file")
    return text


def _how_to_import() -> str:
    return ("fastprop data import PATH --name ptb   "
            "(Python: fastprop.datasets.ptb.import_ptb(PATH); PATH: a folder holding "
            + ", ".join(FILES.values()) + ", or one of them)")


def fetch(name: str, timeout: float = 5.0) -> pathlib.Path:
    """Download one file from the book's mirror into the cache (checked, written atomically).

    Raises
    ------
    DataNotFoundError
        The mirror does not answer within ``timeout`` seconds (or sends something else).
    """
    if name not in FILES.values():
        raise ValueError(f"unknown PTB file {name!r}, expected one of {sorted(FILES.values())}")
    try:
        data = _sources.download(MIRROR + name, timeout, quiet=True, total_timeout=4 * timeout,
                                 max_bytes=MAX_BYTES)
        return _store(name, data, MIRROR + name)
    except (OSError, ValueError) as exc:
        raise DataNotFoundError(
            f"PTB: {name} is not in {data_dir()} and the book's mirror ({MIRROR}) did not provide "
            f"it ({exc}). Import a local copy: {_how_to_import()}") from None


def _store(name: str, data, source) -> pathlib.Path:
    text = _decode(data, source)
    expected = CHECKSUMS.get(name)
    if expected is not None and _idx.sha256(data) != expected:
        raise ValueError(f"{source}: its SHA-256 is not the one of Mikolov's {name} "
                         f"({expected[:12]}...): not the PTB file it claims to be")
    if name == FILES["train"]:
        vocab, _ = build_vocab(words_of(text))
        if len(vocab) != VOCAB_SIZE:
            raise ValueError(f"{source}: its vocabulary has {len(vocab)} words, but PTB's train "
                             f"file has {VOCAB_SIZE} (as the book reports): not the PTB train file")
    path = data_dir() / name
    _idx.atomic_write(path, bytes(data), expected)
    return path


def import_ptb(path) -> list:
    """Import local PTB files into the cache (checked, written atomically).

    Parameters
    ----------
    path : str or os.PathLike, a folder holding any of ``ptb.train.txt``, ``ptb.valid.txt``,
        ``ptb.test.txt``, or one such file

    Returns
    -------
    list of pathlib.Path, the cached files written
    """
    validate.path(path)
    p = pathlib.Path(path)
    if p.is_dir():
        found = [p / n for n in FILES.values() if (p / n).is_file()]
        if not found:
            raise FileNotFoundError(f"{p} holds none of {', '.join(FILES.values())}")
    elif p.is_file():
        if p.name not in FILES.values():
            raise ValueError(f"{p}: a PTB file must be named one of {', '.join(FILES.values())}")
        found = [p]
    else:
        raise FileNotFoundError(f"{p}: no such file or folder")
    written = []
    for f in found:
        written.append(_store(f.name, _idx.read_regular(f, MAX_BYTES, "PTB text file"), f))
        _sources.say(f"ptb: {f.name} imported into {data_dir()}")
    return written


def _text(name: str, download: bool) -> str:
    path = data_dir() / name
    if not path.is_file():
        if not download:
            raise DataNotFoundError(f"PTB: {name} is not in {data_dir()}. Import it: {_how_to_import()}")
        fetch(name)
    data = _idx.read_regular(path, MAX_BYTES, "PTB text file")
    expected = CHECKSUMS.get(name)
    if expected is not None and _idx.sha256(data) != expected:
        raise ValueError(f"{path}: SHA-256 mismatch (corrupt or not {name}); delete it and "
                         f"re-import: {_how_to_import()}")
    return _decode(data, path)


def load_vocab(download: bool = True):
    """``(word_to_id, id_to_word)`` of the train file (the book's ``load_vocab``)."""
    return build_vocab(words_of(_text(FILES["train"], download)))


def load_data(data_type: str = "train", download: bool = True):
    """The book's ``ptb.load_data``: ``(corpus, word_to_id, id_to_word)``.

    Parameters
    ----------
    data_type : {'train', 'val', 'valid', 'test'}
    download : bool, try the book's mirror for a file that is not cached (it fails fast with
        a message naming the files and the import command when the mirror does not answer)

    Returns
    -------
    corpus : (T,) int array of word ids
    word_to_id, id_to_word : dicts, the train file's vocabulary
    """
    key = _split(data_type)
    download = validate.flag(download, "download")
    word_to_id, id_to_word = load_vocab(download)
    words = words_of(_text(FILES[key], download)) if key != "train" else None
    if words is None:
        words = words_of(_text(FILES["train"], download))
    try:
        corpus = np.array([word_to_id[w] for w in words])
    except KeyError as exc:
        raise ValueError(f"PTB {key}: the word {exc.args[0]!r} is not in the train file's vocabulary "
                         "(is the cached train file the PTB one?)") from None
    return corpus, word_to_id, id_to_word
