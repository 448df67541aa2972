"""The book's ch05 run on real MNIST reaches the book's accuracy. Needs the real data set in
the cache (``fastprop data fetch``); skipped where it is absent (CI points FASTPROP_DATA at an
empty folder and never downloads)."""
import pytest

from fastprop import cli
from fastprop.datasets import status


def _have_mnist():
    try:
        return status("mnist")["complete"]
    except Exception:  # noqa: BLE001 - no cache folder at all
        return False


@pytest.mark.skipif(not _have_mnist(), reason="real MNIST not in the cache (fastprop data fetch)")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_book_run_reaches_the_books_accuracy(dtype, capsys):
    assert cli.main(["train", "--no-progress", "--dtype", dtype]) == 0
    out = capsys.readouterr().out
    test_acc = float(out.split("final:")[1].split("test acc")[1].split()[0])
    assert test_acc >= 0.966, out[-400:]
