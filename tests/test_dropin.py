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
from collections import OrderedDict
from common.layers import *
from common.gradient import numerical_gradient


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {'W1': self.layers['Affine1'].dW, 'b1': self.layers['Affine1'].db,
                'W2': self.layers['Affine2'].dW, 'b2': self.layers['Affine2'].db}
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
