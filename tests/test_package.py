"""Packaging and the kernels' compile policy: ``kernels/`` is only ``fastprop.kernels``,
the package imports and builds a net from a clean process, every kernel goes through the
project decorator (error_model="numpy", no fastmath) and FASTPROP_CACHE=0 turns the
on-disk cache off."""
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys

import pytest
from numba.core.dispatcher import Dispatcher

import fastprop
import fastprop.kernels


def _run(code, tmp_path, **env):
    """Run ``code`` in a fresh interpreter from an unrelated folder (so the repository
    root, which holds ``kernels/``, is not on sys.path)."""
    full_env = dict(os.environ)
    # keep PYTHONPATH (the same fastprop as this process) minus any folder holding a bare kernels/
    paths = [p for p in full_env.get("PYTHONPATH", "").split(os.pathsep)
             if p and not os.path.isdir(os.path.join(p, "kernels"))]
    full_env["PYTHONPATH"] = os.pathsep.join(paths)
    full_env.setdefault("NUMBA_CACHE_DIR", str(tmp_path / "numba_cache"))
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=300)


def test_top_level_kernels_is_not_importable(tmp_path):
    r = _run("import kernels", tmp_path)
    assert r.returncode != 0
    assert "ModuleNotFoundError" in r.stderr and "'kernels'" in r.stderr


def test_importing_fastprop_does_not_create_a_kernels_module(tmp_path):
    r = _run("import sys, fastprop, fastprop.kernels.affine; "
             "print('kernels' in sys.modules, fastprop.kernels.__name__)", tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "fastprop.kernels"]


def test_fastprop_kernels_is_the_kernels_folder():
    path = os.path.dirname(os.path.abspath(fastprop.kernels.__file__))
    assert os.path.basename(path) == "kernels"
    assert os.path.isfile(os.path.join(path, "_jit.py"))


