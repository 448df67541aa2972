"""Four tiny MNIST IDX files and the sandbox the data-cache tests run them in (shared by
``test_datasets_cache`` and ``test_datasets_hostile``)."""
import hashlib
import os
import struct
import subprocess
import sys

import numpy as np

from fastprop.datasets import _cache, _sources

TI, TL = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
VI, VL = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


def idx(arr):
    """``arr`` as IDX bytes (uint8 data, big-endian dims)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return struct.pack(f">i{arr.ndim}i", 0x0800 | arr.ndim, *arr.shape) + arr.tobytes()


def fake_files(seed=0):
    """``{name: bytes}`` of four tiny IDX files: 4 training and 2 test images with labels."""
    rng = np.random.default_rng(seed)
    return {TI: idx(rng.integers(0, 256, (4, 28, 28))), TL: idx(rng.integers(0, 10, 4)),
            VI: idx(rng.integers(0, 256, (2, 28, 28))), VL: idx(rng.integers(0, 10, 2))}


def offline_sandbox(tmp_path, monkeypatch):
    """A private cache, no network, no pip, no system Fashion-MNIST, and a checksum table
    describing :func:`fake_files`; returns those files."""
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path / "cache"))

    def offline(*args, **kwargs):
        raise OSError(f"network and pip disabled in tests {args}")

    monkeypatch.setattr(_sources, "download", offline)
    monkeypatch.setattr(_sources, "from_pip", offline)
    monkeypatch.setattr(_cache, "FASHION_SYSTEM_DIR", str(tmp_path / "none"))
    files = fake_files()
    monkeypatch.setitem(_cache.CHECKSUMS, "mnist",
                        {f: hashlib.sha256(d).hexdigest() for f, d in files.items()})
    return files


def write_folder(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def run_cli(tmp_path, *args, timeout=60):
    """``python -m fastprop ...`` in a child with its own cache; returns (rc, stdout, stderr)."""
    env = dict(os.environ, FASTPROP_DATA=str(tmp_path / "child-cache"))
    proc = subprocess.run([sys.executable, "-m", "fastprop", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr
