"""The books' transcription (fastprop.bench.book) imports nothing from fastprop: it is the
baseline and the oracle, so it must not run on what it measures. Its imports are walked in
the source, and the package, loaded from its folder under another name in a fresh process,
runs with no fastprop module imported."""
import ast
import os
import subprocess
import sys

import fastprop.bench.book as book

FOLDER = os.path.dirname(book.__file__)
MODULES = sorted(f[:-3] for f in os.listdir(FOLDER) if f.endswith(".py"))
ALLOWED = {"numpy", "collections", "time", "types"}  # NumPy and the standard library modules it uses


def _imports(path):
    """(level, module name) of every import statement in the file."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((0, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.level, node.module or ""


def test_the_package_holds_both_books():
    assert {"vol1", "vol1_nets", "vol2", "vol2_time", "vol2_nets"} <= set(MODULES)


def test_every_import_is_numpy_the_standard_library_or_the_package_itself():
    for name in MODULES:
        for level, module in _imports(os.path.join(FOLDER, name + ".py")):
            if level:
                # relative: only one level (this package), never fastprop.bench above it
                assert level == 1, f"{name}.py imports from {'.' * level}{module}"
                assert module == "" or module.split(".")[0] in MODULES, (name, module)
            else:
                assert module.split(".")[0] in ALLOWED, f"{name}.py imports {module}"


LOAD_ALONE = """
import importlib, importlib.util, sys
folder, names = sys.argv[1], sys.argv[2].split(",")
spec = importlib.util.spec_from_file_location("transcript", folder + "/__init__.py",
                                              submodule_search_locations=[folder])
pkg = importlib.util.module_from_spec(spec)
sys.modules["transcript"] = pkg
spec.loader.exec_module(pkg)
for n in names:
    importlib.import_module("transcript." + n)
import numpy as np
np.random.seed(0)
net = sys.modules["transcript.vol1_nets"].TwoLayerNet(4, 3, 2)
x, t = np.random.rand(5, 4), np.array([0, 1, 1, 0, 1])
loss = sys.modules["transcript.vol1_nets"].book_step(net, x, t)
print(sorted(m for m in sys.modules if m.split(".")[0] == "fastprop"), float(loss) > 0)
"""


def test_the_package_runs_in_a_process_without_fastprop():
    names = [m for m in MODULES if m != "__init__"]
    env = dict(os.environ, PYTHONPATH="")
    r = subprocess.run([sys.executable, "-I", "-c", LOAD_ALONE, FOLDER, ",".join(names)],
                       capture_output=True, text=True, env=env, cwd=FOLDER, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[]", "True"]