def test_import_and_build_a_net_in_a_fresh_process(tmp_path):
    r = _run("import fastprop; net = fastprop.TwoLayerNet(784, 50, 10); "
             "print(net.params['W1'].shape, list(net.layers))", tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(784, 50) ['Affine1', 'Relu1', 'Affine2']"


def test_public_api():
    for name in fastprop.__all__:
        assert hasattr(fastprop, name), name
    assert isinstance(fastprop.__version__, str)


@pytest.mark.parametrize("package", ["fastprop", "fastprop.layers", "fastprop.nets", "fastprop.trainer"])
def test_lazy_exports_are_the_public_names(package):
    """The names a package imports on first use are exactly its ``__all__``, each one
    resolves, and ``dir()`` lists them; an unknown name is an AttributeError."""
    mod = importlib.import_module(package)
    assert sorted(mod._names) == sorted(mod.__all__)
    assert set(mod.__all__) <= set(dir(mod))
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'NoSuchLayer'"):
        _ = mod.NoSuchLayer


def test_a_ch05_run_imports_only_what_it_uses(tmp_path):
    """``import fastprop`` and the three layers of ch. 5 leave the conv, recurrent,
    seq2seq and word2vec modules unimported (they are imported when first named)."""
    r = _run("import sys, fastprop; from fastprop.layers import Affine, Relu, SoftmaxWithLoss; "
             "print(sorted(m for m in sys.modules if m.startswith('fastprop.layers.'))); "
             "fastprop.layers.TimeLSTM; print('fastprop.layers.time_recurrent' in sys.modules)",
             tmp_path)
    assert r.returncode == 0, r.stderr
    first, last = r.stdout.strip().splitlines()
    assert "fastprop.layers.affine" in first and "fastprop.layers.softmax" in first
    for unused in ("conv", "recurrent", "time", "time_recurrent", "sampling", "embedding"):
        assert f"'fastprop.layers.{unused}'" not in first, unused
    assert last == "True"


# --------------------------------------------------------------------------- compile policy


def _dispatchers():
    """Every compiled function defined in every module of fastprop.kernels."""
    found = []
    for info in pkgutil.iter_modules(fastprop.kernels.__path__):
        if info.name == "_jit":
            continue
        mod = importlib.import_module(f"fastprop.kernels.{info.name}")
        for name, obj in vars(mod).items():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__:
                found.append((f"{info.name}.{name}", obj))
    return found


def test_found_the_kernels():
    names = {n for n, _ in _dispatchers()}
    assert {"affine.affine_forward", "activations.relu_forward", "softmax.softmax",
            "reductions.column_sum", "rows.softmax_rows"} <= names


def test_every_kernel_uses_the_project_policy():
    bad = []
    for name, d in _dispatchers():
        opts = d.targetoptions
        if opts.get("error_model") != "numpy":
            bad.append(f"{name}: error_model={opts.get('error_model')!r}")
        fm = opts.get("fastmath")
        # only the two flags that leave NaN/inf alone, asked for by name (kernels/_jit.py)
        if fm and (fm is True or not set(fm) <= {"contract", "reassoc"}):
            bad.append(f"{name}: fastmath={fm!r}")
        if opts.get("nopython") is False:
            bad.append(f"{name}: object mode")
    assert not bad, "\n".join(bad)


def test_no_kernel_module_calls_numba_jit_directly():
    # "reached only through the project's one decorator"
    for info in pkgutil.iter_modules(fastprop.kernels.__path__):
        if info.name == "_jit":
            continue
        src = inspect.getsource(importlib.import_module(f"fastprop.kernels.{info.name}"))
        for pattern in ("numba.njit", "numba.jit", "from numba import njit", "from numba import jit",
                        "fastmath=True"):
            assert pattern not in src, f"kernels/{info.name}.py uses {pattern}"


def test_cache_follows_the_environment(tmp_path):
    code = ("from fastprop.kernels import affine, softmax; "
            "print(type(affine.affine_forward._cache).__name__, "
            "type(softmax.softmax._cache).__name__)")
    on = _run(code, tmp_path, FASTPROP_CACHE="1")
    off = _run(code, tmp_path, FASTPROP_CACHE="0")
    assert on.returncode == 0, on.stderr
    assert off.returncode == 0, off.stderr
    assert on.stdout.split() == ["FunctionCache", "FunctionCache"]
    assert off.stdout.split() == ["NullCache", "NullCache"]


@pytest.mark.parametrize("value, expected", [("0", False), ("off", False), ("false", False),
                                             ("1", True), ("yes", True)])
def test_cache_flag_parsing(tmp_path, value, expected):
    r = _run("from fastprop import config; print(config.CACHE)", tmp_path, FASTPROP_CACHE=value)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(expected)


# --------------------------------------------------------------------------- the import graph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _imports(path):
    """Every module name a source file imports (absolute names; relative ones resolved
    against the file's package)."""
    import ast

    rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
    if rel.startswith("kernels/"):
        package = "fastprop.kernels"
    else:
        package = ".".join(rel.split("/")[:-1])
    tree = ast.parse(open(path).read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                names.append(mod)
                names += [f"{mod}.{a.name}" for a in node.names]
            else:
                names.append(node.module)
                names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _sources(folder):
    for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(dirpath, f)


def test_kernels_import_nothing_from_fastprop():
    bad = {}
    for path in _sources("kernels"):
        outside = [n for n in _imports(path) if n.startswith("fastprop")
                   and not n.startswith("fastprop.kernels")]
        if outside:
            bad[os.path.relpath(path, ROOT)] = outside
    assert not bad, f"kernels/ must stand alone: {bad}"


def test_no_runtime_module_imports_the_twins():
    """The NumPy twins are the oracle only: tests and benchmarks import them, fastprop's
    own modules never do (``fastprop.bench`` times them beside the kernels)."""
    bad = {}
    for path in _sources("fastprop"):
        rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
        if rel.startswith(("fastprop/twins/", "fastprop/bench/")):
            continue
        hits = [n for n in _imports(path) if n.startswith("fastprop.twins")]
        if hits:
            bad[rel] = hits
    assert not bad, f"runtime modules importing fastprop.twins: {bad}"


def test_every_package_folder_is_installed():
    """pyproject's package list names every folder with an __init__.py (a wheel built for
    asv would silently lack a forgotten one)."""
    import tomllib

    conf = tomllib.loads(open(os.path.join(ROOT, "pyproject.toml")).read())
    listed = set(conf["tool"]["setuptools"]["packages"])
    found = {"fastprop.kernels"}
    for dirpath, _, files in os.walk(os.path.join(ROOT, "fastprop")):
        if "__init__.py" in files and "__pycache__" not in dirpath:
            found.add(os.path.relpath(dirpath, ROOT).replace(os.sep, "."))
    assert found == listed, f"missing from pyproject: {found - listed}; listed but absent: {listed - found}"


#: the distribution's name: the package index's "fastprop" is an unrelated project
#: (molecular property prediction); the import package and the command stay fastprop
DISTRIBUTION = "fastprop-dlfs"


def test_distribution_name_is_ours_and_the_command_is_fastprop():
    import tomllib

    conf = tomllib.loads(open(os.path.join(ROOT, "pyproject.toml")).read())
    assert conf["project"]["name"] == DISTRIBUTION
    assert conf["project"]["scripts"] == {"fastprop": "fastprop.cli:main"}


def _install_hints():
    """(file, line) of every ``pip install`` in the code, the README and the docs."""
    import pathlib

    root = pathlib.Path(ROOT)
    files = [*root.glob("fastprop/**/*.py"), *root.glob("kernels/*.py"), *root.glob("benchmarks/*.py"),
             *root.glob("docs/**/*.md"), *root.glob("docs/**/*.rst"), root / "README.md", root / "CHANGELOG.md"]
    for path in files:
        if "_build" in path.parts or not path.is_file():
            continue
        for line in path.read_text().splitlines():
            if "pip install" in line:
                yield path.relative_to(root), line


def test_no_install_hint_installs_the_other_fastprop():
    """``pip install fastprop`` or ``'fastprop[plot]'`` would install the index's unrelated
    fastprop; hints install this project (``-e '.[plot]'`` from a checkout, until it is
    published as fastprop-dlfs). A line that warns about the other project says "unrelated"."""
    import re

    hints = list(_install_hints())
    assert hints, "no pip install line found: the walk is broken"
    wrong = re.compile(r"pip install\s+(-U\s+|--upgrade\s+)?['\"]?fastprop(?![-\w])")
    bad = [(str(p), line.strip()) for p, line in hints if wrong.search(line) and "unrelated" not in line]
    assert not bad, bad


def test_one_version_string():
    import tomllib

    conf = tomllib.loads(open(os.path.join(ROOT, "pyproject.toml")).read())
    assert "version" not in conf["project"] and "version" in conf["project"]["dynamic"]
    assert conf["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fastprop.__version__"}
    from importlib.metadata import version

    assert version(DISTRIBUTION) == fastprop.__version__


def test_licence_file_matches_pyproject():
    import tomllib

    conf = tomllib.loads(open(os.path.join(ROOT, "pyproject.toml")).read())
    text = open(os.path.join(ROOT, "LICENSE")).read()
    assert conf["project"]["license"] == "MIT" and text.startswith("MIT License")
