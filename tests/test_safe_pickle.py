"""fastprop.safe_pickle: NumPy arrays in plain containers, and nothing that runs or forges.

The forged-dtype attacks are loaded in a child process: a segfault there is a failed test (a
negative return code), not a dead test run.
"""
import gzip
import io
import os
import pickle
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

from fastprop import safe_pickle

MB = 1 << 20
DTYPES = ["?", "i1", "u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4", "<i8", ">i8",
          "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]


def load(data, max_bytes=MB, source="test.pkl"):
    return safe_pickle.load(data, source=source, max_bytes=max_bytes)


def assert_same_array(got, want):
    assert isinstance(got, np.ndarray) and type(got) is np.ndarray
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.flags.writeable and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------------
# What NumPy and the book write


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_arrays_round_trip(dtype, protocol, rng):
    want = (rng.integers(0, 100, (3, 4)) * 1.5 - 7).astype(dtype)
    assert_same_array(load(pickle.dumps(want, protocol=protocol)), want)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("want", [np.arange(12.0).reshape(3, 4).T, np.zeros((0, 5), "f4"),
                                  np.array(7, "i8"), np.ones((2, 1, 3), "u1")],
                         ids=["fortran", "empty", "0-d", "3-d"])
def test_layouts_round_trip(want, protocol):
    assert_same_array(load(pickle.dumps(want, protocol=protocol)), want.copy(order="C"))


def test_book_vol1_params_dict(tmp_path, rng):
    """vol. 1 ``deep_convnet_params.pkl``: a dict of float64 arrays, written with pickle.dump."""
    params = {f"W{i}": rng.standard_normal((4, 3)) for i in range(1, 4)}
    params.update({f"b{i}": rng.standard_normal(3) for i in range(1, 4)})
    path = tmp_path / "params.pkl"
    with open(path, "wb") as f:
        pickle.dump(params, f)
    with open(path, "rb") as f:
        got = safe_pickle.load(f, source=str(path), max_bytes=MB)
    assert type(got) is dict and list(got) == list(params)
    for k in params:
        assert_same_array(got[k], params[k])


def test_book_vol2_save_params_list(tmp_path, rng):
    """vol. 2 ``BaseModel.save_params``: a list of float16 arrays."""
    params = [p.astype(np.float16) for p in (rng.standard_normal((5, 4)), rng.standard_normal(4))]
    path = tmp_path / "model.pkl"
    with open(path, "wb") as f:
        pickle.dump(params, f)
    got = load(path.read_bytes())
    assert type(got) is list and len(got) == 2
    for g, p in zip(got, params):
        assert_same_array(g, p)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_containers_and_scalars(protocol):
    want = {"name": "net", "raw": b"\x00\xff", "empty": b"", "n": 3, "lr": 0.1, "ok": True,
            "none": None, "shape": (1, [2, 3]), "f64": np.float64(1.5), "i8": np.int64(-4)}
    got = load(pickle.dumps(want, protocol=protocol))
    assert got == want
    assert type(got["f64"]) is np.float64 and type(got["i8"]) is np.int64


def test_gzip_and_file_objects(rng):
    want = rng.standard_normal((2, 3))
    data = pickle.dumps([want], protocol=2)
    for source in (gzip.compress(data), io.BytesIO(data), io.BytesIO(gzip.compress(data))):
        assert_same_array(load(source)[0], want)


def test_shared_arrays_stay_shared():
    a = np.arange(4.0)
    got = load(pickle.dumps([a, a, {"again": a}], protocol=4))
    assert got[0] is got[1] is got[2]["again"]


def test_self_referencing_list_terminates():
    x = []
    x.append(x)
    got = load(pickle.dumps(x, protocol=2))
    assert got[0] is got


def test_python2_pickle_with_latin1_strings():
    """What the classic mnist.pkl.gz is: protocol 2 from Python 2, data as a byte *string*."""
    data = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00"
            b"\x85U\x01b\x87Rq\x03(K\x01K\x03\x85cnumpy\ndtype\nq\x04U\x02u1K\x00K\x01\x87Rq\x05"
            b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x03ab\xfftb.")
    assert_same_array(load(data), np.array([97, 98, 255], np.uint8))


# ------------------------------------------------------------------------------------------
# What is refused (in process: none of these can crash)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


@pytest.mark.parametrize("obj, found", [
    (_Evil(), "refusing to load posix.system"),
    (np.array([1, "a"], dtype=object), "dtype 'O8'"),
    (np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]), "dtype 'V12'"),
    (np.array(["ab"]), "dtype 'U2'"),
    (np.zeros(2, "M8[s]"), "dtype 'M8'"),
    (np.zeros(2, "c16"), "dtype 'c16'"),
    (np.zeros(2, "V4"), "dtype 'V4'"),
    (np.zeros(2, "f4").reshape(2, 1).view(np.recarray), "refusing to load numpy"),
    ({1, 2}, "refusing to load __builtin__.set"),
    (np.dtype("f8"), "unexpected object in the data: Dtype"),
])
def test_refused(obj, found):
    if obj.__class__ is _Evil and os.name != "posix":
        pytest.skip("os.system is nt.system here")
    with pytest.raises(ValueError) as err:
        load(pickle.dumps(obj, protocol=2), source="bad.pkl")
    msg = str(err.value)
    assert msg.startswith("bad.pkl: ") and found in msg and "\n" not in msg


