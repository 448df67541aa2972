"""``fastprop train --model multilayer``: vol. 1 ch06/overfit_dropout.py, the ch. 6 net.

Of the ch. 6 scripts this is the one that is a whole training run of the chapter's net
through the chapter's Trainer (the others compare optimizers, initialisations or weight
scales side by side): MultiLayerNetExtend 784-100x6-10 with ReLU, He initialisation and
Dropout 0.2, SGD lr 0.01, batch 100, 301 epochs on the first 300 training images (the
script's deliberately small set, to show over-fitting), evaluated once an epoch on all of
them and the whole test set. ``--dropout 0 --weight-decay 0.1 --epochs 201`` is the net of
ch06/overfit_weight_decay.py, ``--batchnorm`` adds ch06's Batch Normalization, and
``--train-size 60000`` trains on all of MNIST. Each step is one compiled call
(:meth:`fastprop.nets.MultiLayerNetExtend.fused_step`, the layer path's numbers).
"""
from .. import argtypes
from . import _vol1

LAYERS = 6  # hidden layers of ch06/overfit_dropout.py

MODELS = {"multilayer": "ch06/overfit_dropout.py, MultiLayerNetExtend 784-100x6-10 with "
                        "Dropout 0.2 (--dropout), SGD lr 0.01, batch 100, 301 epochs on the first "
                        "300 training images (--train-size); --weight-decay, --batchnorm"}
OPTIONS = {
    "train_size": _vol1.TRAIN_SIZE,
    "dropout": {"flag": "--dropout", "type": argtypes.finite_float(0.0), "metavar": "RATIO",
                "help": "multilayer: Dropout ratio in [0, 1) after each hidden layer (default "
                        "0.2; 0: no Dropout layers)"},
    "weight_decay": {"flag": "--weight-decay", "type": argtypes.finite_float(0.0),
                     "metavar": "LAMBDA",
                     "help": "multilayer: L2 weight decay lambda (default 0; "
                             "ch06/overfit_weight_decay.py uses 0.1)"},
    "batchnorm": {"flag": "--batchnorm", "action": "store_true",
                  "help": "multilayer: Batch Normalization after each hidden Affine layer"},
}
APPLIES = {"multilayer": frozenset({"dataset", "hidden", "batch", "lr", "epochs", "optimizer",
                                    "activation", "dtype", "seed", "plot", "progress",
                                    "train_size", "dropout", "weight_decay", "batchnorm"})
                | _vol1.RUN_OPTIONS}
DEFAULTS = dict(epochs=301, batch=100, lr=0.01, optimizer="sgd", dtype="float64", seed=0,
                hidden=100, train_size=300, activation="relu", dropout=0.2, weight_decay=0.0,
                batchnorm=False)
INPUTS, TEST_ROWS = 784, 10000
_STATE = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}


def memory_bytes(d) -> int:
    """Estimated bytes beyond the loaded data: weights, gradients and optimizer state, a
    training step's activations, the evaluation of the whole test set in one pass (the
    book's ``accuracy``), and the per-iteration loss list."""
    itemsize = 4 if d["dtype"] == "float32" else 8
    h = d["hidden"]
    params = INPUTS * h + (LAYERS - 1) * h * h + h * 10 + (LAYERS + 2 * LAYERS) * h + 10
    per_row = INPUTS + LAYERS * h * 8 + 10 * 4  # affine out, bn caches, masks, grads
    rows = max(d["batch"], TEST_ROWS, d["train_size"])
    iters = _vol1.iterations(d["epochs"], d["train_size"], d["batch"])
    return (itemsize * (params * (2 + _STATE.get(d["optimizer"], 2)) + rows * per_row)
            + 32 * iters)


def run(model, args) -> int:
    """Check the settings (before any data loads), build the net, train, print."""
    import numpy as np

    from .. import argtypes, runs
    from ..nets import MultiLayerNetExtend

    with argtypes.checks():  # bad settings, paths or data: one line (not the training)
        d = _vol1.settings(args, model, DEFAULTS,
                           extra=("activation", "dropout", "weight_decay", "batchnorm"))
        if not d["dropout"] < 1:
            raise ValueError(f"--dropout must be a ratio in [0, 1), got {d['dropout']}")
        given = ", ".join(f"--{k.replace('_', '-')} {getattr(args, k)}"
                          for k in ("hidden", "batch", "epochs", "train_size")
                          if getattr(args, k, None) is not None)
        runs.check_memory(memory_bytes(d), f"this run ({given})" if given else "this run")
        runs.make_optimizer(d["optimizer"], d["lr"])  # a bad name or lr fails here, not later
        data = _vol1.load(d, (INPUTS,))
    np.random.seed(d["seed"])
    net = MultiLayerNetExtend(INPUTS, [d["hidden"]] * LAYERS, 10, activation=d["activation"],
                              weight_init_std=d["activation"], weight_decay_lambda=d["weight_decay"],
                              use_dropout=d["dropout"] > 0, dropout_ration=d["dropout"],
                              use_batchnorm=d["batchnorm"], dtype=np.dtype(d["dtype"]))
    extras = [f"Dropout {d['dropout']:g}" if d["dropout"] > 0 else "no Dropout"]
    if d["weight_decay"]:
        extras.append(f"weight decay {d['weight_decay']:g}")
    if d["batchnorm"]:
        extras.append("BatchNorm")
    description = (f"MultiLayerNetExtend({INPUTS}-{d['hidden']}x{LAYERS}-10, {d['activation']}, "
                   f"{', '.join(extras)})")
    return _vol1.train(net, description, data, d)
