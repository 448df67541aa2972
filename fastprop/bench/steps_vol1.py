"""The vol. 1 ch. 6-8 steps ``fastprop bench --models`` times, one row factory each.

A factory takes the block options (:data:`fastprop.bench.models.DEFAULTS`) and a dtype and
returns ``(step, library)``: ``step()`` runs one call and returns its loss (or what it
computed), ``library`` says whose BLAS it runs on (``numpy``, ``scipy``, ``torch``).

Rows: ``book`` is the book's class from :mod:`fastprop.bench.book.vol1_nets` driven by the book's
loop (``grads = network.gradient(x, t)``, ``optimizer.update(params, grads)``); ``dropin`` the
same loop on fastprop's net and optimizer, as a book script calls them; ``fused`` fastprop's
compiled step where the net has one; ``torch`` the same net in PyTorch's idiom. Every row
starts from ``np.random.seed(0)`` and the same MNIST-like float32 batch.
"""
import numpy as np

from . import baseline
from .book import vol1_nets
from .book.vol1_nets import DEEP_CONV_PARAMS

MLP_HIDDEN = (100, 100, 100, 100, 100)  # MultiLayerNetExtend 784-100x5-10
MLP_DROPOUT = 0.2
MLP_LR = 0.01      # ch06's SGD learning rate
ADAM_LR = 0.001    # ch07/ch08's Adam learning rate
INFER_BATCH = 100  # the book's accuracy(x, t, batch_size=100)


