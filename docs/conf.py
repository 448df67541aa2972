"""Sphinx configuration of fastprop's documentation site (``.ci/docs`` builds it).

The pages are MyST Markdown (the README's sections moved here as they were); the API
reference is autodoc + numpydoc over the package's own docstrings. Importing fastprop
compiles nothing (Numba compiles a kernel at its first call), so the build stays quick.
"""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FASTPROP_CACHE", "0")  # nothing is called, but never write a cache from a docs build

import fastprop  # noqa: E402

project = "fastprop"
author = "the fastprop developers"
copyright = "2026, the fastprop developers"
release = fastprop.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
root_doc = "index"

# every link and cross-reference must resolve (sphinx-build -n -W makes a miss an error)
nitpicky = True
# Sphinx reads the tail of the conv nets' dict defaults ({"...", "stride": 1}) in a signature
# as a type; nothing else is ignored
nitpick_ignore = [("py:class", "1}")]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
# "more than one target" (an attribute name two classes document): Sphinx links one of them
suppress_warnings = ["myst.header", "ref.python"]

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

intersphinx_mapping = {}

html_theme = "pydata_sphinx_theme"
html_title = f"fastprop {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False


def _docstring_internal_reference(app, env, node, contnode):
    """A docstring's reference to a name the API reference does not document (a kernel, a
    private helper, a module constant) renders as code instead of failing the build: the
    docstrings are written for readers of the source too. A reference written in a page of
    docs/ gets no such pass: it resolves or ``-n -W`` fails the build."""
    if "docstring of " in (node.source or ""):
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", _docstring_internal_reference)
