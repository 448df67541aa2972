"""``fastprop run`` and its import hook, on small fake checkouts of the books (CI has no copy
of the real ones): the book's ``common``/``dataset`` packages are replaced by fastprop's,
chapter-local modules stay the book's own, a missing name is an ImportError naming it."""
import os
import subprocess
import sys
import textwrap

import pytest

from fastprop import dropin

BOOK_OWN = "raise RuntimeError('the book\\'s own {} was imported instead of fastprop\\'s')\n"


def _checkout(root, volume):
    """A fake checkout: the book's package folders (which must never be imported) and a
    chapter folder."""
    marker = "multi_layer_net.py" if volume == 1 else "time_layers.py"
    for pkg, files in (("common", ["__init__.py", "layers.py", "optimizer.py", "gradient.py", marker]),
                       ("dataset", ["__init__.py", "mnist.py", "spiral.py"])):
        os.makedirs(root / pkg, exist_ok=True)
        for f in files:
            (root / pkg / f).write_text(BOOK_OWN.format(f"{pkg}/{f}") if f != "__init__.py" else "")
    os.makedirs(root / "ch", exist_ok=True)
    return root / "ch"


LOCAL_NET = '''
import sys, os
sys.path.append(os.pardir)
import numpy as np
import common.layers
from common.layers import *
from common.gradient import numerical_gradient
from fastprop.bench.book import vol1_nets


class TwoLayerNet(vol1_nets.TwoLayerNet):
    """ch05's class as fastprop transcribes it once, on the layers the book's
    ``from common.layers import *`` finds."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, hidden_size, output_size, weight_init_std, layers=common.layers)
'''

TRAIN = '''
import sys, os
sys.path.append(os.pardir)
import numpy as np
import common.layers
from common.optimizer import SGD
from two_layer_net import TwoLayerNet

assert common.layers.Affine.__module__.startswith('fastprop'), common.layers.Affine
np.random.seed(0)
x = np.random.rand(64, 10)
t = np.random.randint(0, 3, 64)
net = TwoLayerNet(10, 8, 3, weight_init_std=0.5)
opt = SGD(lr=0.5)
first = net.loss(x, t)
for i in range(50):
    opt.update(net.params, net.gradient(x, t))
print(sys.argv[1:], first, net.loss(x, t), type(net.layers['Affine1']).__module__)
'''


