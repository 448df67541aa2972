"""Drop-in layers for the book's ``common/layers.py`` (vol. 1 ch. 5-7, vol. 2 ch. 1).

One module per family; every name the book uses is exported here::

    from fastprop.layers import Affine, Relu, SoftmaxWithLoss   # common.layers

Each family's module is imported when one of its names is first used
(:mod:`fastprop._lazy`). Each ``forward``/``backward`` validates its input in Python, then makes one kernel call.
Layers keep references to the caller's parameter arrays (never a converted copy), so an
in-place update of ``W`` is seen by the next forward, and gradients are written in place
into stable arrays (``grads``), so vol. 2 code can hold on to them. Every array a kernel
reads or writes is checked right before the call, as it is then: a parameter rebound
between forward and backward (``layer.W = ...``) is checked, not trusted.
"""
from .._lazy import exports

__getattr__, __dir__, _names = exports(__name__, {
    ".activations": ["Relu", "Sigmoid"],
    ".affine": ["Affine", "MatMul"],
    ".base": ["Layer"],
    ".basic": ["AddLayer", "MulLayer", "Repeat", "Sum"],
    ".batchnorm": ["BatchNormalization"],
    ".conv": ["Convolution", "Pooling"],
    ".dropout": ["Dropout"],
    ".embedding": ["Embedding", "EmbeddingDot"],
    ".recurrent": ["GRU", "LSTM", "RNN"],
    ".sampling": ["NegativeSamplingLoss", "UnigramSampler"],
    ".sigmoid_loss": ["InvertedDropout", "SigmoidWithLoss"],
    ".softmax": ["Softmax", "SoftmaxWithLoss"],
    ".time": ["Simple_TimeAffine", "Simple_TimeSoftmaxWithLoss", "TimeAffine", "TimeDropout",
              "TimeEmbedding", "TimeSigmoidWithLoss", "TimeSoftmaxWithLoss"],
    ".time_recurrent": ["TimeBiLSTM", "TimeGRU", "TimeLSTM", "TimeRNN"],
})

__all__ = ["AddLayer", "Affine", "BatchNormalization", "Convolution", "Dropout", "Embedding", "EmbeddingDot",
           "GRU", "InvertedDropout", "LSTM", "Layer", "MatMul", "MulLayer", "NegativeSamplingLoss",
           "Pooling", "RNN", "Relu", "Repeat", "Sigmoid", "SigmoidWithLoss", "Simple_TimeAffine",
           "Simple_TimeSoftmaxWithLoss", "Softmax", "SoftmaxWithLoss", "Sum", "TimeAffine",
           "TimeBiLSTM", "TimeDropout", "TimeEmbedding", "TimeGRU", "TimeLSTM", "TimeRNN",
           "TimeSigmoidWithLoss", "TimeSoftmaxWithLoss", "UnigramSampler"]
