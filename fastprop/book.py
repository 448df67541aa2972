"""Kept for old imports: the book's NumPy network moved to :mod:`fastprop.bench.book`
(the benchmark baseline). Import it from there; this module only re-exports it."""
from .bench.book import (LR, BookAffine, BookRelu, BookSGD, BookSigmoid,  # noqa: F401
                         BookSoftmaxWithLoss, BookTwoLayerNet, book_cross_entropy_error,
                         book_softmax, book_step)

__all__ = ["LR", "BookAffine", "BookRelu", "BookSGD", "BookSigmoid", "BookSoftmaxWithLoss",
           "BookTwoLayerNet", "book_cross_entropy_error", "book_softmax", "book_step"]
