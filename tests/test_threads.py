"""fastprop.threads: one limit reaches every BLAS, including SciPy's that the kernels load late."""
import os
import subprocess
import sys

SCRIPT = """
from fastprop import threads
threads.set_threads(1)
import numpy as np
from fastprop.kernels import affine
a = np.ones((4, 3)); w = np.ones((3, 2)); out = np.empty((4, 2))
affine.affine_forward(a, w, None, out)  # the first compiled GEMM loads SciPy's BLAS if not yet
info = threads.blas_info()
assert info and all(n == 1 for _, n, _, _ in info), info
print("ok", len(info))
"""


def test_set_threads_limits_the_kernels_blas_too(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    env.pop("FASTPROP_THREADS", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")
