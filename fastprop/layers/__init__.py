"""Drop-in layers for the book's ``common/layers.py`` (vol. 1 ch. 5-7, vol. 2 ch. 1).

One module per family; every name the book uses is exported here::

    from fastprop.layers import Affine, Relu, SoftmaxWithLoss   # common.layers

Each ``forward``/``backward`` validates its input in Python, then makes one kernel call.
Layers keep references to the caller's parameter arrays (never a converted copy), so an
in-place update of ``W`` is seen by the next forward, and gradients are written in place
into stable arrays (``grads``), so vol. 2 code can hold on to them. Every array a kernel
reads or writes is checked right before the call, as it is then: a parameter rebound
between forward and backward (``layer.W = ...``) is checked, not trusted.
"""
from .activations import Relu, Sigmoid
from .affine import Affine, MatMul
from .base import Layer
from .basic import AddLayer, MulLayer, Repeat, Sum
from .batchnorm import BatchNormalization
from .conv import Convolution, Pooling
from .dropout import Dropout
from .embedding import Embedding, EmbeddingDot
from .recurrent import GRU, LSTM, RNN
from .sampling import NegativeSamplingLoss, UnigramSampler
from .sigmoid_loss import InvertedDropout, SigmoidWithLoss
from .softmax import Softmax, SoftmaxWithLoss
from .time import (
                   Simple_TimeAffine,
                   Simple_TimeSoftmaxWithLoss,
                   TimeAffine,
                   TimeDropout,
                   TimeEmbedding,
                   TimeSigmoidWithLoss,
                   TimeSoftmaxWithLoss,
)
from .time_recurrent import TimeBiLSTM, TimeGRU, TimeLSTM, TimeRNN

__all__ = ["AddLayer", "Affine", "BatchNormalization", "Convolution", "Dropout", "Embedding", "EmbeddingDot",
           "GRU", "InvertedDropout", "LSTM", "Layer", "MatMul", "MulLayer", "NegativeSamplingLoss",
           "Pooling", "RNN", "Relu", "Repeat", "Sigmoid", "SigmoidWithLoss", "Simple_TimeAffine",
           "Simple_TimeSoftmaxWithLoss", "Softmax", "SoftmaxWithLoss", "Sum", "TimeAffine",
           "TimeBiLSTM", "TimeDropout", "TimeEmbedding", "TimeGRU", "TimeLSTM", "TimeRNN",
           "TimeSigmoidWithLoss", "TimeSoftmaxWithLoss", "UnigramSampler"]
