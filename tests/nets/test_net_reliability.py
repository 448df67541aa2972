"""The fused paths and the net's parameters under state changes (issue: reliability), each
dangerous case in its own subprocess (a crash fails the test, not the run)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "layers"))
import isolated  # noqa: E402

PRELUDE = """
import json, numpy as np
from fastprop import TwoLayerNet
from fastprop.optimizers import SGD, Adam, Momentum
def outcome(fn):
    try:
        r = fn()
        return "ok" if r is not None else "None"
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc)[:200]
"""

CASES = {
    # the example: a W2 of the wrong shape, then the lanes kernel
    "W2 replaced by a wrong shape (lanes kernel)": """
net = TwoLayerNet(2, 10, 3); net.params['W2'] = np.zeros((2, 3))
r = outcome(lambda: net.fused_step(np.random.rand(30, 2), np.random.randint(0, 3, 30), SGD(0.1)))
""",
    "W2 replaced by a wrong shape (BLAS kernel)": """
net = TwoLayerNet(784, 50, 10); net.params['W2'] = np.zeros((2, 10))
r = outcome(lambda: net.train_steps(np.random.rand(100, 784), np.random.randint(0, 10, 100),
                                    np.arange(100), 50, SGD(0.1)))
""",
    "layer.W rebound to a bigger array": """
net = TwoLayerNet(20, 8, 4); net.layers['Affine1'].W = np.zeros((20, 5000))
r = outcome(lambda: net.fused_step(np.random.rand(10, 20), np.random.randint(0, 4, 10), SGD(0.1)))
""",
    "b1 rebound to 2-D": """
net = TwoLayerNet(20, 8, 4); net.params['b1'] = np.zeros((1, 8))
r = outcome(lambda: net.fused_step(np.random.rand(10, 20), np.random.randint(0, 4, 10), SGD(0.1)))
""",
    "W1 read-only": """
net = TwoLayerNet(20, 8, 4); net.params['W1'].flags.writeable = False
r = outcome(lambda: net.fused_step(np.random.rand(10, 20), np.random.randint(0, 4, 10), SGD(0.1)))
""",
    "W1 float32 beside float64": """
net = TwoLayerNet(20, 8, 4); net.params['W1'] = net.params['W1'].astype(np.float32)
r = outcome(lambda: net.fused_step(np.random.rand(10, 20), np.random.randint(0, 4, 10), SGD(0.1)))
""",
    "optimizer state replaced by a smaller array": """
net = TwoLayerNet(20, 8, 4); opt = Adam()
x, t = np.random.rand(10, 20), np.random.randint(0, 4, 10)
net.fused_step(x, t, opt); opt.m['W1'] = np.zeros(3)
r = outcome(lambda: net.fused_step(x, t, opt))
""",
    "optimizer state made read-only": """
net = TwoLayerNet(20, 8, 4); opt = Momentum()
x, t = np.random.rand(10, 20), np.random.randint(0, 4, 10)
net.fused_step(x, t, opt); opt.v['W2'].flags.writeable = False
r = outcome(lambda: net.fused_step(x, t, opt))
""",
    "labels out of range": """
net = TwoLayerNet(20, 8, 4)
t = np.random.randint(0, 4, 10); t[3] = 10**12
r = outcome(lambda: net.fused_step(np.random.rand(10, 20), t, SGD(0.1)))
""",
    "row index out of range": """
net = TwoLayerNet(20, 8, 4)
r = outcome(lambda: net.train_steps(np.random.rand(10, 20), np.random.randint(0, 4, 10),
                                    np.array([0, 1, 2, 10**9]), 2, SGD(0.1)))
""",
    "not an optimizer": """
net = TwoLayerNet(20, 8, 4)
r = outcome(lambda: net.fused_step(np.random.rand(10, 20), np.random.randint(0, 4, 10), 'sgd'))
""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_path_checks_state_as_it_is_now(name):
    result = isolated.run(PRELUDE + CASES[name] + "\nprint(json.dumps(r))")
    assert result.startswith(("ValueError: ", "TypeError: ")), result


def test_replaced_params_are_what_every_path_uses():
    """``net.params['W1'] = copy`` rebinds the layer: the fused step trains the array that
    predict and loss read (the issue's 0.73-versus-1.15 case)."""
    code = PRELUDE + """
np.random.seed(0)
net = TwoLayerNet(20, 8, 4)
x, t = np.random.rand(200, 20), np.random.randint(0, 4, 200)
net.params['W1'] = net.params['W1'].copy()
opt = SGD(0.5)
losses = net.train_steps(x, t, np.arange(200), 20, opt)
same = net.layers['Affine1'].W is net.params['W1']
net.params['W1'] = net.params['W1'].copy()
after = float(net.fused_step(x[:20], t[:20], SGD(0.0)))
print(json.dumps([bool(same), after, float(net.loss(x[:20], t[:20]))]))
"""
    same, fused_loss, loss = isolated.run(code)
    assert same
    assert fused_loss == pytest.approx(loss, rel=1e-12)
