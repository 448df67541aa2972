"""Load data pickles (NumPy arrays in plain containers) without running code from the file.

A pickle is a small program; ``pickle.load`` runs it.  Even an unpickler that only allows NumPy
names is unsafe: the BUILD opcode calls ``numpy.dtype.__setstate__`` / ``ndarray.__setstate__``
with attacker-chosen state, which can forge an object dtype over raw bytes (a segfault, or worse).

Here the NumPy names resolve to *placeholders* of this module: calling them or BUILD-ing them only
records and checks the arguments.  After the pickle program has run, :func:`load` walks the result
and builds every array itself, with ``np.frombuffer(data, dtype).reshape(shape).copy()``, where
``dtype`` comes from a whitelist (bool, int8..int64, uint8..uint64, float16/32/64, either byte
order: no fields, subarrays, objects, strings or void) and ``len(data)`` must equal
``prod(shape) * itemsize``.  Containers allowed: tuple, list, dict, str, bytes, int, float, bool,
None.  Everything else is refused with a :class:`ValueError` naming the source.

It reads what NumPy writes for plain arrays with pickle protocols 2-5 (in-band buffers), what
Python 2 wrote (``encoding='latin1'``) and NumPy scalars; the same module serves the book's
parameter pickles (a dict of float64 arrays; a list of float16 arrays).
"""
import io
import math
import pickle
import zlib

import numpy as np

from . import validate

__all__ = ["load", "gunzip", "MAX_NDIM"]

#: Most dimensions NumPy allows (NumPy 2: 64).
MAX_NDIM = 64

_GZIP_MAGIC = b"\x1f\x8b"

#: Type strings NumPy writes in ``numpy.dtype(typestr, False, True)``, mapped to the real type.
_DTYPES = {code: np.dtype(code) for code in
           ("b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")}
_BYTEORDERS = ("<", ">", "|", "=")


def _short(value, n=60):
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


class _Refused(Exception):
    """What a placeholder found wrong; :func:`load` turns it into a ValueError with the source."""


class _Placeholder:
    """Base: BUILD on a placeholder that does not expect state is refused."""

    def __setstate__(self, state):
        raise _Refused(f"unexpected state for {type(self).__name__[1:]}: {_short(state)}")

    def __reduce__(self):            # never re-pickled by accident
        raise TypeError("safe_pickle placeholders cannot be pickled")


class _Dtype(_Placeholder):
    """Stands for ``numpy.dtype(typestr, align, copy)`` followed by BUILD (byte order)."""

    def __init__(self, typestr, align=False, copy=True, *rest):
        if rest or type(align) not in (bool, int) or type(copy) not in (bool, int):
            raise _Refused(f"dtype arguments: expected (typestr, align, copy), got "
                           f"{_short((typestr, align, copy) + rest)}")
        if type(typestr) is not str or typestr not in _DTYPES:
            raise _Refused(f"dtype {_short(typestr)}: expected one of "
                           f"{', '.join(_DTYPES)} (plain numbers only)")
        self.base, self.order = _DTYPES[typestr], None

    def __setstate__(self, state):
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not (type(state) is tuple and len(state) in (8, 9) and state[0] in (3, 4)):
            raise _Refused(f"dtype state: expected NumPy's version 3/4 tuple, got {_short(state)}")
        order, subarray, names, fields, elsize, alignment, flags = state[1:8]
        if (order not in _BYTEORDERS or subarray is not None or names is not None
                or fields is not None or elsize != -1 or alignment != -1 or flags != 0
                or (len(state) == 9 and state[8] not in (None, {}))):
            raise _Refused(f"dtype state {_short(state, 120)}: expected a plain number type "
                           "(no fields, subarray, object flags or metadata)")
        self.order = order

    def build(self):
        """The real dtype (only whitelisted types reach here)."""
        if self.__dict__.get("base") is None:
            raise _Refused("dtype built without a type string")
        order = self.order or "="
        return self.base if order in ("=", "|") else self.base.newbyteorder(order)


class _Ndarray(_Placeholder):
    """Stands for the array ``_reconstruct(ndarray, (0,), b'b')`` + BUILD(state) makes."""

    def __init__(self, *args):
        raise _Refused("numpy.ndarray called directly (only _reconstruct may use it)")

    def __setstate__(self, state):
        # (version, shape, dtype, is_fortran, data), or the same without the version
        if type(state) is not tuple or len(state) not in (4, 5):
            raise _Refused(f"array state: expected a 4- or 5-tuple, got {_short(state)}")
        shape, dtype, fortran, data = state[-4:]
        ok = type(fortran) in (bool, int) and fortran in (0, 1)
        self.spec = _spec(shape, dtype, "F" if ok and fortran else "C", data, ok)


