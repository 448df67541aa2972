"""``import fastprop`` from a checkout that is only on ``sys.path`` (a notebook next to the
repository, ``PYTHONPATH=.``), not installed.

The compiled kernels live in the repository's top-level ``kernels/`` folder, which the
install maps to ``fastprop.kernels`` (``pyproject.toml``: a top-level package called
``kernels`` must not be installed). Without the install nothing makes that mapping, and
the first import of a layer failed with ``No module named 'fastprop.kernels'``. Here the
folder next to the package is loaded as ``fastprop.kernels`` itself (``import kernels``
still fails); when it is not there either, the ImportError says how to install.
"""
import importlib.util
import os
import sys

NAME = "fastprop.kernels"


def ensure_kernels() -> None:
    """Make ``fastprop.kernels`` importable; ImportError with the fix when it cannot be."""
    if NAME in sys.modules or importlib.util.find_spec(NAME) is not None:
        return  # installed (or editable-installed): the normal mapping works
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kernels")
    init = os.path.join(folder, "__init__.py")
    if not os.path.isfile(init):
        raise ImportError(f"{NAME} is missing: fastprop's compiled kernels are installed "
                          "with the package; from a checkout run `pip install -e .` in it "
                          "(or pip install the released package)", name=NAME)
    spec = importlib.util.spec_from_file_location(NAME, init, submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[NAME]
        raise
    sys.modules["fastprop"].kernels = module  # what the import system does for a submodule


ensure_kernels()
