"""fastprop.memory: glibc's thresholds fixed, so a training step's large arrays come from
(and go back to) the heap instead of fresh pages; checked with glibc's own accounting in a
fresh process (mallinfo2: ``hblkhd`` = bytes in mmapped blocks, ``arena`` = the heap)."""
import ctypes
import subprocess
import sys

import pytest

from fastprop import memory

PROBE = """
import ctypes, sys
import numpy as np
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
if sys.argv[1] == "keep":
    from fastprop import memory
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory() is True  # again: nothing changes
a = np.ones(20 << 17)  # 20 MB, above glibc's starting mmap threshold (128 KB)
held = libc.mallinfo2()
del a
freed = libc.mallinfo2()
print(held.hblkhd >> 20, held.arena >> 20, freed.arena >> 20)
"""


def _glibc_with_mallinfo2():
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version, libc.mallinfo2  # noqa: B018  (present or AttributeError)
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _glibc_with_mallinfo2(), reason="needs glibc >= 2.33 (mallopt, mallinfo2)")
def test_large_arrays_come_from_the_heap_and_stay_there():
    def probe(mode):
        r = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return [int(v) for v in r.stdout.split()]

    mmapped, _, _ = probe("default")
    assert mmapped >= 20  # glibc's default: a fresh mapping, unmapped again on free
    mmapped, heap, heap_after_free = probe("keep")
    assert mmapped < 20 and heap >= 20
    assert heap_after_free >= 20  # not given back: the next step's array reuses it


def test_the_command_sets_it_before_any_work(monkeypatch, tmp_path):
    from fastprop import cli

    calls = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: calls.append(1) or True)
    with pytest.raises(SystemExit):  # refused (no such script) after the allocator was set
        cli.main(["run", str(tmp_path / "missing.py")])
    assert calls == [1]