class _Scalar(_Placeholder):
    """Stands for ``numpy.core.multiarray.scalar(dtype, data)``."""

    def __init__(self, dtype=None, data=None, *rest):
        if rest:
            raise _Refused(f"scalar: expected (dtype, data), got {len(rest) + 2} arguments")
        self.spec = _spec((), dtype, "C", data, True)


class _FromBuffer(_Placeholder):
    """Stands for protocol 5's ``numpy.core.numeric._frombuffer(buf, dtype, shape, order)``."""

    def __init__(self, buf=None, dtype=None, shape=None, order="C", *rest):
        if isinstance(buf, pickle.PickleBuffer):
            buf = bytes(buf)
        self.spec = _spec(shape, dtype, order, buf, not rest and order in ("C", "F"))


def _reconstruct(cls, shape, typecode):
    """Placeholder for ``numpy.core.multiarray._reconstruct``: an empty array awaiting BUILD."""
    if cls is not _Ndarray or shape != (0,) or typecode not in (b"b", "b"):
        raise _Refused(f"_reconstruct({_short(cls)}, {_short(shape)}, {_short(typecode)}): "
                       "expected (numpy.ndarray, (0,), b'b')")
    return _Ndarray.__new__(_Ndarray)


def _encode(text, encoding="utf-8"):
    """Placeholder for ``_codecs.encode``: only the latin1 form Python 3 writes for bytes."""
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode({_short(text)}, {encoding!r}): only latin1 text allowed")
    return text.encode("latin1")


def _empty_bytes(*args):
    """Placeholder for ``bytes()``: protocol 2 writes empty bytes as a call with no arguments."""
    if args:
        raise _Refused(f"bytes{_short(args)}: only bytes() (empty) is allowed")
    return b""


def _spec(shape, dtype, order, data, ok):
    """Check one array's pieces; return (shape, dtype, order, data) for the final build."""
    if not ok:
        raise _Refused("array arguments: bad order/fortran flag or extra arguments")
    if type(dtype) is not _Dtype:
        raise _Refused(f"array dtype: expected numpy.dtype, got {_short(dtype)}")
    if (type(shape) is not tuple or len(shape) > MAX_NDIM
            or any(type(d) is not int or d < 0 for d in shape)):
        raise _Refused(f"array shape: expected a tuple of at most {MAX_NDIM} sizes >= 0, "
                       f"got {_short(shape)}")
    if type(data) is str:               # Python 2 pickles: bytes arrive as latin1 text
        data = data.encode("latin1")
    if type(data) not in (bytes, bytearray):
        raise _Refused(f"array data: expected bytes, got {type(data).__name__} "
                       "(object arrays are not allowed)")
    return shape, dtype, order, data


_NAMES = {}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _NAMES[_mod, "_reconstruct"] = _reconstruct
    _NAMES[_mod, "scalar"] = _Scalar
for _mod in ("numpy.core.numeric", "numpy._core.numeric"):
    _NAMES[_mod, "_frombuffer"] = _FromBuffer
_NAMES["numpy", "ndarray"] = _Ndarray
_NAMES["numpy", "dtype"] = _Dtype
_NAMES["_codecs", "encode"] = _encode
_NAMES["builtins", "bytes"] = _NAMES["__builtin__", "bytes"] = _empty_bytes


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _NAMES[module, name]
        except (KeyError, TypeError):
            raise _Refused(f"refusing to load {module}.{name} from a data pickle "
                           "(only NumPy arrays and plain containers are allowed)") from None

    def persistent_load(self, pid):
        raise _Refused("refusing a persistent id (external object reference)")


def _name(obj):
    """Type name for messages; placeholders by the NumPy name they stand for."""
    kind = type(obj)
    return kind.__name__[1:] if isinstance(obj, _Placeholder) else kind.__name__


