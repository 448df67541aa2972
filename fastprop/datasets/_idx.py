"""IDX files: read (gz or raw), verify, parse, encode, and write atomically.

The IDX format (LeCun's MNIST page) is a 4-byte magic number ``0x0000TTNN`` -- two zero bytes, a
type code ``TT`` and the number of dimensions ``NN`` -- then ``NN`` big-endian int32 sizes, then
the payload in C order.  MNIST images are ``2051`` (uint8, 3 dims), labels ``2049`` (uint8, 1 dim).

Everything here works on the *decompressed* bytes, so a gz copy and a raw copy of the same file
have the same SHA-256 and one checksum table serves both.

Reads are bounded: :func:`read_regular` opens without blocking, refuses anything but a regular
file (FIFO, device, socket) and files above a size cap; gzip output is capped the same way.
"""
import hashlib
import os
import re
import struct

import numpy as np

from .. import safe_pickle

# the file helpers live in fastprop.files (shared with the nets' save_params/load_params);
# re-exported here, where the data cache has always found them
from ..files import PARTIAL_AGE_S, atomic_write, check_file, fcntl, partial_files, read_regular, remove_partial  # noqa: F401

MAGIC_LABELS = 2049
MAGIC_IMAGES = 2051

#: IDX type code -> big-endian NumPy dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_GZIP_MAGIC = b"\x1f\x8b"

#: Largest IDX file accepted, raw or decompressed (MNIST's biggest, train images, is 47,040,016).
MAX_IDX_BYTES = 64 << 20

# Standard names, plus the dotted spelling some re-distributions use ("train-images.idx3-ubyte").
_IDX_NAME = re.compile(r"^(train|t10k)-(images|labels)[-.](idx[13]-ubyte)(\.gz)?$")


def standard_name(filename):
    """Return the standard IDX name for ``filename`` (dotted or gz spelling), or None."""
    m = _IDX_NAME.match(os.path.basename(filename))
    if m is None:
        return None
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"


def sha256(data):
    """Hex SHA-256 of a bytes-like object."""
    return hashlib.sha256(data).hexdigest()


def decompress(data, name, max_bytes=MAX_IDX_BYTES):
    """Return ``data`` gunzipped if it is gzip data (decided by content), else unchanged.

    Raises
    ------
    ValueError
        If the gzip stream is truncated or corrupt, or expands past ``max_bytes``; the message
        names ``name``.
    """
    if bytes(data[:2]) != _GZIP_MAGIC:
        if str(name).endswith(".gz"):
            raise ValueError(f"{name}: expected gzip data (name ends in .gz), got bytes "
                             f"starting {bytes(data[:4])!r}")
        return data
    return safe_pickle.gunzip(data, source=str(name), max_bytes=max_bytes)


def read_bytes(path, max_bytes=MAX_IDX_BYTES):
    """Read a file and return its decompressed content as a writeable ``bytearray``.

    A bytearray (not bytes) so that ``np.frombuffer`` views of it are writeable, like the
    arrays the book's loader returns.  Bounded: see :func:`read_regular`.
    """
    raw = decompress(read_regular(path, max_bytes, "IDX file"), path, max_bytes)
    return raw if isinstance(raw, bytearray) else bytearray(raw)


def verify(data, name, expected, hint=""):
    """Check the SHA-256 of ``data`` (decompressed IDX bytes) against ``expected``.

    ``expected=None`` means "no entry in the table": accepted (nothing to compare with).

    Raises
    ------
    ValueError
        On a mismatch, naming the file, the expected and the actual hash.
    """
    if expected is None:
        return
    got = sha256(data)
    if got != expected:
        msg = f"{name}: SHA-256 mismatch: expected {expected}, got {got}. {hint}"
        raise ValueError(msg.rstrip())


def parse_idx(data, name, magic=None):
    """Parse IDX bytes into an array with the file's own shape.

    Parameters
    ----------
    data : bytes-like
        Decompressed IDX content.
    name : str
        File name, used in error messages.
    magic : int, optional
        Required magic number (``MAGIC_IMAGES`` or ``MAGIC_LABELS``).

    Returns
    -------
    ndarray
        Shape = the header's dims, native dtype (uint8 for MNIST); a view of ``data``.

    Raises
    ------
    ValueError
        Short header, wrong magic, non-positive dims, or payload length != product of dims.
    """
    n = len(data)
    if n < 4:
        raise ValueError(f"{name}: too short for an IDX header: expected at least 4 bytes, got {n}")
    got_magic = struct.unpack_from(">i", data, 0)[0]
    if magic is not None and got_magic != magic:
        kind = {MAGIC_IMAGES: "images", MAGIC_LABELS: "labels"}.get(magic, "IDX")
        raise ValueError(f"{name}: bad magic number: expected {magic} ({kind}), got {got_magic}")
    type_code, ndim = (got_magic >> 8) & 0xFF, got_magic & 0xFF
    if got_magic >> 16 != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{name}: not an IDX file: bad magic number {got_magic} "
                         f"(0x{got_magic & 0xFFFFFFFF:08x})")
    header = 4 + 4 * ndim
    if n < header:
        raise ValueError(f"{name}: truncated IDX header: expected {header} bytes for {ndim} dims, "
                         f"got {n}")
    dims = struct.unpack_from(f">{ndim}i", data, 4)
    if any(d <= 0 for d in dims):
        raise ValueError(f"{name}: bad dims in IDX header: expected positive sizes, got {dims}")
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if n - header != expected:
        shape = " x ".join(map(str, dims))
        raise ValueError(f"{name}: payload length mismatch: expected {expected} bytes "
                         f"({shape}), got {n - header} (truncated or padded file?)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def encode_idx(arr):
    """Encode a uint8 array as IDX bytes (magic 2051 for 3-d images, 2049 for 1-d labels)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    magic = (0x08 << 8) | arr.ndim
    return struct.pack(f">i{arr.ndim}i", magic, *arr.shape) + arr.tobytes()