def _run(args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-c", "import sys; from fastprop import dropin; "
                           "dropin.run_script(sys.argv[1], sys.argv[2:])", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_book_script_runs_unchanged_on_fastprop(tmp_path):
    ch = _checkout(tmp_path, 1)
    (ch / "two_layer_net.py").write_text(LOCAL_NET)
    (ch / "train.py").write_text(TRAIN)
    r = _run(["train.py", "--flag", "7"], cwd=ch)
    assert r.returncode == 0, r.stderr
    first, last, module = r.stdout.split()[-3:]
    assert "['--flag', '7']" in r.stdout
    assert float(last) < float(first) and module == "fastprop.layers.affine"


def test_missing_name_is_an_import_error_that_names_it(tmp_path):
    ch = _checkout(tmp_path, 1)
    (ch / "script.py").write_text("import sys, os\nsys.path.append(os.pardir)\n"
                                  "from common.layers import NoSuchLayer\n")
    r = _run(["script.py"], cwd=ch)
    assert r.returncode != 0 and "ImportError" in r.stderr and "NoSuchLayer" in r.stderr


def test_unmapped_module_is_an_import_error_that_names_it(tmp_path):
    ch = _checkout(tmp_path, 1)
    (ch / "script.py").write_text("import sys, os\nsys.path.append(os.pardir)\nimport common.nothing_here\n")
    r = _run(["script.py"], cwd=ch)
    assert r.returncode != 0 and "common.nothing_here" in r.stderr


def test_volume_two_names_and_the_cpu_only_config(tmp_path):
    ch = _checkout(tmp_path, 2)
    (ch / "script.py").write_text(textwrap.dedent('''
        import sys, os
        sys.path.append(os.pardir)
        from common.np import *
        from common import config
        from dataset import spiral
        from common.optimizer import SGD
        from common.trainer import Trainer
        x, t = spiral.load_data()
        print(np.__name__, x.shape, t.shape, config.GPU, Trainer.__module__)
        try:
            config.GPU = True
        except RuntimeError as e:
            print("refused:", "CPU" in str(e))
    '''))
    r = _run(["script.py"], cwd=ch)
    assert r.returncode == 0, r.stderr
    assert "numpy (300, 2) (300, 3) False fastprop.trainer" in r.stdout
    assert "refused: True" in r.stdout


def test_volume_is_detected_from_the_checkout(tmp_path):
    assert dropin.detect_volume(str(_checkout(tmp_path / "a", 1) / "x.py")) == 1
    assert dropin.detect_volume(str(_checkout(tmp_path / "b", 2) / "x.py")) == 2
    os.makedirs(tmp_path / "c")
    with pytest.raises(ValueError, match="--volume"):
        dropin.detect_volume(str(tmp_path / "c" / "x.py"))


def test_notebook_api_installs_and_uninstalls():
    with dropin.book_imports(1):
        import common.functions as F
        from common.layers import Affine  # noqa: F401  (resolved by the hook)
        assert F.softmax.__module__ == "fastprop.functions"
    assert "common" not in sys.modules
    with pytest.raises(ValueError, match="1 or 2"):
        dropin.install(3)


def test_fastprop_run_command(tmp_path):
    """The command line: arguments after SCRIPT are the script's; a missing script or a
    folder outside any checkout is one error line."""
    ch = _checkout(tmp_path, 1)
    (ch / "two_layer_net.py").write_text(LOCAL_NET)
    (ch / "train.py").write_text(TRAIN)
    r = subprocess.run([sys.executable, "-m", "fastprop", "run", "train.py", "--lr", "x"], cwd=ch,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "['--lr', 'x']" in r.stdout
    outside = tmp_path.parent / (tmp_path.name + "-outside")  # no checkout above it
    os.makedirs(outside)
    (outside / "x.py").write_text("print('ran')\n")
    for args, words in ((["run", "nope.py"], "no such script"), (["run", str(outside / "x.py")], "--volume")):
        r = subprocess.run([sys.executable, "-m", "fastprop", *args], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "ran" not in r.stdout


def test_vol1_star_imports_hand_on_what_the_books_modules_import():
    """The book's ch06/optimizer_compare_mnist.py uses ``np`` after ``from common.optimizer import
    *`` alone; each vol. 1 module's star import gives the names the book's module imports."""
    import collections

    import numpy

    import fastprop.functions
    import fastprop.layers
    import fastprop.util
    expect = {
        "common.functions": {"np", "softmax", "cross_entropy_error"},
        "common.gradient": {"np", "numerical_gradient"},
        "common.layers": {"np", "Affine", "Convolution", "softmax", "sigmoid_grad", "im2col", "col2im"},
        "common.multi_layer_net": {"np", "sys", "os", "OrderedDict", "numerical_gradient", "Affine", "Relu",
                                   "softmax", "im2col", "MultiLayerNet"},
        "common.multi_layer_net_extend": {"np", "OrderedDict", "BatchNormalization", "MultiLayerNetExtend"},
        "common.optimizer": {"np", "SGD", "Adam"},
        "common.trainer": {"np", "sys", "os", "Trainer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop",
                           "Adam"},
        "common.util": {"np", "im2col", "smooth_curve"},
        "dataset.mnist": {"np", "os", "pickle", "gzip", "load_mnist"},
    }
    with dropin.book_imports(1):
        for module, names in expect.items():
            ns = {}
            exec(f"from {module} import *", ns)
            assert names <= set(ns), (module, names - set(ns))
            assert ns["np"] is numpy, module
        ns = {}
        exec("from common.multi_layer_net import *", ns)
        assert ns["OrderedDict"] is collections.OrderedDict and ns["Affine"] is fastprop.layers.Affine
        assert ns["softmax"] is fastprop.functions.softmax and ns["im2col"] is fastprop.util.im2col
        ns = {}
        exec("from common.trainer import *", ns)
        assert ns["Trainer"].__module__ == "fastprop.trainer.vol1"


def test_optimizer_star_import_gives_np_to_a_script(tmp_path):
    ch = _checkout(tmp_path, 1)
    (ch / "script.py").write_text("import sys, os\nsys.path.append(os.pardir)\n"
                                  "from common.optimizer import *\n"
                                  "print(np.arange(3).sum(), SGD.__module__)\n")
    r = _run(["script.py"], cwd=ch)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3", "fastprop.optimizers"]


NESTED = """
import sys, os
sys.path.append(os.pardir)
import common.layers
from fastprop import dropin
print('outer before', common.layers.Affine.__module__)
dropin.run_script('inner.py', volume={inner})
for name in [k for k in sys.modules if k.split('.')[0] == 'common']:
    del sys.modules[name]  # the outer script's next import comes from the mapping, not a cache
import common.optimizer
from common.layers import Affine
print('outer after', Affine.__module__, common.optimizer.SGD.__module__)
"""


@pytest.mark.parametrize("inner", [1, 2])
def test_a_nested_run_script_leaves_the_outer_mapping_in_place(tmp_path, inner):
    ch = _checkout(tmp_path, 1)
    (ch / "outer.py").write_text(NESTED.format(inner=inner))
    (ch / "inner.py").write_text("import sys, os\nsys.path.append(os.pardir)\nfrom common.layers import Affine\n"
                                 "print('inner', Affine.__module__)\n")
    r = _run(["outer.py"], cwd=ch)
    assert r.returncode == 0, r.stderr
    assert "the book's own" not in r.stderr
    assert r.stdout.splitlines() == ["outer before fastprop.layers.affine", "inner fastprop.layers.affine",
                                     "outer after fastprop.layers.affine fastprop.optimizers"]


def test_book_imports_nest_and_restore_the_outer_modules():
    import fastprop.layers
    with dropin.book_imports(1):
        import common.layers as outer_layers
        with dropin.book_imports(2):
            import common.layers as inner_layers
            assert inner_layers is not outer_layers and inner_layers.__fastprop_volume__ == 2
            import common.time_layers  # noqa: F401  (vol. 2 only)
        assert sys.modules["common.layers"] is outer_layers and "common.time_layers" not in sys.modules
        from common.layers import Convolution  # vol. 1's mapping answers again
        assert Convolution is fastprop.layers.Convolution
        with pytest.raises(ImportError, match="common.time_layers"):
            import common.time_layers  # noqa: F401,F811
    assert "common" not in sys.modules and not any(isinstance(f, dropin.BookFinder) for f in sys.meta_path)


def test_mappings_undone_out_of_order_keep_the_inner_one():
    outer = dropin.install(1)
    try:
        import common.layers as outer_layers  # noqa: F401
        inner = dropin.install(2)
        import common.time_layers  # noqa: F401
        dropin.uninstall(outer)  # the outer one first
        assert inner in sys.meta_path and outer not in sys.meta_path
        import common.time_layers as again
        assert again.__fastprop_volume__ == 2
        dropin.uninstall(inner)
        assert "common" not in sys.modules
        dropin.uninstall(inner)  # twice: no-op
    finally:
        while dropin._installed:
            dropin.uninstall()
    assert not any(isinstance(f, dropin.BookFinder) for f in sys.meta_path)


def test_a_checkout_that_looks_like_both_volumes_says_so(tmp_path):
    ch = _checkout(tmp_path, 1)
    (tmp_path / "common" / "time_layers.py").write_text("")
    with pytest.raises(ValueError, match="both.*--volume"):
        dropin.detect_volume(str(ch / "x.py"))
    (ch / "x.py").write_text("print('ran')\n")
    r = subprocess.run([sys.executable, "-m", "fastprop", "run", "x.py"], cwd=ch, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "both" in r.stderr and "--volume" in r.stderr and "ran" not in r.stdout
    r = subprocess.run([sys.executable, "-m", "fastprop", "run", "--volume", "1", "x.py"], cwd=ch,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "ran\n", r.stderr


def test_a_block_never_left_ends_quietly_at_exit():
    """``book_imports`` entered by hand (a notebook cell, a script's top) and never left: the
    interpreter finalises the generator at shutdown, when sys.meta_path is gone already."""
    code = "from fastprop import dropin\nctx = dropin.book_imports(1)\nctx.__enter__()\nimport common.layers\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Exception ignored" not in r.stderr, r.stderr
