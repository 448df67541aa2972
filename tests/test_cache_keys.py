"""The on-disk kernel cache is keyed so a changed machine or Numba never loads stale code:
a kernel cached by one process is loaded by the next, and compiled afresh when the CPU the
code was generated for, or the Numba version, differs (each case a fresh process)."""
import json
import os
import subprocess
import sys

PROBE = """
import json, sys
{patch}
import numpy as np
from fastprop.kernels import affine
x = np.ones((3, 4)); W = np.ones((4, 2)); out = np.empty((3, 2))
affine.affine_forward(x, W, None, out, 0)
assert (out == 4).all()
stats = affine.affine_forward.stats
print(json.dumps({{"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}}))
"""

OTHER_CPU = """
from numba.core import codegen
_orig = codegen.JITCPUCodegen.magic_tuple
codegen.JITCPUCodegen.magic_tuple = lambda self: (_orig(self)[0], "some-other-cpu", _orig(self)[2])
"""

OTHER_NUMBA = """
import numba
numba.__version__ = "0.0.0-other"
"""


def run(tmp_path, patch=""):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), FASTPROP_CACHE="1")
    r = subprocess.run([sys.executable, "-c", PROBE.format(patch=patch)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_a_cached_kernel_loads_in_the_next_process(tmp_path):
    assert run(tmp_path) == {"hits": 0, "misses": 1}
    assert run(tmp_path) == {"hits": 1, "misses": 0}


def test_code_cached_for_another_cpu_is_not_loaded(tmp_path):
    run(tmp_path)
    assert run(tmp_path, OTHER_CPU) == {"hits": 0, "misses": 1}
    assert run(tmp_path) == {"hits": 1, "misses": 0}   # the original entry is still there


def test_code_cached_by_another_numba_is_not_loaded(tmp_path):
    run(tmp_path)
    assert run(tmp_path, OTHER_NUMBA) == {"hits": 0, "misses": 1}