def _swap(data, old, new):
    assert data.count(old) == 1
    return data.replace(old, new)


def test_bool_bytes_are_normalized():
    data = pickle.dumps(np.array([True, False, True]), protocol=3)
    bad = _swap(data, b"C\x03\x01\x00\x01", b"C\x03\x07\x00\xff")
    got = load(bad)
    assert got.dtype == np.bool_ and got.view(np.uint8).tolist() == [1, 0, 1]


def test_length_must_match_shape():
    data = pickle.dumps(np.arange(4, dtype="u1"), protocol=3)
    bad = _swap(data, b"K\x04\x85", b"K\x05\x85")          # shape (4,) -> (5,)
    with pytest.raises(ValueError, match=r"expected 5 x 1 = 5 bytes for shape \(5,\) uint8, got 4"):
        load(bad)


@pytest.mark.parametrize("field, found", [
    (b"cnumpy\ndtype\n\x8c\x02f8\x89\x88\x87R", "no fields, subarray"),
    (b"cnumpy\ndtype\n\x8c\x02O8\x89\x88\x87R", "dtype 'O8'"),
])
def test_dtype_state_with_fields_is_refused(field, found):
    """An allowed dtype name whose BUILD state adds a field (the forged-dtype attack)."""
    data = pickle.dumps(np.zeros(1, "f8"), protocol=3)
    bad = _swap(data, b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t",
                b"N\x8c\x01a\x85}\x8c\x01a" + field + b"K\x00\x86sK\x08K\x01K\x01t")
    with pytest.raises(ValueError, match=found):
        load(bad)


def _object_dtype():
    return b"cnumpy\ndtype\n\x8c\x02O8\x89\x88\x87R"


def test_codecs_encode_only_latin1():
    data = pickle.dumps(b"abc", protocol=2).replace(b"latin1", b"zlib_c")
    with pytest.raises(ValueError, match=r"_codecs.encode\('abc', 'zlib_c'\)"):
        load(data)


def test_size_caps():
    a = np.zeros(1000, "u1")
    with pytest.raises(ValueError, match="pickle is larger than 500 bytes"):
        load(pickle.dumps(a, protocol=4), max_bytes=500)
    bomb = gzip.compress(bytes(50 * MB))                   # 50 MB of zeros in 50 kB
    with pytest.raises(ValueError, match="expands to more than 1048576 bytes"):
        load(bomb, max_bytes=MB)


def test_repeated_data_counts_against_the_cap():
    """One 100 kB bytes object memoized once and referenced by 50 arrays: 5 MB of copies."""
    blob = b"\x00" * 100_000
    one = pickle.dumps(np.frombuffer(blob, "u1"), protocol=3)
    start = one.index(b"b\x89B") + 2                         # after dtype BUILD and is_fortran
    memo = b"\xe8\x03\x00\x00"                                        # memo slot 1000
    body = one[2:start] + b"B" + len(blob).to_bytes(4, "little") + blob + b"r" + memo + b"tb"
    refs = b"".join(one[2:start] + b"j" + memo + b"tb" for _ in range(49))
    data = b"\x80\x03(" + body + refs + b"l."
    assert len(load(data, max_bytes=10 * MB)) == 50
    with pytest.raises(ValueError, match="more than the size limit"):
        load(data, max_bytes=2 * MB)


@pytest.mark.parametrize("data, found", [
    (b"\x80\x02]q\x00(K\x01", "not a readable data pickle"),              # truncated
    (b"hello world", "not a readable data pickle"),
    (b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".", "nests too deeply"),
    (gzip.compress(b"x" * 100, mtime=0)[:-8] + b"\x00" * 8, "corrupt or truncated gzip"),   # bad CRC
    (gzip.compress(b"x" * 100, mtime=0)[:-12], "corrupt or truncated gzip"),
    (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
     b"(K\x01K\x01\x85cnumpy\ndtype\n\x8c\x02f8\x89\x88\x87RK\x00b\x89C\x08AAAAAAAAtb.",
     "expected NumPy's version 3/4 tuple"),                         # dtype BUILD with state 0
    (b"\x80\x02cnumpy\nndarray\n)R.", "numpy.ndarray called directly"),
    (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n}K\x00\x85C\x01b\x87R.",
     "expected (numpy.ndarray, (0,), b'b')"),
])
def test_broken_pickles_are_one_clear_line(data, found):
    with pytest.raises(ValueError) as err:
        load(data, source="x.pkl")
    assert found in str(err.value) and "\n" not in str(err.value)


