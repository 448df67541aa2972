"""No crash, hang or silent garbage when a layer's state changes after validation (issue:
reliability): every registered layer, every change of :mod:`state_changes`, in a subprocess
per layer (a segfault fails that layer's test, not the run)."""
import re

import isolated
import numpy as np
import pytest
from cases import CASES

from fastprop import layers

ACCEPTED = re.compile(r"^(ok|ValueError: .+|TypeError: .+)$", re.S)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_state_changed_after_validation_is_checked_not_trusted(case):
    result = isolated.run(f"import state_changes; state_changes.main({case.name!r})")
    bad = {k: v for k, v in result["changes"].items() if not ACCEPTED.match(v)}
    assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())
    assert result["fortran_ok"], "an F-contiguous (tied W.T) weight must give the C-order results"
    # the messages say what arrived: no bare errors
    assert all(len(v) > 20 for v in result["changes"].values() if v != "ok")


# ------------------------------------------------------------------------------------------
# Geometry changed between forward and backward to one with the same sizes (issue 19, group
# 2): what forward saved belongs to forward's geometry, so backward refuses, naming what changed.

def test_convolution_stride_or_pad_changed_to_as_many_outputs_is_refused():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 7, 7))
    for change, match in (({"stride": 2, "pad": 2}, r"stride is 2 but forward ran with 1.*pad is 2"),
                          ({"pad": 1, "stride": 1}, "pad is 1")):
        conv = layers.Convolution(rng.standard_normal((2, 1, 3, 3)), np.zeros(2))
        out = conv.forward(x)  # 5 x 5 outputs; stride 2 with pad 2 gives 5 x 5 as well
        for k, v in change.items():
            setattr(conv, k, v)
        with pytest.raises(ValueError, match=match):
            conv.backward(np.ones_like(out))
        conv.forward(x)  # a new forward belongs to the new geometry
        assert conv.backward(np.ones_like(conv.forward(x))).shape == x.shape


def test_pooling_window_changed_to_as_many_outputs_is_refused():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    pool = layers.Pooling(2, 2, stride=2)
    out = pool.forward(x)  # 2 x 2 windows; a 3 x 3 window at stride 1 gives 2 x 2 as well
    pool.pool_h = pool.pool_w = 3
    pool.stride = 1
    with pytest.raises(ValueError, match=r"pool_h is 3 but forward ran with 2.*stride is 1"):
        pool.backward(np.ones_like(out))


@pytest.mark.parametrize("changed", [(2, 12), (4, 1, 2, 3), (4, 6, 1, 1)])
def test_batchnorm_input_shape_changed_after_forward_is_refused(changed):
    bn = layers.BatchNormalization(np.ones(6), np.zeros(6))
    x = np.random.default_rng(0).standard_normal((4, 6))
    bn.forward(x)
    bn.input_shape = changed  # as many elements: the old code reshaped dx onto it
    with pytest.raises(ValueError, match=r"input_shape is .* training forward .*\(4, 6\)"):
        bn.backward(np.ones((4, 6)))
    bn.forward(x)
    assert bn.backward(np.ones((4, 6))).shape == (4, 6)


def test_batchnorm_backward_after_a_test_forward_of_another_batch_is_refused():
    bn = layers.BatchNormalization(np.ones(3), np.zeros(3))
    rng = np.random.default_rng(0)
    bn.forward(rng.standard_normal((4, 3, 1, 1)))
    bn.forward(rng.standard_normal((2, 3, 1, 1)), train_flg=False)
    with pytest.raises(ValueError, match="input_shape"):
        bn.backward(np.ones((4, 3, 1, 1)))
    bn.forward(rng.standard_normal((4, 3, 1, 1)), train_flg=False)  # the same shape: still the book's
    assert bn.backward(np.ones((4, 3, 1, 1))).shape == (4, 3, 1, 1)


# ------------------------------------------------------------------------------------------
# A saved mask (or output) replaced after forward is named in the error (issue 19, group 7):
# the message used to blame dout ("dout must have shape ... the shape of the forward input").

def _relu():
    return layers.Relu(), "mask"


def _sigmoid():
    return layers.Sigmoid(), "out"


def _dropout():
    return layers.Dropout(0.5), "mask"


def _inverted_dropout():
    from fastprop.layers.sigmoid_loss import InvertedDropout
    return InvertedDropout(0.5), "mask"


def _time_dropout():
    return layers.TimeDropout(0.5), "mask"


@pytest.mark.parametrize("make", [_relu, _sigmoid, _dropout, _inverted_dropout, _time_dropout])
def test_a_replaced_mask_is_named_not_blamed_on_dout(make):
    layer, attr = make()
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    layer.forward(x)
    setattr(layer, attr, getattr(layer, attr)[:2].copy())
    with pytest.raises(ValueError, match=rf"^{type(layer).__name__}\.{attr} has shape \(2, 4, 2\), but "
                                         r".*shape \(3, 4, 2\)"):  # vol. 1 Dropout words it its own way
        layer.backward(np.ones_like(x))


def _affine():
    return layers.Affine(np.ones((8, 3)), np.zeros(3)), "x", np.ones((3, 4, 2))


def _time_affine():
    return layers.TimeAffine(np.ones((2, 3)), np.zeros(3)), "x", np.ones((3, 4, 2))


def _embedding():
    return layers.Embedding(np.ones((5, 2))), "idx", np.array([[0, 1], [2, 3], [4, 0]])


def _time_embedding():
    return layers.TimeEmbedding(np.ones((5, 2))), "idx", np.array([[0, 1], [2, 3], [4, 0]])


@pytest.mark.parametrize("make", [_affine, _time_affine, _embedding, _time_embedding])
def test_a_replaced_saved_input_is_named_not_blamed_on_dout(make):
    layer, attr, x = make()
    out = layer.forward(x)
    saved = getattr(layer, attr)
    setattr(layer, attr, saved[:2].copy())
    with pytest.raises(ValueError, match=rf"^{type(layer).__name__}\.{attr} has shape \(2, .*but forward "
                                         rf"saved it with shape \(3, "):
        layer.backward(np.ones_like(out))
