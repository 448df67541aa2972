"""fastprop.util (vol. 1's ``common/util.py``): sizes and integers a caller chooses are checked
before anything is allocated or reaches a kernel (issue 19, group 4). The values themselves
are compared with the book's in tests/nets/test_convnets.py and tests/kernels/test_conv.py."""
import numpy as np
import pytest

from fastprop import util


@pytest.mark.parametrize("call, exc, match", [
    (lambda: util.im2col(np.ones((1, 1, 3, 3)), 3, 3, 1, 10**6), ValueError, r"pad 1000000 asks for a column matrix"),
    (lambda: util.im2col(np.ones((1, 1, 3, 3)), 3, 3, 2**70, 0), ValueError, r"stride must be <="),
    (lambda: util.im2col(np.ones((1, 1, 3, 3)), 2**70, 3, 1, 2**70), ValueError, r"filter_h must be <="),
    (lambda: util.col2im(np.ones((1, 1)), (1, 1, 10**6, 10**6), 1, 1, 10**7, 0), ValueError,
     r"input_shape=\(1, 1, 1000000, 1000000\) asks for an image batch"),
    (lambda: util.col2im(np.ones((1, 1)), (1, 1, 1, 2**70), 1, 1, 1, 0), ValueError, r"input_shape must be <="),
])
def test_huge_pads_strides_and_shapes_are_a_value_error_naming_them(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_im2col_with_a_stride_beyond_the_image_is_still_the_books_one_window():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(util.im2col(x, 2, 2, 10**6, 0), [[0.0, 1.0, 3.0, 4.0]])
