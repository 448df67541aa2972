"""Files written whole or not at all, and read without blocking on anything but a regular file.

:func:`atomic_write` writes to a temporary file in the target's folder, flushes it to disk,
checks it and renames it over the target, so a failed or interrupted write (a full disk, a
pickling error, a kill) leaves the previous file as it was. :func:`read_regular` refuses FIFOs,
devices, sockets and folders before opening them (a FIFO would block ``open`` forever).
Shared by the data cache (:mod:`fastprop.datasets`) and the nets' parameter files.
"""
import errno
import hashlib
import os
import re
import stat
import tempfile
import time

try:
    import fcntl
except ImportError:             # pragma: no cover - Windows: partial files are aged out instead
    fcntl = None

# atomic_write's temporary files: ".<name>.<8 random chars>.part"
_PARTIAL = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.part$")
#: Without file locks (Windows), a partial file counts as abandoned after this many seconds.
PARTIAL_AGE_S = 3600.0

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a folder"))


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


def atomic_write(path, data, expected=None, make_folder=True):
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the complete new one.

    The bytes go to a temporary file ``.<name>.XXXXXXXX.part`` in the same folder (so
    ``os.replace`` is an atomic rename on one file system), are flushed to disk, read back and
    checked against ``expected`` (SHA-256 of the bytes), and only then renamed over ``path``.  On
    any failure the temporary file is removed and an existing ``path`` is left untouched.  While
    it is written the temporary file holds an exclusive ``flock``, so :func:`remove_partial` can
    tell the leftovers of a killed process (lock released) from a write in progress.
    ``make_folder=False`` leaves a missing folder an error (FileNotFoundError) instead of
    creating it.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if make_folder:
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


def replace_file(path, data, what="file"):
    """Write ``data`` over a user's file at ``path`` with :func:`atomic_write`: the folder must
    exist (as for ``open(path, 'wb')``) and a symlink is followed, so its target is what
    changes. Used by ``save_params``: a failed write leaves the previous file intact.

    Raises
    ------
    ValueError
        ``path`` exists and is not a regular file (a device, FIFO, socket or folder): the
        rename would replace the device node itself (``/dev/null`` as a plain file).
    """
    path = os.path.realpath(os.fspath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise ValueError(f"{path}: {_kind(mode)}, not a regular file: refusing to replace it with a {what}")
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):  # named here: the temporary file's name would mean nothing
        raise FileNotFoundError(errno.ENOENT, f"No such folder to write the {what} into: {folder}", path)
    atomic_write(path, data, make_folder=False)


def _finish(tmp, path, data, expected):
    os.chmod(tmp, 0o644)            # mkstemp makes 0600; cache files are ordinary readable files
    check_file(tmp, expected if expected is not None else hashlib.sha256(data).hexdigest())
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
