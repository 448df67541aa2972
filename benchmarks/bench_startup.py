"""``import fastprop`` plus the first training step, in a fresh interpreter.

``cache``: ``warm`` points ``NUMBA_CACHE_DIR`` at a folder that ``setup`` filled by running
the same code once (kernels load from disk); ``cold`` points it at a new empty folder for
every sample (kernels compile). The folder is chosen in the child's untimed setup, before
Numba is imported; only the import and the first step are timed.
"""
import os
import shutil
import subprocess
import sys
import tempfile

FIRST_STEP = {
    "fused": """
import numpy as np
from fastprop import TwoLayerNet
from fastprop.optimizers import SGD
net = TwoLayerNet(784, 50, 10)
x, t = np.random.rand(100, 784), np.random.randint(0, 10, 100)
net.fused_step(x, t, SGD(lr=0.1))
""",
    # what the README's main job (fastprop train) compiles first: float32 MNIST rows
    # gathered through an index, uint8 labels, SGD
    "train_steps": """
import numpy as np
from fastprop import TwoLayerNet
from fastprop.optimizers import SGD
net = TwoLayerNet(784, 50, 10)
x, t = np.random.rand(1000, 784).astype(np.float32), np.random.randint(0, 10, 1000).astype(np.uint8)
net.train_steps(x, t, np.random.choice(1000, 200), 100, SGD(lr=0.1))
""",
    "dropin": """
import numpy as np
from fastprop import TwoLayerNet
net = TwoLayerNet(784, 50, 10)
x, t = np.random.rand(100, 784), np.random.randint(0, 10, 100)
grad = net.gradient(x, t)
for key in ('W1', 'b1', 'W2', 'b2'):
    net.params[key] -= 0.1 * grad[key]
net.loss(x, t)
""",
}

_COLD = """
import atexit, os, shutil, tempfile
_d = tempfile.mkdtemp(prefix='fastprop-asv-cold-')
atexit.register(shutil.rmtree, _d, True)
os.environ['NUMBA_CACHE_DIR'] = _d
os.environ['FASTPROP_CACHE'] = '1'
"""

_WARM = """
import os
os.environ['NUMBA_CACHE_DIR'] = {folder!r}
os.environ['FASTPROP_CACHE'] = '1'
"""


_warm = {}


def _warm_folder(path):
    """A Numba cache folder holding the kernels of ``path``'s first step (made once per
    process; :meth:`FirstStep.teardown` removes it)."""
    folder = _warm.get(path)
    if folder is None or not os.path.isdir(folder):
        folder = _warm[path] = tempfile.mkdtemp(prefix="fastprop-asv-warm-")
        code = _WARM.format(folder=folder) + FIRST_STEP[path]
        subprocess.run([sys.executable, "-c", code], check=True, timeout=600)
    return folder


class FirstStep:
    params = (["fused", "train_steps", "dropin"], ["warm", "cold"])
    param_names = ["path", "cache"]
    number = 1
    repeat = (1, 5, 60.0)
    warmup_time = 0
    timeout = 600

    def setup(self, path, cache):
        self.folder = _warm_folder(path) if cache == "warm" else None

    def teardown(self, path, cache):
        if cache == "warm":
            shutil.rmtree(_warm.pop(path, ""), ignore_errors=True)

    def timeraw_import_and_first_step(self, path, cache):
        setup = _COLD if cache == "cold" else _WARM.format(folder=self.folder)
        return FIRST_STEP[path], setup
