"""``fastprop train --model convnet`` (vol. 1 ch07/train_convnet.py) and ``--model deepnet``
(ch08/train_deepnet.py): the book's ConvNets on MNIST through the book's vol. 1 Trainer.

Defaults are the scripts': Adam lr 0.001, batch 100, 20 epochs, evaluation once an epoch
on the first 1000 training and test images (``evaluate_sample_num_per_epoch=1000``);
SimpleConvNet with 30 5x5 filters, hidden 100, ``weight_init_std`` 0.01; DeepConvNet with
the book's six 3x3 convolutions and hidden 50. Unlike the scripts, the run is seeded
(``--seed``, default 0), and the parameters are pickled only when asked (``--save PATH``,
the book's params.pkl format, which ch08/misclassified_mnist.py reads).
"""
from . import _vol1

MODELS = {
    "convnet": "ch07/train_convnet.py, SimpleConvNet (30 5x5 filters, hidden 100) with Adam "
               "lr 0.001, batch 100, 20 epochs",
    "deepnet": "ch08/train_deepnet.py, DeepConvNet (3x3 convs 16-16-32-32-64-64, hidden 50, "
               "dropout 0.5) with Adam lr 0.001, batch 100, 20 epochs",
}
OPTIONS = {"train_size": _vol1.TRAIN_SIZE}
_READS = frozenset({"dataset", "hidden", "batch", "lr", "epochs", "optimizer", "dtype", "seed",
                    "plot", "progress", "train_size"}) | _vol1.RUN_OPTIONS
APPLIES = {"convnet": _READS, "deepnet": _READS}

_COMMON = dict(epochs=20, batch=100, lr=0.001, optimizer="adam", dtype="float64", seed=0,
               train_size=None)
DEFAULTS = {"convnet": dict(_COMMON, hidden=100), "deepnet": dict(_COMMON, hidden=50)}
#: the book's evaluate_sample_num_per_epoch in both scripts
EVALUATE_SAMPLE_NUM = 1000
IMAGE = (1, 28, 28)
#: (filter_num, filter_size, pad, pool after it) of each convolution
_LAYERS = {
    "convnet": ((30, 5, 0, True),),
    "deepnet": ((16, 3, 1, False), (16, 3, 1, True), (32, 3, 1, False), (32, 3, 2, True),
                (64, 3, 1, False), (64, 3, 1, True)),
}
#: state arrays per parameter of each optimizer (fastprop.runs.OPTIMIZERS, without Numba)
_STATE = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}


def memory_bytes(model, d) -> int:
    """Estimated bytes of a run beyond the loaded data: the weights with their gradients
    and optimizer state, one step's activations (im2col matrices, their gradients, the
    outputs, ReLU masks and pooling indices, counted generously), the data cast to the
    net's dtype for a batch, and the Trainer's per-iteration loss list (Python floats)."""
    itemsize = 4 if d["dtype"] == "float32" else 8
    c, h, w = IMAGE
    params, per_row = 0, c * h * w
    for fn, fs, pad, pool in _LAYERS[model]:
        h, w = h + 2 * pad - fs + 1, w + 2 * pad - fs + 1
        col = h * w * c * fs * fs
        params += fn * (c * fs * fs + 1)
        per_row += 2 * col + 6 * fn * h * w
        c = fn
        if pool:
            h, w = h // 2, w // 2
            per_row += 6 * c * h * w
    flat = c * h * w
    params += flat * d["hidden"] + d["hidden"] + d["hidden"] * 10 + 10
    per_row += 6 * d["hidden"] + 6 * 10
    batch_rows = max(d["batch"], EVALUATE_SAMPLE_NUM // 10, 100)  # accuracy: 100 at a time
    iters = _vol1.iterations(d["epochs"], d["train_size"], d["batch"])
    return (itemsize * (params * (2 + _STATE.get(d["optimizer"], 2)) + batch_rows * per_row)
            + 32 * iters)


def run(model, args) -> int:
    """Check the settings (before any data loads), build the net, train, print."""
    import numpy as np

    from .. import argtypes, runs
    from ..nets import DeepConvNet, SimpleConvNet

    with argtypes.checks():  # bad settings, paths or data: one line (not the training)
        d = _vol1.settings(args, model, DEFAULTS[model])
        given = ", ".join(f"--{k.replace('_', '-')} {getattr(args, k)}"
                          for k in ("hidden", "batch", "epochs", "train_size")
                          if getattr(args, k, None) is not None)
        runs.check_memory(memory_bytes(model, d), f"this run ({given})" if given else "this run")
        runs.make_optimizer(d["optimizer"], d["lr"])  # a bad name or lr fails here, not later
        data = _vol1.load(d, IMAGE)
    np.random.seed(d["seed"])
    dtype = np.dtype(d["dtype"])
    if model == "convnet":
        net = SimpleConvNet(input_dim=IMAGE, conv_param={"filter_num": 30, "filter_size": 5,
                                                         "pad": 0, "stride": 1},
                            hidden_size=d["hidden"], output_size=10, weight_init_std=0.01,
                            dtype=dtype)
        description = f"SimpleConvNet(30 5x5 filters, hidden {d['hidden']})"
    else:
        net = DeepConvNet(input_dim=IMAGE, hidden_size=d["hidden"], output_size=10, dtype=dtype)
        description = f"DeepConvNet(16-16-32-32-64-64 3x3 convs, hidden {d['hidden']})"
    return _vol1.train(net, description, data, d, evaluate_sample_num=EVALUATE_SAMPLE_NUM)
