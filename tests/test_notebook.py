"""A notebook of ours that does what the book's vol. 1 ch05 notebook does (tiny size, with
``fastprop.dropin.install(1)``), executed cell by cell in a real Jupyter kernel
(nbclient + ipykernel, the dev extra); the client starts the kernel and shuts it down."""
import os
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = pathlib.Path(__file__).parent / "notebooks" / "ch05_on_fastprop.ipynb"


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"
                   and o.get("name") == "stdout")


def test_ch05_notebook_runs_in_a_jupyter_kernel(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ))  # starts the kernel, runs every cell, shuts it down
    assert client.kc is None  # the kernel client is gone: the kernel was stopped
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert not errors, errors
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the book's apple/orange example: price 715, gradients 110 2.2 3.3000000000000003 165 650
    assert _text(code[1]).split() == ["715", "110.00000000000001", "2.2", "3.3000000000000003",
                                      "165.0", "650"]
    assert "W1:" in _text(code[4]) and "b2:" in _text(code[4])
    assert float(_text(code[5]).split("final test acc")[1]) > 0.5
