"""IDX files: read (gz or raw), verify, parse, encode, and write atomically.

The IDX format (LeCun's MNIST page) is a 4-byte magic number ``0x0000TTNN`` -- two zero bytes, a
type code ``TT`` and the number of dimensions ``NN`` -- then ``NN`` big-endian int32 sizes, then
the payload in C order.  MNIST images are ``2051`` (uint8, 3 dims), labels ``2049`` (uint8, 1 dim).

Everything here works on the *decompressed* bytes, so a gz copy and a raw copy of the same file
have the same SHA-256 and one checksum table serves both.

Reads are bounded: :func:`read_regular` opens without blocking, refuses anything but a regular
file (FIFO, device, socket) and files above a size cap; gzip output is capped the same way.
"""
import errno
import hashlib
import os
import re
import stat
import struct
import tempfile
import time

import numpy as np

from .. import safe_pickle

try:
    import fcntl
except ImportError:             # pragma: no cover - Windows: partial files are aged out instead
    fcntl = None

MAGIC_LABELS = 2049
MAGIC_IMAGES = 2051

#: IDX type code -> big-endian NumPy dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_GZIP_MAGIC = b"\x1f\x8b"

#: Largest IDX file accepted, raw or decompressed (MNIST's biggest, train images, is 47,040,016).
MAX_IDX_BYTES = 64 << 20

# atomic_write's temporary files: ".<name>.<8 random chars>.part"
_PARTIAL = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.part$")
#: Without file locks (Windows), a partial file counts as abandoned after this many seconds.
PARTIAL_AGE_S = 3600.0

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a folder"))

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


def _kind(mode):
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def read_regular(path, max_bytes, what="file"):
    """Read a regular file of at most ``max_bytes`` bytes, without blocking on anything else.

    The path is checked with ``stat`` before it is opened and again with ``fstat`` on the open
    descriptor (opened ``O_NONBLOCK``, so even a FIFO swapped in between cannot block the open).
    Symlinks are followed, but only to regular files.

    Raises
    ------
    ValueError
        ``path`` is a FIFO, device, socket or folder, or larger than ``max_bytes``.
    OSError
        It cannot be opened or read.
    """
    path = os.fspath(path)
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path}: {_kind(mode)}, not a regular file: "
                         f"refusing to read it as a {what}")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb", buffering=0) as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path}: {_kind(st.st_mode)}, not a regular file: "
                             f"refusing to read it as a {what}")
        _check_size(path, st.st_size, max_bytes, what)
        data = bytearray(st.st_size + 1)
        view, n = memoryview(data), 0
        while n < len(data):              # the file may grow while it is read: one byte more
            got = f.readinto(view[n:])
            if not got:
                break
            n += got
        view.release()
    del data[n:]
    _check_size(path, n, max_bytes, what)
    return data


def _check_size(path, size, max_bytes, what):
    if size > max_bytes:
        raise ValueError(f"{path}: {size} bytes, more than the {max_bytes} bytes allowed for a "
                         f"{what}: refusing to read it")


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


def atomic_write(path, data, expected=None):
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the complete new one.

    The bytes go to a temporary file ``.<name>.XXXXXXXX.part`` in the same folder (so
    ``os.replace`` is an atomic rename on one file system), are flushed to disk, read back and
    checked against ``expected`` (SHA-256 of the bytes), and only then renamed over ``path``.  On
    any failure the temporary file is removed and an existing ``path`` is left untouched.  While
    it is written the temporary file holds an exclusive ``flock``, so :func:`remove_partial` can
    tell the leftovers of a killed process (lock released) from a write in progress.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:   # rename while still locked: never taken for a leftover
                _finish(tmp, path, data, expected)
        if fcntl is None:           # Windows cannot rename an open file
            _finish(tmp, path, data, expected)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _finish(tmp, path, data, expected):
    os.chmod(tmp, 0o644)            # mkstemp makes 0600; cache files are ordinary readable files
    check_file(tmp, expected if expected is not None else sha256(data))
    os.replace(tmp, path)


def check_file(path, expected):
    """Re-read a just-written file and compare its SHA-256 (guards against short writes).

    Opened with ``O_NOFOLLOW``: the file was created here, a symlink in its place is an attack.
    """
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{path}: {_kind(os.fstat(fd).st_mode)} after writing")
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != expected:
        raise ValueError(f"{path}: SHA-256 after writing: expected {expected}, got {h.hexdigest()}")


def partial_files(folder):
    """Temporary files ``.<name>.XXXXXXXX.part`` of :func:`atomic_write` in ``folder``, sorted.

    Any that exist when no write is running are the leftovers of an interrupted (killed) write.
    """
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(os.path.join(folder, n) for n in names if _PARTIAL.match(n))


def remove_partial(folder):
    """Delete the leftovers of interrupted writes in ``folder``; return the paths removed.

    A partial file still locked by a running :func:`atomic_write` (another process writing now)
    is kept.  Without ``fcntl`` (Windows) only files older than :data:`PARTIAL_AGE_S` go.
    Symlinks are removed as links (their target is never touched); folders are left alone.
    """
    removed = []
    for path in partial_files(folder):
        try:
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode) or fcntl is None:
                if stat.S_ISREG(st.st_mode) and time.time() - st.st_mtime < PARTIAL_AGE_S:
                    continue
                os.remove(path)
            else:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    os.remove(path)
                except OSError as exc:
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        continue                    # a write in progress: not ours to remove
                    raise
                finally:
                    os.close(fd)
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
