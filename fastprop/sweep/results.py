"""The results file: JSON lines, a header then one complete row per finished trial.

Line 1 is ``{"type": "header", "version": 1, "config": {...}}`` (the space, the sweep
seed, the data and the objective); every later line is ``{"type": "trial", ...}`` for
one finished trial (parameters, seed, accuracies, curves, wall time, worker, error).
Each line is written with a single ``write`` followed by ``flush`` and ``fsync``, so a
crash can leave at most a partial last line; :meth:`ResultsFile.open` finds it and
rewrites the file without it (temporary file + ``os.replace``) before appending again.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

__all__ = ["ResultsFile", "read_rows", "COMPARED_CONFIG"]

VERSION = 1
# header keys that must match for --resume (n_trials may grow: trial i does not depend on it)
COMPARED_CONFIG = ("space", "seed", "data", "objective")


def _plain(obj: Any) -> Any:
    """JSON-ready copy: NumPy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _plain(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def dumps(obj: dict) -> str:
    """One line of the file (no newline)."""
    return json.dumps(_plain(obj), separators=(",", ":"), allow_nan=False)


def _bad_line(path: str, line: int, what: str) -> ValueError:
    return ValueError(f"{path}: line {line}: {what}; the file was edited or cut short (mend or delete "
                      "that line, or give another --results)")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_header(obj: Any, path: str) -> dict:
    if not isinstance(obj, dict) or obj.get("type") != "header":
        raise ValueError(f"{path} is not a fastprop sweep results file "
                         "(its first line is not a header)")
    if obj.get("version") != VERSION:
        raise ValueError(f"{path}: results format version {obj.get('version')!r}, "
                         f"this fastprop reads {VERSION}")
    if not isinstance(obj.get("config"), dict):
        raise _bad_line(path, 1, "the header has no 'config' object")
    return obj


def _check_row(obj: Any, path: str, line: int, names=None) -> dict:
    """``obj`` if it is a trial row the sweep can rank, table and resume; else a ValueError
    naming ``line`` (1-based, the header is line 1) and what is wrong."""
    if not isinstance(obj, dict):
        raise _bad_line(path, line, f"expected a trial row {{\"type\": \"trial\", ...}}, got {type(obj).__name__}")
    if obj.get("type") != "trial":
        raise _bad_line(path, line, f"expected a trial row, got type {obj.get('type')!r}")
    if not (_is_int(obj.get("index")) and obj["index"] >= 0):
        raise _bad_line(path, line, f"'index' must be an integer >= 0, got {obj.get('index')!r}")
    params = obj.get("params")
    if not (isinstance(params, dict) and all(_is_number(v) for v in params.values())):
        raise _bad_line(path, line, f"'params' must map names to numbers, got {params!r}")
    if names is not None and sorted(params) != sorted(names):
        raise _bad_line(path, line, f"'params' has {sorted(params)}, but the header's space is "
                                    f"{sorted(names)}")
    if not _is_int(obj.get("seed")):
        raise _bad_line(path, line, f"'seed' must be an integer, got {obj.get('seed')!r}")
    if not (obj.get("error") is None or isinstance(obj["error"], str)):
        raise _bad_line(path, line, f"'error' must be null or a message, got {obj['error']!r}")
    for key in ("val_acc", "train_acc", "wall_s"):  # None: a non-finite number, as written
        if obj.get(key) is not None and not _is_number(obj[key]):
            raise _bad_line(path, line, f"{key!r} must be a number, got {obj[key]!r}")
    if obj.get("error") is None and "val_acc" not in obj:
        raise _bad_line(path, line, "a trial without an error must have 'val_acc'")
    return obj


def _parse(path: str) -> tuple[dict | None, list[dict], int, bool]:
    """(header, rows, bytes of complete lines, whether a partial last line was found).

    Only the last line may be incomplete (a write cut short: no newline, or not JSON with
    nothing after it); anything else that is not a header followed by trial rows is a
    ValueError naming its line.
    """
    with open(path, "rb") as f:
        raw = f.read()
    header, rows, good, partial = None, [], 0, False
    pos, line = 0, 0
    while pos < len(raw):
        line += 1
        end = raw.find(b"\n", pos)
        if end < 0:
            partial = True  # no newline: a write cut short
            break
        try:
            obj = json.loads(raw[pos:end])
        except ValueError:
            if raw.find(b"\n", end + 1) >= 0:
                if header is None:
                    raise ValueError(f"{path} is not a fastprop sweep results file (line 1 is not "
                                     "JSON)") from None
                raise _bad_line(path, line, "not JSON") from None
            partial = True
            break
        except RecursionError:
            raise _bad_line(path, line, "JSON nested too deeply") from None
        if header is None:
            header = _check_header(obj, path)
            space = header["config"].get("space")
            names = list(space) if isinstance(space, dict) else None
        else:
            rows.append(_check_row(obj, path, line, names))
        pos = good = end + 1
    return header, rows, good, partial


def read_rows(path: str) -> tuple[dict, list[dict]]:
    """``(header config, rows)`` of a results file (a partial last line is ignored)."""
    header, rows, _, _ = _parse(os.fspath(path))
    if header is None:
        raise ValueError(f"{path} has no header line")
    return header["config"], rows


def check_writable(path: str) -> str:
    """``path`` if a file can be created or appended there; an ``OSError`` otherwise."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a file")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"folder {folder} does not exist (for {path})")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f"cannot write {path}")
    return path


class ResultsFile:
    """An open results file: :attr:`rows` already there, :meth:`append` adds one row."""

    def __init__(self, path: str, config: dict, rows: list[dict], lock, created: bool = False):
        self.path, self.config, self.rows, self._lock = path, config, rows, lock
        self.created = created  # this open wrote the header (the file did not exist)
        self._f = open(path, "ab")

    @classmethod
    def open(cls, path: str, config: dict, resume: bool = False) -> "ResultsFile":
        """Create ``path`` with a header for ``config``, or with ``resume`` continue it.

        Without ``resume`` an existing non-empty file is an error (it is never
        overwritten); with ``resume`` its header must match ``config`` (see
        :data:`COMPARED_CONFIG`) and a partial last line is dropped.
        """
        path = check_writable(path)
        config = _plain(config)
        lock = _lock(path)
        try:
            return cls._open_locked(path, config, resume, lock)
        except BaseException:
            _unlock(lock)
            raise

    @classmethod
    def _open_locked(cls, path, config, resume, lock):
        exists = os.path.exists(path) and os.path.getsize(path) > 0
        if exists and not resume:
            raise FileExistsError(f"results file {path} already exists: pass --resume "
                                  "(resume=True) to continue it, or choose another --results")
        if not exists:
            _atomic_write(path, (dumps({"type": "header", "version": VERSION, "config": config})
                                 + "\n").encode())
            return cls(path, config, [], lock, created=True)
        header, rows, good, partial = _parse(path)
        if header is None:
            raise ValueError(f"{path} is not a fastprop sweep results file (no header line)")
        old = header["config"]
        diff = [k for k in COMPARED_CONFIG if old.get(k) != config.get(k)]
        if diff:
            raise ValueError(f"cannot resume {path}: its sweep has a different "
                             + ", ".join(f"{k} ({old.get(k)!r} there, {config.get(k)!r} now)"
                                         for k in diff))
        if partial:  # keep only the complete lines, atomically
            with open(path, "rb") as f:
                _atomic_write(path, f.read(good))
        seen, unique = set(), []
        for r in rows:
            if r.get("index") not in seen:
                seen.add(r.get("index"))
                unique.append(r)
        return cls(path, old, unique, lock)

    def append(self, row: dict) -> None:
        """Write ``row`` as one line, flushed and fsynced, and keep it in :attr:`rows`."""
        row = _plain(dict(row, type="trial"))
        self._f.write((dumps(row) + "\n").encode())
        self._f.flush()
        os.fsync(self._f.fileno())
        self.rows.append(row)

    def discard_new(self) -> None:
        """Remove the file if this open created it and no row was written (a sweep that
        could not start leaves nothing that would block the same command run again)."""
        if self.created and not self.rows and not self._f.closed:
            self._f.close()
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()
        _unlock(self._lock)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _lock(path: str):
    """An exclusive lock on ``.<name>.lock`` next to ``path``: two sweeps never append to
    one file at once (the lock goes with the process if it dies)."""
    folder, name = os.path.split(os.path.abspath(path))
    lock_path = os.path.join(folder, f".{name}.lock")
    fh = open(lock_path, "a")
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return fh, lock_path
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise BlockingIOError(f"results file {path} is in use by another running sweep "
                              f"(lock {lock_path})") from None
    return fh, lock_path


def _unlock(lock) -> None:
    fh, lock_path = lock
    try:
        os.unlink(lock_path)
    except OSError:
        pass
    fh.close()


def _atomic_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sweep-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
