"""The cache folder's housekeeping and the data API's argument checks.

Partial files: ``atomic_write`` leaves ``.<name>.XXXXXXXX.part`` behind only when its process is
killed; ``status()`` / ``fastprop data where`` list them and the next fetch, import or load
removes them (unless a running write still holds its lock).  The killed import really is killed
(SIGKILL, in a child process).
"""
import os
import subprocess
import sys

import pytest
from fake_idx import TI, TL, VL, offline_sandbox, run_cli, write_folder

from fastprop import datasets
from fastprop.datasets import _cache, _idx


@pytest.fixture(autouse=True)
def sandbox(tmp_path, monkeypatch):
    """Private cache, no network, and a checksum table describing four tiny IDX files."""
    return offline_sandbox(tmp_path, monkeypatch)


# ------------------------------------------------------------------------------------------
# Partial files of a killed import


def leave_partial(name=TI):
    folder = datasets.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.k1ll3d_x.part"
    path.write_bytes(b"half an IDX file")
    return path


def test_partial_file_is_listed_then_removed_by_import(tmp_path, sandbox, capsys):
    part = leave_partial()
    other = datasets.data_dir() / "notes.part"          # not atomic_write's name pattern
    other.write_bytes(b"keep")
    st = datasets.status()
    assert st["partial"] == [str(part)] and not st["complete"]
    datasets.import_local(write_folder(tmp_path / "src", sandbox))
    assert "removed 1 partial file(s) left by an interrupted write: " \
           f"{part.name}" in capsys.readouterr().err
    assert not part.exists() and other.exists()
    assert datasets.status()["partial"] == []


def test_partial_file_removed_by_load_and_fetch(tmp_path, sandbox, capsys):
    datasets.import_local(write_folder(tmp_path / "src", sandbox))
    part = leave_partial(VL)
    datasets.load_mnist(download=False)
    assert not part.exists() and part.name in capsys.readouterr().err
    part = leave_partial(TL)
    datasets.fetch(quiet=True)
    assert not part.exists()


@pytest.mark.skipif(_idx.fcntl is None, reason="needs flock")
def test_partial_file_of_a_running_write_is_kept():
    part = leave_partial()
    fd = os.open(part, os.O_RDONLY)
    try:
        _idx.fcntl.flock(fd, _idx.fcntl.LOCK_EX)       # as atomic_write holds it while writing
        assert _idx.remove_partial(datasets.data_dir()) == []
        assert part.exists()
    finally:
        os.close(fd)
    assert _idx.remove_partial(datasets.data_dir()) == [str(part)]


def test_killed_import_leaves_a_partial_that_where_shows(tmp_path, sandbox):
    """A child killed inside atomic_write (SIGKILL: no cleanup runs) leaves a .part file."""
    src = write_folder(tmp_path / "src", sandbox)
    env = dict(os.environ, FASTPROP_DATA=str(tmp_path / "child-cache"))
    code = ("import os, signal\n"
            "from fastprop import files\n"
            "from fastprop.datasets import _cache\n"
            "def die(path, expected):\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "files.check_file = die\n"
            f"_cache.CHECKSUMS['mnist'] = {dict(_cache.CHECKSUMS['mnist'])!r}\n"
            f"_cache.import_local({str(src)!r})\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert proc.returncode < 0                            # killed, as intended
    rc, out, _ = run_cli(tmp_path, "data", "where")
    assert rc == 1 and "partial file left by an interrupted write" in out
    assert f".{TI}." in out and ".part" in out


# ------------------------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize("kwargs, exc, found", [
    ({"timeout": True}, TypeError, "timeout must be a finite number of seconds > 0, got bool"),
    ({"timeout": "10"}, TypeError, "timeout must be a finite number of seconds > 0, got str"),
    ({"timeout": float("nan")}, ValueError, "finite number of seconds > 0, got nan"),
    ({"timeout": float("inf")}, ValueError, "got inf"),
    ({"timeout": -1}, ValueError, "got -1"),  # what arrived, not its float
    ({"timeout": 0}, ValueError, "got 0"),
    ({"force": 1}, TypeError, "force must be True or False, got int 1"),
    ({"use_pip": "no"}, TypeError, "use_pip must be True or False"),
    ({"quiet": None}, TypeError, "quiet must be True or False"),
    ({"name": 3}, TypeError, "name must be a str"),
    ({"name": "cifar"}, ValueError, "unknown data set 'cifar'"),
])
def test_fetch_arguments(kwargs, exc, found):
    with pytest.raises(exc, match=found.replace("(", r"\(").replace(")", r"\)")):
        datasets.fetch(**kwargs)


@pytest.mark.parametrize("path, exc, found", [
    (None, TypeError, "path must be a str or os.PathLike, got NoneType"),
    (3, TypeError, "path must be a str or os.PathLike, got int"),
    ("", ValueError, "path must be a non-empty file or folder name"),
])
def test_import_arguments(path, exc, found):
    with pytest.raises(exc, match=found):
        datasets.import_local(path)


def test_status_arguments():
    with pytest.raises(TypeError, match="verify must be True or False"):
        datasets.status(verify="yes")
    with pytest.raises(TypeError, match="name must be a str"):
        datasets.status(None)