def test_bad_arguments():
    with pytest.raises(TypeError, match="max_bytes must be a positive int"):
        safe_pickle.load(b"", source="x", max_bytes=True)
    with pytest.raises(TypeError, match="file must be bytes or a binary file object"):
        safe_pickle.load("not bytes", source="x", max_bytes=10)


def test_gunzip_multi_member_and_trailing_garbage():
    data = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert safe_pickle.gunzip(data, source="g", max_bytes=10) == b"abcd"
    assert safe_pickle.gunzip(data + b"\0" * 4, source="g", max_bytes=10) == b"abcd"
    with pytest.raises(ValueError, match="unexpected bytes after the stream"):
        safe_pickle.gunzip(data + b"junk", source="g", max_bytes=10)
    with pytest.raises(ValueError, match="expands to more than 3 bytes"):
        safe_pickle.gunzip(data, source="g", max_bytes=3)
    with pytest.raises(ValueError, match="corrupt or truncated"):
        safe_pickle.gunzip(b"\x1f\x8b\x08\x00" + zlib.compress(b"x"), source="g", max_bytes=9)


# ------------------------------------------------------------------------------------------
# The forged-dtype attack, in a child process


def forged_object_array():
    """``_reconstruct`` + BUILD whose dtype is ``V8`` BUILD-forged into one object field.

    The 8 data bytes 0x41... become a PyObject pointer: stock ``pickle.loads`` (and any
    unpickler that merely allows the NumPy names) crashes reading or freeing it.
    """
    P = pickle
    dtype = (b"cnumpy\ndtype\n\x8c\x02V8\x89\x88\x87R" + P.MARK + b"K\x03\x8c\x01|N\x8c\x01a\x85"
             + b"}\x8c\x01a" + _object_dtype() + b"K\x00\x86sK\x08K\x01K\x01" + P.TUPLE + P.BUILD)
    return (b"\x80\x03cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b"
            b"\x87R" + P.MARK + b"K\x01K\x01\x85" + dtype + b"\x89C\x08" + b"\x41" * 8
            + P.TUPLE + P.BUILD + P.STOP)


CHILD = textwrap.dedent("""
    import pickle, sys
    data = open(sys.argv[2], "rb").read()
    if sys.argv[1] == "stock":
        a = pickle.loads(data)
        print("loaded", a.dtype, flush=True)
        print(repr(a[0]), flush=True)
        del a
    else:
        from fastprop import safe_pickle
        try:
            safe_pickle.load(data, source=sys.argv[2], max_bytes=1 << 20)
        except ValueError as exc:
            print("refused:", exc, flush=True)
            sys.exit(3)
    print("no error", flush=True)
""")


def run_child(mode, path):
    return subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True,
                          text=True, timeout=120)


def test_forged_dtype_is_dangerous_with_stock_pickle(tmp_path):
    """The payload is real: stock pickle builds an object array from raw bytes."""
    path = tmp_path / "forged.pkl"
    path.write_bytes(forged_object_array())
    proc = run_child("stock", path)
    assert "loaded [('a', 'O')]" in proc.stdout          # a forged object dtype over raw bytes
    assert proc.returncode != 0


@pytest.mark.parametrize("variant", ["forged-V8", "object-dtype-state", "gz"])
def test_forged_dtype_refused_in_a_child(tmp_path, variant):
    data = forged_object_array()
    if variant == "object-dtype-state":          # _reconstruct whose state carries dtype('O8')
        data = pickle.dumps(np.array([None, 1], dtype=object), protocol=3)
    if variant == "gz":
        data = gzip.compress(data)
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(data)
    proc = run_child("safe", path)
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)   # < 0: crashed
    assert proc.stdout.startswith(f"refused: {path}: ") and proc.stderr == ""
    assert ("dtype 'V8'" if variant != "object-dtype-state" else "dtype 'O8'") in proc.stdout


@pytest.mark.parametrize("data, found", [
    (pickle.dumps({(1, 2): 3}, protocol=2), "got tuple"),
    (b"\x80\x02}cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\n\x8c\x02f8\x89\x88\x87R"
     b"C\x08\x00\x00\x00\x00\x00\x00\xf0?\x86RK\x01s.", "got Scalar"),      # {np.float64(1): 1}
])
def test_dict_keys_must_be_plain(data, found):
    with pytest.raises(ValueError, match="dict key: expected str/bytes/int/float/bool/None, "
                                         + found):
        load(data)