def images(n, seed=0):
    """``n`` MNIST-like float32 images (N, 1, 28, 28) in [0, 1) and integer labels."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n).astype(np.intp)


def _book_loop(net, opt, x, t):
    grads = net.gradient(x, t)
    opt.update(net.params, grads)
    return net.last_layer.loss


def _conv_rows(book_cls, fastprop_name):
    def book(opts, dtype):
        x, t = images(opts["batch"])
        np.random.seed(0)
        book = baseline.of(opts, 1)
        net, opt = book_cls(layers=book.layers), book.Adam(ADAM_LR)
        return (lambda: _book_loop(net, opt, x, t)), "numpy"

    def dropin(opts, dtype):
        from .. import nets
        from ..optimizers import Adam

        x, t = images(opts["batch"])
        np.random.seed(0)
        net, opt = getattr(nets, fastprop_name)(dtype=dtype), Adam(ADAM_LR)
        return (lambda: _book_loop(net, opt, x, t)), "scipy"
    return book, dropin


def _torch_dtype(dtype):
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[np.dtype(dtype).name]


def torch_simple_convnet():
    import torch.nn as nn

    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


def torch_deep_convnet():
    import torch.nn as nn

    layers = []
    c = 1
    for i, p in enumerate(DEEP_CONV_PARAMS):
        fn, pad = p["filter_num"], p["pad"]
        layers += [nn.Conv2d(c, fn, 3, padding=pad), nn.ReLU()]
        c = fn
        if i % 2:
            layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 50), nn.ReLU(),
                         nn.Dropout(0.5), nn.Linear(50, 10), nn.Dropout(0.5))


def torch_multilayer():
    import torch.nn as nn

    layers, fan_in = [], 784
    for h in MLP_HIDDEN:
        layers += [nn.Linear(fan_in, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(MLP_DROPOUT)]
        fan_in = h
    return nn.Sequential(*layers, nn.Linear(fan_in, 10))


def torch_train_step(model, opt, x, t, flatten=False):
    """PyTorch's idiom: zero_grad, forward, cross-entropy, backward, step; the loss."""
    import torch

    model.train()
    ce = torch.nn.functional.cross_entropy
    tx, tt = torch.from_numpy(x.reshape(x.shape[0], -1) if flatten else x), torch.from_numpy(t)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = ce(model(tx), tt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _torch_conv(make):
    def factory(opts, dtype):
        import torch

        torch.manual_seed(0)
        model = make().to(_torch_dtype(dtype))
        x, t = images(opts["batch"])
        return torch_train_step(model, torch.optim.Adam(model.parameters(), ADAM_LR),
                                x.astype(dtype), t), "torch"
    return factory


def conv_gemm_shapes(net):
    """``[(FN, K, P, need_dx)]`` of the convolutions of the bench's ``'SimpleConvNet'`` or
    ``'DeepConvNet'`` on 1 x 28 x 28 images (the first layer needs no input gradient)."""
    if net == "SimpleConvNet":
        return [(30, 25, 24 * 24, False)]
    shapes, hw, c = [], 28, 1
    for i, p in enumerate(DEEP_CONV_PARAMS):
        fn, pad = p["filter_num"], p["pad"]
        hw = hw + 2 * pad - 2
        shapes.append((fn, c * 9, hw * hw, i > 0))
        c = fn
        if i % 2:
            hw //= 2
    return shapes


def _gemm_rows(net, infer=False):
    def gemms(opts, dtype):
        """The step's convolution GEMMs alone, each over the whole batch in one SciPy BLAS
        call (the BLAS the kernels call): ``W @ cols``, ``dout @ cols.T`` and, past the first
        layer, ``W.T @ dout`` (inference: ``W @ cols`` alone, in batches of
        :data:`INFER_BATCH`). The same FLOPs as the layers' GEMMs in their best shape: what
        im2col + GEMM could reach with free memory passes."""
        from scipy.linalg import blas

        gemm = blas.sgemm if np.dtype(dtype) == np.float32 else blas.dgemm
        rng, calls = np.random.default_rng(0), []
        n = min(opts["infer_images"], INFER_BATCH) if infer else opts["batch"]
        repeat = -(-opts["infer_images"] // n) if infer else 1
        for fn, k, p, need_dx in conv_gemm_shapes(net):
            # Fortran order: BLAS's own layout, so SciPy passes them without a copy
            w, cols = (np.asfortranarray(rng.random(s).astype(dtype)) for s in ((fn, k), (k, n * p)))
            dout = np.asfortranarray(rng.random((fn, n * p)).astype(dtype))
            calls.append(lambda w=w, c=cols: gemm(1.0, w, c))
            if not infer:
                calls.append(lambda d=dout, c=cols: gemm(1.0, d, c, trans_b=True))
            if need_dx and not infer:
                calls.append(lambda w=w, d=dout: gemm(1.0, w, d, trans_a=True))

        def step():
            return float(sum(call()[0, 0] for _ in range(repeat) for call in calls))
        return step, "scipy"
    return gemms


gemms_simple, gemms_deep = _gemm_rows("SimpleConvNet"), _gemm_rows("DeepConvNet")
gemms_infer = _gemm_rows("DeepConvNet", infer=True)
book_simple, dropin_simple = _conv_rows(vol1_nets.SimpleConvNet, "SimpleConvNet")
book_deep, dropin_deep = _conv_rows(vol1_nets.DeepConvNet, "DeepConvNet")


# --------------------------------------------------------------------------- MultiLayerNetExtend

def _mlp_batch(opts):
    x, t = images(opts["batch"])
    return x.reshape(x.shape[0], -1), t


def book_multilayer(opts, dtype):
    x, t = _mlp_batch(opts)
    np.random.seed(0)
    book = baseline.of(opts, 1)
    net = book.MultiLayerNetExtend(784, list(MLP_HIDDEN), 10, use_dropout=True,
                                   dropout_ration=MLP_DROPOUT, use_batchnorm=True)
    opt = book.SGD(MLP_LR)
    return (lambda: _book_loop(net, opt, x, t)), "numpy"


def _fastprop_multilayer(dtype):
    from ..nets import MultiLayerNetExtend

    np.random.seed(0)
    return MultiLayerNetExtend(784, list(MLP_HIDDEN), 10, use_dropout=True,
                               dropout_ration=MLP_DROPOUT, use_batchnorm=True, dtype=dtype)


def dropin_multilayer(opts, dtype):
    from ..optimizers import SGD

    x, t = _mlp_batch(opts)
    net, opt = _fastprop_multilayer(dtype), SGD(MLP_LR)
    return (lambda: _book_loop(net, opt, x, t)), "scipy"


def fused_multilayer(opts, dtype):
    from ..optimizers import SGD

    x, t = _mlp_batch(opts)
    net, opt = _fastprop_multilayer(dtype), SGD(MLP_LR)
    x = x.astype(dtype)  # the data set cast once, as fastprop train does
    return (lambda: net.fused_step(x, t, opt)), "scipy"


def torch_multilayer_step(opts, dtype):
    import torch

    torch.manual_seed(0)
    model = torch_multilayer().to(_torch_dtype(dtype))
    x, t = _mlp_batch(opts)
    return torch_train_step(model, torch.optim.SGD(model.parameters(), MLP_LR),
                            x.astype(dtype), t), "torch"


# --------------------------------------------------------------------------- im2col / col2im

def _im2col_input(opts):
    rng = np.random.default_rng(0)
    return rng.random(opts["im2col_shape"])  # float64: what a conv layer inside the net sees


def book_im2col_row(opts, dtype):
    x = _im2col_input(opts)
    im2col = baseline.of(opts, 1).im2col
    return (lambda: im2col(x, 3, 3, 1, 1)), "numpy"


def book_col2im_row(opts, dtype):
    x = _im2col_input(opts)
    book = baseline.of(opts, 1)
    col = book.im2col(x, 3, 3, 1, 1)
    return (lambda: book.col2im(col, x.shape, 3, 3, 1, 1)), "numpy"


def dropin_im2col_row(opts, dtype):
    from ..util import im2col

    x = _im2col_input(opts)
    return (lambda: im2col(x, 3, 3, 1, 1)), "scipy"


def dropin_col2im_row(opts, dtype):
    from ..util import col2im, im2col

    x = _im2col_input(opts)
    col = im2col(x, 3, 3, 1, 1)
    return (lambda: col2im(col, x.shape, 3, 3, 1, 1)), "scipy"


# --------------------------------------------------------------------------- DeepConvNet inference

def book_infer(opts, dtype):
    x, t = images(opts["infer_images"], seed=1)
    np.random.seed(0)
    net = vol1_nets.DeepConvNet(layers=baseline.of(opts, 1).layers)
    return (lambda: net.accuracy(x, t, INFER_BATCH)), "numpy"


def dropin_infer(opts, dtype):
    from ..nets import DeepConvNet

    x, t = images(opts["infer_images"], seed=1)
    np.random.seed(0)
    net = DeepConvNet(dtype=dtype)
    return (lambda: net.accuracy(x, t, INFER_BATCH)), "scipy"


def torch_infer(opts, dtype):
    import torch

    torch.manual_seed(0)
    model = torch_deep_convnet().to(_torch_dtype(dtype)).eval()
    x, t = images(opts["infer_images"], seed=1)
    tx, tt = torch.from_numpy(x.astype(dtype)), torch.from_numpy(t)

    def step():
        acc = 0
        with torch.no_grad():
            for i in range(0, tx.shape[0], INFER_BATCH):
                y = model(tx[i:i + INFER_BATCH])
                acc += int((y.argmax(1) == tt[i:i + INFER_BATCH]).sum())
        return acc / tx.shape[0]
    return step, "torch"


torch_simple = _torch_conv(torch_simple_convnet)
torch_deep = _torch_conv(torch_deep_convnet)
