"""What a notebook needs from fastprop: progress bars from ``tqdm.auto`` (widgets in
Jupyter, text in a terminal), and ``import fastprop`` from a checkout on ``sys.path`` that
was never installed."""
import pathlib
import subprocess
import sys
import textwrap

import tqdm.auto

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_progress_bars_come_from_tqdm_auto():
    import fastprop.datasets._sources as sources
    import fastprop.recipes._vol1 as vol1_recipe
    import fastprop.runs as runs
    import fastprop.trainer.bookkeeping as bookkeeping
    import fastprop.trainer.rnnlm as rnnlm

    assert bookkeeping.tqdm is tqdm.auto.tqdm and rnnlm.tqdm is tqdm.auto.tqdm
    for module in (runs, vol1_recipe, sources):  # these import it where they use it
        text = pathlib.Path(module.__file__).read_text()
        assert "from tqdm.auto import tqdm" in text and "from tqdm import" not in text


def _without_install(code):
    """Run ``code`` with the editable install's finder removed and the checkout first on
    sys.path: what a notebook sees next to a clone that was never pip-installed."""
    script = textwrap.dedent(f"""
        import sys
        sys.meta_path[:] = [f for f in sys.meta_path
                            if "__editable__" not in getattr(f, "__module__", "")]
        sys.path.insert(0, {str(ROOT)!r})
    """) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, cwd=str(ROOT.parent))


def test_import_from_a_checkout_that_is_not_installed():
    r = _without_install("""
        import numpy as np
        import fastprop
        from fastprop.layers import Affine
        out = Affine(np.ones((3, 2)), np.zeros(2)).forward(np.ones((1, 3)))
        print(fastprop.kernels.__file__, out.tolist())
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(ROOT / "kernels" / "__init__.py"), "[[3.0,", "3.0]]"]


def test_without_the_kernels_folder_the_error_says_pip_install(tmp_path):
    r = _without_install(f"""
        import fastprop._checkout as checkout, os
        checkout.__file__ = os.path.join({str(tmp_path)!r}, "fastprop", "_checkout.py")
        del sys.modules["fastprop.kernels"]
        checkout.ensure_kernels()
    """)
    assert r.returncode == 1
    assert "ImportError: fastprop.kernels is missing" in r.stderr and "pip install -e ." in r.stderr
