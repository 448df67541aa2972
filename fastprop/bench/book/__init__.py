"""The books' algorithms in plain NumPy, one transcription of each book: the baseline of
``fastprop bench`` (every "vs book" ratio) and the oracle of the tests.

Written as the books write them (their expressions in their order, their allocations, their
Python loops, their class and function names), nothing compiled, nothing validated, and
importing nothing from fastprop (``tests/test_book_transcription.py`` walks the imports): it
is the code a reader of the book runs, not a backend.

==============  ==================================================================
``vol1``        vol. 1 ``common/``: functions, util (im2col), layers, optimizer
``vol1_nets``   ch05 ``TwoLayerNet``, ``MultiLayerNetExtend``, ch07 ``SimpleConvNet``,
                ch08 ``DeepConvNet``; :func:`book_step` (one ch05 iteration)
``vol2``        vol. 2 ``common/``: functions, layers, optimizer, util, ``remove_duplicate``
``vol2_time``   vol. 2 ``common/time_layers.py``
``vol2_nets``   ch04 negative sampling and ``CBOW``, ch06 ``Rnnlm``, ch07 ``Seq2seq``
==============  ==================================================================

The nets take their layers as an argument (this transcription's by default), so the same
class runs on a checkout's own ``common`` (``fastprop bench --book-root``) or on fastprop's
layers (the drop-in rows). The names below are the ones ``fastprop.bench`` has always
exported: the ch05 net, its SGD and one iteration of its loop.
"""
from .vol1 import SGD as BookSGD
from .vol1_nets import LR, book_step
from .vol1_nets import TwoLayerNet as BookTwoLayerNet

__all__ = ["LR", "BookSGD", "BookTwoLayerNet", "book_step"]