class _Builder:
    """Replaces placeholders by real arrays; keeps shared references shared; counts bytes."""

    _PLAIN = (str, bytes, int, float, bool, type(None))

    def __init__(self, max_bytes):
        self.left, self.memo = max_bytes, {}

    def build(self, obj):
        key = id(obj)
        if key in self.memo:
            return self.memo[key][0]
        kind = type(obj)
        if kind in self._PLAIN:
            return obj
        if kind is list:
            out = []
            self.memo[key] = (out, obj)             # obj kept alive: ids stay unique
            out.extend(self.build(v) for v in obj)
        elif kind is dict:
            out = {}
            self.memo[key] = (out, obj)
            for k, v in obj.items():
                if type(k) not in self._PLAIN:
                    raise _Refused(f"dict key: expected str/bytes/int/float/bool/None, got "
                                   f"{_name(k)}")
                out[k] = self.build(v)
        elif kind is tuple:
            out = tuple(self.build(v) for v in obj)
        elif kind in (_Ndarray, _Scalar, _FromBuffer):
            out = self.array(obj)
        elif kind is bytearray:
            out = bytes(obj)
        else:
            raise _Refused(f"unexpected object in the data: {_name(obj)}")
        self.memo[key] = (out, obj)
        return out

    def array(self, obj):
        spec = obj.__dict__.get("spec")
        if spec is None:
            raise _Refused("array placeholder without data (missing BUILD)")
        shape, dtype, order, data = spec
        dt = dtype.build()
        count = math.prod(shape)
        if count * dt.itemsize != len(data):
            raise _Refused(f"array data: expected {count} x {dt.itemsize} = "
                           f"{count * dt.itemsize} bytes for shape {shape} {dt}, got {len(data)}")
        self.left -= len(data)
        if self.left < 0:
            raise _Refused("arrays add up to more than the size limit (shared data repeated?)")
        arr = np.frombuffer(data, dtype=dt).reshape(shape, order=order).copy()
        if dt.kind == "b":                  # a bool byte other than 0/1 is not a valid bool
            arr = arr.view(np.uint8) != 0
        return arr[()] if type(obj) is _Scalar else arr


def gunzip(data, *, source, max_bytes):
    """Decompress gzip ``data`` (one or more members), refusing output above ``max_bytes``.

    Parameters
    ----------
    data : bytes-like
        The whole gzip file.
    source : str
        Named in error messages.
    max_bytes : int
        Largest decompressed size accepted (a gzip bomb stops here, not in a MemoryError).

    Returns
    -------
    bytearray

    Raises
    ------
    ValueError
        Corrupt (bad CRC, bad header), truncated, trailing garbage, or too large.
    """
    out = bytearray()
    rest = memoryview(data)
    while True:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        buf = rest
        try:
            while not d.eof:
                got = d.decompress(buf, max_bytes + 1 - len(out))
                out += got
                if len(out) > max_bytes:
                    raise ValueError(f"{source}: gzip data expands to more than {max_bytes} "
                                     "bytes, the limit for this file (not the expected data?)")
                buf = d.unconsumed_tail
                if not got and not buf:
                    raise ValueError(f"{source}: corrupt or truncated gzip data (the stream ends "
                                     "early: truncated file?)")
        except zlib.error as exc:
            raise ValueError(f"{source}: corrupt or truncated gzip data ({exc})") from None
        rest = d.unused_data
        if not rest.strip(b"\0"):
            return out
        if rest[:2] != _GZIP_MAGIC:
            raise ValueError(f"{source}: corrupt gzip data (unexpected bytes after the "
                             "stream)")
        rest = memoryview(rest)


def load(file, *, source, max_bytes):
    """Unpickle NumPy arrays in plain containers from ``file`` without running its code.

    Parameters
    ----------
    file : bytes-like or binary file object
        Pickle bytes, gzip-compressed or not (decided by content).
    source : str
        Named in every error message (a path, or ``wheel:member``).
    max_bytes : int
        Cap on the (decompressed) pickle size and on the total bytes of the arrays it builds.

    Returns
    -------
    object
        Arrays (C-contiguous, writeable copies), NumPy scalars, tuples, lists, dicts, str, bytes,
        int, float, bool, None.

    Raises
    ------
    ValueError
        Anything else in the pickle (code, other classes, object/structured/void/str dtypes, data
        lengths that do not match the shape), corrupt gzip, or a size above ``max_bytes``.
    TypeError
        Bad arguments.
    """
    max_bytes = validate.check_scalar(max_bytes, "max_bytes", int, low=1, expected="a positive int")
    validate.check_type(source, str, "source", "a str")
    if hasattr(file, "read"):
        data = file.read(max_bytes + 1)
    elif isinstance(file, (bytes, bytearray, memoryview)):
        data = file
    else:
        raise TypeError(f"file must be bytes or a binary file object, got {type(file).__name__}")
    if bytes(data[:2]) == _GZIP_MAGIC:
        data = gunzip(data, source=source, max_bytes=max_bytes)
    if len(data) > max_bytes:
        raise ValueError(f"{source}: pickle is larger than {max_bytes} bytes, the limit here")
    try:
        obj = _Unpickler(io.BytesIO(data), encoding="latin1").load()
        return _Builder(max_bytes).build(obj)
    except _Refused as exc:
        raise ValueError(f"{source}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{source}: pickle nests too deeply") from None
    except MemoryError:
        raise ValueError(f"{source}: pickle needs more memory than is available") from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError,
            KeyError, IndexError, OverflowError, UnicodeError, ImportError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{source}: not a readable data pickle ({detail})") from None
